package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// apply brings one user's HubSpot account to its desired state. It is
// idempotent and level-triggered: it recomputes the desired state from the
// store, reads HubSpot, sends only the difference, and records the outcome
// for the version it worked from. A crash anywhere is repaired by running it
// again; a create whose answer was lost is found again by email.
func (e *Engine) apply(ctx context.Context, userID string) error {
	if IsTeamKey(userID) {
		return e.applyGroup(ctx, userID)
	}
	var (
		row    *store.Provisioning
		d      Desired
		exists bool
	)
	err := e.store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID, true)
		switch {
		case err == nil:
			exists = true
		case store.ErrorCode(err) == store.ENOTFOUND:
			u = nil
		default:
			return err
		}
		p, _, err := e.plan(tx, userID, u)
		if err != nil || p == nil {
			return err
		}
		row = p
		return json.Unmarshal(p.Desired, &d)
	})
	if err != nil || row == nil || row.AppliedVersion >= row.DesiredVersion {
		return err
	}
	o, err := e.reconcile(ctx, row, d)
	if err != nil {
		return err // shutting down: the work stays due
	}
	o.ext.LastSyncedAt = nil
	if o.Synced {
		now := e.cfg.Now().UTC()
		o.ext.LastSyncedAt = &now
	} else if !row.LastSynced.IsZero() {
		last := row.LastSynced.UTC()
		o.ext.LastSyncedAt = &last
	}
	out := o.Outcome
	out.Ext = &o.ext
	removeRow := !exists && o.Done && o.State == StateRemoved
	return e.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if removeRow {
			return tx.DeleteProvisioning(userID)
		}
		return tx.RecordOutcome(userID, out)
	})
}

// result is an outcome plus the HubSpot extension it implies.
type result struct {
	store.Outcome
	ext schemas.HubSpotExt
}

