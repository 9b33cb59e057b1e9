package provision

import (
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/hubspot"
)

// facts are what the worker knows of one user's HubSpot account while it
// brings it to the desired state: what it read and what it has done in
// this attempt. decide turns them into the next step; the worker carries
// the step out and records what came of it in the facts.
type facts struct {
	d Desired
	// emailChange is the rules' answer to an address HubSpot cannot change.
	emailChange string
	// verifying: this attempt verifies an earlier removal (see
	// StateVerifying).
	verifying bool

	// linked: the row holds a link to a HubSpot user; actual is the
	// account found (by that link, by email, or made by this attempt),
	// nil when there is none.
	linked bool
	actual *hubspot.User
	// lookedUp: the address has been looked up.
	lookedUp bool
	// otherOwner is the bridge user actual is linked to, when that is
	// another one.
	otherOwner string

	// What this attempt did.
	created  bool // actual was made by this attempt
	adopted  bool // a create found the address taken and adopted actual
	deleted  bool // actual was removed (a leaver, or before a re-create)
	updated  bool // an update was sent
	deferred bool // the update's names wait for the invitation to be accepted
	// left are the fields an update answered without applying.
	left hubspot.UserUpdate
}

// step is what the worker does next.
type step int

const (
	stepLookup  step = iota // read the account by email
	stepDone                // finish with state and msg (and the account in facts)
	stepVerify              // a removal done: wait out the window, then read again
	stepRefuse              // a permanent failure found by the bridge: msg
	stepDelete              // remove actual
	stepCreate              // make the account
	stepUpdate              // send upd to actual
	stepSettled             // the account is as HubSpot allows now: synced or deferred
)

// action is decide's answer.
type action struct {
	step  step
	state string // stepDone
	msg   string // stepDone, stepRefuse
	upd   hubspot.UserUpdate
	// verified: a removal's verification found the user gone.
	verified bool
}

const superAdminSkip = "super admin in HubSpot: the bridge never modifies super admins"

// decide is the provisioning decision: a pure function of the facts. Each
// step it asks for changes the facts so that it is not asked again, so the
// worker's loop ends.
func decide(f facts) action {
	d, a := f.d, f.actual
	switch {
	case f.lookedUp && f.otherOwner != "" && !f.created && !f.adopted:
		// The address now belongs to another bridge user.
		return action{step: stepDone, state: StateRemoved}
	case f.adopted && f.otherOwner != "":
		return action{step: stepRefuse, msg: fmt.Sprintf("HubSpot user %s (%s) is already linked to bridge user %s: two bridge users share one HubSpot identity", a.ID, a.Email, f.otherOwner)}
	case a != nil && a.SuperAdmin:
		return action{step: stepDone, state: StateSkipped, msg: superAdminSkip}
	case a == nil && !f.lookedUp && !f.deleted && d.Reason != "" && d.Email != "":
		// A leaver the bridge holds no link for: find the account by
		// email, so one re-created by hand or never linked does not keep
		// access, and none is created just to be restricted.
		return action{step: stepLookup}
	case a == nil && f.lookedUp && d.Present && d.Reason != "":
		// A restricted leaver without an account: nothing to restrict.
		return action{step: stepDone, state: StateRemoved}
	}
	if !d.Present {
		switch {
		case a != nil:
			return action{step: stepDelete}
		case d.Email == "":
			return action{step: stepDone, state: StateSkipped}
		case f.verifying && !f.deleted:
			return action{step: stepDone, state: StateRemoved, verified: true}
		}
		return action{step: stepVerify}
	}
	if len(d.Problems) > 0 {
		return action{step: stepRefuse, msg: "mapping: " + strings.Join(d.Problems, "; ")}
	}
	if a != nil && !f.created && !f.adopted && !strings.EqualFold(a.Email, d.Email) {
		switch f.emailChange {
		case EmailReject:
			return action{step: stepRefuse, msg: fmt.Sprintf("HubSpot cannot change a user's email (%s → %s) and email_change is reject", a.Email, d.Email)}
		case EmailRecreate:
			return action{step: stepDelete}
		}
		// keep: the user stays linked by id and managed; the settled
		// outcome shows HubSpot's address beside the SCIM one.
	}
	if a == nil {
		if f.created || f.adopted {
			// Unreachable: a create that worked or adopted sets actual.
			return action{step: stepRefuse, msg: "HubSpot answered the create without a user"}
		}
		return action{step: stepCreate}
	}
	if f.updated {
		if !f.left.WithoutNames().Empty() || (!f.deferred && !f.left.Empty()) {
			return action{step: stepRefuse, msg: "HubSpot answered the update without applying all of it (" + strings.Join(f.left.Fields(), ", ") + " differ)"}
		}
		return action{step: stepSettled}
	}
	if upd := diffUpdate(a, d); !upd.Empty() {
		return action{step: stepUpdate, upd: upd}
	}
	return action{step: stepSettled}
}
