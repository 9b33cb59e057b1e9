package hubspotsim

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

const teamsBase = "/settings/teams/2026-09-beta"

type teamResp struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ParentTeamID string `json:"parentTeamId"`
}

// TestTeamLifecycle runs at both published versions of the Teams API:
// 2026-09 (GA) and 2026-09-beta have the same paths and schemas.
func TestTeamLifecycle(t *testing.T) {
	for _, base := range []string{"/settings/teams/2026-09", teamsBase} {
		t.Run(base, func(t *testing.T) {
			e := newEnv(t, Config{})
			a := e.createUser("a@example.com", map[string]any{"primaryTeamId": teamNA})
			b := e.createUser("b@example.com", nil)

			r := e.do("POST", base, tokFull, map[string]any{
				"name": "Nordics", "parentTeamId": teamEMEA,
				"members": []map[string]string{{"userId": a.ID, "type": "DEFAULT"}, {"userId": b.ID, "type": "EXTRA"}},
			}).wantStatus(t, 201)
			var tm teamResp
			r.decode(t, &tm)
			if tm.Name != "Nordics" || tm.ParentTeamID != teamEMEA || r.header.Get("Location") != e.srv.URL+base+"/"+tm.ID {
				t.Fatalf("created %s, Location %q", r.body, r.header.Get("Location"))
			}
			// The users API sees the memberships: a's main team moved, b got an
			// additional team.
			ua := e.do("GET", "/settings/users/2026-03/"+a.ID, tokFull, nil).wantStatus(t, 200).user(t)
			ub := e.do("GET", "/settings/users/2026-03/"+b.ID, tokFull, nil).wantStatus(t, 200).user(t)
			if ua.PrimaryTeamID != tm.ID || ub.PrimaryTeamID != "" || !slices.Equal(ub.SecondaryTeamIDs, []string{tm.ID}) {
				t.Errorf("users after team create: %+v %+v", ua, ub)
			}
			checkTeams(t, e.sim.State())

			e.do("GET", base+"/"+tm.ID, tokFull, nil).wantStatus(t, 200).decode(t, &tm)
			if tm.Name != "Nordics" {
				t.Errorf("read %+v", tm)
			}

			// PATCH needs both name and parentTeamId (TeamUpdateRequest): a
			// rename sends the parent back; null removes it.
			e.do("PATCH", base+"/"+tm.ID, tokFull, map[string]any{"name": "Nordic Sales"}).wantError(t, 400, catValidation, "parentTeamId")
			e.do("PATCH", base+"/"+tm.ID, tokFull, map[string]any{"name": "Nordic Sales", "parentTeamId": teamEMEA}).wantStatus(t, 200).decode(t, &tm)
			if tm.Name != "Nordic Sales" || tm.ParentTeamID != teamEMEA {
				t.Errorf("renamed %+v", tm)
			}
			id := tm.ID
			tm = teamResp{}
			e.do("PATCH", base+"/"+id, tokFull, `{"name":"Nordic Sales","parentTeamId":null}`).wantStatus(t, 200).decode(t, &tm)
			if tm.ParentTeamID != "" {
				t.Errorf("parent not removed: %+v", tm)
			}

			// Members list.
			var members page[hubspot.TeamMember]
			e.do("GET", base+"/"+tm.ID+"/members", tokFull, nil).wantStatus(t, 200).decode(t, &members)
			want := []hubspot.TeamMember{{UserID: a.ID, Type: "DEFAULT"}, {UserID: b.ID, Type: "EXTRA"}}
			if !slices.Equal(members.Results, want) {
				t.Errorf("members %+v, want %+v", members.Results, want)
			}

			// Deleting the team takes it off its members.
			e.do("DELETE", base+"/"+tm.ID, tokFull, nil).wantStatus(t, 204)
			e.do("GET", base+"/"+tm.ID, tokFull, nil).wantError(t, 404, catNotFound, "")
			ua = e.do("GET", "/settings/users/2026-03/"+a.ID, tokFull, nil).wantStatus(t, 200).user(t)
			ub = e.do("GET", "/settings/users/2026-03/"+b.ID, tokFull, nil).wantStatus(t, 200).user(t)
			if ua.PrimaryTeamID != "" || len(ub.SecondaryTeamIDs) != 0 {
				t.Errorf("users after team delete: %+v %+v", ua, ub)
			}
			checkTeams(t, e.sim.State())
		})
	}
}

