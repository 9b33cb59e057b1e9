package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantPending checks HubSpot's answer to a name change of a user who has
// not accepted the invitation: a 400 with USER_NOT_ON_ANY_HUBS, the
// envelope nested in the message.
func wantPending(t *testing.T, r resp) {
	t.Helper()
	eb := r.wantError(t, http.StatusBadRequest, catValidation, "")
	var inner errorBody
	if err := json.Unmarshal([]byte(eb.Message), &inner); err != nil || inner.Message != "USER_NOT_ON_ANY_HUBS" || eb.SubCategory != "USER_NOT_ON_ANY_HUBS" {
		t.Errorf("answer %s is not a nested USER_NOT_ON_ANY_HUBS envelope", r.body)
	}
}

func TestPendingInvitation(t *testing.T) {
	const email = "new@example.com"
	tests := []struct {
		name   string
		accept func(e *env) // nil: the user stays pending
	}{
		{"accepted via /_sim/accept", func(e *env) {
			e.do("POST", "/_sim/accept", "", map[string]string{"email": "NEW@example.com"}).wantStatus(t, http.StatusNoContent)
		}},
		{"accepted via /_sim/accept-invite", func(e *env) {
			e.do("POST", "/_sim/accept-invite", "", map[string]string{"email": email}).wantStatus(t, http.StatusNoContent)
		}},
		{"accepted via Sim.AcceptInvite", func(e *env) {
			if !e.sim.AcceptInvite(email) {
				t.Error("AcceptInvite found no user")
			}
		}},
		{"a successful login via /_sim/logins", func(e *env) {
			e.do("POST", "/_sim/logins", "", map[string]any{"email": email}).wantStatus(t, http.StatusNoContent)
		}},
		{"a successful login via RecordLogin", func(e *env) {
			e.sim.RecordLogin(email, e.clock.Now(), true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			u := e.createUser(email, map[string]any{"firstName": "Nora", "lastName": "New"})
			path := usersPath + "/" + u.ID
			// Names refused, even unchanged ones, and with them the
			// whole PUT; role and team changes alone go through.
			for _, body := range []map[string]any{
				{"firstName": "Nina"},
				{"lastName": "New"},
				{"firstName": "Nora", "lastName": "New"},
				{"firstName": "Nina", "roleId": roleRep},
			} {
				wantPending(t, e.do("PUT", path, tokFull, body))
			}
			if got, _ := findUser(e.sim.State(), email); got.FirstName != "Nora" || got.RoleID != "" {
				t.Errorf("a refused PUT changed the user: %+v", got)
			}
			e.do("PUT", path, tokFull, map[string]any{"roleId": roleRep, "primaryTeamId": teamNA}).wantStatus(t, http.StatusOK)
			// A failed login does not accept the invitation.
			e.sim.RecordLogin(email, e.clock.Now(), false)
			wantPending(t, e.do("PUT", path, tokFull, map[string]any{"firstName": "Nina"}))

			tt.accept(e)
			if got := e.do("PUT", path, tokFull, map[string]any{"firstName": "Nina"}).wantStatus(t, http.StatusOK).user(t); got.FirstName != "Nina" || got.RoleID != roleRep {
				t.Errorf("after accepting: %+v", got)
			}
		})
	}
}

func TestPendingInvitationOptionsAndSeed(t *testing.T) {
	seed := testSeed()
	seed.Users = append(seed.Users,
		SeedUser{Email: "settled@example.com", FirstName: "S"},
		SeedUser{Email: "invited@example.com", FirstName: "I", Pending: true})
	tests := []struct {
		name        string
		behaviour   Behaviour
		email       string // "" creates a user through the API
		wantPending bool
	}{
		{"API user, strict", Behaviour{}, "", true},
		{"API user, invites accepted at once", Behaviour{InvitesAcceptedAtOnce: true}, "", false},
		{"API user, Loose", Loose(), "", false},
		{"seeded user", Behaviour{}, "settled@example.com", false},
		{"seeded pending user", Behaviour{}, "invited@example.com", true},
		{"seeded pending user, Loose", Loose(), "invited@example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Seed: seed, Behaviour: tt.behaviour})
			email := tt.email
			if email == "" {
				email = "api@example.com"
				e.createUser(email, nil)
			}
			u, _ := findUser(e.sim.State(), email)
			r := e.do("PUT", usersPath+"/"+u.ID, tokFull, map[string]any{"firstName": "X"})
			if tt.wantPending {
				wantPending(t, r)
			} else {
				r.wantStatus(t, http.StatusOK)
			}
		})
	}
	// Unknown emails are a 404 on either name of the endpoint.
	e := newEnv(t, Config{})
	for _, p := range []string{"/_sim/accept", "/_sim/accept-invite"} {
		e.do("POST", p, "", map[string]string{"email": "nobody@example.com"}).wantError(t, http.StatusNotFound, catNotFound, "")
	}
}

