package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/schemas"
)

// Profiles is what writing profile attributes needs of the HubSpot
// client: the CRM users object, whose records carry a user's profile
// properties and are linked to the Settings user by a property holding its
// id (hs_internal_user_id). Records are found by searching the link
// property in batches (CRMUsersByLink) and read by record id in batches
// (CRMUsersByID), which shows writes at once where search lags.
type Profiles interface {
	CheckCRMUserProperties(ctx context.Context, names []string) (missing, readOnly []string, err error)
	CRMUsersByLink(ctx context.Context, linkProperty string, values, props []string) (map[string]*hubspot.CRMUser, error)
	CRMUsersByID(ctx context.Context, ids, props []string) (map[string]*hubspot.CRMUser, error)
	UpdateCRMUser(ctx context.Context, id string, props map[string]string) (*hubspot.CRMUser, error)
	UpdateCRMUsers(ctx context.Context, props map[string]map[string]string) (map[string]*hubspot.CRMUser, error)
}

// Profile attributes: the SCIM attributes that can be written to the CRM
// users object.
const (
	AttrTitle        = "title"
	AttrDepartment   = "department"
	AttrLocation     = "location"
	AttrManager      = "manager"
	AttrBusinessUnit = "business_unit"
	AttrCostCenter   = "cost_center"
	AttrOrganization = "organization"
	AttrEmployeeID   = "employee_number"
)

// ProfileAttributes lists the attributes a profile map may name.
var profileAttributes = []string{AttrTitle, AttrDepartment, AttrLocation, AttrManager, AttrBusinessUnit, AttrCostCenter, AttrOrganization, AttrEmployeeID}

// ProfileConfig maps SCIM attributes to CRM users-object properties,
// e.g. department → department, title → hs_job_title. HubSpot has no
// department, location, manager or business unit property by default:
// create them as user properties in HubSpot first.
type ProfileConfig struct {
	// Properties maps an attribute (title, department, location, manager,
	// business_unit, cost_center, organization, employee_number) to the
	// users-object property it is written to.
	Properties map[string]string `yaml:"properties"`
	// LinkProperty is the users-object property holding the Settings user
	// id (default hs_internal_user_id).
	LinkProperty string `yaml:"link_property"`
}

// Enabled reports whether profile attributes are written.
func (p *ProfileConfig) Enabled() bool { return len(p.Properties) > 0 }

// Maps reports whether attribute attr is written to a property.
func (p *ProfileConfig) Maps(attr string) bool { return p.Properties[attr] != "" }

// Validate reports unknown attributes.
func (p *ProfileConfig) Validate() []error {
	var errs []error
	for attr, prop := range p.Properties {
		if !slices.Contains(profileAttributes, attr) {
			errs = append(errs, fmt.Errorf("profile.properties: unknown attribute %q (known: %s)", attr, strings.Join(profileAttributes, ", ")))
		}
		if strings.TrimSpace(prop) == "" {
			errs = append(errs, fmt.Errorf("profile.properties.%s: empty property name", attr))
		}
	}
	return errs
}

// propertyNames lists the configured properties, sorted.
func (p *ProfileConfig) propertyNames() []string {
	var out []string
	for _, prop := range p.Properties {
		if !slices.Contains(out, prop) {
			out = append(out, prop)
		}
	}
	slices.Sort(out)
	return out
}

// ProfileValues computes the profile properties of a user: pure, from the
// user and their manager's address (managerEmail, "" for none).
func ProfileValues(u *schemas.User, managerEmail string, cfg *ProfileConfig) map[string]string {
	if u == nil || !cfg.Enabled() {
		return nil
	}
	var ent schemas.EnterpriseExt
	if u.Enterprise != nil {
		ent = *u.Enterprise
	}
	location := ""
	for _, a := range u.Addresses {
		if location == "" || strings.EqualFold(a.Type, "work") || a.Primary {
			switch {
			case a.Locality != "":
				location = a.Locality
			case a.Formatted != "":
				location = a.Formatted
			}
		}
	}
	value := map[string]string{
		AttrTitle: u.Title, AttrDepartment: ent.Department, AttrLocation: location, AttrManager: managerEmail,
		AttrBusinessUnit: ent.Division, AttrCostCenter: ent.CostCenter, AttrOrganization: ent.Organization,
		AttrEmployeeID: ent.EmployeeNumber,
	}
	out := map[string]string{}
	for attr, prop := range cfg.Properties {
		out[prop] = value[attr]
	}
	return out
}

// checkProfileProperties reports configured properties the portal lacks
// or cannot write, naming what to create.
func (e *Engine) checkProfileProperties(ctx context.Context) ([]error, error) {
	if e.profiles == nil {
		return nil, nil
	}
	missing, readOnly, err := e.profiles.CheckCRMUserProperties(ctx, e.profile.propertyNames())
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, m := range missing {
		errs = append(errs, fmt.Errorf("profile.properties: HubSpot's users object has no property %q: create it as a user property in HubSpot (Settings → Properties → User properties, internal name %s)", m, m))
	}
	for _, r := range readOnly {
		errs = append(errs, fmt.Errorf("profile.properties: the users-object property %q is read-only in HubSpot", r))
	}
	return errs, nil
}