func TestBetaTeamRefusals(t *testing.T) {
	tests := []struct {
		name, method, path string
		body               any
		status             int
		category, field    string
	}{
		{"create without name", "POST", teamsBase, map[string]any{"members": []any{}}, 400, catValidation, "name"},
		{"create without members", "POST", teamsBase, map[string]any{"name": "X"}, 400, catValidation, "members"},
		{"create duplicate name", "POST", teamsBase, map[string]any{"name": "emea sales", "members": []any{}}, 409, catConflict, ""},
		{"create unknown parent", "POST", teamsBase, map[string]any{"name": "X", "members": []any{}, "parentTeamId": "42"}, 400, catValidation, "parentTeamId"},
		{"create unknown member", "POST", teamsBase, map[string]any{"name": "X", "members": []map[string]string{{"userId": "42", "type": "DEFAULT"}}}, 400, catValidation, "userId"},
		{"create bad member type", "POST", teamsBase, map[string]any{"name": "X", "members": []map[string]string{{"userId": "{u}", "type": "MAIN"}}}, 400, catValidation, "type"},
		{"create with super admin", "POST", teamsBase, map[string]any{"name": "X", "members": []map[string]string{{"userId": adminID, "type": "EXTRA"}}}, 403, catForbidden, ""},
		{"read unknown", "GET", teamsBase + "/42", nil, 404, catNotFound, ""},
		{"patch without name", "PATCH", teamsBase + "/" + teamNA, map[string]any{"parentTeamId": teamEMEA}, 400, catValidation, "name"},
		{"patch to a taken name", "PATCH", teamsBase + "/" + teamNA, map[string]any{"name": "APAC Sales", "parentTeamId": nil}, 409, catConflict, ""},
		{"patch own parent", "PATCH", teamsBase + "/" + teamNA, map[string]any{"name": "NA Sales", "parentTeamId": teamNA}, 400, catValidation, "parentTeamId"},
		{"patch unknown", "PATCH", teamsBase + "/42", map[string]any{"name": "Q", "parentTeamId": nil}, 404, catNotFound, ""},
		{"delete unknown", "DELETE", teamsBase + "/42", nil, 404, catNotFound, ""},
		{"add member unknown user", "POST", teamsBase + "/" + teamNA + "/members", map[string]string{"userId": "42", "type": "DEFAULT"}, 400, catValidation, "userId"},
		{"add member unknown team", "POST", teamsBase + "/42/members", map[string]string{"userId": "{u}", "type": "DEFAULT"}, 404, catNotFound, ""},
		{"add super admin", "POST", teamsBase + "/" + teamNA + "/members", map[string]string{"userId": adminID, "type": "EXTRA"}, 403, catForbidden, ""},
		{"remove non-member", "DELETE", teamsBase + "/" + teamNA + "/members/{u}", nil, 404, catNotFound, ""},
		{"remove wrong type", "DELETE", teamsBase + "/" + teamAPAC + "/members/{u}?type=EXTRA", nil, 404, catNotFound, ""},
		{"remove bad type", "DELETE", teamsBase + "/" + teamAPAC + "/members/{u}?type=BOTH", nil, 400, catValidation, "type"},
		{"remove super admin", "DELETE", teamsBase + "/" + teamEMEA + "/members/" + adminID, nil, 403, catForbidden, ""},
		{"batch without inputs", "POST", teamsBase + "/" + teamNA + "/members/batch", map[string]any{}, 400, catValidation, "inputs"},
		{"unknown version", "GET", "/settings/teams/2026-03", nil, 404, catNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			u := e.createUser("u@example.com", map[string]any{"primaryTeamId": teamAPAC})
			before := e.sim.State()
			body := tt.body
			if s := fmt.Sprint(body); strings.Contains(s, "{u}") {
				switch b := body.(type) {
				case map[string]string:
					b["userId"] = u.ID
				case map[string]any:
					b["members"] = []map[string]string{{"userId": u.ID, "type": "MAIN"}}
				}
			}
			e.do(tt.method, strings.ReplaceAll(tt.path, "{u}", u.ID), tokFull, body).wantError(t, tt.status, tt.category, tt.field)
			if after := e.sim.State(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("state changed by a refused call")
			}
		})
	}
}

func TestBetaTeamMembersKeepUsersConsistent(t *testing.T) {
	e := newEnv(t, Config{})
	u := e.createUser("m@example.com", map[string]any{"primaryTeamId": teamNA, "secondaryTeamIds": []string{teamAPAC}})
	member := func(team, typ string) {
		t.Helper()
		var m hubspot.TeamMember
		e.do("POST", teamsBase+"/"+team+"/members", tokFull, map[string]string{"userId": u.ID, "type": typ}).wantStatus(t, 201).decode(t, &m)
		if m.UserID != u.ID {
			t.Errorf("member answer %+v", m)
		}
	}
	get := func() hubspot.User {
		return e.do("GET", "/settings/users/2026-03/"+u.ID, tokFull, nil).wantStatus(t, 200).user(t)
	}
	steps := []struct {
		name          string
		do            func()
		primary       string
		secondary     []string
		teamListCheck bool
	}{
		{"DEFAULT replaces the main team", func() { member(teamEMEA, "DEFAULT") }, teamEMEA, []string{teamAPAC}, true},
		{"EXTRA adds a team", func() { member(teamNA, "EXTRA") }, teamEMEA, []string{teamAPAC, teamNA}, true},
		{"EXTRA twice is a no-op", func() { member(teamNA, "EXTRA") }, teamEMEA, []string{teamAPAC, teamNA}, true},
		{"DEFAULT on an additional team promotes it", func() { member(teamAPAC, "DEFAULT") }, teamAPAC, []string{teamNA}, true},
		{"EXTRA on the main team leaves it main", func() { member(teamAPAC, "EXTRA") }, teamAPAC, []string{teamNA}, true},
		{"remove EXTRA", func() {
			e.do("DELETE", teamsBase+"/"+teamNA+"/members/"+u.ID+"?type=EXTRA", tokFull, nil).wantStatus(t, 204)
		}, teamAPAC, nil, true},
		{"remove DEFAULT (the default type)", func() {
			e.do("DELETE", teamsBase+"/"+teamAPAC+"/members/"+u.ID, tokFull, nil).wantStatus(t, 204)
		}, "", nil, true},
		{"users API sets teams back", func() {
			e.do("PUT", "/settings/users/2026-03/"+u.ID, tokFull, map[string]any{"primaryTeamId": teamNA, "secondaryTeamIds": []string{teamEMEA}}).wantStatus(t, 200)
		}, teamNA, []string{teamEMEA}, true},
	}
	for _, st := range steps {
		st.do()
		got := get()
		if got.PrimaryTeamID != st.primary || !slices.Equal(got.SecondaryTeamIDs, st.secondary) {
			t.Errorf("%s: user has %q + %v, want %q + %v", st.name, got.PrimaryTeamID, got.SecondaryTeamIDs, st.primary, st.secondary)
		}
		checkTeams(t, e.sim.State())
	}
}

