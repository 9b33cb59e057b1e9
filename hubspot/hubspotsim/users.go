package hubspotsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Users: PublicApiSpecs/Settings/User Provisioning (v3, 2026-03,
// 2026-09-beta). All ids are strings; email, id, roleIds and superAdmin
// are always present in a PublicUser.

type userPage struct {
	Results []hubspot.User  `json:"results"`
	Paging  *hubspot.Paging `json:"paging,omitempty"`
}

// listUsers: GET …/users?limit=&after= → CollectionResponsePublicUserForwardPaging,
// in id order, paging.next absent on the last page. No maximum limit is
// documented, so none is enforced.
func (s *Sim) listUsers(c *call) {
	limit, e := parseLimit(c.query("limit"), defaultListLimit, 0)
	if e != nil {
		c.fail(e)
		return
	}
	var after int64
	if a := c.query("after"); a != "" {
		var ok bool
		if after, ok = parseID(a); !ok {
			c.fail(invalidField("after", "INVALID_CURSOR", "after is not a paging cursor this endpoint handed out", a))
			return
		}
	}
	_, listed := s.faults.consistency()
	var ghostsSince time.Time
	if listed > 0 {
		ghostsSince = s.now().Add(-listed)
	}
	s.mu.Lock() // listUsers prunes the recent deletions
	page, next := s.db.listUsers(after, limit, ghostsSince)
	s.mu.Unlock()
	out := userPage{Results: page}
	if next != 0 {
		out.Paging = nextPage(c.r, idString(next))
	}
	c.json(http.StatusOK, out)
}

// userInput is the body of a create (UserProvisionRequest) or update
// (PublicUserUpdate). Pointers tell an omitted field from an empty one.
type userInput struct {
	Email            *string   `json:"email"`
	SendWelcomeEmail *bool     `json:"sendWelcomeEmail"`
	FirstName        *string   `json:"firstName"`
	LastName         *string   `json:"lastName"`
	RoleID           *string   `json:"roleId"`
	PrimaryTeamID    *string   `json:"primaryTeamId"`
	SecondaryTeamIDs *[]string `json:"secondaryTeamIds"`
	SuperAdmin       *bool     `json:"superAdmin"`
}

// createUser: POST …/users → 201, Location and the PublicUser. email and
// sendWelcomeEmail are required (UserProvisionRequestMarch2026).
func (s *Sim) createUser(c *call) {
	var in userInput
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	if in.Email == nil || strings.TrimSpace(*in.Email) == "" {
		c.fail(invalidField("email", "REQUIRED", "email is required"))
		return
	}
	if in.SendWelcomeEmail == nil {
		c.fail(invalidField("sendWelcomeEmail", "REQUIRED", "sendWelcomeEmail is required"))
		return
	}
	email := normEmail(*in.Email)
	if !validEmail(email) {
		c.fail(invalidField("email", "INVALID_EMAIL", fmt.Sprintf("%q is not a valid email address", *in.Email), *in.Email))
		return
	}
	// superAdmin is not part of the create schema; super admins cannot be
	// granted through the API, so asking for one is refused, not ignored.
	if in.SuperAdmin != nil && *in.SuperAdmin {
		c.fail(superAdminRefused("created"))
		return
	}
	b := s.Behaviour()
	s.mu.Lock()
	a, e := s.assignments(c, in, nil)
	if e != nil {
		s.mu.Unlock()
		c.fail(e)
		return
	}
	if _, taken := s.db.byEmail[email]; taken {
		s.mu.Unlock()
		c.fail(duplicateEmail(email, b.DuplicateEmailStatus))
		return
	}
	// A user made through the API has been invited and has not accepted
	// yet, unless the behaviour is loose (Behaviour.InvitesAcceptedAtOnce).
	u := &user{id: s.db.newUserID(email), email: email, roleID: a.roleID, pending: !b.InvitesAcceptedAtOnce}
	if in.FirstName != nil {
		u.firstName = *in.FirstName
	}
	if in.LastName != nil {
		u.lastName = *in.LastName
	}
	u.primary, u.secondary = a.primary, a.secondary
	s.db.insertUser(u)
	out := u.wire()
	s.mu.Unlock()
	// sendWelcomeEmail "will only be populated in response to a
	// provisioning request. Subsequent queries will be false." (spec)
	out.SendWelcomeEmail = *in.SendWelcomeEmail
	c.header("Location", selfURL(c.r, strings.TrimSuffix(c.r.URL.Path, "/")+"/"+out.ID))
	c.json(http.StatusCreated, out)
}

// duplicateEmail answers a create whose email is taken (case-insensitively)
// with status (Behaviour.DuplicateEmailStatus): 409 CONFLICT, or by
// default 400 VALIDATION_ERROR naming email. HubSpot documents neither on
// the Settings users API (see Behaviour.DuplicateEmailStatus for the
// sources). Assumption: the existing id is not given either way; a client
// reads the user by email. The error code ALREADY_EXISTS is the
// simulator's.
func duplicateEmail(email string, status int) *apiError {
	msg := "A user with email " + email + " already exists in this account"
	if status == http.StatusConflict {
		return newError(http.StatusConflict, catConflict, msg)
	}
	return invalidField("email", "ALREADY_EXISTS", msg, email)
}

// getUser: GET …/users/{userId}[?idProperty=USER_ID|EMAIL] → 200 or 404.
func (s *Sim) getUser(c *call) {
	key, idProp := c.path("userId"), c.query("idProperty")
	readable, _ := s.faults.consistency()
	s.mu.RLock()
	u, e := s.db.lookupUser(key, idProp)
	var out hubspot.User
	if u != nil {
		out = u.wire()
	} else if e.status == http.StatusNotFound && readable > 0 {
		if t := s.db.lookupGone(key, idProp, s.now().Add(-readable)); t != nil {
			u, out = &t.user, t.user.wire()
		}
	}
	s.mu.RUnlock()
	if u == nil {
		c.fail(e)
		return
	}
	c.json(http.StatusOK, out)
}

// updateUser: PUT …/users/{userId} → 200 and the PublicUser.
//
// Assumption: HubSpot does not say what PUT does with omitted fields; the
// 2026-09-beta guide says to "include only the fields you want to update",
// so omitted (or null) fields are kept. "" clears roleId or primaryTeamId;
// [] clears secondaryTeamIds. email is not in the update schema and is
// ignored like any unknown field: the answer shows it unchanged.
func (s *Sim) updateUser(c *call) {
	var in userInput
	if e := decodeBody(c, &in); e != nil {
		c.fail(e)
		return
	}
	out, e := s.update(func() (any, *apiError) {
		u, e := s.db.lookupUser(c.path("userId"), c.query("idProperty"))
		if e != nil {
			return nil, e
		}
		if u.superAdmin {
			return nil, superAdminRefused("changed")
		}
		if in.SuperAdmin != nil && *in.SuperAdmin {
			return nil, superAdminRefused("granted")
		}
		a, e := s.assignments(c, in, u)
		if e != nil {
			return nil, e
		}
		if u.pending && (in.FirstName != nil || in.LastName != nil) {
			// Observed live (jackemcpherson/terraform-provider-hubspot,
			// .scratch/account-membership-v0-5-0/research/live-lifecycle.md):
			// a user who has not accepted the invitation refuses a PUT
			// carrying names, even unchanged ones, with a 400
			// USER_NOT_ON_ANY_HUBS; HubSpot nests that envelope in the
			// message. The whole PUT is refused, role and teams included.
			e := newError(http.StatusBadRequest, catValidation, "USER_NOT_ON_ANY_HUBS").sub("USER_NOT_ON_ANY_HUBS")
			e.nested = true
			return nil, e
		}
		if in.FirstName != nil {
			u.firstName = *in.FirstName
		}
		if in.LastName != nil {
			u.lastName = *in.LastName
		}
		u.roleID = a.roleID
		s.db.setTeams(u, a.primary, a.secondary)
		return u.wire(), nil
	})
	c.answer(http.StatusOK, out, e)
}

// deleteUser: DELETE …/users/{userId} → 204. It removes the account
// membership, team memberships included. Deleting a user already deleted
// answers 204 again (observed live: removal is idempotent); an id never
// seen is a 404.
func (s *Sim) deleteUser(c *call) {
	key, idProp := c.path("userId"), c.query("idProperty")
	s.mu.Lock()
	u, e := s.db.lookupUser(key, idProp)
	switch {
	case u == nil && e.status == http.StatusNotFound && s.db.lookupGone(key, idProp, time.Time{}) != nil:
		e = nil
	case u != nil && u.superAdmin:
		e = superAdminRefused("removed")
	case u != nil:
		s.db.deleteUser(u, s.now())
	}
	s.mu.Unlock()
	if e != nil {
		c.fail(e)
		return
	}
	c.noContent()
}

// listRoles: GET …/users/roles → {results:[{id, name, requiresBillingWrite}]}, no paging.
func (s *Sim) listRoles(c *call) {
	s.mu.RLock()
	out := s.db.roleList()
	s.mu.RUnlock()
	c.json(http.StatusOK, struct {
		Results []hubspot.Role `json:"results"`
	}{out})
}

func (d *db) roleList() []hubspot.Role {
	out := make([]hubspot.Role, 0, len(d.roleOrder))
	for _, id := range d.roleOrder {
		r := d.roles[id]
		out = append(out, hubspot.Role{ID: r.id, Name: r.name, RequiresBillingWrite: r.billing})
	}
	return out
}

// assigned is the role and teams a create or update ends with.
type assigned struct {
	roleID    string
	primary   int64
	secondary []int64
}

// assignments validates the role and teams of in against the portal,
// starting from cur (nil on create). Unknown ids are 400
// VALIDATION_ERROR naming them. Assigning or removing a role with
// requiresBillingWrite needs settings.billing.write ("Whether this role
// has a paid seat and requires the billing-write scope to assign/unassign
// to users", spec); without it HubSpot answers 400.
func (s *Sim) assignments(c *call, in userInput, cur *user) (assigned, *apiError) {
	var a assigned
	if cur != nil {
		a = assigned{roleID: cur.roleID, primary: cur.primary, secondary: cur.secondary}
	}
	if in.RoleID != nil && *in.RoleID != a.roleID {
		next := strings.TrimSpace(*in.RoleID)
		if next != "" && s.db.roleByID(next) == nil {
			return a, invalidField("roleId", "INVALID_ROLE", "Role "+strconv.Quote(next)+" does not exist in this account", next)
		}
		for _, id := range []string{a.roleID, next} {
			if r := s.db.roleByID(id); r != nil && r.billing && !c.has(ScopeBillingWrite) {
				return a, invalidField("roleId", "BILLING_WRITE_REQUIRED",
					fmt.Sprintf("Role %s (%s) has a paid seat: assigning or removing it needs the %s scope", r.id, r.name, ScopeBillingWrite), r.id).
					ctx("requiredScopes", ScopeBillingWrite)
			}
		}
		a.roleID = next
	}
	if in.PrimaryTeamID != nil {
		a.primary = 0
		if p := strings.TrimSpace(*in.PrimaryTeamID); p != "" {
			t := s.db.teamByID(p)
			if t == nil {
				return a, invalidField("primaryTeamId", "INVALID_TEAM", "Team "+strconv.Quote(p)+" does not exist in this account", p)
			}
			a.primary = t.id
		}
	}
	if in.SecondaryTeamIDs != nil {
		var ids []int64
		var unknown []string
		for _, sid := range *in.SecondaryTeamIDs {
			if t := s.db.teamByID(strings.TrimSpace(sid)); t != nil {
				ids = append(ids, t.id)
			} else {
				unknown = append(unknown, sid)
			}
		}
		if len(unknown) > 0 {
			return a, invalidField("secondaryTeamIds", "INVALID_TEAM", "Teams "+strings.Join(unknown, ", ")+" do not exist in this account", unknown...)
		}
		a.secondary = ids
	}
	a.secondary = normSecondary(a.primary, a.secondary)
	return a, nil
}

// validEmail is a light check: one @, something on each side, no spaces.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n,;<>") &&
		!strings.Contains(domain, "@") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// parseLimit reads a limit parameter: a positive integer, at most max
// when max > 0.
func parseLimit(s string, def, max int) (int, *apiError) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, invalidField("limit", "INVALID_INTEGER", "limit must be a positive integer", s)
	}
	if max > 0 && n > max {
		return 0, invalidField("limit", "OUT_OF_RANGE", fmt.Sprintf("limit must be at most %d", max), s)
	}
	return n, nil
}

// nextPage is paging.next for cursor after: the cursor and a link to the
// next page (this request's URL with after replaced).
func nextPage(r *http.Request, after string) *hubspot.Paging {
	q := r.URL.Query()
	q.Set("after", after)
	p := &hubspot.Paging{}
	p.Next = &struct {
		After string `json:"after"`
		Link  string `json:"link,omitempty"`
	}{After: after, Link: selfURL(r, r.URL.Path) + "?" + q.Encode()}
	return p
}

// selfURL is an absolute URL on the host the request came to.
func selfURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String()
}
