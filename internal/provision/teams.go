package provision

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Teams is what managing HubSpot teams from SCIM groups needs of the
// client: HubSpot's Teams API (hubspot.teams_api_version).
type Teams interface {
	CreateTeam(ctx context.Context, name string, members []hubspot.TeamMember) (*hubspot.Team, error)
	RenameTeam(ctx context.Context, id, name string) (*hubspot.Team, error)
	DeleteTeam(ctx context.Context, id string) error
}

// A group's HubSpot team has a provisioning row of store.KindTeam beside
// those of users, so they share the queue, the workers, the retries and
// the waits. Its key is the group's id under teamKeyPrefix, which keeps it
// apart from the users' ids; what a row is, the engine reads from its
// kind, never from its key.
const teamKeyPrefix = "group:"

func teamKey(groupID string) string { return teamKeyPrefix + groupID }

// desiredTeam is the HubSpot team a group should have.
type desiredTeam struct {
	Present bool   `json:"present"`
	Name    string `json:"name,omitempty"`
}

// desireTeam stores a group's desired team inside a write transaction; g is
// nil for a deleted group. It does nothing unless teams are managed.
func (e *Engine) desireTeam(tx store.Tx, groupID string, g *schemas.Group) (*store.Provisioning, error) {
	if e == nil || e.teams == nil {
		return nil, nil
	}
	key := teamKey(groupID)
	d := desiredTeam{}
	if g != nil {
		d = desiredTeam{Present: true, Name: g.DisplayName}
	} else if _, err := tx.GetProvisioning(key); store.ErrorCode(err) == store.ENOTFOUND {
		return nil, nil
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	p, changed, err := tx.SetDesiredOf(store.KindTeam, key, data)
	if changed {
		tx.AfterCommit(e.kick)
	}
	return p, err
}

// convergeTeam brings a group's HubSpot team to its desired state: create
// (adopting a team of the same name), rename, or delete; then re-reads
// the catalogue, so group-named team mapping places the members.
func (e *Engine) convergeTeam(ctx context.Context, p *store.Provisioning) (store.Outcome, error) {
	var d desiredTeam
	decodeErr := json.Unmarshal(p.Desired, &d)
	o := store.Outcome{Version: p.DesiredVersion, HubSpotID: p.HubSpotID}
	fail := func(what string, err error) (store.Outcome, error) {
		if ctx.Err() != nil {
			return o, ctx.Err()
		}
		o.LastError = what + ": " + err.Error()
		if permanent(err) {
			o.State, o.NextAttempt = StateFailed, e.cfg.Now().Add(e.cfg.RetryFailedAfter)
		} else {
			o.State, o.NextAttempt = StatePending, e.cfg.Now().Add(backoff(p.Attempts, e.cfg.MaxBackoff))
		}
		return o, nil
	}
	if decodeErr != nil {
		// Parked until the group changes (which stores a new desired state).
		return fail("reading the team's stored desired state", &refusal{decodeErr.Error()})
	}
	changed := false
	switch {
	case !d.Present && p.HubSpotID != "":
		if err := e.teams.DeleteTeam(ctx, p.HubSpotID); err != nil && !hubspot.IsNotFound(err) {
			return fail("deleting the HubSpot team", err)
		}
		o.HubSpotID, o.State, changed = "", StateRemoved, true
	case !d.Present:
		o.State = StateRemoved
	case p.HubSpotID == "":
		t, err := e.teams.CreateTeam(ctx, d.Name, nil)
		if err != nil && !(errors.Is(err, hubspot.ErrExists) && t != nil) {
			return fail("creating the HubSpot team", err)
		}
		o.HubSpotID, o.State, changed = t.ID, StateSynced, true
		if t.Name != d.Name {
			if _, err := e.teams.RenameTeam(ctx, t.ID, d.Name); err != nil {
				return fail("renaming the HubSpot team", err)
			}
		}
	default:
		c := e.catalog.Load()
		if c == nil || c.TeamName(p.HubSpotID) != d.Name {
			if _, err := e.teams.RenameTeam(ctx, p.HubSpotID, d.Name); err != nil {
				if hubspot.IsNotFound(err) { // deleted in HubSpot meanwhile: create it again
					o.HubSpotID, o.State, o.LastError = "", StatePending, "the HubSpot team was deleted outside the bridge; re-creating it"
					o.NextAttempt = e.cfg.Now()
					return o, nil
				}
				return fail("renaming the HubSpot team", err)
			}
			changed = true
		}
		o.State = StateSynced
	}
	o.Done, o.Synced = true, o.State == StateSynced
	if changed {
		if _, err := e.LoadCatalog(ctx); err != nil {
			e.log.Warn().Err(err).Msg("re-reading HubSpot teams after a team change")
		}
	}
	return o, nil
}
