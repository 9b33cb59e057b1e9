package hubspotsim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

// userBases are the users paths of every version the simulator serves.
func userBases() []string {
	return []string{"/settings/users/2026-03", "/settings/users/2026-09-beta", "/settings/v3/users", "/settings/users/v3"}
}

func TestUserCRUDEveryVersion(t *testing.T) {
	for _, base := range userBases() {
		t.Run(base, func(t *testing.T) {
			e := newEnv(t, Config{})
			r := e.do("POST", base, tokFull, map[string]any{
				"email": "Jane.Doe@Example.com", "sendWelcomeEmail": true, "firstName": "Jane", "lastName": "Doe",
				"roleId": roleRep, "primaryTeamId": teamEMEA, "secondaryTeamIds": []string{teamNA},
			}).wantStatus(t, http.StatusCreated)
			u := r.user(t)
			want := hubspot.User{ID: u.ID, Email: "jane.doe@example.com", FirstName: "Jane", LastName: "Doe", RoleID: roleRep,
				RoleIDs: []string{roleRep}, PrimaryTeamID: teamEMEA, SecondaryTeamIDs: []string{teamNA}, SendWelcomeEmail: true}
			if fmt.Sprint(u) != fmt.Sprint(want) {
				t.Errorf("created %+v, want %+v", u, want)
			}
			if _, ok := parseID(u.ID); !ok {
				t.Errorf("id %q is not numeric", u.ID)
			}
			if loc := r.header.Get("Location"); loc != e.srv.URL+base+"/"+u.ID {
				t.Errorf("Location %q", loc)
			}

			got := e.do("GET", base+"/"+u.ID, tokFull, nil).wantStatus(t, http.StatusOK).user(t)
			want.SendWelcomeEmail = false // "Subsequent queries will be false."
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("read %+v, want %+v", got, want)
			}
			byEmail := e.do("GET", base+"/JANE.DOE@example.COM?idProperty=EMAIL", tokFull, nil).wantStatus(t, http.StatusOK).user(t)
			if byEmail.ID != u.ID {
				t.Errorf("by email: id %s, want %s", byEmail.ID, u.ID)
			}

			// A user made through the API refuses name changes until it
			// accepts the invitation (Behaviour.InvitesAcceptedAtOnce).
			e.do("PUT", base+"/"+u.ID, tokFull, map[string]any{"lastName": "Smith"}).wantError(t, http.StatusBadRequest, catValidation, "")
			e.do("POST", "/_sim/accept", "", map[string]string{"email": u.Email}).wantStatus(t, http.StatusNoContent)
			up := e.do("PUT", base+"/"+u.ID, tokFull, map[string]any{"lastName": "Smith"}).wantStatus(t, http.StatusOK).user(t)
			if up.LastName != "Smith" || up.FirstName != "Jane" || up.RoleID != roleRep || up.PrimaryTeamID != teamEMEA {
				t.Errorf("after update %+v", up)
			}

			e.do("DELETE", base+"/"+u.ID, tokFull, nil).wantStatus(t, http.StatusNoContent)
			e.do("GET", base+"/"+u.ID, tokFull, nil).wantError(t, http.StatusNotFound, catNotFound, "")
		})
	}
}

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name     string
		tok      string
		body     any
		status   int
		category string
		field    string
		inMsg    string
	}{
		{"no email", tokFull, map[string]any{"sendWelcomeEmail": false}, 400, catValidation, "email", "email"},
		{"empty email", tokFull, map[string]any{"email": " ", "sendWelcomeEmail": false}, 400, catValidation, "email", "email"},
		{"no sendWelcomeEmail", tokFull, map[string]any{"email": "a@example.com"}, 400, catValidation, "sendWelcomeEmail", "sendWelcomeEmail"},
		{"sendWelcomeEmail not boolean", tokFull, `{"email":"a@example.com","sendWelcomeEmail":"yes"}`, 400, catValidation, "sendWelcomeEmail", "sendWelcomeEmail"},
		{"invalid email", tokFull, map[string]any{"email": "not-an-email", "sendWelcomeEmail": false}, 400, catValidation, "email", "not-an-email"},
		{"malformed JSON", tokFull, `{"email":`, 400, catValidation, "", "JSON"},
		{"empty body", tokFull, ``, 400, catValidation, "", "body"},
		{"unknown role", tokFull, map[string]any{"email": "a@example.com", "sendWelcomeEmail": false, "roleId": "999"}, 400, catValidation, "roleId", "999"},
		{"unknown primary team", tokFull, map[string]any{"email": "a@example.com", "sendWelcomeEmail": false, "primaryTeamId": "777"}, 400, catValidation, "primaryTeamId", "777"},
		{"unknown secondary team", tokFull, map[string]any{"email": "a@example.com", "sendWelcomeEmail": false, "secondaryTeamIds": []string{teamNA, "778"}}, 400, catValidation, "secondaryTeamIds", "778"},
		{"paid role without billing scope", tokNoBilling, map[string]any{"email": "a@example.com", "sendWelcomeEmail": false, "roleId": rolePaid}, 400, catValidation, "roleId", ScopeBillingWrite},
		{"super admin", tokFull, map[string]any{"email": "a@example.com", "sendWelcomeEmail": false, "superAdmin": true}, 403, catForbidden, "", "Super admin"},
		{"existing email", tokFull, map[string]any{"email": adminEmail, "sendWelcomeEmail": false}, 400, catValidation, "email", "already exists"},
		{"existing email other case", tokFull, map[string]any{"email": "ADMIN@Example.COM", "sendWelcomeEmail": false}, 400, catValidation, "email", "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			before := len(e.sim.State().Users)
			eb := e.do("POST", "/settings/users/2026-03", tt.tok, tt.body).wantError(t, tt.status, tt.category, tt.field)
			if !strings.Contains(eb.Message, tt.inMsg) {
				t.Errorf("message %q does not mention %q", eb.Message, tt.inMsg)
			}
			if n := len(e.sim.State().Users); n != before {
				t.Errorf("%d users after a refused create, want %d", n, before)
			}
		})
	}
}

