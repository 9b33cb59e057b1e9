package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// FixPlan is what `review --fix` would do: the selected findings that have
// a fix, and those that need a human.
type FixPlan struct {
	// Categories are the selected categories.
	Categories []string `json:"categories"`
	// Steps are the fixable findings, in report order.
	Steps []Finding `json:"steps"`
	// Manual are the selected findings without a fix.
	Manual []Finding `json:"manual"`
	// Reconcile says a directory reconcile is part of the plan.
	Reconcile bool `json:"reconcile"`
	// HubSpotRemovals counts the direct HubSpot removals and restrictions
	// (orphans), which the review's deletion guard bounds.
	HubSpotRemovals int `json:"hubspotRemovals"`
	// HubSpotUsers is the portal's size, the guard's base.
	HubSpotUsers int `json:"hubspotUsers"`
}

// ParseCategories checks a --fix list: category names, or "all". Commas
// separate names too.
func ParseCategories(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		for _, c := range strings.Split(a, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch {
			case c == "":
				continue
			case c == "all":
				return Categories(), nil
			case !slices.Contains(Categories(), c):
				return nil, fmt.Errorf("unknown category %q (categories: %s, or all)", c, strings.Join(Categories(), ", "))
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no category to fix (categories: " + strings.Join(Categories(), ", ") + ", or all)")
	}
	return out, nil
}

// PlanFixes selects the findings of categories from rep.
func PlanFixes(rep *Report, categories []string) *FixPlan {
	p := &FixPlan{Categories: categories, Steps: []Finding{}, Manual: []Finding{}, HubSpotUsers: rep.Summary.HubSpotUsers}
	for _, f := range rep.Findings {
		if !slices.Contains(categories, f.Category) {
			continue
		}
		if f.Fix == nil {
			p.Manual = append(p.Manual, f)
			continue
		}
		p.Steps = append(p.Steps, f)
		switch f.Fix.Via {
		case ViaReconcile:
			p.Reconcile = true
		case ViaHubSpot:
			p.HubSpotRemovals++
		}
	}
	return p
}

// GuardLimit is how many direct HubSpot removals a fix may make unforced:
// max(percent% of the portal's users, count), as the reconcile guard.
func GuardLimit(hubspotUsers int, percent float64, count int) int {
	return max(int(float64(hubspotUsers)*percent/100), count)
}

// HubSpotWriter is what a fix changes in HubSpot (*hubspot.Client).
type HubSpotWriter interface {
	GetUser(ctx context.Context, id string) (*hubspot.User, error)
	UpdateUser(ctx context.Context, id string, in hubspot.UserUpdate) (*hubspot.User, error)
	DeleteUser(ctx context.Context, id string) error
}

// FixEnv is what applying a plan uses.
type FixEnv struct {
	Store   store.Store
	HubSpot HubSpotWriter
	// Reconcile runs one full directory reconcile and describes its
	// outcome; nil when no directory is configured.
	Reconcile func(ctx context.Context, force bool) (string, error)
	// Relink sets a bridge user's externalId (from, as the review saw it,
	// to the directory user's) and directory origin; it fails if the
	// externalId is no longer from or another user holds to.
	Relink func(ctx context.Context, bridgeID, from, to string) error
	// GuardPercent and GuardCount bound direct HubSpot removals (defaults
	// 10 and 25).
	GuardPercent float64
	GuardCount   int
	// Force applies a plan over the guard.
	Force bool
}

// FixOutcome is what applying did, step by step.
type FixOutcome struct {
	Applied  int      `json:"applied"`
	Failed   int      `json:"failed"`
	Results  []string `json:"results"`
	Guarded  string   `json:"guarded,omitempty"`
	Requeued int      `json:"requeued"`
}

func (o *FixOutcome) ok(format string, a ...any) {
	o.Applied++
	o.Results = append(o.Results, "ok: "+fmt.Sprintf(format, a...))
}

func (o *FixOutcome) fail(format string, a ...any) {
	o.Failed++
	o.Results = append(o.Results, "failed: "+fmt.Sprintf(format, a...))
}

// ErrGuarded is returned when the deletion guard holds a plan back.
var ErrGuarded = errors.New("review: the deletion guard held the fix back")

// Apply makes the plan's changes. Re-queued provisioning work is done by
// the engine (a running `serve`, or the caller draining it). Nothing is
// applied when the direct HubSpot removals exceed the guard, unless forced.
// Before changing a HubSpot user directly, Apply reads it again and leaves
// it alone if it has become a super admin or changed email since the
// review.
func (p *FixPlan) Apply(ctx context.Context, env FixEnv) (*FixOutcome, error) {
	out := &FixOutcome{Results: []string{}}
	limit := GuardLimit(p.HubSpotUsers, cmp.Or(env.GuardPercent, 10), cmp.Or(env.GuardCount, 25))
	if p.HubSpotRemovals > limit && !env.Force {
		out.Guarded = fmt.Sprintf("the fix would remove or restrict %d HubSpot users no bridge user manages, more than the limit of %d (max(%g%% of %d users, %d)); nothing was applied: check the findings, then apply with --force",
			p.HubSpotRemovals, limit, cmp.Or(env.GuardPercent, 10), p.HubSpotUsers, cmp.Or(env.GuardCount, 25))
		return out, ErrGuarded
	}
	var requeue []string
	linked := map[string]string{} // external id → bridge user given it
	// Links first: the reconcile then finds the relinked bridge users by
	// external id instead of creating second ones.
	for _, f := range p.Steps {
		if f.Fix.Via != ViaRelink {
			continue
		}
		ext := f.ExternalID
		if by, ok := linked[ext]; ok {
			out.fail("link bridge user %s to external id %s: bridge user %s was just linked to it", f.BridgeID, ext, by)
			continue
		}
		if env.Relink == nil {
			out.fail("link %s: no directory is configured", f.Subject)
		} else if err := env.Relink(ctx, f.BridgeID, f.Fix.FromExternalID, ext); err != nil {
			out.fail("link bridge user %s to external id %s: %v", f.BridgeID, ext, err)
		} else {
			linked[ext] = f.BridgeID
			out.ok("linked bridge user %s (%s) to external id %s", f.BridgeID, f.Subject, ext)
			if !slices.Contains(requeue, f.BridgeID) {
				requeue = append(requeue, f.BridgeID)
			}
		}
	}
	if p.Reconcile {
		if env.Reconcile == nil {
			out.fail("directory reconcile: no directory is configured")
		} else if msg, err := env.Reconcile(ctx, env.Force); err != nil {
			out.fail("directory reconcile: %v", err)
		} else {
			out.ok("directory reconcile: %s", msg)
		}
	}
	for _, f := range p.Steps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		switch f.Fix.Via {
		case ViaProvisioning:
			if f.BridgeID != "" && !slices.Contains(requeue, f.BridgeID) {
				requeue = append(requeue, f.BridgeID)
			}
		case ViaReconcile:
			// Done by the reconcile above.
		case ViaHubSpot:
			if err := p.direct(ctx, env, f); err != nil {
				out.fail("%s %s (HubSpot user %s): %v", f.Fix.Action, f.Subject, f.HubSpotID, err)
			} else {
				out.ok("%s %s (HubSpot user %s)", pastTense(f.Fix.Action), f.Subject, f.HubSpotID)
			}
		case ViaRelink:
			// Done first.
		default:
			out.fail("%s %s: unknown route %q", f.Fix.Action, f.Subject, f.Fix.Via)
		}
	}
	if len(requeue) > 0 {
		var missing []string
		err := env.Store.Update(ctx, func(tx store.Tx) error {
			missing = missing[:0]
			for _, id := range requeue {
				ok, err := tx.TouchProvisioningOf(id)
				if err != nil {
					return err
				}
				if !ok {
					missing = append(missing, id)
				}
			}
			return nil
		})
		if err != nil {
			out.fail("re-queuing the provisioning of %d bridge users: %v", len(requeue), err)
		} else {
			out.Requeued = len(requeue) - len(missing)
			out.ok("re-queued the HubSpot work of %d bridge users", out.Requeued)
			for _, id := range missing {
				out.fail("bridge user %s has no provisioning row", id)
			}
		}
	}
	return out, nil
}

