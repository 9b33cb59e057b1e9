package review

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return testNow.Add(-time.Duration(n) * 24 * time.Hour) }

func testRoles() []hubspot.Role {
	return []hubspot.Role{
		{ID: "r1", Name: "Sales Rep"}, {ID: "r2", Name: "Sales Manager"},
		{ID: "r3", Name: "Admin"}, {ID: "r9", Name: "Restricted"},
	}
}

func testTeams() []hubspot.Team {
	return []hubspot.Team{
		{ID: "t1", Name: "EMEA Sales"}, {ID: "t2", Name: "NA Sales"},
		{ID: "t3", Name: "Support"}, {ID: "t4", Name: "APAC Sales"},
	}
}

func testRules() *provision.Rules {
	return &provision.Rules{
		Roles: []provision.RoleRule{
			{Group: "Sales Managers", Role: "Sales Manager"},
			{Group: "Sales", Role: "Sales Rep"},
		},
		DefaultRole: "Sales Rep",
		Teams: []provision.TeamRule{
			{Group: "EMEA", Team: "EMEA Sales"},
			{Group: "Support Staff", Team: "Support"},
		},
	}
}

// bu is an active, synced bridge user.
func bu(id, ext, email, origin string, groups ...string) BridgeUser {
	t := true
	u := &schemas.User{ID: id, ExternalID: ext, UserName: email, Active: &t,
		Emails: []schemas.MultiValue{{Value: email, Type: "work", Primary: true}}, Origin: origin}
	for _, g := range groups {
		u.Groups = append(u.Groups, schemas.GroupRef{Value: "g-" + g, Display: g})
	}
	return BridgeUser{ID: id, ExternalID: ext, UserName: email, Email: email, Active: true, Origin: origin,
		Groups: groups, User: u, State: provision.StateSynced}
}

func (b BridgeUser) linked(hid string) BridgeUser { b.HubSpotID = hid; return b }

func (b BridgeUser) inactive() BridgeUser {
	f := false
	u := *b.User
	u.Active = &f
	b.User, b.Active = &u, false
	return b
}

func (b BridgeUser) created(t time.Time) BridgeUser {
	u := *b.User
	u.Meta.Created = t
	b.User = &u
	return b
}

func du(ext, email string, active, inScope bool, groups ...string) DirectoryUser {
	return DirectoryUser{ExternalID: ext, UserName: strings.Split(email, "@")[0], Email: email, Active: active, InScope: inScope, Groups: groups}
}

func hu(id, email, role, primary string, secondary ...string) hubspot.User {
	return hubspot.User{ID: id, Email: email, RoleID: role, PrimaryTeamID: primary, SecondaryTeamIDs: secondary}
}

func superAdmin(u hubspot.User) hubspot.User { u.SuperAdmin = true; return u }

const dir, scim = schemas.OriginDirectory, schemas.OriginSCIM

