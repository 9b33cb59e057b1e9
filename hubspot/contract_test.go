package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// runContract holds the assertions every HubSpot the client talks to must
// pass: the simulator, a real portal, and the small fake. With writable
// false it only reads (safe against a production portal).
func runContract(t *testing.T, c *hubspot.Client, writable, teams bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	var all []hubspot.User
	t.Run("paging", func(t *testing.T) {
		var err error
		all, err = c.AllUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var paged []hubspot.User
		after, pages := "", 0
		for {
			page, next, err := c.ListUsers(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 2 {
				t.Fatalf("page of %d users for limit 2", len(page))
			}
			paged = append(paged, page...)
			pages++
			if next == "" {
				break
			}
			if pages > 10000 {
				t.Fatal("paging does not end")
			}
			after = next
		}
		if got, want := ids(paged), ids(all); got != want {
			t.Errorf("pages of 2 give %s, AllUsers gives %s", got, want)
		}
		seen := map[string]bool{}
		for _, u := range all {
			if u.ID == "" || u.Email == "" || u.RoleIDs == nil {
				t.Errorf("user %+v lacks id, email or roleIds (always present per the spec)", u)
			}
			if seen[u.ID] {
				t.Errorf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
	})

	t.Run("get", func(t *testing.T) {
		if len(all) == 0 {
			t.Skip("portal has no users")
		}
		want := all[len(all)/2]
		byID, err := c.GetUser(ctx, want.ID)
		if err != nil || byID.ID != want.ID || byID.Email != want.Email {
			t.Fatalf("GetUser(%s) = %+v, %v", want.ID, byID, err)
		}
		byEmail, err := c.GetUserByEmail(ctx, want.Email)
		if err != nil || byEmail.ID != want.ID {
			t.Fatalf("GetUserByEmail(%s) = %+v, %v", want.Email, byEmail, err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"id":    func() error { _, err := c.GetUser(ctx, "987654321012"); return err },
			"email": func() error { _, err := c.GetUserByEmail(ctx, "nobody+contract@example.invalid"); return err },
		} {
			err := call()
			var he *hubspot.Error
			if !hubspot.IsNotFound(err) || !hubspot.IsPermanent(err) || !errors.As(err, &he) {
				t.Errorf("%s: err = %v, want a 404 *hubspot.Error", name, err)
				continue
			}
			if he.CorrelationID == "" {
				t.Errorf("%s: 404 without correlationId: %+v", name, he)
			}
		}
	})

	t.Run("roles and teams", func(t *testing.T) {
		roles, err := c.Roles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if r.ID == "" || r.Name == "" {
				t.Errorf("role %+v lacks id or name", r)
			}
		}
		teams, err := c.Teams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range teams {
			if tm.ID == "" || tm.Name == "" {
				t.Errorf("team %+v lacks id or name", tm)
			}
		}
	})

	t.Run("logins", func(t *testing.T) {
		logins, _, err := c.Logins(ctx, "", "", 10)
		if hubspot.IsForbidden(err) {
			t.Skipf("token lacks account-info.security.read: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(logins) > 10 {
			t.Errorf("%d logins for limit 10", len(logins))
		}
		for _, l := range logins {
			if l.ID == "" || l.LoginAt.IsZero() {
				t.Errorf("login %+v lacks id or loginAt", l)
			}
		}
		if len(logins) == 0 || logins[0].UserID == "" {
			return
		}
		// One user's whole log (small, unlike the portal's).
		uid := logins[0].UserID
		theirs, err := c.AllLogins(ctx, uid)
		if err != nil || len(theirs) == 0 {
			t.Fatalf("AllLogins(%s) = %d logins, %v", uid, len(theirs), err)
		}
		for _, l := range theirs {
			if l.UserID != uid {
				t.Errorf("AllLogins(%s) returned a login of %s", uid, l.UserID)
			}
		}
	})

	if !writable {
		return
	}

	t.Run("lifecycle", func(t *testing.T) {
		email := fmt.Sprintf("contract-%d@example.com", time.Now().UnixNano())
		created, err := c.CreateUser(ctx, hubspot.UserCreate{Email: email, FirstName: "Ada", LastName: "Lovelace"})
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == "" || !strings.EqualFold(created.Email, email) || created.FirstName != "Ada" {
			t.Fatalf("created %+v", created)
		}
		if u, err := c.GetUserByEmail(ctx, email); err != nil || u.ID != created.ID {
			t.Fatalf("GetUserByEmail after create = %+v, %v", u, err)
		}

		// The same email in another letter case: adopt the existing user.
		// HubSpot documents no status for it: the simulator answers 400 by
		// default (hubspotsim.Behaviour.DuplicateEmailStatus), the fake 409.
		dup, err := c.CreateUser(ctx, hubspot.UserCreate{Email: strings.ToUpper(email)})
		if !errors.Is(err, hubspot.ErrExists) || !(hubspot.IsConflict(err) || hubspot.IsValidation(err)) {
			t.Fatalf("duplicate create err = %v, want ErrExists and a 400 or 409", err)
		}
		if dup == nil || dup.ID != created.ID {
			t.Fatalf("duplicate create returned %+v, want the existing user %s", dup, created.ID)
		}

		first := "Augusta"
		updated, err := c.UpdateUser(ctx, created.ID, hubspot.UserUpdate{FirstName: &first, SecondaryTeamIDs: []string{}})
		if err != nil || updated.FirstName != first || updated.LastName != "Lovelace" {
			t.Fatalf("UpdateUser = %+v, %v", updated, err)
		}

		if err := c.DeleteUser(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitDeleted(ctx, created.ID, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(ctx, created.ID); !hubspot.IsNotFound(err) {
			t.Errorf("GetUser after delete: %v, want 404", err)
		}
		// Removal is idempotent at HubSpot (204 again) or answers 404:
		// either way a repeated delete is no failure to retry.
		if err := c.DeleteUser(ctx, created.ID); err != nil && !hubspot.IsNotFound(err) {
			t.Errorf("second delete: %v, want success or 404", err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		_, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "not-an-email"})
		var he *hubspot.Error
		if !hubspot.IsValidation(err) || !hubspot.IsPermanent(err) || !errors.As(err, &he) {
			t.Fatalf("err = %v, want a 400 *hubspot.Error", err)
		}
		if he.Category != "VALIDATION_ERROR" || he.CorrelationID == "" || he.Message == "" {
			t.Errorf("validation error %+v", he)
		}
	})

	t.Run("teams", func(t *testing.T) {
		if !teams {
			t.Skip("this HubSpot has no Teams API")
		}
		name := fmt.Sprintf("Contract %d", time.Now().UnixNano())
		team, err := c.CreateTeam(ctx, name, nil)
		if err != nil || team.ID == "" || team.Name != name {
			t.Fatalf("CreateTeam = %+v, %v", team, err)
		}
		if again, err := c.CreateTeam(ctx, name, nil); !errors.Is(err, hubspot.ErrExists) || again == nil || again.ID != team.ID {
			t.Errorf("duplicate CreateTeam = %+v, %v; want ErrExists and team %s", again, err, team.ID)
		}
		u, err := c.CreateUser(ctx, hubspot.UserCreate{Email: fmt.Sprintf("team-%d@example.com", time.Now().UnixNano())})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.DeleteUser(ctx, u.ID) }()
		m := hubspot.TeamMember{UserID: u.ID, Type: hubspot.MemberExtra}
		if err := c.AddTeamMember(ctx, team.ID, m); err != nil {
			t.Fatal(err)
		}
		if err := c.AddTeamMember(ctx, team.ID, m); err != nil {
			t.Errorf("adding a membership twice: %v", err)
		}
		if members, err := c.TeamMembers(ctx, team.ID); err != nil || !hasMember(members, m) {
			t.Errorf("TeamMembers = %+v, %v; want %+v", members, err, m)
		}
		if err := c.RemoveTeamMember(ctx, team.ID, u.ID, hubspot.MemberExtra); err != nil {
			t.Fatal(err)
		}
		if members, err := c.TeamMembers(ctx, team.ID); err != nil || hasMember(members, m) {
			t.Errorf("TeamMembers after removal = %+v, %v", members, err)
		}
		renamed, err := c.RenameTeam(ctx, team.ID, name+" renamed")
		if err != nil || renamed.Name != name+" renamed" {
			t.Errorf("RenameTeam = %+v, %v", renamed, err)
		}
		if err := c.DeleteTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetTeam(ctx, team.ID); !hubspot.IsNotFound(err) {
			t.Errorf("GetTeam after delete: %v, want 404", err)
		}
	})
}

func ids(us []hubspot.User) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = u.ID
	}
	return strings.Join(s, ",")
}

func hasMember(ms []hubspot.TeamMember, m hubspot.TeamMember) bool {
	for _, x := range ms {
		if x.UserID == m.UserID && x.Type == m.Type {
			return true
		}
	}
	return false
}

// TestContractFake runs the contract against the small fake (the Teams
// subtest skips: the fake has no Teams API).
func TestContractFake(t *testing.T) {
	f := newFakeHub(t, 7)
	runContract(t, newClient(t, f.srv.URL, newFakeClock(), nil), true, false)
}

// TestContractPortal runs the read-only contract against a real portal.
func TestContractPortal(t *testing.T) {
	token := os.Getenv("HUBSPOT_TOKEN")
	if token == "" {
		t.Skip("HUBSPOT_TOKEN not set: skipping the read-only contract run against a real HubSpot portal " +
			"(set HUBSPOT_TOKEN, optionally HUBSPOT_BASE_URL and HUBSPOT_API_VERSION, to run it)")
	}
	c, err := hubspot.New(hubspot.Config{
		Token: token, BaseURL: os.Getenv("HUBSPOT_BASE_URL"), APIVersion: os.Getenv("HUBSPOT_API_VERSION"),
	})
	if err != nil {
		t.Fatal(err)
	}
	runContract(t, c, false, false)
}
