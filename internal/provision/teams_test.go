package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

func (e *env) team(name string) (string, bool) {
	for _, t := range e.sim.State().Teams {
		if strings.EqualFold(t.Name, name) {
			return t.ID, true
		}
	}
	return "", false
}

// With teams managed, SCIM groups are HubSpot teams: a new group creates
// one (and its members get it as main team), a rename renames it, a delete
// deletes it.
func TestManagedTeams(t *testing.T) {
	e := newEnv(t, func(c *envCfg) { c.engine.ManageTeams = true })
	ada := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
	g := e.group("Channel Partners", ada.ID)
	id, ok := e.team("Channel Partners")
	if !ok {
		t.Fatal("no HubSpot team for the new group")
	}
	e.eventually("member on the new team", func() error {
		if h := e.hub("ada@example.com"); h.PrimaryTeamID != id {
			return fmt.Errorf("main team %q, want %q", h.PrimaryTeamID, id)
		}
		return nil
	})
	// The group's row is a team row, the member's a user row.
	rows, err := e.st.ListProvisioning(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[store.ProvisioningKind][]string{}
	for _, p := range rows {
		kinds[p.Kind] = append(kinds[p.Kind], p.HubSpotID)
	}
	if h := e.hub("ada@example.com"); len(rows) != 2 || !slices.Equal(kinds[store.KindTeam], []string{id}) || !slices.Equal(kinds[store.KindUser], []string{h.ID}) {
		t.Fatalf("provisioning rows by kind: %v, want team %s and user %s", kinds, id, h.ID)
	}
	if _, err := e.svc.PatchGroup(context.Background(), e.actor, g.ID, 0, func(cur *schemas.Group) ([]string, error) {
		cur.DisplayName = "Resellers"
		return []string{"displayName"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if renamed, ok := e.team("Resellers"); !ok || renamed != id {
		t.Fatalf("team after rename: %q %v", renamed, ok)
	}
	if err := e.svc.DeleteGroup(context.Background(), e.actor, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.team("Resellers"); ok {
		t.Fatal("team still there after the group was deleted")
	}
	e.eventually("member off the deleted team", func() error {
		if h := e.hub("ada@example.com"); h.PrimaryTeamID != "" {
			return fmt.Errorf("main team %q", h.PrimaryTeamID)
		}
		return nil
	})
}
