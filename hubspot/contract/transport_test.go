package contract_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot/contract"
)

const (
	okUser    = `{"id":"7","email":"a@example.com","roleIds":[],"superAdmin":false}`
	okError   = `{"status":"error","message":"Not found","correlationId":"0c5e1e9c-0000-4000-8000-000000000404","category":"OBJECT_NOT_FOUND"}`
	okLimited = `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"0c5e1e9c-0000-4000-8000-000000000429","policyName":"TEN_SECONDLY_ROLLING"}`
	jsonType  = "application/json;charset=utf-8"
)

// answer is what the test server says.
type answer struct {
	status int
	ctype  string
	header map[string]string
	body   string
}

// exchange is one request through the validating transport to a server
// giving ans.
type exchange struct {
	method, path, body string
	noAuth             bool
	ans                answer
	// want lists what the violations must say (each a substring of one of
	// them); none: no violation.
	want []string
}

type collector struct {
	mu   sync.Mutex
	errs []error
}

func (c *collector) report(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *collector) take() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.errs
	c.errs = nil
	return e
}

func load(t *testing.T) *contract.Contract {
	t.Helper()
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkViolations(t *testing.T, got []error, want []string) {
	t.Helper()
	if (len(got) == 0) != (len(want) == 0) {
		t.Errorf("violations %v, want ones saying %q", got, want)
		return
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(err error) bool { return strings.Contains(err.Error(), w) }) {
			t.Errorf("no violation says %q: %v", w, got)
		}
	}
	for _, err := range got {
		var v *contract.Violation
		if !errors.As(err, &v) {
			t.Errorf("%v is not a *contract.Violation", err)
		}
	}
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name string
		ex   exchange
	}{
		{"a read and its answer", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{200, jsonType, map[string]string{"X-HubSpot-RateLimit-Remaining": "99"}, okUser}}},
		{"an email in the path, escaped", exchange{method: "GET", path: "/settings/users/2026-03/a%2Bb%2Fc@example.com?idProperty=EMAIL",
			ans: answer{200, jsonType, nil, okUser}}},
		{"HubSpot adds a field", exchange{method: "GET", path: "/settings/v3/users/7",
			ans: answer{200, jsonType, nil, `{"id":"7","email":"a@example.com","roleIds":[],"superAdmin":false,"newField":{"x":1}}`}}},
		{"a call the contract lacks", exchange{method: "GET", path: "/settings/users/2025-01/7",
			ans: answer{200, jsonType, nil, okUser}, want: []string{"the client made a call the contract lacks", "GET /settings/users/2025-01/7"}}},
		{"a method the path lacks", exchange{method: "PATCH", path: "/settings/users/2026-03/7", body: `{}`,
			ans: answer{200, jsonType, nil, okUser}, want: []string{"the client made a call the contract lacks"}}},
		{"an undeclared query parameter", exchange{method: "GET", path: "/settings/users/2026-03/7?propertiez=x",
			ans: answer{200, jsonType, nil, okUser}, want: []string{`query parameter "propertiez" is not in the contract`}}},
		{"a query parameter out of its enum", exchange{method: "GET", path: "/settings/users/2026-03/7?idProperty=NAME",
			ans: answer{200, jsonType, nil, okUser}, want: []string{"idProperty"}}},
		{"a login limit over 200", exchange{method: "GET", path: "/account-info/2026-03/activity/login?limit=500",
			ans: answer{200, jsonType, nil, `{"results":[]}`}, want: []string{"limit"}}},
		{"a login userId that is no integer", exchange{method: "GET", path: "/account-info/v3/activity/login?userId=abc",
			ans: answer{200, jsonType, nil, `{"results":[]}`}, want: []string{"userId"}}},
		{"a create with an undocumented field", exchange{method: "POST", path: "/settings/users/2026-03",
			body: `{"email":"a@example.com","sendWelcomeEmail":false,"superAdmin":true}`,
			ans:  answer{201, jsonType, map[string]string{"Location": "/settings/users/2026-03/7"}, okUser},
			want: []string{`"superAdmin" is unsupported`}}},
		{"seatNames is not in 2026-03", exchange{method: "POST", path: "/settings/users/2026-03",
			body: `{"email":"a@example.com","sendWelcomeEmail":false,"seatNames":["x"]}`,
			ans:  answer{201, jsonType, nil, okUser}, want: []string{`"seatNames" is unsupported`}}},
		{"seatNames is in the beta", exchange{method: "POST", path: "/settings/users/2026-09-beta",
			body: `{"email":"a@example.com","sendWelcomeEmail":false,"seatNames":["x"]}`,
			ans:  answer{201, jsonType, nil, okUser}}},
		{"a create without sendWelcomeEmail", exchange{method: "POST", path: "/settings/users/2026-03",
			body: `{"email":"a@example.com"}`, ans: answer{201, jsonType, nil, okUser}, want: []string{"sendWelcomeEmail"}}},
		{"a wrongly typed field", exchange{method: "PUT", path: "/settings/users/2026-03/7",
			body: `{"secondaryTeamIds":"5"}`, ans: answer{200, jsonType, nil, okUser}, want: []string{"secondaryTeamIds"}}},
		{"no bearer token", exchange{method: "GET", path: "/settings/users/2026-03/7", noAuth: true,
			ans: answer{401, jsonType, nil, okError}, want: []string{"Authorization"}}},
		{"token information needs none", exchange{method: "GET", path: "/oauth/v1/access-tokens/tok", noAuth: true,
			ans: answer{200, jsonType, nil, `{"token":"tok","user_id":1,"hub_id":2,"app_id":3,"scopes":[],"expires_in":1800,"token_type":"access"}`}}},
		{"a rename to no parent", exchange{method: "PATCH", path: "/settings/teams/2026-09/5",
			body: `{"name":"EMEA","parentTeamId":null}`, ans: answer{200, jsonType, nil, `{"id":"5","name":"EMEA"}`}}},
		{"a rename without parentTeamId", exchange{method: "PATCH", path: "/settings/teams/2026-09-beta/5",
			body: `{"name":"EMEA"}`, ans: answer{200, jsonType, nil, `{"id":"5","name":"EMEA"}`}, want: []string{"parentTeamId"}}},
		{"a member type out of its enum", exchange{method: "POST", path: "/settings/teams/2026-09/5/members",
			body: `{"userId":"7","type":"MAIN"}`, ans: answer{201, jsonType, nil, `{"userId":"7","type":"DEFAULT"}`}, want: []string{"type"}}},
		{"a comma-separated properties list", exchange{method: "GET", path: "/crm/objects/2026-03/users/201?properties=a,b",
			ans: answer{200, jsonType, nil, `{"id":"201","properties":{"a":"x","b":null},"createdAt":"2026-05-04T12:00:00Z","updatedAt":"2026-05-04T12:00:00.123Z","archived":false}`}}},
		{"a search without sorts or cursor", exchange{method: "POST", path: "/crm/v3/objects/users/search",
			body: `{"filterGroups":[{"filters":[{"propertyName":"hs_internal_user_id","operator":"IN","values":["1","2"]}]}],"properties":["x"],"limit":200}`,
			ans:  answer{200, jsonType, nil, `{"total":0,"results":[]}`}}},
		{"a search over 200", exchange{method: "POST", path: "/crm/v3/objects/users/search",
			body: `{"filterGroups":[],"properties":[],"limit":500}`, ans: answer{200, jsonType, nil, `{"total":0,"results":[]}`}, want: []string{"limit"}}},
		{"a batch read without propertiesWithHistory", exchange{method: "POST", path: "/crm/objects/2026-03/users/batch/read",
			body: `{"inputs":[{"id":"201"}],"properties":[]}`,
			ans:  answer{200, jsonType, nil, `{"status":"COMPLETE","results":[],"startedAt":"2026-05-04T12:00:00Z","completedAt":"2026-05-04T12:00:00Z"}`}}},
		{"a batch read input with a number id", exchange{method: "POST", path: "/crm/objects/2026-03/users/batch/read",
			body: `{"inputs":[{"id":201}],"properties":[]}`,
			ans:  answer{200, jsonType, nil, `{"status":"COMPLETE","results":[],"startedAt":"2026-05-04T12:00:00Z","completedAt":"2026-05-04T12:00:00Z"}`},
			want: []string{"inputs"}}},

		{"an answer without a required field", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{200, jsonType, nil, `{"id":"7","email":"a@example.com","superAdmin":false}`}, want: []string{`roleIds`}}},
		{"an id as a number", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{200, jsonType, nil, `{"id":7,"email":"a@example.com","roleIds":[],"superAdmin":false}`}, want: []string{"at /id"}}},
		{"a create answered 200", exchange{method: "POST", path: "/settings/users/2026-03",
			body: `{"email":"a@example.com","sendWelcomeEmail":false}`, ans: answer{200, jsonType, nil, okUser},
			want: []string{"status 200 is not a success status"}}},
		{"an error envelope", exchange{method: "GET", path: "/settings/users/2026-03/7", ans: answer{404, jsonType, nil, okError}}},
		{"an error without correlationId", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{404, jsonType, nil, `{"status":"error","message":"x","category":"OBJECT_NOT_FOUND"}`}, want: []string{"correlationId"}}},
		{"a correlationId that is no UUID", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{404, jsonType, nil, `{"status":"error","message":"x","category":"OBJECT_NOT_FOUND","correlationId":"c-1"}`}, want: []string{"correlationId"}}},
		{"the CDN's HTML 502", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{502, "text/html", nil, "<html><body>502 Bad Gateway</body></html>"}}},
		{"an HTML 400", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{400, "text/html", nil, "<html>400</html>"}, want: []string{"text/html"}}},
		{"the rate-limit body", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{429, jsonType, map[string]string{"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Daily": "250000"}, okLimited}}},
		{"a 429 without errorType", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{429, jsonType, nil, `{"status":"error","message":"slow down","correlationId":"0c5e1e9c-0000-4000-8000-000000000429"}`}, want: []string{"errorType"}}},
		{"a rate-limit header that is no count", exchange{method: "GET", path: "/settings/users/2026-03/7",
			ans: answer{200, jsonType, map[string]string{"X-HubSpot-RateLimit-Max": "many"}, okUser}, want: []string{"X-HubSpot-RateLimit-Max"}}},
		{"a login userId as a string", exchange{method: "GET", path: "/account-info/2026-03/activity/login",
			ans: answer{200, jsonType, nil, `{"results":[{"id":"1","userId":"7","loginAt":"2026-05-01T10:00:00Z","loginSucceeded":true}]}`}, want: []string{"userId"}}},
		{"a loginAt that is no date-time", exchange{method: "GET", path: "/account-info/2026-03/activity/login",
			ans: answer{200, jsonType, nil, `{"results":[{"id":"1","loginAt":1746093600000,"loginSucceeded":true}]}`}, want: []string{"loginAt"}}},
	}
	c := load(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				method, uri, body string
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got.method, got.uri, got.body = r.Method, r.URL.RequestURI(), string(b)
				for k, v := range tt.ex.ans.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", tt.ex.ans.ctype)
				w.WriteHeader(tt.ex.ans.status)
				_, _ = io.WriteString(w, tt.ex.ans.body)
			}))
			defer srv.Close()
			var col collector
			tr := c.Transport(nil, col.report)
			var rd io.Reader
			if tt.ex.body != "" {
				rd = strings.NewReader(tt.ex.body)
			}
			req, err := http.NewRequest(tt.ex.method, srv.URL+tt.ex.path, rd)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.ex.noAuth {
				req.Header.Set("Authorization", "Bearer pat-na1-test")
			}
			if rd != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || string(body) != tt.ex.ans.body || resp.StatusCode != tt.ex.ans.status {
				t.Errorf("client got %d %q (%v), server sent %d %q", resp.StatusCode, body, err, tt.ex.ans.status, tt.ex.ans.body)
			}
			// The transport changes nothing on the way (no defaults added).
			if got.method != tt.ex.method || got.uri != tt.ex.path || got.body != tt.ex.body {
				t.Errorf("server got %s %s %q, client sent %s %s %q", got.method, got.uri, got.body, tt.ex.method, tt.ex.path, tt.ex.body)
			}
			checkViolations(t, col.take(), tt.ex.want)
		})
	}
}