// crmProbe reports whether each API read finds the record of Settings
// user uid (record id rid): GET by id, batch read, list, search.
func (e *env) crmProbe(rid, uid string) (get, batch, list, search bool) {
	e.t.Helper()
	base := "/crm/objects/2026-03/users"
	get = e.do("GET", base+"/"+rid, tokCRM, nil).status == http.StatusOK
	var br struct {
		Results []crmObj `json:"results"`
	}
	e.do("POST", base+"/batch/read", tokCRM, map[string]any{"inputs": []any{map[string]any{"id": rid}}}).decode(e.t, &br)
	batch = len(br.Results) == 1
	var lp struct {
		Results []crmObj `json:"results"`
	}
	e.do("GET", base+"?limit=100", tokCRM, nil).wantStatus(e.t, http.StatusOK).decode(e.t, &lp)
	list = slices.ContainsFunc(lp.Results, func(o crmObj) bool { return o.ID == rid })
	sa := e.crmSearch(map[string]any{"filterGroups": []any{map[string]any{"filters": []any{
		map[string]any{"propertyName": "hs_internal_user_id", "operator": "EQ", "value": uid}}}}})
	search = sa.Total == 1
	return get, batch, list, search
}

// crmSearch searches the users object (the search limit is the test's
// business: it does not move the clock).
func (e *env) crmSearch(body map[string]any) crmSearchAnswer {
	e.t.Helper()
	var a crmSearchAnswer
	e.do("POST", "/crm/objects/2026-03/users/search", tokCRM, body).wantStatus(e.t, http.StatusOK).decode(e.t, &a)
	return a
}