func TestCreateUserPaidRoleWithBillingScope(t *testing.T) {
	e := newEnv(t, Config{})
	u := e.createUser("seat@example.com", map[string]any{"roleId": rolePaid})
	if u.RoleID != rolePaid || !slices.Equal(u.RoleIDs, []string{rolePaid}) {
		t.Errorf("user %+v", u)
	}
	e.sim.AcceptInvite(u.Email)
	// Unassigning the paid seat needs the scope too (spec: "to
	// assign/unassign").
	e.do("PUT", "/settings/users/2026-03/"+u.ID, tokNoBilling, map[string]any{"roleId": roleRep}).wantError(t, 400, catValidation, "roleId")
	e.do("PUT", "/settings/users/2026-03/"+u.ID, tokNoBilling, map[string]any{"firstName": "Ok"}).wantStatus(t, 200)
	e.do("PUT", "/settings/users/2026-03/"+u.ID, tokFull, map[string]any{"roleId": roleRep}).wantStatus(t, 200)
}

func TestCreateUserMinimal(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("POST", "/settings/users/2026-03", tokFull, map[string]any{"email": "min@example.com", "sendWelcomeEmail": false}).wantStatus(t, 201)
	// roleIds is always present, [] without a role; superAdmin too.
	if !strings.Contains(string(r.body), `"roleIds":[]`) || !strings.Contains(string(r.body), `"superAdmin":false`) {
		t.Errorf("body %s lacks roleIds [] or superAdmin", r.body)
	}
	// The CRM users scopes are an alternative to settings.users.* (spec).
	e.do("POST", "/settings/users/2026-03", tokCRM, map[string]any{"email": "crm@example.com", "sendWelcomeEmail": false}).wantStatus(t, 201)
}

