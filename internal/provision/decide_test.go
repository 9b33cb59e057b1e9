package provision

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

// TestDecide covers every branch of the provisioning decision: one row per
// case, facts in, the step (and what it carries) out.
func TestDecide(t *testing.T) {
	const addr = "ada@example.com"
	present := Desired{Present: true, Email: addr, FirstName: "Ada", LastName: "Lovelace", RoleID: "r1", PrimaryTeamID: "t1"}
	leaver := Desired{Email: addr, Reason: ReasonInactive}
	restricted := Desired{Present: true, Email: addr, RoleID: "restricted", Reason: ReasonInactive}
	inPlace := &hubspot.User{ID: "h1", Email: addr, FirstName: "Ada", LastName: "Lovelace", RoleID: "r1", PrimaryTeamID: "t1"}
	with := func(u hubspot.User, f func(*hubspot.User)) *hubspot.User { f(&u); return &u }
	role := "r1"
	first := "Ada"

	for _, tc := range []struct {
		name   string
		f      facts
		step   step
		state  string
		msg    string // a part of it
		upd    []string
		verify bool
	}{
		{name: "a leaver's address belongs to another bridge user", f: facts{d: leaver, lookedUp: true, actual: inPlace, otherOwner: "u2"},
			step: stepDone, state: StateRemoved},
		{name: "an adopted account belongs to another bridge user", f: facts{d: present, adopted: true, actual: inPlace, otherOwner: "u2"},
			step: stepRefuse, msg: "already linked to bridge user u2: two bridge users share one HubSpot identity"},
		{name: "a super admin is never touched", f: facts{d: leaver, linked: true, actual: with(*inPlace, func(u *hubspot.User) { u.SuperAdmin = true })},
			step: stepDone, state: StateSkipped, msg: "super admin"},
		{name: "an unlinked leaver is looked up by email", f: facts{d: leaver}, step: stepLookup},
		{name: "a restricted leaver without an account is not given one", f: facts{d: restricted, lookedUp: true},
			step: stepDone, state: StateRemoved},
		{name: "a leaver's account is removed", f: facts{d: leaver, linked: true, actual: inPlace}, step: stepDelete},
		{name: "a leaver found by email is removed", f: facts{d: leaver, lookedUp: true, actual: inPlace}, step: stepDelete},
		{name: "a user without an address has nothing to remove", f: facts{d: Desired{Reason: ReasonNoEmail}},
			step: stepDone, state: StateSkipped},
		{name: "a removal's verification finds the user gone", f: facts{d: leaver, verifying: true, lookedUp: true},
			step: stepDone, state: StateRemoved, verify: true},
		{name: "a removal is verified later", f: facts{d: leaver, lookedUp: true}, step: stepVerify},
		{name: "a verification that removed the user again verifies again", f: facts{d: leaver, verifying: true, lookedUp: true, deleted: true},
			step: stepVerify},
		{name: "a mapping problem is refused", f: facts{d: Desired{Present: true, Email: addr, Problems: []string{"no HubSpot role X"}}},
			step: stepRefuse, msg: "mapping: no HubSpot role X"},
		{name: "an email change under reject is refused", f: facts{d: present, emailChange: EmailReject, linked: true, actual: with(*inPlace, func(u *hubspot.User) { u.Email = "old@example.com" })},
			step: stepRefuse, msg: "email_change is reject"},
		{name: "an email change under recreate removes the account first", f: facts{d: present, emailChange: EmailRecreate, linked: true, actual: with(*inPlace, func(u *hubspot.User) { u.Email = "old@example.com" })},
			step: stepDelete},
		{name: "an email change under keep leaves the account linked", f: facts{d: present, emailChange: EmailKeep, linked: true, actual: with(*inPlace, func(u *hubspot.User) { u.Email = "old@example.com" })},
			step: stepSettled},
		{name: "a joiner is created", f: facts{d: present}, step: stepCreate},
		{name: "re-created after the old address was removed", f: facts{d: present, emailChange: EmailRecreate, linked: true, deleted: true}, step: stepCreate},
		{name: "a create that answered without a user is refused", f: facts{d: present, created: true}, step: stepRefuse, msg: "without a user"},
		{name: "a mover's role and team are updated", f: facts{d: present, linked: true, actual: with(*inPlace, func(u *hubspot.User) { u.RoleID, u.PrimaryTeamID = "r2", "" })},
			step: stepUpdate, upd: []string{"roleId", "primaryTeamId"}},
		{name: "a create HubSpot took in part is completed", f: facts{d: present, created: true, actual: with(*inPlace, func(u *hubspot.User) { u.PrimaryTeamID = "" })},
			step: stepUpdate, upd: []string{"primaryTeamId"}},
		{name: "an adopted account in place is settled", f: facts{d: present, adopted: true, actual: inPlace}, step: stepSettled},
		{name: "an account in place is settled", f: facts{d: present, linked: true, actual: inPlace}, step: stepSettled},
		{name: "an update applied whole is settled", f: facts{d: present, linked: true, actual: inPlace, updated: true}, step: stepSettled},
		{name: "an update whose names wait for the invitation is settled", f: facts{d: present, linked: true, actual: inPlace, updated: true, deferred: true, left: hubspot.UserUpdate{FirstName: &first}},
			step: stepSettled},
		{name: "an update HubSpot applied in part is refused", f: facts{d: present, linked: true, actual: inPlace, updated: true, left: hubspot.UserUpdate{RoleID: &role}},
			step: stepRefuse, msg: "without applying all of it (roleId differ"},
		{name: "an update that dropped the names without the invitation reason is refused", f: facts{d: present, linked: true, actual: inPlace, updated: true, left: hubspot.UserUpdate{FirstName: &first}},
			step: stepRefuse, msg: "firstName"},
		{name: "deferred names do not excuse a role left out", f: facts{d: present, linked: true, actual: inPlace, updated: true, deferred: true, left: hubspot.UserUpdate{RoleID: &role}},
			step: stepRefuse, msg: "roleId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := decide(tc.f)
			if a.step != tc.step || a.state != tc.state || a.verified != tc.verify || !strings.Contains(a.msg, tc.msg) {
				t.Fatalf("decide = %+v, want step %d state %q verified %v msg ~%q", a, tc.step, tc.state, tc.verify, tc.msg)
			}
			if tc.step == stepUpdate {
				if got := a.upd.Fields(); strings.Join(got, ",") != strings.Join(tc.upd, ",") {
					t.Fatalf("update fields %v, want %v", got, tc.upd)
				}
			}
		})
	}
}