func TestCRMRecordDelay(t *testing.T) {
	type seen struct{ get, batch, list, search bool }
	tests := []struct {
		name      string
		behaviour Behaviour
		at        []time.Duration // clock offsets from the create
		want      []seen
	}{
		{"default 3s, then the 1s search lag", Behaviour{},
			[]time.Duration{0, 2999 * time.Millisecond, 3 * time.Second, 3999 * time.Millisecond, 4 * time.Second},
			[]seen{{}, {}, {true, true, true, false}, {true, true, true, false}, {true, true, true, true}}},
		{"10s, no search lag", Behaviour{CRMRecordDelay: 10 * time.Second, CRMSearchLag: -1},
			[]time.Duration{9 * time.Second, 10 * time.Second},
			[]seen{{}, {true, true, true, true}}},
		{"at once, default lag", Behaviour{CRMRecordDelay: -1},
			[]time.Duration{0, time.Second},
			[]seen{{true, true, true, false}, {true, true, true, true}}},
		{"Loose", Loose(), []time.Duration{0}, []seen{{true, true, true, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.behaviour
			b.CRMSearchPerSecond = -1 // this test is not about the search limit
			e := newEnv(t, Config{Seed: crmSeed(), Behaviour: b})
			start := e.clock.Now()
			u := e.createUser("late@example.com", nil)
			rec := e.crmRecordOf(u.ID) // the inspection sees it at once
			if want := start.Add(e.sim.Behaviour().CRMRecordDelay); b.CRMRecordDelay >= 0 && !rec.AppearsAt.Equal(want) {
				t.Errorf("AppearsAt %v, want %v", rec.AppearsAt, want)
			}
			for i, off := range tt.at {
				e.clock.Advance(start.Add(off).Sub(e.clock.Now()))
				var got seen
				got.get, got.batch, got.list, got.search = e.crmProbe(rec.ID, u.ID)
				if got != tt.want[i] {
					t.Errorf("at +%v: get, batch, list, search = %+v, want %+v", off, got, tt.want[i])
				}
			}
		})
	}
	t.Run("PATCH waits too; seeded records do not", func(t *testing.T) {
		e := newEnv(t, Config{Seed: crmSeed()})
		u := e.createUser("late@example.com", nil)
		rec := e.crmRecordOf(u.ID)
		patch := map[string]any{"properties": map[string]any{"hs_job_title": "Early"}}
		e.do("PATCH", "/crm/v3/objects/users/"+rec.ID, tokCRM, patch).wantError(t, http.StatusNotFound, catNotFound, "")
		admin := e.crmRecordOf(adminID)
		if get, batch, list, search := e.crmProbe(admin.ID, adminID); !get || !batch || !list || !search {
			t.Errorf("seeded record: get %v batch %v list %v search %v", get, batch, list, search)
		}
		e.clock.Advance(DefaultCRMRecordDelay)
		e.do("PATCH", "/crm/v3/objects/users/"+rec.ID, tokCRM, patch).wantStatus(t, http.StatusOK)
	})
}

func TestCRMSearchLag(t *testing.T) {
	title := func(v string) map[string]any { return map[string]any{"properties": map[string]any{"hs_job_title": v}} }
	byTitle := func(v string) map[string]any {
		return map[string]any{"filterGroups": []any{map[string]any{"filters": []any{
			map[string]any{"propertyName": "hs_job_title", "operator": "EQ", "value": v}}}}, "properties": []string{"hs_job_title"}}
	}
	tests := []struct {
		name string
		lag  time.Duration // resolved lag the test expects
		b    Behaviour
	}{
		{"default 1s", DefaultCRMSearchLag, Behaviour{}},
		{"5s", 5 * time.Second, Behaviour{CRMSearchLag: 5 * time.Second}},
		{"none", 0, Behaviour{CRMSearchLag: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.CRMSearchPerSecond = -1
			e := newEnv(t, Config{Seed: crmSeed(), Behaviour: tt.b})
			bob, _ := findUser(e.sim.State(), "bob@example.com")
			rec := e.crmRecordOf(bob.ID) // seeded: hs_job_title Engineer
			e.do("PATCH", "/crm/v3/objects/users/"+rec.ID, tokCRM, title("Architect")).wantStatus(t, http.StatusOK)
			patched := e.clock.Now()

			// GET and batch read see the PATCH at once.
			var o crmObj
			e.do("GET", "/crm/v3/objects/users/"+rec.ID+"?properties=hs_job_title", tokCRM, nil).wantStatus(t, http.StatusOK).decode(t, &o)
			if o.prop("hs_job_title") != "Architect" {
				t.Errorf("GET after PATCH: %q", o.prop("hs_job_title"))
			}
			// Search sees the old value (and not the new) until the lag
			// has passed, in filters and in the answer alike.
			check := func(when string, wantNew bool) {
				t.Helper()
				old, cur := e.crmSearch(byTitle("Engineer")), e.crmSearch(byTitle("Architect"))
				if gotNew := cur.Total == 1 && old.Total == 0; gotNew != wantNew || (!wantNew && (old.Total != 1 || old.Results[0].prop("hs_job_title") != "Engineer")) {
					t.Errorf("%s: search finds Engineer %d, Architect %d; want the new value: %v", when, old.Total, cur.Total, wantNew)
				}
			}
			if tt.lag > 0 {
				check("just after the PATCH", false)
				e.clock.Advance(patched.Add(tt.lag - time.Millisecond).Sub(e.clock.Now()))
				check("a moment before the lag", false)
				// A second PATCH inside the lag: search moves through
				// the versions in order.
				e.do("PATCH", "/crm/v3/objects/users/"+rec.ID, tokCRM, title("Director")).wantStatus(t, http.StatusOK)
				e.clock.Advance(time.Millisecond)
			}
			check("once the lag has passed", true)
			final := "Architect"
			if tt.lag > 0 {
				final = "Director"
				e.clock.Advance(tt.lag)
				if a := e.crmSearch(byTitle(final)); a.Total != 1 {
					t.Errorf("second PATCH not searchable after the lag: %+v", a)
				}
			}

			// A Settings rename and a delete (which archives the record)
			// lag the same way; GET sees the archive at once.
			e.sim.AcceptInvite(bob.Email)
			e.do("PUT", usersPath+"/"+bob.ID, tokFull, map[string]any{"lastName": "Renamed"}).wantStatus(t, http.StatusOK)
			e.do("DELETE", usersPath+"/"+bob.ID, tokFull, nil).wantStatus(t, http.StatusNoContent)
			e.do("GET", "/crm/v3/objects/users/"+rec.ID, tokCRM, nil).wantError(t, http.StatusNotFound, catNotFound, "")
			if tt.lag > 0 {
				if a := e.crmSearch(byTitle(final)); a.Total != 1 {
					t.Errorf("archived record gone from search before the lag: %+v", a)
				}
				if a := e.crmSearch(map[string]any{"query": "builder"}); a.Total != 1 {
					t.Errorf("search saw the rename before the lag: %+v", a)
				}
				e.clock.Advance(tt.lag)
			}
			if a := e.crmSearch(byTitle(final)); a.Total != 0 {
				t.Errorf("archived record still searchable after the lag: %+v", a)
			}
		})
	}
}

// decodeFields decodes a JSON object loosely, to see which fields came.
func decodeFields(t *testing.T, r resp) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

func TestCRMSearchLimit(t *testing.T) {
	const searchPath = "/crm/objects/2026-03/users/search"
	empty := map[string]any{}
	tests := []struct {
		name      string
		behaviour Behaviour
		allowed   int // searches per second before a 429; -1: unlimited
	}{
		{"default 4 per second", Behaviour{}, DefaultCRMSearchPerSecond},
		{"2 per second", Behaviour{CRMSearchPerSecond: 2}, 2},
		{"unlimited", Behaviour{CRMSearchPerSecond: -1}, -1},
		{"Loose", Loose(), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Seed: crmSeed(), Behaviour: tt.behaviour})
			n := tt.allowed
			if n < 0 {
				n = 50
			}
			for range n {
				e.do("POST", searchPath, tokCRM, empty).wantStatus(t, http.StatusOK)
			}
			if tt.allowed < 0 {
				return
			}
			r := e.do("POST", searchPath, tokCRM, empty).wantStatus(t, http.StatusTooManyRequests)
			m := decodeFields(t, r)
			if _, has := m["policyName"]; has || m["status"] != "error" || m["errorType"] != "RATE_LIMIT" ||
				m["message"] != "You have reached your secondly limit." || m["correlationId"] == "" {
				t.Errorf("search 429 body %s", r.body)
			}
			// Every search path is under the limit (v3 as well).
			e.do("POST", "/crm/v3/objects/users/search", tokCRM, empty).wantStatus(t, http.StatusTooManyRequests)
			// Other endpoints and other tokens are unaffected.
			e.do("GET", "/crm/v3/objects/users?limit=1", tokCRM, nil).wantStatus(t, http.StatusOK)
			e.do("POST", "/crm/v3/objects/users/batch/read", tokCRM, map[string]any{"inputs": []any{}}).wantStatus(t, http.StatusOK)
			e.do("GET", usersPath, tokFull, nil).wantStatus(t, http.StatusOK)
			e.do("POST", searchPath, tokFull, empty).wantStatus(t, http.StatusOK)
			// The window rolls: a second later the token searches again.
			e.clock.Advance(time.Second)
			e.do("POST", searchPath, tokCRM, empty).wantStatus(t, http.StatusOK)
			if st := e.sim.Stats(); st.Calls("POST /crm/objects/{version}/users/search", http.StatusTooManyRequests) != 1 {
				t.Errorf("stats %+v", st.Endpoints)
			}
		})
	}
}