func TestGetUserErrors(t *testing.T) {
	tests := []struct {
		name, path string
		status     int
		category   string
		field      string
	}{
		{"unknown id", "/settings/users/2026-03/99999999", 404, catNotFound, ""},
		{"unknown email", "/settings/users/2026-03/nobody@example.com?idProperty=EMAIL", 404, catNotFound, ""},
		{"email without idProperty", "/settings/users/2026-03/nobody@example.com", 400, catValidation, "userId"},
		{"bad idProperty", "/settings/users/2026-03/" + adminID + "?idProperty=NAME", 400, catValidation, "idProperty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.do("GET", tt.path, tokFull, nil).wantError(t, tt.status, tt.category, tt.field)
		})
	}
}

func TestUpdateUser(t *testing.T) {
	tests := []struct {
		name  string
		body  any
		check func(t *testing.T, u hubspot.User)
	}{
		{"omitted fields are kept", map[string]any{"firstName": "New"}, func(t *testing.T, u hubspot.User) {
			if u.FirstName != "New" || u.LastName != "Doe" || u.RoleID != roleRep || u.PrimaryTeamID != teamEMEA || !slices.Equal(u.SecondaryTeamIDs, []string{teamNA}) {
				t.Errorf("%+v", u)
			}
		}},
		{"null fields are kept", `{"roleId":null,"primaryTeamId":null,"secondaryTeamIds":null}`, func(t *testing.T, u hubspot.User) {
			if u.RoleID != roleRep || u.PrimaryTeamID != teamEMEA || !slices.Equal(u.SecondaryTeamIDs, []string{teamNA}) {
				t.Errorf("%+v", u)
			}
		}},
		{"empty role and team clear them", map[string]any{"roleId": "", "primaryTeamId": "", "secondaryTeamIds": []string{}}, func(t *testing.T, u hubspot.User) {
			if u.RoleID != "" || len(u.RoleIDs) != 0 || u.RoleIDs == nil || u.PrimaryTeamID != "" || len(u.SecondaryTeamIDs) != 0 {
				t.Errorf("%+v", u)
			}
		}},
		{"teams replaced, primary dropped from secondaries", map[string]any{"primaryTeamId": teamAPAC, "secondaryTeamIds": []string{teamAPAC, teamEMEA, teamEMEA}}, func(t *testing.T, u hubspot.User) {
			if u.PrimaryTeamID != teamAPAC || !slices.Equal(u.SecondaryTeamIDs, []string{teamEMEA}) {
				t.Errorf("%+v", u)
			}
		}},
		{"email is ignored", map[string]any{"email": "other@example.com", "lastName": "X"}, func(t *testing.T, u hubspot.User) {
			if u.Email != "jane@example.com" || u.LastName != "X" {
				t.Errorf("%+v", u)
			}
		}},
		{"superAdmin false is ignored", map[string]any{"superAdmin": false}, func(t *testing.T, u hubspot.User) {
			if u.SuperAdmin {
				t.Errorf("%+v", u)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			u := e.createUser("jane@example.com", map[string]any{"firstName": "Jane", "lastName": "Doe", "roleId": roleRep, "primaryTeamId": teamEMEA, "secondaryTeamIds": []string{teamNA}})
			e.sim.AcceptInvite(u.Email) // names change only once the invitation is accepted
			got := e.do("PUT", "/settings/users/2026-03/"+u.ID, tokFull, tt.body).wantStatus(t, 200).user(t)
			tt.check(t, got)
			if again := e.do("GET", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, 200).user(t); fmt.Sprint(again) != fmt.Sprint(got) {
				t.Errorf("read back %+v, answer was %+v", again, got)
			}
			checkTeams(t, e.sim.State())
		})
	}
}

func TestUpdateUserRefusals(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		tok      string
		body     any
		status   int
		category string
		field    string
	}{
		{"super admin target", "/settings/users/2026-03/" + adminID, tokFull, map[string]any{"firstName": "X"}, 403, catForbidden, ""},
		{"super admin by email", "/settings/users/2026-03/" + adminEmail + "?idProperty=EMAIL", tokFull, map[string]any{"firstName": "X"}, 403, catForbidden, ""},
		{"grant super admin", "/settings/users/2026-03/{id}", tokFull, map[string]any{"superAdmin": true}, 403, catForbidden, ""},
		{"unknown role", "/settings/users/2026-03/{id}", tokFull, map[string]any{"roleId": "1"}, 400, catValidation, "roleId"},
		{"unknown team", "/settings/users/2026-03/{id}", tokFull, map[string]any{"secondaryTeamIds": []string{"1"}}, 400, catValidation, "secondaryTeamIds"},
		{"paid role without scope", "/settings/users/2026-03/{id}", tokNoBilling, map[string]any{"roleId": rolePaid}, 400, catValidation, "roleId"},
		{"unknown user", "/settings/users/2026-03/12345", tokFull, map[string]any{"firstName": "X"}, 404, catNotFound, ""},
		{"read-only token", "/settings/users/2026-03/{id}", tokRead, map[string]any{"firstName": "X"}, 403, catScopes, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			u := e.createUser("jane@example.com", map[string]any{"firstName": "Jane"})
			before := e.sim.State()
			e.do("PUT", strings.Replace(tt.path, "{id}", u.ID, 1), tt.tok, tt.body).wantError(t, tt.status, tt.category, tt.field)
			if after := e.sim.State(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("state changed by a refused update:\n%+v\n%+v", before, after)
			}
		})
	}
}

