package provision

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Leaver policies: what happens in HubSpot when a user is deactivated
// (active=false), deleted, or leaves scope.
const (
	// LeaverDelete removes the HubSpot user, as HubSpot's own SCIM
	// integrations do: the API has no deactivate call.
	LeaverDelete = "delete"
	// LeaverRestrict keeps the HubSpot user with the restricted role and no
	// teams, keeping their records' ownership in place.
	LeaverRestrict = "restrict"
)

// Email change policies: HubSpot cannot change a user's email.
const (
	// EmailKeep stores the SCIM change and keeps the HubSpot user linked by
	// its id, still managed; the difference shows on the user's HubSpot
	// extension (hubspotEmail), in the provisioning status and in access
	// reviews until the address is changed in HubSpot or an admin
	// recreates the user. An IdP's email change never fails.
	EmailKeep = "keep"
	// EmailReject refuses a SCIM change of a provisioned user's email
	// (400 mutability).
	EmailReject = "reject"
	// EmailRecreate removes the HubSpot user and creates one with the new
	// email.
	EmailRecreate = "recreate"
)

// Rules map a user's groups to a HubSpot role and teams. Roles and teams
// are named by name (matched without regard to case) or by id. The
// YAML-tagged fields are the mapping section of scimbridge's configuration
// file; Policy sits in its provisioning section.
type Rules struct {
	// Roles are tried in order; the first rule whose group the user is a
	// member of gives the role.
	Roles []RoleRule `yaml:"roles"`
	// DefaultRole applies when no role rule matches; empty means no role
	// (HubSpot's default permissions).
	DefaultRole string `yaml:"default_role"`
	// Teams are tried in order: the first matching rule gives the main
	// (primary) team, every other matching rule an additional team.
	Teams []TeamRule `yaml:"teams"`
	// TeamsByGroupName maps a group whose displayName equals a HubSpot
	// team's name to that team, after the explicit rules (default true).
	TeamsByGroupName *bool `yaml:"teams_by_group_name"`
	// Policy is what happens to leavers, email changes and new users.
	Policy `yaml:"-"`
}

// Policy is what provisioning does to leavers, email changes and new
// users.
type Policy struct {
	// LeaverPolicy is delete (default: remove the HubSpot user) or
	// restrict (keep it with RestrictedRole and no teams).
	LeaverPolicy string `yaml:"leaver_policy"`
	// RestrictedRole is the role of leavers under the restrict policy.
	RestrictedRole string `yaml:"restricted_role"`
	// EmailChange is what a SCIM change of a provisioned user's email
	// does, as HubSpot cannot change a user's email: keep (default),
	// reject or recreate (see EmailKeep, EmailReject, EmailRecreate).
	EmailChange string `yaml:"email_change"`
	// SendWelcomeEmail asks HubSpot to email new users an invitation.
	SendWelcomeEmail bool `yaml:"send_welcome_email"`
}

// RoleRule gives Role to members of Group.
type RoleRule struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// TeamRule gives Team to members of Group.
type TeamRule struct {
	Group string `yaml:"group"`
	Team  string `yaml:"team"`
}

// SetDefaults fills the defaults, the policies' included.
func (r *Rules) SetDefaults() {
	r.Policy.SetDefaults()
	if r.TeamsByGroupName == nil {
		t := true
		r.TeamsByGroupName = &t
	}
}

// SetDefaults fills the policies' defaults.
func (p *Policy) SetDefaults() {
	if p.LeaverPolicy == "" {
		p.LeaverPolicy = LeaverDelete
	}
	if p.EmailChange == "" {
		p.EmailChange = EmailKeep
	}
}