// scenario is the seeded review: each person below is set up to produce
// the findings named beside them, and nothing else.
func scenario() Inputs {
	frank := bu("b-frank", "", "frank@example.com", scim).linked("h6")
	frank.User, frank.Active, frank.State, frank.LastError = nil, false, provision.StateFailed, "removing the HubSpot user: HTTP 500"
	erin := bu("b-erin", "", "erin@example.com", scim, "Sales").linked("h5").inactive()
	erin.State, erin.Pending = provision.StatePending, true
	victor := bu("b-victor", "", "victor@example.com", scim, "Sales")
	victor.State, victor.Pending, victor.LastError = provision.StatePending, true, "creating the HubSpot user: HTTP 503\nretrying"
	walter := bu("b-walter", "", "walter@example.com", scim, "Ghosts")
	walter.State, walter.LastError = provision.StateFailed, "mapping: no HubSpot role Ghost"
	xena := bu("b-xena", "", "xena@example.com", scim, "Sales")
	xena.State, xena.Pending = provision.StatePending, true

	in := Inputs{
		Now:    testNow,
		Rules:  testRules(),
		Config: Config{VerifiedDomains: []string{"Example.com"}, Adopt: true},
		Directory: &Directory{Users: []DirectoryUser{
			du("d-alice", "alice@example.com", true, true, "Sales", "EMEA"),
			du("d-bob", "bob@example.com", false, true, "Sales"),     // disabled
			du("d-carol", "carol@example.com", true, false, "Sales"), // out of scope
			du("d-heidi", "heidi@example.com", true, true, "Sales Managers"),
			du("d-ivan", "ivan@example.com", true, true, "Sales", "EMEA"),
			du("d-judy", "judy@example.com", true, true, "Sales", "EMEA", "NA Sales"),
			du("d-mallory", "mallory@example.com", true, true, "Sales"),
			du("d-niaj", "niaj@example.com", true, true, "Sales"),
			du("d-olivia", "olivia@example.com", true, true, "Sales"),
			du("d-peggy", "peggy@example.com", true, true, "Sales"),
			du("d-rupert", "rupert@example.com", true, true, "Sales"),
			du("d-sybil", "s.smith@example.com", true, true, "Sales"),
			du("d-yara", "yara@example.com", true, true, "Sales", "NA Sales"),
			du("d-admin2", "admin2@example.com", false, true),
			du("d-zoe", "zoe@example.com", true, true, "Admins"),
		}},
		Bridge: []BridgeUser{
			bu("b-alice", "d-alice", "alice@example.com", dir, "Sales", "EMEA").linked("h1"),
			bu("b-bob", "d-bob", "bob@example.com", dir, "Sales").linked("h2"),
			bu("b-carol", "d-carol", "carol@example.com", dir, "Sales").linked("h3"),
			bu("b-dave", "d-dave", "dave@example.com", dir, "Sales").linked("h4"), // gone from the directory
			erin,
			frank,
			bu("b-heidi", "d-heidi", "heidi@example.com", dir, "Sales Managers").linked("h9"),
			bu("b-ivan", "d-ivan", "ivan@example.com", dir, "Sales", "EMEA").linked("h10"),
			bu("b-judy", "d-judy", "judy@example.com", dir, "Sales", "EMEA", "NA Sales").linked("h11"),
			bu("b-mallory", "d-mallory", "mallory@example.com", dir, "Sales").linked("h12"),
			bu("b-niaj", "d-niaj", "niaj@example.com", dir, "Sales").linked("h13").created(daysAgo(200)),
			bu("b-olivia", "d-olivia", "olivia@example.com", dir, "Sales").linked("h14").created(daysAgo(10)),
			bu("b-peggy", "d-peggy", "peggy@example.com", dir, "Sales").linked("h15"),
			bu("b-quinn1", "", "quinn@example.com", scim, "Sales").linked("h17"),
			bu("b-quinn2", "", "Quinn@example.com", scim, "Sales").linked("h17"),
			bu("b-rupert", "okta-rupert", "rupert@example.com", scim, "Sales").linked("h18"),
			bu("b-sybil", "d-sybil", "sybil@example.com", dir, "Sales").linked("h19"),
			bu("b-trent", "", "trent@contractor.io", scim, "Sales").linked("h20"),
			victor,
			walter,
			xena,
			bu("b-zoe", "d-zoe", "zoe@example.com", dir, "Admins").linked("h23"),
		},
		HubSpot: HubSpot{
			Roles: testRoles(), Teams: testTeams(), LoginsKnown: true,
			Users: []hubspot.User{
				hu("h1", "alice@example.com", "r1", "t1"),
				hu("h2", "bob@example.com", "r1", ""),
				hu("h3", "carol@example.com", "r1", ""),
				hu("h4", "dave@example.com", "r1", ""),
				hu("h5", "erin@example.com", "r1", ""),
				hu("h6", "frank@example.com", "r1", ""),
				hu("h7", "grace@example.com", "r3", ""), // orphan
				superAdmin(hu("h8", "root@example.com", "", "")),
				hu("h9", "heidi@example.com", "r1", ""),    // role drift: Sales Manager
				hu("h10", "ivan@example.com", "r1", "t4"),  // main team drift
				hu("h11", "judy@example.com", "r1", "t1"),  // additional team drift
				hu("h12", "mallory@example.com", "r1", ""), // dormant
				hu("h13", "niaj@example.com", "r1", ""),    // never logged in, old
				hu("h14", "olivia@example.com", "r1", ""),  // never logged in, new
				hu("h15", "peggy@example.com", "r1", ""),   //
				hu("h16", "Peggy@Example.com", "r1", ""),   // case duplicate, never logged in
				hu("h17", "quinn@example.com", "r1", ""),   // two bridge users
				hu("h18", "rupert@example.com", "r1", ""),  // bridge/directory external id clash
				hu("h19", "sybil@example.com", "r1", ""),   // directory mail differs
				hu("h20", "trent@contractor.io", "r1", ""), // outside verified domains
				hu("h21", "XENA@example.com", "r1", ""),    // unlinked, the bridge would adopt
				hu("h22", "yara@example.com", "r1", "t2"),  // in the directory, not in the bridge
				superAdmin(hu("h23", "zoe@example.com", "r3", "t4")),
				superAdmin(hu("h24", "admin2@example.com", "", "")),
			},
		},
	}
	recent := daysAgo(3)
	in.HubSpot.LastLogin = map[string]time.Time{}
	for _, h := range in.HubSpot.Users {
		switch h.ID {
		case "h13", "h14", "h16":
		case "h12":
			in.HubSpot.LastLogin[h.ID] = daysAgo(100)
		default:
			in.HubSpot.LastLogin[h.ID] = recent
		}
	}
	return in
}

