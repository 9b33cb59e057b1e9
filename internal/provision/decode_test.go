package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// corruptDesired stores a desired state that does not decode in a row, as
// a bad write or an older build could leave it. parked records the
// version as applied, so no worker picks the row up on its own.
func (e *env) corruptDesired(kind store.ProvisioningKind, key string, parked bool) {
	e.t.Helper()
	if err := e.st.Update(context.Background(), func(tx store.Tx) error {
		p, _, err := tx.SetDesiredOf(kind, key, []byte(`{"present":`))
		if err != nil || !parked {
			return err
		}
		return tx.RecordOutcome(key, store.Outcome{Version: p.DesiredVersion, Done: true, HubSpotID: p.HubSpotID, State: provision.StateSynced})
	}); err != nil {
		e.t.Fatal(err)
	}
}

// decodes reports whether a row's desired state decodes and is applied.
func decodesAndApplied(p *store.Provisioning) error {
	var m map[string]any
	if err := json.Unmarshal(p.Desired, &m); err != nil {
		return fmt.Errorf("desired state %q: %v", p.Desired, err)
	}
	if p.AppliedVersion < p.DesiredVersion || p.State != provision.StateSynced {
		return fmt.Errorf("row %s at %d/%d", p.State, p.AppliedVersion, p.DesiredVersion)
	}
	return nil
}

// A stored desired state that does not decode is never silently dropped:
// the worker computes a user's afresh, the drift sweep makes such a row
// due again, a team row is parked with the reason until its group changes,
// and an email change under reject is checked against the stored user.
func TestUndecodableDesiredState(t *testing.T) {
	ctx := context.Background()
	t.Run("user row", func(t *testing.T) {
		e := newEnv(t)
		u := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
		e.corruptDesired(store.KindUser, u.ID, false)
		e.eventually("the desired state computed again", func() error { return decodesAndApplied(e.state(u.ID)) })
		if h := e.hub("ada@example.com"); h == nil || h.FirstName != "Ada" {
			t.Fatalf("HubSpot user: %+v", h)
		}
	})
	t.Run("sweep", func(t *testing.T) {
		e := newEnv(t)
		u := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
		e.corruptDesired(store.KindUser, u.ID, true)
		res, err := e.engine.Sweep(ctx, provision.SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Differences[provision.DiffUndecodable] != 1 || res.Requeued != 1 {
			t.Fatalf("sweep: %+v", res)
		}
		e.eventually("the desired state computed again", func() error { return decodesAndApplied(e.state(u.ID)) })
	})
	t.Run("team row", func(t *testing.T) {
		e := newEnv(t, func(c *envCfg) { c.engine.ManageTeams = true })
		g := e.group("Channel Partners")
		key := e.teamRow()
		e.corruptDesired(store.KindTeam, key, false)
		e.eventually("the team row parked", func() error {
			if p := e.state(key); p.State != provision.StateFailed || !strings.Contains(p.LastError, "stored desired state") {
				return fmt.Errorf("row %s: %s", p.State, p.LastError)
			}
			return nil
		})
		if _, err := e.svc.PatchGroup(ctx, e.actor, g.ID, 0, func(cur *schemas.Group) ([]string, error) {
			cur.DisplayName = "Resellers"
			return []string{"displayName"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.team("Resellers"); !ok || e.state(key).State != provision.StateSynced {
			t.Fatalf("after the group changed: team renamed %v, row %+v", ok, e.state(key))
		}
	})
	t.Run("email change under reject", func(t *testing.T) {
		e := newEnv(t, withRules(func(r *provision.Rules) { r.EmailChange = provision.EmailReject }))
		u := e.createUser("lin", "lin@example.com", "Lin", "Wu")
		e.corruptDesired(store.KindUser, u.ID, true)
		if _, err := e.patchUser(u.ID, func(u *schemas.User) { u.Emails[0].Value = "lin.wu@example.com" }); errorCode(err) != schemas.EMUTABILITY {
			t.Fatalf("email change under reject: %v", err)
		}
		if _, err := e.patchUser(u.ID, func(u *schemas.User) { u.Title = "Engineer" }); err != nil {
			t.Fatalf("a change keeping the email: %v", err)
		}
		e.eventually("the desired state computed again", func() error { return decodesAndApplied(e.state(u.ID)) })
	})
}

// teamRow is the key of the one team row.
func (e *env) teamRow() string {
	e.t.Helper()
	rows, err := e.st.ListProvisioning(context.Background(), "", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range rows {
		if p.Kind == store.KindTeam {
			return p.UserID
		}
	}
	e.t.Fatal("no team row")
	return ""
}
