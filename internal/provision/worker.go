package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// workUser brings one user's HubSpot account to its desired state. It is
// idempotent and level-triggered: it recomputes the desired state from the
// store, reads HubSpot, sends only the difference, and records the outcome
// for the version it worked from. A crash anywhere is repaired by running it
// again; a create whose answer was lost is found again by email.
//
// handedOff reports that the user's profile attributes went to the
// profile writer, which records the outcome and releases the user.
func (e *Engine) workUser(ctx context.Context, userID string) (handedOff bool, err error) {
	var (
		row    *store.Provisioning
		d      Desired
		exists bool
	)
	err = e.store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID, true)
		switch {
		case err == nil:
			exists = true
		case store.ErrorCode(err) == store.ENOTFOUND:
			u = nil
		default:
			return err
		}
		p, _, err := e.desire(tx, userID, u)
		if err != nil || p == nil {
			return err
		}
		row = p
		if err := json.Unmarshal(p.Desired, &d); err != nil {
			return fmt.Errorf("provision: user %s: stored desired state: %w", userID, err)
		}
		return nil
	})
	if err != nil || row == nil || row.AppliedVersion >= row.DesiredVersion {
		return false, err
	}
	o, job, err := e.converge(ctx, row, d)
	if err != nil {
		return false, err // shutting down: the work stays due
	}
	if job != nil {
		// A user whose CRM record is known is written at once. Otherwise
		// the record has to be looked up, in batches across users, which
		// may take a while: record that the Settings user is in place
		// (the link first of all) and let waiting requests answer. The row
		// comes due again only if the writer never finishes (the process
		// died): then the work is done over.
		lookup := !e.profileWriter.known(job.hubspotID)
		if lookup {
			queued := job.outcome
			queued.Done, queued.Synced = false, false
			queued.State, queued.LastError = StateProfileQueued, ""
			queued.NextAttempt = e.cfg.Now().Add(profileGiveUp + time.Minute)
			queued.ext.ProvisioningState = StatePending
			if err := e.record(context.WithoutCancel(ctx), row, queued, exists); err != nil {
				return false, err
			}
		}
		e.profileWriter.add(job)
		if lookup {
			e.notify(userID)
		}
		return true, nil
	}
	return false, e.record(context.WithoutCancel(ctx), row, o, exists)
}

// record stores the outcome of working on row's desired version.
// exists says whether the SCIM user still exists: the row of a deleted
// user whose HubSpot account is gone is removed.
func (e *Engine) record(ctx context.Context, row *store.Provisioning, o result, exists bool) error {
	removeRow := !exists && o.Done && o.State == StateRemoved
	return e.store.Update(ctx, func(tx store.Tx) error {
		if removeRow {
			return tx.DeleteProvisioning(row.UserID)
		}
		return tx.RecordOutcome(row.UserID, e.outcomeOf(row, o))
	})
}

// outcomeOf is the store outcome of o, its extension showing when HubSpot
// last matched.
func (e *Engine) outcomeOf(row *store.Provisioning, o result) store.Outcome {
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
	return out
}

// result is an outcome plus the HubSpot extension it implies.
type result struct {
	store.Outcome
	ext schemas.HubSpotExt
}

// finished is the outcome of work that ended in state: done, with u (nil
// when there is no HubSpot user) shown on the extension.
func finished(r result, c *Catalog, state, msg string, u *hubspot.User) result {
	r.Done, r.State, r.LastError = true, state, msg
	r.Synced = state == StateSynced
	r.ext = schemas.HubSpotExt{ProvisioningState: state, LastError: msg}
	if u == nil {
		r.HubSpotID = ""
		return r
	}
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
	return r
}

// failure is the outcome of an attempt that err stopped: parked until the
// next change (or RetryFailedAfter) when retrying cannot help, else due
// again after a backoff. The extension shows the state, the error and the
// next attempt.
func (e *Engine) failure(r result, row *store.Provisioning, email, what string, err error) result {
	msg := what + ": " + err.Error()
	r.Done, r.Synced = false, false
	r.LastError = msg
	if permanent(err) {
		r.State = StateFailed
		r.NextAttempt = e.cfg.Now().Add(e.cfg.RetryFailedAfter)
		e.stats.failed.Add(1)
		e.log.Warn().Str("user_id", row.UserID).Str("email", email).Err(err).Msg("HubSpot refused; parked until the next change")
	} else {
		r.State = StatePending
		r.NextAttempt = e.cfg.Now().Add(backoff(row.Attempts, e.cfg.MaxBackoff))
		e.stats.retried.Add(1)
		e.log.Info().Str("user_id", row.UserID).Err(err).Int("attempt", row.Attempts+1).Msg("HubSpot trouble; will retry")
	}
	next := r.NextAttempt.UTC()
	r.ext = schemas.HubSpotExt{HubSpotUserID: r.HubSpotID, ProvisioningState: r.State, LastError: msg, NextAttemptAt: &next}
	return r
}