func TestBetaTeamMembersBatch(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.createUser("a@example.com", nil)
	b := e.createUser("b@example.com", nil)
	var out struct {
		Status    string               `json:"status"`
		Results   []hubspot.TeamMember `json:"results"`
		NumErrors int                  `json:"numErrors"`
		Errors    []standardError      `json:"errors"`
		StartedAt string               `json:"startedAt"`
	}
	e.do("POST", teamsBase+"/"+teamNA+"/members/batch", tokFull, map[string]any{"inputs": []map[string]string{
		{"userId": a.ID, "type": "DEFAULT"}, {"userId": "404", "type": "DEFAULT"}, {"userId": b.ID, "type": "EXTRA"}, {"userId": b.ID, "type": "WRONG"},
	}}).wantStatus(t, 200).decode(t, &out)
	if out.Status != "COMPLETE" || len(out.Results) != 2 || out.NumErrors != 2 || len(out.Errors) != 2 || out.StartedAt == "" {
		t.Errorf("batch answer %+v", out)
	}
	if out.Errors[0].Category != catValidation || !slices.Equal(out.Errors[0].Context["userId"], []string{"404"}) {
		t.Errorf("batch error %+v", out.Errors[0])
	}
	st := e.sim.State()
	checkTeams(t, st)
	ua, _ := findUser(st, "a@example.com")
	ub, _ := findUser(st, "b@example.com")
	if ua.PrimaryTeamID != teamNA || !slices.Equal(ub.SecondaryTeamIDs, []string{teamNA}) {
		t.Errorf("after batch %+v %+v", ua, ub)
	}
}

func TestBetaTeamsPaging(t *testing.T) {
	e := newEnv(t, Config{})
	var ids []string
	for i := range 12 {
		var tm teamResp
		e.do("POST", teamsBase, tokFull, map[string]any{"name": fmt.Sprintf("Team %02d", i), "members": []any{}}).wantStatus(t, 201).decode(t, &tm)
		ids = append(ids, tm.ID)
	}
	var got []string
	path := teamsBase + "?limit=5"
	for range 10 {
		var p page[teamResp]
		e.do("GET", path, tokRead, nil).wantStatus(t, 200).decode(t, &p)
		for _, tm := range p.Results {
			got = append(got, tm.ID)
		}
		if p.Paging == nil {
			break
		}
		path = teamsBase + "?limit=5&after=" + p.Paging.Next.After
	}
	if want := append([]string{teamEMEA, teamNA, teamAPAC}, ids...); !slices.Equal(got, want) {
		t.Errorf("teams %v, want %v", got, want)
	}

	// Members paging.
	for i := range 7 {
		u := e.createUser(fmt.Sprintf("p%d@example.com", i), nil)
		e.do("POST", teamsBase+"/"+ids[0]+"/members", tokFull, map[string]string{"userId": u.ID, "type": "EXTRA"}).wantStatus(t, 201)
	}
	var first, second page[hubspot.TeamMember]
	e.do("GET", teamsBase+"/"+ids[0]+"/members?limit=4", tokRead, nil).wantStatus(t, 200).decode(t, &first)
	if len(first.Results) != 4 || first.Paging == nil {
		t.Fatalf("first members page %+v", first)
	}
	e.do("GET", teamsBase+"/"+ids[0]+"/members?limit=4&after="+first.Paging.Next.After, tokRead, nil).wantStatus(t, 200).decode(t, &second)
	if len(second.Results) != 3 || second.Paging != nil {
		t.Errorf("second members page %+v", second)
	}
	// Reading teams needs the read scope only; writing needs teams.write.
	e.do("POST", teamsBase, tokRead, map[string]any{"name": "Nope", "members": []any{}}).wantError(t, 403, catScopes, "")
}