type want struct{ cat, sev, subject, fix string }

func (w want) String() string { return fmt.Sprintf("%s/%s/%s/fix=%s", w.cat, w.sev, w.subject, w.fix) }

func got(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		fix := ""
		if f.Fix != nil {
			fix = f.Fix.Action
		}
		out = append(out, want{f.Category, f.Severity, f.Subject, fix}.String())
	}
	slices.Sort(out)
	return out
}

func wantList(ws ...want) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	slices.Sort(out)
	return out
}

func diffLists(t *testing.T, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var extra, missing []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	t.Errorf("findings differ\n unexpected: %s\n missing:    %s\n got:        %s", strings.Join(extra, "\n             "), strings.Join(missing, "\n             "), strings.Join(got, "\n             "))
}

func scenarioWant() []string {
	return wantList(
		// Access that should be gone.
		want{CatShouldBeGone, SevCritical, "bob@example.com", FixRemove},     // disabled in the directory
		want{CatShouldBeGone, SevCritical, "carol@example.com", FixRemove},   // out of scope
		want{CatShouldBeGone, SevCritical, "dave@example.com", FixRemove},    // deleted from the directory
		want{CatShouldBeGone, SevCritical, "erin@example.com", FixRemove},    // inactive in the bridge
		want{CatShouldBeGone, SevCritical, "frank@example.com", FixRemove},   // deleted in the bridge
		want{CatShouldBeGone, SevCritical, "admin2@example.com", ""},         // a super admin: by hand
		want{CatOrphaned, SevHigh, "grace@example.com", FixRemove},           //
		want{CatSuperAdmin, SevInfo, "root@example.com", ""},                 // unmanaged super admin: not orphaned
		want{CatSuperAdmin, SevInfo, "zoe@example.com", ""},                  // managed super admin: no drift
		want{CatSuperAdmin, SevInfo, "admin2@example.com", ""},               //
		want{CatRoleDrift, SevHigh, "heidi@example.com", FixSetRole},         //
		want{CatTeamDrift, SevMedium, "ivan@example.com", FixSetTeams},       // main team
		want{CatTeamDrift, SevLow, "judy@example.com", FixSetTeams},          // additional teams only
		want{CatDormant, SevMedium, "mallory@example.com", ""},               //
		want{CatNeverLoggedIn, SevMedium, "niaj@example.com", ""},            //
		want{CatNeverLoggedIn, SevLow, "olivia@example.com", ""},             // a recent joiner
		want{CatNeverLoggedIn, SevMedium, "Peggy@Example.com", ""},           // the duplicate account
		want{CatDuplicateIdentity, SevHigh, "peggy@example.com", ""},         // emails differ in case
		want{CatDuplicateIdentity, SevHigh, "quinn@example.com", ""},         // two bridge users, one HubSpot user
		want{CatDuplicateIdentity, SevMedium, "rupert@example.com", FixLink}, // bridge vs directory external id
		want{CatSSOReadiness, SevMedium, "sybil@example.com", ""},            // directory mail differs
		want{CatSSOReadiness, SevMedium, "trent@contractor.io", ""},          // outside the verified domains
		want{CatProvisioningFailure, SevHigh, "frank@example.com", FixRetry},
		want{CatProvisioningFailure, SevMedium, "victor@example.com", FixRetry},
		want{CatProvisioningFailure, SevMedium, "walter@example.com", FixRetry},
		want{CatUnmanaged, SevLow, "XENA@example.com", FixLink},    // a bridge user would adopt it
		want{CatUnmanaged, SevMedium, "yara@example.com", FixLink}, // in the directory, not in the bridge
	)
}

func TestRunSeededScenario(t *testing.T) {
	r := Run(scenario())
	diffLists(t, got(r), scenarioWant())

	// Every category produced something.
	for _, c := range Categories() {
		if r.Counts[c] == 0 {
			t.Errorf("category %s has no finding in the seeded scenario", c)
		}
	}
	wantCounts := map[string]int{
		CatShouldBeGone: 6, CatOrphaned: 1, CatSuperAdmin: 3, CatRoleDrift: 1, CatTeamDrift: 2,
		CatDormant: 1, CatNeverLoggedIn: 3, CatDuplicateIdentity: 3, CatSSOReadiness: 2,
		CatProvisioningFailure: 3, CatUnmanaged: 2,
	}
	if !reflect.DeepEqual(r.Counts, wantCounts) {
		t.Errorf("counts = %v, want %v", r.Counts, wantCounts)
	}
	wantSev := map[string]int{SevCritical: 6, SevHigh: 5, SevMedium: 10, SevLow: 3, SevInfo: 3}
	if !reflect.DeepEqual(r.BySeverity, wantSev) {
		t.Errorf("by severity = %v, want %v", r.BySeverity, wantSev)
	}
	s := r.Summary
	if s.Findings != 27 || s.HubSpotUsers != 24 || s.BridgeUsers != 22 || s.DirectoryUsers != 15 ||
		!s.DirectoryConfigured || !s.LoginsKnown || s.DormantDays != 60 || s.SuperAdmins != 3 || s.Fixable != 15 || len(s.Notes) != 0 {
		t.Errorf("summary = %+v", s)
	}
	if !r.Generated.Equal(testNow) {
		t.Errorf("generated = %v", r.Generated)
	}
	// Sorted: severity first.
	if !slices.IsSortedFunc(r.Findings, compareFindings) {
		t.Error("findings are not in report order")
	}
	if r.Findings[0].Severity != SevCritical || r.Findings[len(r.Findings)-1].Severity != SevInfo {
		t.Errorf("first %v, last %v", r.Findings[0], r.Findings[len(r.Findings)-1])
	}
}