func TestCRMSearchLimitPerTokenAndAppLimits(t *testing.T) {
	const searchPath = "/crm/v3/objects/users/search"
	// Two tokens of one app: the search limit is per token, the app's
	// rolling limit counts both, searches included.
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 9, Daily: 1000, RetryAfter: true}})
	for range DefaultCRMSearchPerSecond {
		e.do("POST", searchPath, tokShared1, map[string]any{}).wantStatus(t, http.StatusOK)
	}
	r := e.do("POST", searchPath, tokShared1, map[string]any{}).wantStatus(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	// The refused search counted toward the app's window too (the
	// stricter reading): 5 of 9 spent.
	if got := r.header.Get("X-HubSpot-RateLimit-Remaining"); got != "4" {
		t.Errorf("app window remaining %q after 5 searches, want 4", got)
	}
	for range DefaultCRMSearchPerSecond {
		e.do("POST", searchPath, tokShared2, map[string]any{}).wantStatus(t, http.StatusOK)
	}
	// The app's window is spent: its 429 names its policy.
	r = e.do("GET", usersPath, tokShared2, nil).wantStatus(t, http.StatusTooManyRequests)
	if m := decodeFields(t, r); m["policyName"] != policyTenSecondly {
		t.Errorf("app limit 429 %s", r.body)
	}
}