// converge brings one user's HubSpot account to the desired state d: it
// reads the account, asks decide for the next step, carries it out and
// records what came of it in the facts, until decide says it is done. It
// returns an error only when ctx ended, and a profile job when the user's
// profile attributes are to be written (the job carries the outcome to
// record once they are).
func (e *Engine) converge(ctx context.Context, row *store.Provisioning, d Desired) (result, *profileJob, error) {
	c := e.catalog.Load()
	if c == nil {
		c = &Catalog{}
	}
	r := result{Outcome: store.Outcome{Version: row.DesiredVersion, HubSpotID: row.HubSpotID}}
	fail := func(what string, err error) (result, *profileJob, error) {
		if ctx.Err() != nil {
			return r, nil, ctx.Err()
		}
		return e.failure(r, row, d.Email, what, err), nil, nil
	}
	// A removal is verified: a HubSpot call sent earlier whose answer was
	// lost (a create that timed out, say) may still commit after the
	// removal, bringing the leaver back. So the first removal ends in
	// StateVerifying, and once the window in which such a call can commit
	// has passed (VerifyRemovalAfter), this attempt reads the address
	// again: gone, the removal is done; found, it is removed again and
	// verified again.
	f := facts{d: d, emailChange: e.rules.EmailChange, linked: row.HubSpotID != "",
		verifying: row.State == StateVerifying && row.AttemptedVersion >= row.DesiredVersion}
	if f.linked {
		u, err := e.hs.GetUser(ctx, row.HubSpotID)
		switch {
		case err == nil:
			f.actual = u
		case hubspot.IsNotFound(err):
			r.HubSpotID = "" // removed in HubSpot meanwhile
		default:
			return fail("reading the HubSpot user", err)
		}
	}
	for {
		a := decide(f)
		switch a.step {
		case stepDone:
			if a.verified {
				e.metrics.verified(verifyGone)
			}
			return finished(r, c, a.state, a.msg, f.actual), nil, nil
		case stepVerify:
			return e.verifyLater(finished(r, c, StateRemoved, "", nil)), nil, nil
		case stepRefuse:
			if f.updated {
				r.HubSpotID = f.actual.ID
			}
			return fail("refused", &refusal{a.msg})
		case stepSettled:
			return e.settled(r, c, row, f)
		}
		if what, err := e.carryOut(ctx, row, a, &f); err != nil {
			return fail(what, err)
		}
		if f.deleted {
			r.HubSpotID = ""
		}
	}
}

// carryOut does a HubSpot step decide asked for and records what came of
// it in f. On failure it says what it was doing.
func (e *Engine) carryOut(ctx context.Context, row *store.Provisioning, a action, f *facts) (string, error) {
	d := f.d
	switch a.step {
	case stepLookup:
		f.lookedUp = true
		u, err := e.hs.GetUserByEmail(ctx, d.Email)
		switch {
		case hubspot.IsNotFound(err):
			return "", nil
		case err != nil:
			return "looking up the leaver's HubSpot user", err
		}
		if err := e.owner(ctx, row, u, f); err != nil {
			return "checking the HubSpot user's link", err
		}
		f.actual = u
	case stepDelete:
		if err := e.hs.DeleteUser(ctx, f.actual.ID); err != nil && !hubspot.IsNotFound(err) {
			if d.Present {
				return "removing the HubSpot user before re-creating it with the new email", err
			}
			return "removing the HubSpot user", err
		}
		e.stats.applied.Add(1)
		if f.verifying && f.lookedUp && !d.Present {
			e.metrics.verified(verifyRemovedAgain)
			e.log.Warn().Str("user_id", row.UserID).Str("email", d.Email).Str("hubspot_id", f.actual.ID).
				Msg("a removed user was back in HubSpot when the removal was verified (a call that committed late, or an account made by hand); removed again")
		}
		f.actual, f.deleted = nil, true
	case stepCreate:
		created, err := e.hs.CreateUser(ctx, hubspot.UserCreate{
			Email: d.Email, SendWelcomeEmail: e.rules.SendWelcomeEmail,
			FirstName: d.FirstName, LastName: d.LastName, RoleID: d.RoleID,
			PrimaryTeamID: d.PrimaryTeamID, SecondaryTeamIDs: d.SecondaryTeamIDs,
		})
		switch {
		case err == nil:
			e.stats.applied.Add(1)
			f.actual, f.created = created, true
		case errors.Is(err, hubspot.ErrExists) && created != nil:
			// The address already has a HubSpot user: adopt it, never
			// duplicate it, unless another bridge user holds it.
			if err := e.owner(ctx, row, created, f); err != nil {
				return "checking the HubSpot user's link", err
			}
			f.actual, f.adopted = created, true
		default:
			return "creating the HubSpot user", err
		}
	case stepUpdate:
		updated, err := e.hs.UpdateUser(ctx, f.actual.ID, a.upd)
		if hubspot.IsInvitationPending(err) {
			// The user has not accepted HubSpot's invitation: names cannot
			// change until they do. Send the rest now, the names later.
			f.deferred, updated, err = true, f.actual, nil
			if rest := a.upd.WithoutNames(); !rest.Empty() {
				updated, err = e.hs.UpdateUser(ctx, f.actual.ID, rest)
			}
		}
		if err != nil {
			return "updating the HubSpot user", err
		}
		e.stats.applied.Add(1)
		f.actual, f.updated, f.left = updated, true, diffUpdate(updated, d)
	}
	return "", nil
}