// evidence finds the one finding of category about subject.
func evidence(t *testing.T, r *Report, category, subject string) Finding {
	t.Helper()
	var found []Finding
	for _, f := range r.Findings {
		if f.Category == category && f.Subject == subject {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d findings %s about %s", len(found), category, subject)
	}
	return found[0]
}

func TestRunEvidence(t *testing.T) {
	r := Run(scenario())
	cases := []struct {
		cat, subject string
		ids          [3]string // hubspot, bridge, external
		evidence     []string
		fixDetail    string
	}{
		{CatShouldBeGone, "bob@example.com", [3]string{"h2", "b-bob", "d-bob"},
			[]string{"disabled in the directory", "bridge user b-bob, state synced", `role "Sales Rep" (r1)`}, "delete HubSpot user h2 (leaver policy delete)"},
		{CatShouldBeGone, "carol@example.com", [3]string{"h3", "b-carol", "d-carol"}, []string{"out of the provisioning scope"}, ""},
		{CatShouldBeGone, "dave@example.com", [3]string{"h4", "b-dave", "d-dave"}, []string{"deleted from the directory (external id d-dave not found)"}, ""},
		{CatShouldBeGone, "erin@example.com", [3]string{"h5", "b-erin", ""}, []string{"inactive in the bridge", "work queued"}, ""},
		{CatShouldBeGone, "frank@example.com", [3]string{"h6", "b-frank", ""}, []string{"deleted in the bridge", "last error: removing the HubSpot user: HTTP 500"}, ""},
		{CatShouldBeGone, "admin2@example.com", [3]string{"h24", "", "d-admin2"}, []string{"disabled in the directory", "directory user admin2, not in the bridge", "super admin", "remove them in HubSpot"}, ""},
		{CatOrphaned, "grace@example.com", [3]string{"h7", "", ""}, []string{"neither managed by the bridge nor in the directory", `role "Admin" (r3)`}, "delete HubSpot user h7"},
		{CatSuperAdmin, "root@example.com", [3]string{"h8", "", ""}, []string{"neither managed by the bridge nor in the directory"}, ""},
		{CatSuperAdmin, "zoe@example.com", [3]string{"h23", "b-zoe", "d-zoe"}, []string{"linked to bridge user b-zoe", "never modifies super admins"}, ""},
		{CatRoleDrift, "heidi@example.com", [3]string{"h9", "b-heidi", "d-heidi"},
			[]string{`HubSpot role "Sales Rep" (r1), but the rules map "Sales Manager" (r2) from group "Sales Managers"`}, `set HubSpot user h9's role to "Sales Manager" (r2)`},
		{CatTeamDrift, "ivan@example.com", [3]string{"h10", "b-ivan", "d-ivan"},
			[]string{`main team "APAC Sales" (t4) disagrees with the routing rules, which give "EMEA Sales" (t1) from the team rule for group "EMEA"`, "team-based routing"},
			`set HubSpot user h10's teams: main team "EMEA Sales" (t1), additional teams none`},
		{CatTeamDrift, "judy@example.com", [3]string{"h11", "b-judy", "d-judy"}, []string{`additional teams none, mapped "NA Sales" (t2)`},
			`main team "EMEA Sales" (t1), additional teams "NA Sales" (t2)`},
		{CatDormant, "mallory@example.com", [3]string{"h12", "b-mallory", "d-mallory"}, []string{"last successful login 2026-02-21, 100 days ago (threshold 60 days)"}, ""},
		{CatNeverLoggedIn, "niaj@example.com", [3]string{"h13", "b-niaj", "d-niaj"}, []string{"no successful login", "last 90 days", "created 2025-11-13"}, ""},
		{CatNeverLoggedIn, "olivia@example.com", [3]string{"h14", "b-olivia", "d-olivia"}, []string{"a recent joiner"}, ""},
		{CatDuplicateIdentity, "peggy@example.com", [3]string{"h15,h16", "", ""}, []string{"h15 (peggy@example.com) and h16 (Peggy@Example.com)", "differ only in case"}, ""},
		{CatDuplicateIdentity, "quinn@example.com", [3]string{"h17", "b-quinn1,b-quinn2", ""}, []string{"bridge users b-quinn1 (quinn@example.com) and b-quinn2 (Quinn@example.com) are all linked to HubSpot user h17"}, ""},
		{CatDuplicateIdentity, "rupert@example.com", [3]string{"h18", "b-rupert", "d-rupert"}, []string{"external id okta-rupert, origin scim", "rupert (external id d-rupert)"}, "set externalId d-rupert"},
		{CatSSOReadiness, "sybil@example.com", [3]string{"h19", "b-sybil", "d-sybil"}, []string{"HubSpot email sybil@example.com differs from the directory's mail s.smith@example.com"}, ""},
		{CatSSOReadiness, "trent@contractor.io", [3]string{"h20", "b-trent", ""}, []string{"contractor.io is outside the verified SSO domains (example.com)"}, ""},
		{CatProvisioningFailure, "frank@example.com", [3]string{"h6", "b-frank", ""}, []string{"removing the access of a leaver failed: removing the HubSpot user: HTTP 500"}, "retry the HubSpot work of bridge user b-frank"},
		{CatProvisioningFailure, "victor@example.com", [3]string{"", "b-victor", ""}, []string{"still pending after an error: creating the HubSpot user: HTTP 503 retrying"}, ""},
		{CatProvisioningFailure, "walter@example.com", [3]string{"", "b-walter", ""}, []string{"provisioning failed: mapping: no HubSpot role Ghost"}, ""},
		{CatUnmanaged, "XENA@example.com", [3]string{"h21", "b-xena", ""}, []string{"no provisioning row links HubSpot user h21, but bridge user b-xena has its email"}, "link HubSpot user h21 to bridge user b-xena"},
		{CatUnmanaged, "yara@example.com", [3]string{"h22", "", "d-yara"}, []string{"matches directory user yara (in scope, active)"},
			`the rules then give role "Sales Rep" (r1), main team "NA Sales" (t2)`},
	}
	for _, c := range cases {
		t.Run(c.cat+"/"+c.subject, func(t *testing.T) {
			f := evidence(t, r, c.cat, c.subject)
			if ids := [3]string{f.HubSpotID, f.BridgeID, f.ExternalID}; ids != c.ids {
				t.Errorf("ids = %q, want %q", ids, c.ids)
			}
			for _, e := range c.evidence {
				if !strings.Contains(f.Evidence, e) {
					t.Errorf("evidence %q lacks %q", f.Evidence, e)
				}
			}
			if strings.ContainsAny(f.Evidence, "\n\r\t") {
				t.Errorf("evidence is not one line: %q", f.Evidence)
			}
			if c.fixDetail != "" && (f.Fix == nil || !strings.Contains(f.Fix.Detail, c.fixDetail)) {
				t.Errorf("fix = %+v, want detail with %q", f.Fix, c.fixDetail)
			}
		})
	}
}

// A link fix is offered only where it is safe: without reconcile.adopt a
// bridge user a SCIM client pushed is not taken over, and two live bridge
// users with the one email are not both linked.
func TestLinkFixSafeguards(t *testing.T) {
	linkFixes := func(in Inputs) map[string]string {
		out := map[string]string{}
		for _, f := range Run(in).Findings {
			if f.Category == CatDuplicateIdentity && f.BridgeID != "" && !strings.Contains(f.BridgeID, ",") {
				out[f.BridgeID] = ""
				if f.Fix != nil {
					out[f.BridgeID] = f.Fix.Action + " from " + f.Fix.FromExternalID
				}
			}
		}
		return out
	}
	in := scenario()
	if got := linkFixes(in)["b-rupert"]; got != "link from okta-rupert" {
		t.Errorf("with adopt: rupert's fix %q", got)
	}
	in.Config.Adopt = false
	if got := linkFixes(in)["b-rupert"]; got != "" {
		t.Errorf("without adopt, a SCIM-pushed user would be relinked: %q", got)
	}
	for _, f := range Run(in).Findings {
		if f.BridgeID == "b-rupert" && f.Category == CatDuplicateIdentity && !strings.Contains(f.Evidence, "needs reconcile.adopt") {
			t.Errorf("evidence does not say why there is no fix: %s", f.Evidence)
		}
	}
	in = scenario()
	in.Bridge = append(in.Bridge, bu("b-rupert2", "", "Rupert@example.com", schemas.OriginDirectory, "Sales"))
	if got := linkFixes(in); got["b-rupert"] != "" || got["b-rupert2"] != "" {
		t.Errorf("two bridge users with one email: fixes %v", got)
	}
}

// TestRunDeterministic: input order does not change the report.
func TestRunDeterministic(t *testing.T) {
	want := Run(scenario())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		in := scenario()
		rng.Shuffle(len(in.Bridge), func(i, j int) { in.Bridge[i], in.Bridge[j] = in.Bridge[j], in.Bridge[i] })
		rng.Shuffle(len(in.HubSpot.Users), func(i, j int) { in.HubSpot.Users[i], in.HubSpot.Users[j] = in.HubSpot.Users[j], in.HubSpot.Users[i] })
		rng.Shuffle(len(in.Directory.Users), func(i, j int) {
			in.Directory.Users[i], in.Directory.Users[j] = in.Directory.Users[j], in.Directory.Users[i]
		})
		if got := Run(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: report differs", i)
		}
	}
}