func pastTense(action string) string {
	switch action {
	case FixRemove:
		return "removed"
	case FixRestrict:
		return "restricted"
	}
	return action
}

// direct removes or restricts a HubSpot user no bridge user manages.
func (p *FixPlan) direct(ctx context.Context, env FixEnv, f Finding) error {
	hs := env.HubSpot
	if hs == nil || env.Store == nil {
		return errors.New("no HubSpot client or store")
	}
	h, err := hs.GetUser(ctx, f.HubSpotID)
	if hubspot.IsNotFound(err) {
		return nil // already gone
	}
	if err != nil {
		return err
	}
	if h.SuperAdmin {
		return errors.New("now a super admin: the bridge never modifies super admins")
	}
	if !strings.EqualFold(h.Email, f.Subject) {
		return fmt.Errorf("its email changed to %s since the review: review again", h.Email)
	}
	// The store was read when the review began: a SCIM create, a reconcile
	// (this plan's included) or a serve's worker may have given the
	// account a bridge user since.
	if by, err := managedBy(ctx, env.Store, h.ID, h.Email); err != nil {
		return fmt.Errorf("checking the bridge's users: %w", err)
	} else if by != "" {
		return fmt.Errorf("now managed by bridge user %s: left alone, review again", by)
	}
	switch f.Fix.Action {
	case FixRemove:
		err = hs.DeleteUser(ctx, f.HubSpotID)
		if hubspot.IsNotFound(err) {
			err = nil
		}
		return err
	case FixRestrict:
		none := ""
		upd := hubspot.UserUpdate{PrimaryTeamID: &none, SecondaryTeamIDs: []string{}}
		if f.Fix.RoleID != "" {
			upd.RoleID = &f.Fix.RoleID
		}
		_, err = hs.UpdateUser(ctx, f.HubSpotID, upd)
		return err
	}
	return fmt.Errorf("action %s is not a direct HubSpot change", f.Fix.Action)
}

// managedBy returns the id of a bridge user that links HubSpot user
// hubspotID or has its email (as userName or an email), or "".
func managedBy(ctx context.Context, st store.Store, hubspotID, email string) (string, error) {
	var linked string
	if err := st.Update(ctx, func(tx store.Tx) (err error) {
		linked, err = tx.LinkedUser(hubspotID)
		return err
	}); err != nil || linked != "" {
		return linked, err
	}
	if email == "" {
		return "", nil
	}
	byEmail := schemas.Or(schemas.Eq("userName", email), schemas.Eq("emails.value", email))
	page, err := st.QueryUsers(ctx, schemas.Query{Filter: byEmail, StartIndex: 1, Count: 1})
	if err != nil {
		return "", err
	}
	if len(page.Users) > 0 {
		return page.Users[0].ID, nil
	}
	return "", nil
}
