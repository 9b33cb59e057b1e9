package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Migration 0008 gives provisioning rows a kind. Before it, a group's team
// row was told apart by the "group:" its key starts with. The test writes
// rows as an older build did, into a database taken back to before 0008,
// and reopens it: the team rows are of KindTeam under their old keys, the
// user rows of KindUser, and a team's HubSpot id no longer passes for a
// user's link.
func TestMigrationProvisioningKind(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	s, err := Open(ctx, Config{Path: path}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(store.Tx) error {
		for _, q := range []string{
			"ALTER TABLE provisioning DROP COLUMN kind",
			"DELETE FROM schema_migrations WHERE version = 8",
		} {
			if _, err := s.wconn.ExecContext(wctx(), q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		// Rows as the older build wrote them: a user, a group's team whose
		// HubSpot id equals another user's, and a user linked to that id.
		for i, r := range []struct{ key, hubspotID string }{
			{"group:g1", "7001"}, {"u1", "7001"}, {"u2", ""}, {"group:g2", ""},
		} {
			if _, err := s.wconn.ExecContext(wctx(), `INSERT INTO provisioning (user_id, desired, desired_version,
				applied_version, hubspot_id, state, updated) VALUES (?1, '{}', 1, 1, nullif(?2, ''), 'synced', ?3)`,
				r.key, r.hubspotID, int64(1_700_000_000_000_000+i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Path: path})
	list, err := s.ListProvisioning(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.ProvisioningKind{}
	for _, p := range list {
		got[p.UserID] = p.Kind
	}
	want := map[string]store.ProvisioningKind{"group:g1": store.KindTeam, "group:g2": store.KindTeam, "u1": store.KindUser, "u2": store.KindUser}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kinds after migration %v, want %v", got, want)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if id, err := tx.LinkedUser("7001"); err != nil || id != "u1" {
			t.Errorf("LinkedUser(7001) = %q, %v; want u1 (the team row sorts first but links a team)", id, err)
		}
		// The team row takes new desired states as a team row, and no
		// user row can take its key over.
		if p, changed, err := tx.SetDesiredOf(store.KindTeam, "group:g1", []byte(`{"present":true}`)); err != nil || !changed || p.Kind != store.KindTeam || p.HubSpotID != "7001" {
			t.Errorf("team row after migration: %+v %v %v", p, changed, err)
		}
		if _, _, err := tx.SetDesired("group:g2", []byte(`{"x":1}`)); store.ErrorCode(err) != store.ECONFLICT {
			t.Errorf("a user row over a migrated team row: %v, want %s", err, store.ECONFLICT)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