// TestRunDoesNotModifyInputs: Run is pure.
func TestRunDoesNotModifyInputs(t *testing.T) {
	in := scenario()
	before := scenario()
	Run(in)
	if !reflect.DeepEqual(in, before) {
		t.Error("Run changed its inputs")
	}
	if in.Rules.LeaverPolicy != "" {
		t.Error("Run set defaults on the caller's rules")
	}
}

func TestRunVariants(t *testing.T) {
	type variant struct {
		name   string
		modify func(*Inputs)
		want   []string // nil: only check counts
		counts map[string]int
		notes  int
	}
	variants := []variant{
		{
			name: "empty",
			modify: func(in *Inputs) {
				*in = Inputs{Now: testNow}
			},
			want:  wantList(),
			notes: 3,
		},
		{
			name:   "logins unknown: no dormant or never-logged-in findings",
			modify: func(in *Inputs) { in.HubSpot.LoginsKnown = false; in.HubSpot.LastLogin = nil },
			counts: map[string]int{CatDormant: 0, CatNeverLoggedIn: 0, CatShouldBeGone: 6, CatSSOReadiness: 2},
			notes:  1,
		},
		{
			name:   "no verified domains: no domain finding",
			modify: func(in *Inputs) { in.Config.VerifiedDomains = nil },
			counts: map[string]int{CatSSOReadiness: 1},
			notes:  1,
		},
		{
			name:   "a verified domain covers its subdomains",
			modify: func(in *Inputs) { in.Config.VerifiedDomains = []string{"example.com", " @IO "} },
			counts: map[string]int{CatSSOReadiness: 1},
		},
		{
			name:   "dormancy threshold of 120 days",
			modify: func(in *Inputs) { in.Config.DormantDays = 120 },
			counts: map[string]int{CatDormant: 0, CatNeverLoggedIn: 3},
		},
		{
			name: "no directory",
			modify: func(in *Inputs) {
				in.Directory = nil
			},
			// Directory-based leavers are invisible; the bridge's own are
			// not. Unmatched HubSpot users become orphans.
			counts: map[string]int{
				CatShouldBeGone:      2, // erin, frank
				CatOrphaned:          3, // grace, Peggy@ (dup account), yara
				CatUnmanaged:         1, // xena
				CatDuplicateIdentity: 2,
				CatSSOReadiness:      1,
				CatSuperAdmin:        3,
				CatNeverLoggedIn:     3,
			},
			notes: 1,
		},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			in := scenario()
			v.modify(&in)
			r := Run(in)
			if v.want != nil {
				diffLists(t, got(r), v.want)
			}
			for c, n := range v.counts {
				if r.Counts[c] != n {
					t.Errorf("%s: %d findings, want %d: %v", c, r.Counts[c], n, r.ByCategory(c))
				}
			}
			if len(r.Summary.Notes) != v.notes {
				t.Errorf("notes = %q, want %d", r.Summary.Notes, v.notes)
			}
			if len(r.Counts) != len(Categories()) || len(r.BySeverity) != len(Severities()) {
				t.Errorf("counts do not list every category and severity: %v %v", r.Counts, r.BySeverity)
			}
		})
	}
}

