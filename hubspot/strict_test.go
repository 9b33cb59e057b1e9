package hubspot_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

func TestIsInvitationPending(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"subcategory", 400, `{"status":"error","message":"x","category":"VALIDATION_ERROR","subCategory":"USER_NOT_ON_ANY_HUBS","correlationId":"c"}`, true},
		{"nested in message", 400, `{"status":"error","message":"{\"status\":\"error\",\"message\":\"USER_NOT_ON_ANY_HUBS\",\"category\":\"VALIDATION_ERROR\"}","category":"VALIDATION_ERROR","correlationId":"c"}`, true},
		{"error detail code", 400, `{"status":"error","message":"bad","category":"VALIDATION_ERROR","errors":[{"message":"m","code":"USER_NOT_ON_ANY_HUBS"}],"correlationId":"c"}`, true},
		{"other validation error", 400, `{"status":"error","message":"Role does not exist","category":"VALIDATION_ERROR","correlationId":"c"}`, false},
		{"not a 400", 403, `{"status":"error","message":"USER_NOT_ON_ANY_HUBS","category":"FORBIDDEN","correlationId":"c"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cannedServer(t, tt.status, nil, tt.body)
			c := newClient(t, srv.URL, newFakeClock(), nil)
			first := "Ada"
			_, err := c.UpdateUser(context.Background(), "101", hubspot.UserUpdate{FirstName: &first})
			if got := hubspot.IsInvitationPending(err); got != tt.want {
				t.Errorf("IsInvitationPending(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

func TestUserUpdateSendsOnlyWhatIsSet(t *testing.T) {
	role, none := "3", ""
	tests := []struct {
		name string
		in   hubspot.UserUpdate
		want string
	}{
		{"role only", hubspot.UserUpdate{RoleID: &role}, `{"roleId":"3"}`},
		{"clear the main team", hubspot.UserUpdate{PrimaryTeamID: &none}, `{"primaryTeamId":""}`},
		{"clear the additional teams", hubspot.UserUpdate{SecondaryTeamIDs: []string{}}, `{"secondaryTeamIds":[]}`},
		{"names left out", hubspot.UserUpdate{FirstName: &role, RoleID: &role}.WithoutNames(), `{"roleId":"3"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			c := newClient(t, rec.srv.URL, newFakeClock(), nil)
			if _, err := c.UpdateUser(context.Background(), "101", tt.in); err != nil {
				t.Fatal(err)
			}
			if got := rec.take(); len(got) != 1 || !strings.HasSuffix(got[0], " "+tt.want) {
				t.Errorf("sent %q, want body %s", got, tt.want)
			}
		})
	}
	if !(hubspot.UserUpdate{}).Empty() || (hubspot.UserUpdate{RoleID: &role}).Empty() {
		t.Error("Empty is wrong")
	}
}

// A CRM search's 429 names no policy: it is the search limit, and it must
// pause searches only, never the user calls beside them.
func TestSearch429PausesSearchesOnly(t *testing.T) {
	var mu sync.Mutex
	searches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/search") {
			mu.Lock()
			searches++
			n := searches
			mu.Unlock()
			if n == 1 {
				writeJSON(w, 429, map[string]any{"status": "error", "message": "You have reached your secondly limit.",
					"errorType": "RATE_LIMIT", "correlationId": "c429"})
				return
			}
			writeJSON(w, 200, map[string]any{"total": 0, "results": []any{}})
			return
		}
		writeJSON(w, 200, map[string]any{"id": "101", "email": "a@example.com", "roleIds": []string{}, "superAdmin": false})
	}))
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	c := newClient(t, srv.URL, clk, nil)
	ctx := context.Background()
	if _, err := c.CRMUsersByLink(ctx, hubspot.DefaultCRMLinkProperty, []string{"101"}, nil); err != nil {
		t.Fatalf("search after a 429: %v", err)
	}
	mu.Lock()
	n := searches
	mu.Unlock()
	if n != 2 {
		t.Errorf("%d searches, want the 429 retried once", n)
	}
	if st := c.Limiter().State(); !st.BlockedUntil.IsZero() || st.Blocks != 0 {
		t.Errorf("the main limiter was blocked (%d times, until %s) by a search 429", st.Blocks, st.BlockedUntil)
	}
	if st := c.SearchLimiter().State(); st.Blocks != 1 {
		t.Errorf("the search limiter paused %d times, want 1", st.Blocks)
	}
	if st := c.SearchLimiter().State(); st.Limit != hubspot.DefaultSearchRate || st.Interval != time.Second {
		t.Errorf("search limiter %d per %s, want %d per second", st.Limit, st.Interval, hubspot.DefaultSearchRate)
	}
	before := len(clk.Slept())
	if _, err := c.GetUser(ctx, "101"); err != nil {
		t.Fatal(err)
	}
	if slept := clk.Slept()[before:]; len(slept) != 0 {
		t.Errorf("a user read waited %v after a search 429", slept)
	}
}

func TestCRMUsersByID(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		// 207: one record found, the other id unknown.
		writeJSON(w, 207, map[string]any{"status": "COMPLETE", "numErrors": 1,
			"results": []any{map[string]any{"id": "200000000001", "properties": map[string]any{"hs_job_title": "CFO", "department": nil},
				"createdAt": "2026-05-01T10:00:00Z", "updatedAt": "2026-05-01T10:00:00Z", "archived": false}},
			"errors": []any{map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some USER objects",
				"context": map[string]any{"ids": []string{"9"}}}}})
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, newFakeClock(), nil)
	got, err := c.CRMUsersByID(context.Background(), []string{"200000000001", "9"}, []string{"hs_job_title", "department"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["200000000001"] == nil || got["200000000001"].Properties["hs_job_title"] != "CFO" {
		t.Fatalf("got %+v", got)
	}
	if _, ok := got["200000000001"].Properties["department"]; ok {
		t.Error("a null property came back as a value")
	}
	want := `POST /crm/objects/2026-03/users/batch/read {"inputs":[{"id":"200000000001"},{"id":"9"}],"properties":["hs_job_title","department"]}`
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || bodies[0] != want {
		t.Errorf("sent %q, want %q", bodies, want)
	}
}
