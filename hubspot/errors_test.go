package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

// cannedServer answers every request with the same status, headers and body.
func cannedServer(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   hubspot.Error // Method and Path are checked separately
		check  func(t *testing.T, err error)
	}{
		{
			name:   "validation envelope with details",
			status: 400,
			body: `{"status":"error","message":"Invalid input JSON on line 1","correlationId":"aeb5f871-7f07-4993-9211-075dc63e7cbf",
				"category":"VALIDATION_ERROR","subCategory":"UserProvisioningError.INVALID_EMAIL",
				"errors":[{"message":"bad email","code":"INVALID_EMAIL","in":"email","subCategory":"x","context":{"email":["nope"]}}],
				"links":{"knowledge-base":"https://www.hubspot.com/products/service/knowledge-base"}}`,
			want: hubspot.Error{StatusCode: 400, Status: "error", Message: "Invalid input JSON on line 1",
				CorrelationID: "aeb5f871-7f07-4993-9211-075dc63e7cbf", Category: "VALIDATION_ERROR",
				SubCategory: "UserProvisioningError.INVALID_EMAIL",
				Errors: []hubspot.ErrorDetail{{Message: "bad email", Code: "INVALID_EMAIL", In: "email", SubCategory: "x",
					Context: map[string][]string{"email": {"nope"}}}}},
			check: func(t *testing.T, err error) {
				if !hubspot.IsValidation(err) || !hubspot.IsPermanent(err) {
					t.Error("want a permanent validation error")
				}
			},
		},
		{
			name:   "missing scopes",
			status: 403,
			body: `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.",
				"correlationId":"c0","category":"MISSING_SCOPES","context":{"requiredGranularScopes":["settings.users.write"],"missingScopes":["settings.users.write"]}}`,
			want: hubspot.Error{StatusCode: 403, Status: "error", CorrelationID: "c0", Category: "MISSING_SCOPES",
				Message: "This app hasn't been granted all required scopes to make this call.",
				Context: map[string][]string{"requiredGranularScopes": {"settings.users.write"}, "missingScopes": {"settings.users.write"}}},
			check: func(t *testing.T, err error) {
				var he *hubspot.Error
				if !errors.As(err, &he) || !reflect.DeepEqual(he.MissingScopes(), []string{"settings.users.write"}) || !hubspot.IsForbidden(err) {
					t.Errorf("MissingScopes of %v", err)
				}
			},
		},
		{
			name:   "envelope nested in message",
			status: 409,
			body: `{"status":"error","message":"{\"status\":\"error\",\"message\":\"User ada@example.com already exists\",\"correlationId\":\"inner\",\"category\":\"CONFLICT\",\"context\":{\"email\":[\"ada@example.com\"]}}",
				"correlationId":"outer","category":"VALIDATION_ERROR"}`,
			want: hubspot.Error{StatusCode: 409, Status: "error", Message: "User ada@example.com already exists",
				CorrelationID: "outer", Category: "CONFLICT", Context: map[string][]string{"email": {"ada@example.com"}}},
			check: func(t *testing.T, err error) {
				if !hubspot.IsConflict(err) {
					t.Error("want IsConflict")
				}
			},
		},
		{
			name:   "envelope nested after a prefix, twice",
			status: 400,
			body:   `{"status":"error","message":"Error: {\"status\":\"error\",\"message\":\"{\\\"message\\\":\\\"USER_NOT_ON_ANY_HUBS\\\",\\\"category\\\":\\\"VALIDATION_ERROR\\\",\\\"correlationId\\\":\\\"deep\\\"}\"}","category":"BAD_REQUEST"}`,
			want: hubspot.Error{StatusCode: 400, Status: "error", Message: "USER_NOT_ON_ANY_HUBS",
				CorrelationID: "deep", Category: "VALIDATION_ERROR"},
		},
		{
			name:   "message with braces that are not JSON",
			status: 400,
			body:   `{"status":"error","message":"Property values were not valid: {oops}","correlationId":"c1","category":"VALIDATION_ERROR"}`,
			want: hubspot.Error{StatusCode: 400, Status: "error", Message: "Property values were not valid: {oops}",
				CorrelationID: "c1", Category: "VALIDATION_ERROR"},
		},
		{
			name:   "plain text from a proxy, correlation id from the header",
			status: 502,
			header: map[string]string{"Content-Type": "text/plain", "X-HubSpot-Correlation-Id": "hdr"},
			body:   "upstream connect error or disconnect/reset before headers",
			want:   hubspot.Error{StatusCode: 502, Message: "upstream connect error or disconnect/reset before headers", CorrelationID: "hdr"},
			check: func(t *testing.T, err error) {
				if hubspot.IsPermanent(err) {
					t.Error("5xx must not be permanent")
				}
			},
		},
		{
			name:   "HTML error page",
			status: 503,
			header: map[string]string{"Content-Type": "text/html"},
			body:   "<html><body><h1>503 Service Unavailable</h1></body></html>",
			want:   hubspot.Error{StatusCode: 503, Message: "Service Unavailable"},
		},
		{
			name:   "empty 401",
			status: 401,
			want:   hubspot.Error{StatusCode: 401, Message: "Unauthorized"},
			check: func(t *testing.T, err error) {
				if !hubspot.IsForbidden(err) {
					t.Error("want IsForbidden")
				}
			},
		},
		{
			name:   "429 daily",
			status: 429,
			body:   `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"r1","policyName":"DAILY"}`,
			want:   hubspot.Error{StatusCode: 429, Status: "error", Message: "You have reached your daily limit.", CorrelationID: "r1", Category: "RATE_LIMIT"},
			check: func(t *testing.T, err error) {
				if rle, ok := hubspot.IsRateLimited(err); !ok || rle.PolicyName != hubspot.PolicyDaily {
					t.Errorf("want a DAILY RateLimitError, got %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cannedServer(t, tt.status, tt.header, tt.body)
			c := newClient(t, srv.URL, newFakeClock(), func(cfg *hubspot.Config) { cfg.MaxRetries = -1 })
			_, err := c.GetUser(context.Background(), "42")
			var he *hubspot.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *hubspot.Error", err)
			}
			if he.Method != "GET" || he.Path != "/settings/users/2026-03/42" {
				t.Errorf("method/path %s %s", he.Method, he.Path)
			}
			got := *he
			got.Method, got.Path = "", ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n %#v\nwant\n %#v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

func TestErrorMessageWrapping(t *testing.T) {
	srv := cannedServer(t, 404, nil, `{"status":"error","message":"Unable to find user 42","correlationId":"c-404","category":"OBJECT_NOT_FOUND"}`)
	c := newClient(t, srv.URL, newFakeClock(), nil)
	_, err := c.GetUser(context.Background(), "42")
	want := "hubspot: get user 42: hubspot: GET /settings/users/2026-03/42: 404 OBJECT_NOT_FOUND: Unable to find user 42 (correlationId c-404)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