// Validate checks the rules on their own (without HubSpot's catalogue),
// the policies included; each problem starts with its YAML key.
func (r *Rules) Validate() []error {
	errs := r.Policy.Validate()
	for i, rr := range r.Roles {
		if strings.TrimSpace(rr.Group) == "" || strings.TrimSpace(rr.Role) == "" {
			errs = append(errs, fmt.Errorf("roles[%d]: group and role are required", i))
		}
	}
	for i, tr := range r.Teams {
		if strings.TrimSpace(tr.Group) == "" || strings.TrimSpace(tr.Team) == "" {
			errs = append(errs, fmt.Errorf("teams[%d]: group and team are required", i))
		}
	}
	return errs
}

// Validate checks the policies; unset ones take their defaults.
func (p *Policy) Validate() []error {
	var errs []error
	switch p.LeaverPolicy {
	case LeaverDelete, LeaverRestrict, "":
	default:
		errs = append(errs, fmt.Errorf("leaver_policy: %q is not delete or restrict", p.LeaverPolicy))
	}
	if p.LeaverPolicy == LeaverRestrict && strings.TrimSpace(p.RestrictedRole) == "" {
		errs = append(errs, errors.New("restricted_role: required by leaver_policy restrict"))
	}
	switch p.EmailChange {
	case EmailKeep, EmailReject, EmailRecreate, "":
	default:
		errs = append(errs, fmt.Errorf("email_change: %q is not keep, reject or recreate", p.EmailChange))
	}
	return errs
}

// Catalog is HubSpot's roles and teams, indexed for the rules.
type Catalog struct {
	Roles []hubspot.Role
	Teams []hubspot.Team
}

// Role finds a role by id or by name without regard to case.
func (c *Catalog) Role(ref string) (hubspot.Role, bool) {
	for _, r := range c.Roles {
		if r.ID == ref {
			return r, true
		}
	}
	for _, r := range c.Roles {
		if strings.EqualFold(r.Name, ref) {
			return r, true
		}
	}
	return hubspot.Role{}, false
}

// Team finds a team by id or by name without regard to case.
func (c *Catalog) Team(ref string) (hubspot.Team, bool) {
	for _, t := range c.Teams {
		if t.ID == ref {
			return t, true
		}
	}
	for _, t := range c.Teams {
		if strings.EqualFold(t.Name, ref) {
			return t, true
		}
	}
	return hubspot.Team{}, false
}

// RoleName names a role id for display ("" when unknown).
func (c *Catalog) RoleName(id string) string {
	if r, ok := c.Role(id); ok && id != "" {
		return r.Name
	}
	return ""
}

// TeamName names a team id for display ("" when unknown).
func (c *Catalog) TeamName(id string) string {
	if t, ok := c.Team(id); ok && id != "" {
		return t.Name
	}
	return ""
}

// Check validates the rules against HubSpot's catalogue, naming every role
// or team that does not exist so the operator knows what to fix.
func (r *Rules) Check(c *Catalog) []error {
	var errs []error
	roleNames := func() string {
		var n []string
		for _, r := range c.Roles {
			n = append(n, r.Name)
		}
		slices.Sort(n)
		return strings.Join(n, ", ")
	}
	teamNames := func() string {
		var n []string
		for _, t := range c.Teams {
			n = append(n, t.Name)
		}
		slices.Sort(n)
		return strings.Join(n, ", ")
	}
	checkRole := func(where, ref string) {
		if ref == "" {
			return
		}
		if _, ok := c.Role(ref); !ok {
			errs = append(errs, fmt.Errorf("%s: HubSpot has no role %q (roles: %s)", where, ref, roleNames()))
		}
	}
	checkRole("default_role", r.DefaultRole)
	checkRole("restricted_role", r.RestrictedRole)
	for i, rr := range r.Roles {
		checkRole(fmt.Sprintf("roles[%d]", i), rr.Role)
	}
	for i, tr := range r.Teams {
		if _, ok := c.Team(tr.Team); !ok {
			errs = append(errs, fmt.Errorf("teams[%d]: HubSpot has no team %q (teams: %s)", i, tr.Team, teamNames()))
		}
	}
	return errs
}