// reconcile talks to HubSpot. It returns an error only when ctx ended.
func (e *Engine) reconcile(ctx context.Context, row *store.Provisioning, d Desired) (result, error) {
	c := e.catalog.Load()
	if c == nil {
		c = &Catalog{}
	}
	r := result{Outcome: store.Outcome{Version: row.DesiredVersion, HubSpotID: row.HubSpotID}}
	done := func(state, msg string, u *hubspot.User) (result, error) {
		r.Done, r.State, r.LastError = true, state, msg
		r.Synced = state == StateSynced
		r.ext = schemas.HubSpotExt{ProvisioningState: state, LastError: msg}
		if u != nil {
			r.HubSpotID = u.ID
			r.ext.HubSpotUserID = u.ID
			r.ext.SuperAdmin = u.SuperAdmin
			r.ext.Role = c.RoleName(u.RoleID)
			r.ext.PrimaryTeam = c.TeamName(u.PrimaryTeamID)
			for _, t := range u.SecondaryTeamIDs {
				if n := c.TeamName(t); n != "" {
					r.ext.SecondaryTeams = append(r.ext.SecondaryTeams, n)
				}
			}
		} else {
			r.HubSpotID = ""
		}
		return r, nil
	}
	fail := func(what string, err error) (result, error) {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		msg := what + ": " + err.Error()
		r.LastError = msg
		r.ext = schemas.HubSpotExt{HubSpotUserID: r.HubSpotID, LastError: msg}
		if permanent(err) {
			r.State = StateFailed
			r.NextAttempt = e.cfg.Now().Add(e.cfg.RetryFailedAfter)
			e.stats.failed.Add(1)
			e.log.Warn().Str("user_id", row.UserID).Str("email", d.Email).Err(err).Msg("HubSpot refused; parked until the next change")
		} else {
			r.State = StatePending
			r.NextAttempt = e.cfg.Now().Add(backoff(row.Attempts, e.cfg.MaxBackoff))
			e.stats.retried.Add(1)
			e.log.Info().Str("user_id", row.UserID).Err(err).Int("attempt", row.Attempts+1).Msg("HubSpot trouble; will retry")
		}
		r.ext.ProvisioningState = r.State
		return r, nil
	}
	refuse := func(msg string) (result, error) {
		return fail("refused", &refusal{msg})
	}
	// synced finishes a user whose Settings record matches: profile
	// attributes, if any, go to the CRM users object next.
	synced := func(u *hubspot.User) (result, error) {
		r.HubSpotID = u.ID
		if err := e.syncProfile(ctx, u.ID, d.Profile); err != nil {
			return fail("writing profile attributes", err)
		}
		return done(StateSynced, "", u)
	}

	var actual *hubspot.User
	if row.HubSpotID != "" {
		u, err := e.hs.GetUser(ctx, row.HubSpotID)
		switch {
		case err == nil:
			actual = u
		case hubspot.IsNotFound(err):
			r.HubSpotID = "" // removed in HubSpot meanwhile
		default:
			return fail("reading the HubSpot user", err)
		}
	}
	if actual != nil && actual.SuperAdmin {
		return done(StateSkipped, "super admin in HubSpot: the bridge never modifies super admins", actual)
	}
	if actual == nil && d.Reason != "" && d.Email != "" {
		// A leaver the bridge holds no link for: find the account by email,
		// so one re-created by hand or never linked does not keep access,
		// and none is created just to be restricted.
		u, err := e.hs.GetUserByEmail(ctx, d.Email)
		switch {
		case hubspot.IsNotFound(err):
			return done(StateRemoved, "", nil)
		case err != nil:
			return fail("looking up the leaver's HubSpot user", err)
		}
		if other, lerr := e.linkedUser(ctx, u.ID); lerr != nil {
			return fail("checking the HubSpot user's link", lerr)
		} else if other != "" && other != row.UserID {
			return done(StateRemoved, "", nil) // the address now belongs to another bridge user
		}
		if u.SuperAdmin {
			return done(StateSkipped, "super admin in HubSpot: the bridge never modifies super admins", u)
		}
		actual = u
	}
	if len(d.Problems) > 0 && d.Present {
		return refuse("mapping: " + strings.Join(d.Problems, "; "))
	}
	if !d.Present {
		if actual == nil {
			state := StateRemoved
			if d.Email == "" {
				state = StateSkipped
			}
			return done(state, "", nil)
		}
		if err := e.hs.DeleteUser(ctx, actual.ID); err != nil && !hubspot.IsNotFound(err) {
			return fail("removing the HubSpot user", err)
		}
		e.stats.applied.Add(1)
		return done(StateRemoved, "", nil)
	}
	if actual != nil && !strings.EqualFold(actual.Email, d.Email) {
		if e.rules.EmailChange != EmailRecreate {
			return refuse(fmt.Sprintf("HubSpot cannot change a user's email (%s → %s) and email_change is reject", actual.Email, d.Email))
		}
		if err := e.hs.DeleteUser(ctx, actual.ID); err != nil && !hubspot.IsNotFound(err) {
			return fail("removing the HubSpot user before re-creating it with the new email", err)
		}
		actual, r.HubSpotID = nil, ""
	}
	if actual == nil {
		created, err := e.hs.CreateUser(ctx, hubspot.UserCreate{
			Email: d.Email, SendWelcomeEmail: e.rules.SendWelcomeEmail,
			FirstName: d.FirstName, LastName: d.LastName, RoleID: d.RoleID,
			PrimaryTeamID: d.PrimaryTeamID, SecondaryTeamIDs: d.SecondaryTeamIDs,
		})
		switch {
		case err == nil:
			e.stats.applied.Add(1)
			if _, ok := diffUpdate(created, d); !ok {
				return synced(created)
			}
			actual = created // HubSpot ignored part of the create: fix it below
		case errors.Is(err, hubspot.ErrExists) && created != nil:
			// The address already has a HubSpot user: adopt it, never
			// duplicate it, unless another bridge user holds it.
			if other, lerr := e.linkedUser(ctx, created.ID); lerr != nil {
				return fail("checking the HubSpot user's link", lerr)
			} else if other != "" && other != row.UserID {
				return refuse(fmt.Sprintf("HubSpot user %s (%s) is already linked to bridge user %s: two bridge users share one HubSpot identity", created.ID, created.Email, other))
			}
			if created.SuperAdmin {
				return done(StateSkipped, "super admin in HubSpot: the bridge never modifies super admins", created)
			}
			actual = created
		default:
			return fail("creating the HubSpot user", err)
		}
	}
	upd, same := diffUpdate(actual, d)
	if same {
		return synced(actual)
	}
	updated, err := e.hs.UpdateUser(ctx, actual.ID, upd)
	if err != nil {
		return fail("updating the HubSpot user", err)
	}
	e.stats.applied.Add(1)
	if _, ok := diffUpdate(updated, d); !ok {
		r.HubSpotID = updated.ID
		return refuse("HubSpot answered the update without applying all of it (role or teams differ)")
	}
	return synced(updated)
}