// owner records in f the bridge user other than row's that u is linked
// to, if any.
func (e *Engine) owner(ctx context.Context, row *store.Provisioning, u *hubspot.User, f *facts) error {
	other, err := e.linkedUser(ctx, u.ID)
	if err != nil {
		return err
	}
	if other != row.UserID {
		f.otherOwner = other
	}
	return nil
}

// settled finishes a user whose Settings record is as HubSpot allows it
// now: synced, or deferred when a name change waits for the invitation to
// be accepted. Profile attributes, if any, go to the CRM users object
// next, through the profile writer.
func (e *Engine) settled(r result, c *Catalog, row *store.Provisioning, f facts) (result, *profileJob, error) {
	u, d := f.actual, f.d
	out := finished(r, c, StateSynced, "", u)
	if !strings.EqualFold(u.Email, d.Email) {
		// email_change keep: linked by id, the difference shown.
		out.ext.HubSpotEmail = u.Email
	}
	if f.deferred {
		out = e.deferred(out, row, "name change deferred: the user has not accepted HubSpot's invitation yet (HubSpot answers "+hubspot.CodeUserNotOnAnyHubs+" until they do)")
	}
	if e.profiles != nil && len(d.Profile) > 0 {
		return r, &profileJob{row: row, hubspotID: u.ID, want: d.Profile, outcome: out, email: d.Email, fresh: f.created}, nil
	}
	return out, nil, nil
}

// verifyLater turns a removal's outcome into one that waits out the
// window in which an earlier HubSpot call may still commit: the
// extension shows the user removed, the row comes due again after
// VerifyRemovalAfter to read HubSpot once more.
func (e *Engine) verifyLater(out result) result {
	out.Done, out.Synced = false, false
	out.State, out.LastError = StateVerifying, ""
	out.NextAttempt = e.cfg.Now().Add(e.cfg.VerifyRemovalAfter)
	return out
}

// deferred turns a settled outcome into a deferred one: what HubSpot
// takes now is in place, the rest (why says what) is tried again after
// RetryDeferredAfter: HubSpot takes names only once the user has accepted
// the invitation, and makes the CRM record on its own time, and tells the
// API neither.
func (e *Engine) deferred(out result, row *store.Provisioning, why string) result {
	out.Done, out.Synced = false, false
	out.State, out.LastError = StateDeferred, why
	out.NextAttempt = e.cfg.Now().Add(e.cfg.RetryDeferredAfter)
	next := out.NextAttempt.UTC()
	out.ext.ProvisioningState, out.ext.LastError, out.ext.NextAttemptAt = StateDeferred, why, &next
	e.log.Info().Str("user_id", row.UserID).Str("reason", why).Msg("HubSpot work deferred")
	return out
}

// diffUpdate builds the update that brings a to d, holding only what
// differs (empty when a matches). Names are only set, never cleared; a
// role is never cleared either (HubSpot has no "no role" through the API).
// The additional teams are compared as sets and sent whole when they
// differ; a main team that must go is sent as "" (HubSpot documents no
// way to clear it; see hubspot.UserUpdate).
func diffUpdate(a *hubspot.User, d Desired) hubspot.UserUpdate {
	var upd hubspot.UserUpdate
	if d.FirstName != "" && d.FirstName != a.FirstName {
		upd.FirstName = &d.FirstName
	}
	if d.LastName != "" && d.LastName != a.LastName {
		upd.LastName = &d.LastName
	}
	if d.RoleID != "" && d.RoleID != a.RoleID {
		upd.RoleID = &d.RoleID
	}
	if d.PrimaryTeamID != a.PrimaryTeamID {
		upd.PrimaryTeamID = &d.PrimaryTeamID
	}
	want, have := slices.Clone(d.SecondaryTeamIDs), slices.Clone(a.SecondaryTeamIDs)
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		upd.SecondaryTeamIDs = append([]string{}, want...)
	}
	return upd
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

// workTeam works on a group's team row, key.
func (e *Engine) workTeam(ctx context.Context, key string) error {
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
	o, err := e.convergeTeam(ctx, p)
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