func TestDuplicateEmailStatus(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		want     int
		category string
		field    string
	}{
		{"default", 0, http.StatusBadRequest, catValidation, "email"},
		{"400", http.StatusBadRequest, http.StatusBadRequest, catValidation, "email"},
		{"409", http.StatusConflict, http.StatusConflict, catConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Behaviour: Behaviour{DuplicateEmailStatus: tt.status}})
			e.createUser("dup@example.com", nil)
			eb := e.do("POST", usersPath, tokFull, newUserBody("Dup@Example.com")).wantError(t, tt.want, tt.category, tt.field)
			if !strings.Contains(eb.Message, "already exists") {
				t.Errorf("message %q", eb.Message)
			}
		})
	}
	t.Run("Loose answers 409", func(t *testing.T) {
		e := newEnv(t, Config{Behaviour: Loose()})
		e.do("POST", usersPath, tokFull, newUserBody(adminEmail)).wantError(t, http.StatusConflict, catConflict, "")
	})
	t.Run("other statuses are refused", func(t *testing.T) {
		if _, err := New(Config{Seed: testSeed(), Behaviour: Behaviour{DuplicateEmailStatus: 422}}); err == nil {
			t.Error("New accepted duplicateEmailStatus 422")
		}
	})
}

func TestTeamPatchRequiresParent(t *testing.T) {
	tests := []struct {
		name       string
		body       any
		status     int
		field      string
		wantParent string
	}{
		{"no parentTeamId", map[string]any{"name": "Child"}, 400, "parentTeamId", ""},
		{"no name", map[string]any{"parentTeamId": nil}, 400, "name", ""},
		{"name not a string", map[string]any{"name": 7, "parentTeamId": nil}, 400, "name", ""},
		{"parentTeamId null clears the parent", `{"name":"Child","parentTeamId":null}`, 200, "", ""},
		{"parentTeamId sets the parent", map[string]any{"name": "Child", "parentTeamId": teamNA}, 200, "", teamNA},
		{"parentTeamId unknown", map[string]any{"name": "Child", "parentTeamId": "5999999"}, 400, "parentTeamId", ""},
		{"parentTeamId empty", map[string]any{"name": "Child", "parentTeamId": ""}, 400, "parentTeamId", ""},
		{"parentTeamId not a string", map[string]any{"name": "Child", "parentTeamId": 5000002}, 400, "parentTeamId", ""},
		{"body null", `null`, 400, "name", ""},
	}
	for _, version := range []string{"2026-09", "2026-09-beta"} {
		for _, tt := range tests {
			t.Run(version+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t, Config{})
				base := "/settings/teams/" + version
				var child teamResp
				e.do("POST", base, tokFull, map[string]any{"name": "Child", "parentTeamId": teamEMEA, "members": []any{}}).
					wantStatus(t, http.StatusCreated).decode(t, &child)
				r := e.do("PATCH", base+"/"+child.ID, tokFull, tt.body)
				if tt.status != http.StatusOK {
					r.wantError(t, tt.status, catValidation, tt.field)
					tt.wantParent = teamEMEA // unchanged
				} else {
					r.wantStatus(t, http.StatusOK)
				}
				var got teamResp
				e.do("GET", base+"/"+child.ID, tokFull, nil).wantStatus(t, http.StatusOK).decode(t, &got)
				if got.ParentTeamID != tt.wantParent {
					t.Errorf("parent %q, want %q", got.ParentTeamID, tt.wantParent)
				}
			})
		}
	}
}