// TestRunRestrictPolicy: under the restrict leaver policy a leaver kept
// with the restricted role and no teams is compliant; one with more access
// gets fix restrict, and so do orphans.
func TestRunRestrictPolicy(t *testing.T) {
	rules := testRules()
	rules.LeaverPolicy, rules.RestrictedRole = provision.LeaverRestrict, "Restricted"
	in := Inputs{
		Now: testNow, Rules: rules,
		Bridge: []BridgeUser{
			bu("b1", "", "kept@example.com", scim).linked("h1").inactive(),
			bu("b2", "", "teams@example.com", scim).linked("h2").inactive(),
			bu("b3", "", "role@example.com", scim).linked("h3").inactive(),
		},
		HubSpot: HubSpot{Roles: testRoles(), Teams: testTeams(), Users: []hubspot.User{
			hu("h1", "kept@example.com", "r9", ""),
			hu("h2", "teams@example.com", "r9", "", "t2"),
			hu("h3", "role@example.com", "r1", ""),
			hu("h4", "orphan@example.com", "r9", ""),
		}},
	}
	r := Run(in)
	diffLists(t, got(r), wantList(
		want{CatShouldBeGone, SevCritical, "teams@example.com", FixRestrict},
		want{CatShouldBeGone, SevCritical, "role@example.com", FixRestrict},
		want{CatOrphaned, SevHigh, "orphan@example.com", FixRestrict},
	))
	f := evidence(t, r, CatShouldBeGone, "role@example.com")
	if !strings.Contains(f.Fix.Detail, `restricted role "Restricted" (r9) and no teams`) {
		t.Errorf("fix = %+v", f.Fix)
	}

	// Without the restricted role in HubSpot the policy falls back to removal.
	in.HubSpot.Roles = testRoles()[:3]
	r = Run(in)
	diffLists(t, got(r), wantList(
		want{CatShouldBeGone, SevCritical, "kept@example.com", FixRemove},
		want{CatShouldBeGone, SevCritical, "teams@example.com", FixRemove},
		want{CatShouldBeGone, SevCritical, "role@example.com", FixRemove},
		want{CatOrphaned, SevHigh, "orphan@example.com", FixRemove},
	))
	if len(r.Summary.Notes) == 0 || !strings.Contains(strings.Join(r.Summary.Notes, " "), "no HubSpot role Restricted") {
		t.Errorf("notes = %q", r.Summary.Notes)
	}
}

