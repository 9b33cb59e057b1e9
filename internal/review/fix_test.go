package review

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "bridge.db")}, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestParseCategories(t *testing.T) {
	got, err := ParseCategories([]string{"orphaned,role-drift", "Orphaned", " team-drift "})
	if err != nil || !slices.Equal(got, []string{CatOrphaned, CatRoleDrift, CatTeamDrift}) {
		t.Errorf("got %v, %v", got, err)
	}
	if got, err := ParseCategories([]string{"role-drift", "all"}); err != nil || !slices.Equal(got, Categories()) {
		t.Errorf("all: %v, %v", got, err)
	}
	if _, err := ParseCategories([]string{"orphans"}); err == nil || !strings.Contains(err.Error(), `unknown category "orphans"`) {
		t.Errorf("unknown: %v", err)
	}
	if _, err := ParseCategories([]string{" , "}); err == nil {
		t.Error("empty list accepted")
	}
}

func TestPlanFixes(t *testing.T) {
	rep := &Report{Summary: Summary{HubSpotUsers: 100}, Findings: []Finding{
		{Category: CatOrphaned, Subject: "a@x.test", HubSpotID: "1", Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
		{Category: CatShouldBeGone, Subject: "b@x.test", HubSpotID: "2", BridgeID: "b", Fix: &Fix{Action: FixRemove, Via: ViaReconcile}},
		{Category: CatSuperAdmin, Subject: "c@x.test", HubSpotID: "3"},
		{Category: CatRoleDrift, Subject: "d@x.test", HubSpotID: "4", BridgeID: "d", Fix: &Fix{Action: FixSetRole, Via: ViaProvisioning}},
	}}
	p := PlanFixes(rep, []string{CatOrphaned, CatSuperAdmin, CatShouldBeGone})
	if len(p.Steps) != 2 || len(p.Manual) != 1 || !p.Reconcile || p.HubSpotRemovals != 1 || p.HubSpotUsers != 100 {
		t.Errorf("plan: %+v", p)
	}
	p = PlanFixes(rep, []string{CatRoleDrift})
	if len(p.Steps) != 1 || p.Reconcile || p.HubSpotRemovals != 0 {
		t.Errorf("role drift plan: %+v", p)
	}
	if GuardLimit(1000, 10, 25) != 100 || GuardLimit(40, 10, 25) != 25 {
		t.Error("guard limit")
	}
}

// Direct HubSpot fixes (orphans) against the simulator: the deletion guard
// holds back a large plan unless forced; a user who became a super admin
// or changed email since the review, or that a bridge user has come to
// manage (by link or by email), is left alone; restrict gives the
// restricted role and no teams.
func TestApplyDirectFixes(t *testing.T) {
	st := openStore(t)
	seed := hubspotsim.DefaultSeed()
	for i := range 30 {
		seed.Users = append(seed.Users, hubspotsim.SeedUser{Email: fmt.Sprintf("orphan%02d@x.test", i), Role: "3000002", PrimaryTeam: "5000001", SecondaryTeams: []string{"5000002"}})
	}
	srv, err := hubspotsim.Start(hubspotsim.Config{Seed: seed}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: hubspotsim.DemoToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	users, err := hs.AllUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{Summary: Summary{HubSpotUsers: len(users)}}
	for _, u := range users {
		if strings.HasPrefix(u.Email, "orphan") {
			rep.Findings = append(rep.Findings, Finding{Category: CatOrphaned, Subject: u.Email, HubSpotID: u.ID, Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}})
		}
	}
	p := PlanFixes(rep, []string{CatOrphaned})
	out, err := p.Apply(ctx, FixEnv{HubSpot: hs, Store: st})
	if !errors.Is(err, ErrGuarded) || out.Applied != 0 || !strings.Contains(out.Guarded, "30 HubSpot users") {
		t.Fatalf("over the guard: %+v, %v", out, err)
	}
	if now, _ := hs.AllUsers(ctx); len(now) != len(users) {
		t.Fatalf("the guard let %d deletions through", len(users)-len(now))
	}

	// Findings that no longer hold when applied: the HubSpot user of the
	// third is now someone else's, the fourth is a super admin.
	id := func(email string) string {
		u, err := hs.GetUserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	small := &Report{Summary: Summary{HubSpotUsers: len(users)}, Findings: []Finding{
		{Category: CatOrphaned, Subject: "orphan02@x.test", HubSpotID: id("orphan02@x.test"), Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
		{Category: CatOrphaned, Subject: "orphan03@x.test", HubSpotID: id("orphan03@x.test"), Fix: &Fix{Action: FixRestrict, Via: ViaHubSpot, RoleID: "3000005"}},
		{Category: CatOrphaned, Subject: "someone.else@x.test", HubSpotID: id("orphan04@x.test"), Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
		{Category: CatOrphaned, Subject: "admin@example.com", HubSpotID: id("admin@example.com"), Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
		{Category: CatOrphaned, Subject: "orphan05@x.test", HubSpotID: id("orphan05@x.test"), Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
		{Category: CatOrphaned, Subject: "orphan06@x.test", HubSpotID: id("orphan06@x.test"), Fix: &Fix{Action: FixRemove, Via: ViaHubSpot}},
	}}
	// Since the review, a SCIM client created a bridge user with orphan05's
	// address (in another case), and a worker linked orphan06's account.
	if err := st.Update(ctx, func(tx store.Tx) error {
		u := &schemas.User{UserName: "o5", Emails: []schemas.MultiValue{{Value: "Orphan05@X.test", Type: "work"}}}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		if _, _, err := tx.SetDesired("someone", []byte(`{}`)); err != nil {
			return err
		}
		return tx.RecordOutcome("someone", store.Outcome{Version: 1, Done: true, HubSpotID: id("orphan06@x.test"), State: "synced"})
	}); err != nil {
		t.Fatal(err)
	}
	out, err = PlanFixes(small, []string{CatOrphaned}).Apply(ctx, FixEnv{HubSpot: hs, Store: st})
	if err != nil || out.Applied != 2 || out.Failed != 4 {
		t.Fatalf("small plan: %+v, %v", out, err)
	}
	joined := strings.Join(out.Results, "\n")
	for _, s := range []string{"ok: removed orphan02@x.test", "ok: restricted orphan03@x.test", "its email changed to orphan04@x.test", "now a super admin",
		"orphan05@x.test (HubSpot user " + id("orphan05@x.test") + "): now managed by bridge user ", "orphan06@x.test (HubSpot user " + id("orphan06@x.test") + "): now managed by bridge user someone"} {
		if !strings.Contains(joined, s) {
			t.Errorf("results lack %q:\n%s", s, joined)
		}
	}
	if _, err := hs.GetUserByEmail(ctx, "orphan02@x.test"); !hubspot.IsNotFound(err) {
		t.Errorf("orphan02 not removed: %v", err)
	}
	if u, err := hs.GetUserByEmail(ctx, "orphan03@x.test"); err != nil || u.RoleID != "3000005" || u.PrimaryTeamID != "" || len(u.SecondaryTeamIDs) != 0 {
		t.Errorf("orphan03 not restricted: %+v, %v", u, err)
	}
	if _, err := hs.GetUserByEmail(ctx, "admin@example.com"); err != nil {
		t.Errorf("the super admin was touched: %v", err)
	}

	// Forced, the large plan goes through (orphan02 is already gone), but
	// for the two accounts the bridge now manages.
	out, err = p.Apply(ctx, FixEnv{HubSpot: hs, Store: st, Force: true})
	if err != nil || out.Failed != 2 || out.Applied != 28 {
		t.Fatalf("forced: %+v, %v", out, err)
	}
	left, _ := hs.AllUsers(ctx)
	var emails []string
	for _, u := range left {
		emails = append(emails, u.Email)
	}
	slices.Sort(emails)
	if !slices.Equal(emails, []string{"admin@example.com", "orphan05@x.test", "orphan06@x.test"}) {
		t.Errorf("after the forced plan: %v, want the super admin and the two managed accounts", emails)
	}
}

// A group's team row (manage_teams) in the provisioning table is not a
// bridge user: the review neither counts it nor reads its team id as a
// HubSpot user's.
func TestBridgeUsersSkipTeamRows(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	u := &schemas.User{UserName: "ann@example.com"}
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		for _, row := range []struct {
			kind store.ProvisioningKind
			key  string
		}{{store.KindUser, u.ID}, {store.KindTeam, "group:g1"}} {
			key := row.key
			if _, _, err := tx.SetDesiredOf(row.kind, key, []byte(`{"email":"ann@example.com"}`)); err != nil {
				return err
			}
			if err := tx.RecordOutcome(key, store.Outcome{Version: 1, HubSpotID: "7001", State: "failed", LastError: "boom"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bs, err := bridgeUsers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].ID != u.ID || bs[0].HubSpotID != "7001" {
		t.Fatalf("bridge users: %+v", bs)
	}
}