func TestBehaviourEndpoint(t *testing.T) {
	e := newEnv(t, Config{})
	get := func() (Behaviour, map[string]any) {
		t.Helper()
		r := e.do("GET", "/_sim/behaviour", "", nil).wantStatus(t, http.StatusOK)
		var b Behaviour
		r.decode(t, &b)
		return b, decodeFields(t, r)
	}
	strict := Behaviour{CRMRecordDelay: DefaultCRMRecordDelay, CRMSearchLag: DefaultCRMSearchLag,
		CRMSearchPerSecond: DefaultCRMSearchPerSecond, DuplicateEmailStatus: DefaultDuplicateEmailStatus}
	b, raw := get()
	if b != strict || e.sim.Behaviour() != strict {
		t.Errorf("defaults %+v, want %+v", b, strict)
	}
	want := map[string]any{"invitesAcceptedAtOnce": false, "crmRecordDelay": "3s", "crmSearchLag": "1s", "crmSearchPerSecond": 4.0, "duplicateEmailStatus": 400.0}
	if !reflect.DeepEqual(raw, want) {
		t.Errorf("GET /_sim/behaviour %v, want %v", raw, want)
	}

	// Loose, posted as its own JSON, comes back as it went.
	lj, err := json.Marshal(Loose())
	if err != nil {
		t.Fatal(err)
	}
	var posted Behaviour
	e.do("POST", "/_sim/behaviour", "", string(lj)).wantStatus(t, http.StatusOK).decode(t, &posted)
	if b, _ := get(); b != Loose() || posted != Loose() || e.sim.Behaviour() != Loose() {
		t.Errorf("after posting Loose: GET %+v, answer %+v", b, posted)
	}
	// …and takes effect: a duplicate is a 409 now.
	e.do("POST", usersPath, tokFull, newUserBody(adminEmail)).wantStatus(t, http.StatusConflict)

	// Some knobs; the rest take the defaults.
	e.do("POST", "/_sim/behaviour", "", `{"crmRecordDelay":"20s","duplicateEmailStatus":409}`).wantStatus(t, http.StatusOK)
	if b, _ := get(); b.CRMRecordDelay != 20*time.Second || b.DuplicateEmailStatus != 409 || b.CRMSearchLag != DefaultCRMSearchLag || b.InvitesAcceptedAtOnce {
		t.Errorf("after a partial post: %+v", b)
	}
	// {} restores the strict defaults.
	e.do("POST", "/_sim/behaviour", "", `{}`).wantStatus(t, http.StatusOK)
	if b, _ := get(); b != strict {
		t.Errorf("after {}: %+v", b)
	}

	for name, body := range map[string]string{
		"unknown field":     `{"pendingInvites":true}`,
		"bad duration":      `{"crmSearchLag":"soon"}`,
		"bad status":        `{"duplicateEmailStatus":418}`,
		"not an object":     `[1]`,
		"text for a number": `{"crmSearchPerSecond":"many"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e.do("POST", "/_sim/behaviour", "", body).wantError(t, http.StatusBadRequest, catValidation, "")
			if b, _ := get(); b != strict {
				t.Errorf("a refused post changed the behaviour: %+v", b)
			}
		})
	}

	// SetBehaviour resolves like the endpoint, and falls back to the
	// default for an invalid status.
	e.sim.SetBehaviour(Behaviour{CRMSearchPerSecond: 7, DuplicateEmailStatus: 418})
	if b := e.sim.Behaviour(); b.CRMSearchPerSecond != 7 || b.DuplicateEmailStatus != DefaultDuplicateEmailStatus || b.CRMRecordDelay != DefaultCRMRecordDelay {
		t.Errorf("SetBehaviour: %+v", b)
	}
	if fmt.Sprint(Loose()) == fmt.Sprint(Behaviour{}) {
		t.Error("Loose is the zero value")
	}
}