func TestRunDriftCases(t *testing.T) {
	cases := []struct {
		name    string
		rules   func(*provision.Rules)
		groups  []string
		hs      hubspot.User
		pending bool
		want    []string
		ev      string
	}{
		{name: "in step", groups: []string{"Sales", "EMEA"}, hs: hu("h1", "u@example.com", "r1", "t1"), want: wantList()},
		{name: "secondary order does not matter", groups: []string{"EMEA", "Support Staff", "NA Sales"},
			hs: hu("h1", "u@example.com", "r1", "t1", "t3", "t2"), want: wantList()},
		{name: "default role", groups: nil, hs: hu("h1", "u@example.com", "r2", ""),
			want: wantList(want{CatRoleDrift, SevHigh, "u@example.com", FixSetRole}), ev: "from the default role"},
		{name: "no role mapped, role in HubSpot: no fix", rules: func(r *provision.Rules) { r.DefaultRole = "" },
			hs: hu("h1", "u@example.com", "r2", ""), want: wantList(want{CatRoleDrift, SevHigh, "u@example.com", ""}), ev: "the API cannot clear a role"},
		{name: "no role mapped, none held", rules: func(r *provision.Rules) { r.DefaultRole = "" },
			hs: hu("h1", "u@example.com", "", ""), want: wantList()},
		{name: "main team by group name", groups: []string{"NA Sales"}, hs: hu("h1", "u@example.com", "r1", "t1"),
			want: wantList(want{CatTeamDrift, SevMedium, "u@example.com", FixSetTeams}), ev: `from group "NA Sales", named like the team`},
		{name: "team held, none mapped", groups: nil, hs: hu("h1", "u@example.com", "r1", "t3"),
			want: wantList(want{CatTeamDrift, SevMedium, "u@example.com", FixSetTeams}), ev: "but the rules map no team"},
		{name: "mapping problem: no drift reported", groups: nil, rules: func(r *provision.Rules) { r.DefaultRole = "Ghost" },
			hs: hu("h1", "u@example.com", "r3", "t4"), want: wantList()},
		{name: "queued work is mentioned", groups: []string{"Sales Managers"}, pending: true, hs: hu("h1", "u@example.com", "r1", ""),
			want: wantList(want{CatRoleDrift, SevHigh, "u@example.com", FixSetRole}), ev: "provisioning work is queued"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules := testRules()
			if c.rules != nil {
				c.rules(rules)
			}
			b := bu("b1", "", "u@example.com", scim, c.groups...).linked("h1")
			b.Pending = c.pending
			r := Run(Inputs{Now: testNow, Rules: rules, Bridge: []BridgeUser{b},
				HubSpot: HubSpot{Roles: testRoles(), Teams: testTeams(), Users: []hubspot.User{c.hs}}})
			diffLists(t, got(r), c.want)
			if c.ev != "" && (len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Evidence, c.ev)) {
				t.Errorf("evidence %v lacks %q", r.Findings, c.ev)
			}
		})
	}
}