// diffUpdate builds the update that brings a to d and reports whether a
// already matches. Names are only set, never cleared; a role is never
// cleared either (HubSpot has no "no role" through the API); teams are sent
// complete, as HubSpot does not document what omitted fields do.
func diffUpdate(a *hubspot.User, d Desired) (hubspot.UserUpdate, bool) {
	same := true
	if d.FirstName != "" && d.FirstName != a.FirstName {
		same = false
	}
	if d.LastName != "" && d.LastName != a.LastName {
		same = false
	}
	if d.RoleID != "" && d.RoleID != a.RoleID {
		same = false
	}
	if d.PrimaryTeamID != a.PrimaryTeamID {
		same = false
	}
	want, have := slices.Clone(d.SecondaryTeamIDs), slices.Clone(a.SecondaryTeamIDs)
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		same = false
	}
	if same {
		return hubspot.UserUpdate{}, true
	}
	upd := hubspot.UserUpdate{PrimaryTeamID: &d.PrimaryTeamID, SecondaryTeamIDs: want}
	if upd.SecondaryTeamIDs == nil {
		upd.SecondaryTeamIDs = []string{}
	}
	if d.FirstName != "" {
		upd.FirstName = &d.FirstName
	}
	if d.LastName != "" {
		upd.LastName = &d.LastName
	}
	if d.RoleID != "" {
		upd.RoleID = &d.RoleID
	}
	return upd, false
}

func (e *Engine) linkedUser(ctx context.Context, hubspotID string) (string, error) {
	var id string
	err := e.store.Update(ctx, func(tx store.Tx) error {
		var err error
		id, err = tx.LinkedUser(hubspotID)
		return err
	})
	return id, err
}

// refusal is a permanent failure found by the bridge itself.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// permanent reports whether retrying cannot help without a change: a
// HubSpot 4xx other than 429, or a refusal of the bridge's own.
func permanent(err error) bool {
	var r *refusal
	if errors.As(err, &r) {
		return true
	}
	if errors.Is(err, hubspot.ErrDailyLimit) {
		return false
	}
	return hubspot.IsPermanent(err)
}

// applyGroup works on a group's team row.
func (e *Engine) applyGroup(ctx context.Context, key string) error {
	p, err := e.store.GetProvisioning(ctx, key)
	if err != nil || p.AppliedVersion >= p.DesiredVersion {
		if store.ErrorCode(err) == store.ENOTFOUND {
			return nil
		}
		return err
	}
	if e.teams == nil {
		return nil
	}
	o, err := e.applyTeam(ctx, p)
	if err != nil {
		return err
	}
	remove := o.Done && o.State == StateRemoved
	return e.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if remove {
			return tx.DeleteProvisioning(key)
		}
		return tx.RecordOutcome(key, o)
	})
}