func TestTransportSkipResponsesAndSeen(t *testing.T) {
	c := load(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "canned")
	}))
	defer srv.Close()
	var col collector
	tr := c.Transport(nil, col.report)
	tr.SkipResponses = true
	hc := &http.Client{Transport: tr}
	for _, path := range []string{"/settings/users/2026-03/7", "/settings/users/2026-03/8", "/settings/teams/2026-09/5/members/7?type=EXTRA"} {
		method := http.MethodGet
		if strings.Contains(path, "members") {
			method = http.MethodDelete
		}
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	checkViolations(t, col.take(), nil)
	want := []string{"DELETE /settings/teams/2026-09/{teamId}/members/{userId}", "GET /settings/users/2026-03/{userId}"}
	if got := tr.Seen(); !slices.Equal(got, want) {
		t.Errorf("Seen = %q, want %q", got, want)
	}
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name, method, path string
		ans                answer
		want               []string
	}{
		{"a good answer", "GET", "/settings/users/2026-03/7", answer{200, jsonType, nil, okUser}, nil},
		{"a bad answer", "GET", "/settings/users/2026-03/7", answer{200, jsonType, nil, `{"id":"7"}`}, []string{"email"}},
		{"a bad error", "DELETE", "/settings/users/2026-03/7", answer{403, jsonType, nil, `{"message":"no"}`}, []string{"category"}},
		{"204", "DELETE", "/settings/users/2026-03/7", answer{204, "", nil, ""}, nil},
		{"inspection is outside the contract", "GET", "/_sim/state", answer{200, "text/plain", nil, "anything"}, nil},
		{"so are unknown calls", "GET", "/settings/users/2024-01/7", answer{404, "text/plain", nil, "nothing here"}, nil},
	}
	c := load(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var col collector
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.ans.ctype != "" {
					w.Header().Set("Content-Type", tt.ans.ctype)
				}
				w.WriteHeader(tt.ans.status)
				_, _ = io.WriteString(w, tt.ans.body)
			}), col.report)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.ans.status || rec.Body.String() != tt.ans.body {
				t.Errorf("answer %d %q, handler wrote %d %q", rec.Code, rec.Body.String(), tt.ans.status, tt.ans.body)
			}
			checkViolations(t, col.take(), tt.want)
		})
	}
}
