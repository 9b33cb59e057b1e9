package review

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// syntheticInputs builds a review of nHub HubSpot users, nDir directory
// users and nBridge bridge users (nBridge ≤ nDir), with a few per cent of
// every kind of finding.
func syntheticInputs(nHub, nDir, nBridge int) Inputs {
	regions := []string{"EMEA", "NA Sales", "APAC Sales", "LATAM Sales", "Support Staff"}
	roles := []hubspot.Role{{ID: "r1", Name: "Sales Rep"}, {ID: "r2", Name: "Sales Manager"}, {ID: "r3", Name: "Admin"}, {ID: "r9", Name: "Restricted"}}
	teams := []hubspot.Team{{ID: "t1", Name: "EMEA Sales"}, {ID: "t2", Name: "NA Sales"}, {ID: "t3", Name: "Support"}, {ID: "t4", Name: "APAC Sales"}, {ID: "t5", Name: "LATAM Sales"}}
	for i := range 35 { // a realistic catalogue: many more teams and roles
		teams = append(teams, hubspot.Team{ID: fmt.Sprintf("tx%d", i), Name: fmt.Sprintf("Team %d", i)})
		roles = append(roles, hubspot.Role{ID: fmt.Sprintf("rx%d", i), Name: fmt.Sprintf("Role %d", i)})
	}
	in := Inputs{
		Now:       testNow,
		Rules:     testRules(),
		Config:    Config{VerifiedDomains: []string{"example.com"}},
		Directory: &Directory{Users: make([]DirectoryUser, nDir)},
		Bridge:    make([]BridgeUser, 0, nBridge),
		HubSpot: HubSpot{Roles: roles, Teams: teams, LoginsKnown: true,
			Users: make([]hubspot.User, 0, nHub), LastLogin: make(map[string]time.Time, nHub)},
	}
	groupsOf := func(i int) []string {
		g := []string{"Sales", regions[i%len(regions)]}
		if i%20 == 0 {
			g[0] = "Sales Managers"
		}
		return g
	}
	email := func(i int) string { return fmt.Sprintf("user%06d@example.com", i) }
	for i := range nDir {
		in.Directory.Users[i] = DirectoryUser{
			ExternalID: fmt.Sprintf("d-%06d", i), UserName: fmt.Sprintf("user%06d", i), Email: email(i),
			Active: i%53 != 0, InScope: i < nBridge+nDir/10, Groups: groupsOf(i),
		}
	}
	t := true
	for i := range nBridge {
		e := email(i)
		u := &schemas.User{ID: fmt.Sprintf("b-%06d", i), ExternalID: fmt.Sprintf("d-%06d", i), UserName: e, Active: &t,
			Emails: []schemas.MultiValue{{Value: e, Primary: true}}, Origin: schemas.OriginDirectory}
		u.Meta.Created = testNow.Add(-time.Duration(i%400) * 24 * time.Hour)
		b := BridgeUser{ID: u.ID, ExternalID: u.ExternalID, UserName: e, Email: e, Active: true, Origin: u.Origin,
			Groups: groupsOf(i), User: u, State: provision.StateSynced}
		if i%71 == 0 {
			b.State, b.LastError = provision.StateFailed, "HubSpot answered 400"
		}
		if i < nHub-nHub/25 {
			b.HubSpotID = fmt.Sprintf("h-%06d", i)
		}
		in.Bridge = append(in.Bridge, b)
	}
	cat := provision.Catalog{Roles: roles, Teams: teams}
	rules := testRules()
	rules.SetDefaults()
	for i := range nHub - nHub/25 {
		b := &in.Bridge[i]
		d := provision.DesiredState(b.User, b.Email, b.Groups, rules, &cat)
		h := hubspot.User{ID: b.HubSpotID, Email: b.Email, RoleID: d.RoleID, PrimaryTeamID: d.PrimaryTeamID, SecondaryTeamIDs: d.SecondaryTeamIDs}
		if i%97 == 0 {
			h.RoleID = "r3"
		}
		if i%89 == 0 {
			h.PrimaryTeamID = "t4"
		}
		if i%1000 == 0 {
			h.SuperAdmin = true
		}
		in.HubSpot.Users = append(in.HubSpot.Users, h)
	}
	// Unmanaged users (in the directory, not in the bridge), orphans and
	// an odd domain.
	for i := range nHub / 25 {
		h := hubspot.User{ID: fmt.Sprintf("hx-%06d", i), Email: email(nBridge + i), RoleID: "r1"}
		if i%3 == 0 {
			h.Email = fmt.Sprintf("stray%06d@elsewhere.test", i)
		}
		in.HubSpot.Users = append(in.HubSpot.Users, h)
	}
	for i, h := range in.HubSpot.Users {
		switch {
		case i%41 == 0: // never logged in
		case i%37 == 0:
			in.HubSpot.LastLogin[h.ID] = testNow.Add(-80 * 24 * time.Hour)
		default:
			in.HubSpot.LastLogin[h.ID] = testNow.Add(-time.Duration(i%50) * 24 * time.Hour)
		}
	}
	return in
}

// BenchmarkRun reviews 50,000 HubSpot users against 100,000 directory
// users and 60,000 bridge users.
func BenchmarkRun(b *testing.B) {
	in := syntheticInputs(50_000, 100_000, 60_000)
	b.ReportAllocs()
	b.ResetTimer()
	var r *Report
	for range b.N {
		r = Run(in)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(r.Findings)), "findings")
	reportPeakRSS(b)
}

// BenchmarkRender writes a 50,000-user review in every format.
func BenchmarkRender(b *testing.B) {
	r := Run(syntheticInputs(50_000, 100_000, 60_000))
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Report) error
	}{
		{"json", WriteJSON}, {"csv", WriteCSV}, {"table", WriteTable},
		{"html", func(w io.Writer, r *Report) error { return WriteHTML(w, r, "bench") }},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			var n countingWriter
			for range b.N {
				n = 0
				if err := f.write(&n, r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/1e6, "MB-out")
			reportPeakRSS(b)
		})
	}
}

// BenchmarkReviewEndToEnd is the whole in-memory pipeline once per
// iteration: the inputs as a caller would have loaded them, the review,
// and every output format; peak-RSS-MB is the process's high-water mark.
func BenchmarkReviewEndToEnd(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		in := syntheticInputs(50_000, 100_000, 60_000)
		r := Run(in)
		var n countingWriter
		for _, write := range []func(io.Writer, *Report) error{WriteJSON, WriteCSV, WriteTable,
			func(w io.Writer, r *Report) error { return WriteHTML(w, r, "bench") }} {
			if err := write(&n, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPeakRSS(b)
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// TestSyntheticScale checks the synthetic review's shape on a small
// instance, so the benchmark measures a review with findings of every
// kind.
func TestSyntheticScale(t *testing.T) {
	r := Run(syntheticInputs(5_000, 10_000, 6_000))
	for _, c := range []string{CatShouldBeGone, CatOrphaned, CatRoleDrift, CatTeamDrift, CatSuperAdmin, CatDormant,
		CatNeverLoggedIn, CatSSOReadiness, CatProvisioningFailure, CatUnmanaged} {
		if r.Counts[c] == 0 {
			t.Errorf("no %s findings", c)
		}
	}
	if r.Summary.Findings > 5_000/2 {
		t.Errorf("%d findings for 5,000 users: the synthetic data is too broken", r.Summary.Findings)
	}
	t.Logf("counts %v", r.Counts)
}
