package provision

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/scimbridge/scimbridge/schemas"
)

// Desired is the HubSpot state a user should have. It is a pure function of
// the user, their groups, the rules and HubSpot's catalogue (DesiredState),
// computed in the write transaction and again by the worker before it
// touches HubSpot.
type Desired struct {
	// Present says whether a HubSpot user should exist.
	Present bool `json:"present"`
	// Email is the HubSpot identity: the user's primary (else work, else
	// first) email, or the userName when it is an address.
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	RoleID    string `json:"roleId,omitempty"`
	// PrimaryTeamID is the main team; SecondaryTeamIDs are sorted.
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds,omitempty"`
	// Reason says why the user is absent or restricted (inactive,
	// deleted, no email), for the provisioning state.
	Reason string `json:"reason,omitempty"`
	// Problems are mapping problems (a rule naming a role HubSpot lacks).
	Problems []string `json:"problems,omitempty"`
	// Profile holds the CRM users-object properties to write (profile
	// attributes), by property name.
	Profile map[string]string `json:"profile,omitempty"`
}

// Reasons a user has no (or restricted) HubSpot access.
const (
	ReasonInactive = "inactive"
	ReasonDeleted  = "deleted"
	ReasonNoEmail  = "no email address"
)

// Equal reports whether two desired states ask for the same HubSpot state.
func (d Desired) Equal(o Desired) bool {
	return d.Present == o.Present && strings.EqualFold(d.Email, o.Email) &&
		d.FirstName == o.FirstName && d.LastName == o.LastName && d.RoleID == o.RoleID &&
		d.PrimaryTeamID == o.PrimaryTeamID && slices.Equal(d.SecondaryTeamIDs, o.SecondaryTeamIDs) &&
		d.Reason == o.Reason && slices.Equal(d.Problems, o.Problems) && maps.Equal(d.Profile, o.Profile)
}

// DesiredState computes the HubSpot state for u (nil when the SCIM user was
// deleted; lastEmail is then the address HubSpot knows them by), a member
// of groups (display names), under rules and catalogue c.
func DesiredState(u *schemas.User, lastEmail string, groups []string, rules *Rules, c *Catalog) Desired {
	var d Desired
	if u == nil {
		d.Email = lastEmail
		return leaver(d, ReasonDeleted, rules, c)
	}
	d.Email = EmailOf(u)
	if u.Name != nil {
		d.FirstName, d.LastName = u.Name.GivenName, u.Name.FamilyName
	}
	if d.Email == "" {
		d.Reason = ReasonNoEmail
		return d
	}
	if !u.IsActive() {
		return leaver(d, ReasonInactive, rules, c)
	}
	d.Present = true
	member := make(map[string]bool, len(groups))
	for _, g := range groups {
		member[schemas.Fold(g)] = true
	}
	roleRef := rules.DefaultRole
	for _, rr := range rules.Roles {
		if member[schemas.Fold(rr.Group)] {
			roleRef = rr.Role
			break
		}
	}
	if roleRef != "" {
		if r, ok := c.Role(roleRef); ok {
			d.RoleID = r.ID
		} else {
			d.Problems = append(d.Problems, "no HubSpot role "+roleRef)
		}
	}
	var teams []string
	addTeam := func(ref string) {
		t, ok := c.Team(ref)
		if !ok {
			d.Problems = append(d.Problems, "no HubSpot team "+ref)
			return
		}
		if !slices.Contains(teams, t.ID) {
			teams = append(teams, t.ID)
		}
	}
	for _, tr := range rules.Teams {
		if member[schemas.Fold(tr.Group)] {
			addTeam(tr.Team)
		}
	}
	if rules.TeamsByGroupName == nil || *rules.TeamsByGroupName {
		sorted := slices.Clone(groups)
		slices.SortFunc(sorted, func(a, b string) int { return strings.Compare(schemas.Fold(a), schemas.Fold(b)) })
		for _, g := range sorted {
			if t, ok := c.Team(g); ok && strings.EqualFold(t.Name, g) && !slices.Contains(teams, t.ID) {
				teams = append(teams, t.ID)
			}
		}
	}
	if len(teams) > 0 {
		d.PrimaryTeamID = teams[0]
		d.SecondaryTeamIDs = teams[1:]
		slices.Sort(d.SecondaryTeamIDs)
		if len(d.SecondaryTeamIDs) == 0 {
			d.SecondaryTeamIDs = nil
		}
	}
	return d
}

// leaver applies the leaver policy.
func leaver(d Desired, reason string, rules *Rules, c *Catalog) Desired {
	d.Reason = reason
	if rules.LeaverPolicy != LeaverRestrict || d.Email == "" {
		d.Present = false
		return d
	}
	d.Present = true
	if r, ok := c.Role(rules.RestrictedRole); ok {
		d.RoleID = r.ID
	} else {
		// Without the restricted role the only safe state is no access.
		d.Present = false
		d.Problems = append(d.Problems, "no HubSpot role "+rules.RestrictedRole+" for leavers; removing instead")
	}
	return d
}

// EmailOf picks the address HubSpot knows the user by: the primary (else
// work, else first) email, or the userName when it is an address.
func EmailOf(u *schemas.User) string {
	if e := u.PrimaryEmail(); e != "" {
		return hubspotAddress(e)
	}
	if strings.Contains(u.UserName, "@") {
		return hubspotAddress(u.UserName)
	}
	return ""
}

// hubspotAddress is the address HubSpot gets for e: its PRECIS
// UsernameCasePreserved form (RFC 8265: fullwidth letters made plain, NFC),
// so that ｊａｎｅ@example.com and jane@example.com are one HubSpot identity
// and the engine never makes two accounts for them. Case is left as it
// is: HubSpot compares addresses without regard to case. A value the
// profile refuses (the store refuses new ones) stays as it is.
func hubspotAddress(e string) string {
	for i := range len(e) {
		if e[i] >= utf8.RuneSelf {
			if p, err := precis.UsernameCasePreserved.String(e); err == nil {
				return p
			}
			return e
		}
	}
	return e
}