func TestDeleteUser(t *testing.T) {
	e := newEnv(t, Config{})
	u := e.createUser("gone@example.com", map[string]any{"primaryTeamId": teamNA, "secondaryTeamIds": []string{teamAPAC}})
	e.do("DELETE", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, 204)
	e.do("GET", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantError(t, 404, catNotFound, "")
	e.do("GET", "/settings/users/2026-03/gone@example.com?idProperty=EMAIL", tokFull, nil).wantError(t, 404, catNotFound, "")
	st := e.sim.State()
	for _, tm := range st.Teams {
		if slices.Contains(tm.UserIDs, u.ID) || slices.Contains(tm.SecondaryUserIDs, u.ID) {
			t.Errorf("deleted user still in team %+v", tm)
		}
	}
	checkTeams(t, st)

	// Removal is idempotent (observed live), by id or email.
	e.do("DELETE", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, 204)
	e.do("DELETE", "/settings/users/2026-03/GONE@example.com?idProperty=EMAIL", tokFull, nil).wantStatus(t, 204)
	// An id never seen is a 404.
	e.do("DELETE", "/settings/users/2026-03/98765432", tokFull, nil).wantError(t, 404, catNotFound, "")
	// Super admins cannot be removed.
	e.do("DELETE", "/settings/users/2026-03/"+adminID, tokFull, nil).wantError(t, 403, catForbidden, "")
	e.do("DELETE", "/settings/users/2026-03/"+adminEmail+"?idProperty=EMAIL", tokFull, nil).wantError(t, 403, catForbidden, "")

	// Provisioning the email again reuses the global user id (observed live).
	again := e.createUser("gone@example.com", nil)
	if again.ID != u.ID || again.PrimaryTeamID != "" {
		t.Errorf("recreated %+v, want id %s and no teams", again, u.ID)
	}
	e.do("GET", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, 200)
}

type listPage struct {
	Results []hubspot.User `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
			Link  string `json:"link"`
		} `json:"next"`
	} `json:"paging"`
}

// listAll walks the users list with limit, calling between(page) after
// each page.
func (e *env) listAll(base string, limit int, between func(page int)) ([]hubspot.User, int) {
	e.t.Helper()
	var all []hubspot.User
	path := fmt.Sprintf("%s?limit=%d", base, limit)
	pages := 0
	for {
		var p listPage
		e.do("GET", path, tokFull, nil).wantStatus(e.t, 200).decode(e.t, &p)
		pages++
		if len(p.Results) > limit {
			e.t.Fatalf("page of %d, limit %d", len(p.Results), limit)
		}
		all = append(all, p.Results...)
		if between != nil {
			between(pages)
		}
		if p.Paging == nil {
			return all, pages
		}
		if p.Paging.Next == nil || p.Paging.Next.After == "" {
			e.t.Fatalf("paging without next.after")
		}
		link, err := url.Parse(p.Paging.Next.Link)
		if err != nil || link.Query().Get("after") != p.Paging.Next.After || link.Query().Get("limit") != fmt.Sprint(limit) {
			e.t.Errorf("next link %q does not carry after and limit", p.Paging.Next.Link)
		}
		path = fmt.Sprintf("%s?limit=%d&after=%s", base, limit, url.QueryEscape(p.Paging.Next.After))
	}
}

func TestListUsersPaging(t *testing.T) {
	e := newEnv(t, Config{})
	for i := range 24 {
		e.createUser(fmt.Sprintf("u%02d@example.com", i), nil)
	}
	all, pages := e.listAll("/settings/users/2026-03", 10, nil)
	if len(all) != 25 || pages != 3 {
		t.Fatalf("%d users in %d pages, want 25 in 3", len(all), pages)
	}
	if !slices.IsSortedFunc(all, func(a, b hubspot.User) int { x, _ := parseID(a.ID); y, _ := parseID(b.ID); return int(x - y) }) {
		t.Errorf("not in id order")
	}
	// Exactly full last page: no paging block.
	all, pages = e.listAll("/settings/users/2026-03", 5, nil)
	if len(all) != 25 || pages != 5 {
		t.Errorf("%d users in %d pages, want 25 in 5", len(all), pages)
	}
	// Default limit 100: one page, no paging.
	var p listPage
	r := e.do("GET", "/settings/users/2026-03", tokFull, nil).wantStatus(t, 200)
	r.decode(t, &p)
	if len(p.Results) != 25 || p.Paging != nil || strings.Contains(string(r.body), "paging") {
		t.Errorf("default page: %d results, paging %s", len(p.Results), r.body)
	}
}

func TestListUsersCursorStableUnderInserts(t *testing.T) {
	e := newEnv(t, Config{})
	for i := range 30 {
		e.createUser(fmt.Sprintf("u%02d@example.com", i), nil)
	}
	before := e.sim.State().Users
	n := 0
	all, _ := e.listAll("/settings/users/2026-03", 7, func(int) {
		n++
		e.createUser(fmt.Sprintf("late%02d@example.com", n), nil)
	})
	seen := map[string]int{}
	for _, u := range all {
		seen[u.ID]++
	}
	for _, u := range before {
		if seen[u.ID] != 1 {
			t.Errorf("user %s listed %d times", u.Email, seen[u.ID])
		}
	}
	for id, c := range seen {
		if c > 1 {
			t.Errorf("user %s listed %d times", id, c)
		}
	}
}

func TestListUsersBadParams(t *testing.T) {
	e := newEnv(t, Config{})
	for _, q := range []string{"limit=0", "limit=-3", "limit=ten", "after=xyz"} {
		e.do("GET", "/settings/users/2026-03?"+q, tokFull, nil).wantError(t, 400, catValidation, strings.Split(q, "=")[0])
	}
}

func TestRolesAndTeamsLists(t *testing.T) {
	e := newEnv(t, Config{})
	u := e.createUser("member@example.com", map[string]any{"primaryTeamId": teamNA, "secondaryTeamIds": []string{teamEMEA}})
	for _, base := range userBases()[:3] {
		var roles struct {
			Results []hubspot.Role `json:"results"`
		}
		r := e.do("GET", base+"/roles", tokFull, nil).wantStatus(t, 200)
		r.decode(t, &roles)
		want := []hubspot.Role{{ID: roleManager, Name: "Sales Manager"}, {ID: roleRep, Name: "Sales Representative"}, {ID: rolePaid, Name: "Paid Seat", RequiresBillingWrite: true}}
		if !slices.Equal(roles.Results, want) || strings.Contains(string(r.body), "paging") {
			t.Errorf("roles %s", r.body)
		}
		var teams struct {
			Results []hubspot.Team `json:"results"`
		}
		r = e.do("GET", base+"/teams", tokFull, nil).wantStatus(t, 200)
		r.decode(t, &teams)
		if len(teams.Results) != 3 || !strings.Contains(string(r.body), `"secondaryUserIds":[]`) {
			t.Fatalf("teams %s", r.body)
		}
		emea, na := teams.Results[0], teams.Results[1]
		if emea.ID != teamEMEA || !slices.Equal(emea.UserIDs, []string{adminID}) || !slices.Equal(emea.SecondaryUserIDs, []string{u.ID}) ||
			na.ID != teamNA || !slices.Equal(na.UserIDs, []string{u.ID}) {
			t.Errorf("teams %s", r.body)
		}
	}
	// Teams need settings.users.teams.read; the CRM scopes do not do.
	e.do("GET", "/settings/users/2026-03/teams", tokCRM, nil).wantError(t, 403, catScopes, "")
	e.do("GET", "/settings/users/2026-03/roles", tokCRM, nil).wantStatus(t, 200)
}

func TestUnknownPathsAndVersions(t *testing.T) {
	e := newEnv(t, Config{})
	for _, p := range []string{"/settings/users/2025-01", "/settings/users/2025-01/" + adminID, "/settings/teams/2026-03", "/crm/v3/objects/contacts", "/account-info/2027-01/activity/login"} {
		e.do("GET", p, tokFull, nil).wantError(t, 404, catNotFound, "")
	}
	// A trailing slash on the collection works (the v3 docs use one).
	e.do("GET", "/settings/v3/users/", tokFull, nil).wantStatus(t, 200)
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct{ name, header string }{
		{"no header", ""},
		{"unknown token", "Bearer nope"},
		{"not bearer", "Basic " + tokFull},
		{"empty bearer", "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/settings/users/2026-03", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b []byte
			b = make([]byte, 4096)
			n, _ := res.Body.Read(b)
			resp{status: res.StatusCode, header: res.Header, body: b[:n]}.wantError(t, 401, catAuth, "")
		})
	}
	// A lower-case scheme is accepted, as HTTP says it should be.
	req, _ := http.NewRequest("GET", e.srv.URL+"/settings/users/2026-03", nil)
	req.Header.Set("Authorization", "bearer "+tokFull)
	res, err := e.srv.Client().Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Errorf("lower-case bearer: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

func TestMissingScopes(t *testing.T) {
	tests := []struct {
		method, path string
		body         any
		want         string
	}{
		{"POST", "/settings/users/2026-03", map[string]any{"email": "x@example.com", "sendWelcomeEmail": false}, ScopeUsersWrite},
		{"PUT", "/settings/users/2026-03/" + adminID, map[string]any{}, ScopeUsersWrite},
		{"DELETE", "/settings/users/2026-03/" + adminID, nil, ScopeUsersWrite},
		{"POST", "/settings/teams/2026-09-beta", map[string]any{"name": "X", "members": []any{}}, ScopeTeamsWrite},
		{"POST", "/settings/teams/2026-09-beta/" + teamNA + "/members", map[string]any{}, ScopeTeamsWrite},
		{"DELETE", "/settings/teams/2026-09-beta/" + teamNA, nil, ScopeTeamsWrite},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := newEnv(t, Config{})
			eb := e.do(tt.method, tt.path, tokRead, tt.body).wantError(t, 403, catScopes, "")
			if !slices.Equal(eb.Context["missingScopes"], []string{tt.want}) {
				t.Errorf("context %v, want missingScopes [%s]", eb.Context, tt.want)
			}
		})
	}
	e := newEnv(t, Config{})
	eb := e.do("GET", "/account-info/2026-03/activity/login", tokCRM, nil).wantError(t, 403, catScopes, "")
	if !slices.Equal(eb.Context["missingScopes"], []string{ScopeSecurityRead}) {
		t.Errorf("context %v", eb.Context)
	}
	eb = e.do("GET", "/settings/users/2026-03", "tok-"+"nobody", nil).wantError(t, 401, catAuth, "")
	_ = eb
}