// TestRunSecondAccount: a HubSpot user with a directory user's mail, whose
// bridge user manages another HubSpot account.
func TestRunSecondAccount(t *testing.T) {
	in := Inputs{
		Now: testNow, Rules: testRules(),
		Directory: &Directory{Users: []DirectoryUser{du("d1", "ann@example.com", true, true, "Sales")}},
		Bridge:    []BridgeUser{bu("b1", "d1", "ann.old@example.com", dir, "Sales").linked("h1")},
		HubSpot: HubSpot{Roles: testRoles(), Teams: testTeams(), Users: []hubspot.User{
			hu("h1", "ann.old@example.com", "r1", ""),
			hu("h2", "ann@example.com", "r1", ""),
		}},
	}
	r := Run(in)
	diffLists(t, got(r), wantList(
		want{CatUnmanaged, SevMedium, "ann@example.com", ""},
		want{CatSSOReadiness, SevMedium, "ann.old@example.com", ""},
	))
	if f := evidence(t, r, CatUnmanaged, "ann@example.com"); !strings.Contains(f.Evidence, "a second account") {
		t.Errorf("evidence = %q", f.Evidence)
	}
}

func TestCategoryAndSeverityOrder(t *testing.T) {
	for i, c := range Categories() {
		if categoryRank(c) != i {
			t.Errorf("categoryRank(%s) = %d, want %d", c, categoryRank(c), i)
		}
		if CategoryTitle(c) == c {
			t.Errorf("category %s has no title", c)
		}
	}
	for i, s := range Severities() {
		if SeverityRank(s) != i {
			t.Errorf("SeverityRank(%s) = %d", s, SeverityRank(s))
		}
	}
}

func TestLastLogins(t *testing.T) {
	got := LastLogins([]hubspot.Login{
		{UserID: "1", LoginAt: daysAgo(5), LoginSucceeded: true},
		{UserID: "1", LoginAt: daysAgo(2), LoginSucceeded: true},
		{UserID: "1", LoginAt: daysAgo(1), LoginSucceeded: false}, // failed: ignored
		{UserID: "2", LoginAt: daysAgo(9), LoginSucceeded: false},
		{UserID: "3", LoginAt: daysAgo(30), LoginSucceeded: true},
	})
	want := map[string]time.Time{"1": daysAgo(2), "3": daysAgo(30)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LastLogins = %v, want %v", got, want)
	}
}

// Under email_change keep a bridge user stays linked by id to a HubSpot
// account with their old address: the review shows the difference (SSO
// signs in by email) and how to end it, until HubSpot's address matches.
func TestEmailKeptFinding(t *testing.T) {
	in := Inputs{
		Now: testNow, Rules: testRules(), Config: Config{},
		Bridge: []BridgeUser{bu("b-lin", "", "lin.wu@example.com", schemas.OriginSCIM, "Sales").linked("h1")},
		HubSpot: HubSpot{Roles: testRoles(), Teams: testTeams(), LoginsKnown: true,
			Users:     []hubspot.User{hu("h1", "lin@example.com", "r1", "")},
			LastLogin: map[string]time.Time{"h1": daysAgo(1)}},
	}
	r := Run(in)
	if len(r.Findings) != 1 || r.Findings[0].Category != CatSSOReadiness || r.Findings[0].BridgeID != "b-lin" ||
		!strings.Contains(r.Findings[0].Evidence, "HubSpot email lin@example.com differs from the bridge user's email lin.wu@example.com") ||
		!strings.Contains(r.Findings[0].Evidence, "/admin/v1/provisioning/b-lin/recreate") {
		t.Fatalf("findings %+v", r.Findings)
	}
	in.HubSpot.Users[0].Email = "Lin.Wu@example.com" // changed in HubSpot: they match
	if r := Run(in); len(r.Findings) != 0 {
		t.Fatalf("after the address matched: %+v", r.Findings)
	}
}

// A deferred name change (an invitation not accepted yet) is no failure.
func TestDeferredIsNoFailure(t *testing.T) {
	b := bu("b-new", "", "new@example.com", schemas.OriginSCIM, "Sales").linked("h1")
	b.State, b.Pending, b.LastError = provision.StateDeferred, true, "name change deferred: the user has not accepted HubSpot's invitation yet"
	in := Inputs{
		Now: testNow, Rules: testRules(), Config: Config{}, Bridge: []BridgeUser{b},
		HubSpot: HubSpot{Roles: testRoles(), Teams: testTeams(), LoginsKnown: true,
			Users: []hubspot.User{hu("h1", "new@example.com", "r1", "")}, LastLogin: map[string]time.Time{"h1": daysAgo(1)}},
	}
	if r := Run(in); r.Counts[CatProvisioningFailure] != 0 {
		t.Fatalf("findings %+v", r.Findings)
	}
	in.Bridge[0].State = provision.StatePending // after an error: reported
	if r := Run(in); r.Counts[CatProvisioningFailure] != 1 {
		t.Fatalf("pending after an error: %+v", r.Findings)
	}
}
