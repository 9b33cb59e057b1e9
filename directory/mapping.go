package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// Mapping names the directory attributes behind each SCIM attribute. Empty
// names are not read. Presets fill OTDS's names (the default) or Active
// Directory's; any field set explicitly wins over the preset.
type Mapping struct {
	// Preset is otds (default) or ad.
	Preset string `yaml:"preset"`

	// UserName lists attributes tried in order for userName (OTDS:
	// oTExternalID3, the UPN-style login, then mail).
	UserName []string `yaml:"user_name"`
	// ExternalID is the stable id, the SCIM externalId (entryUUID; AD:
	// objectGUID, read as binary and written as a UUID).
	ExternalID       string `yaml:"external_id"`
	ExternalIDBinary bool   `yaml:"external_id_binary"`
	GivenName        string `yaml:"given_name"`
	FamilyName       string `yaml:"family_name"`
	DisplayName      string `yaml:"display_name"`
	Email            string `yaml:"email"`
	Title            string `yaml:"title"`
	Department       string `yaml:"department"`
	Organization     string `yaml:"organization"`
	// Division is the business unit (enterprise division).
	Division       string `yaml:"division"`
	CostCenter     string `yaml:"cost_center"`
	EmployeeNumber string `yaml:"employee_number"`
	// Manager holds the manager's reference (a DN over LDAP), resolved to
	// the manager's SCIM id by the reconcile.
	Manager string `yaml:"manager"`
	// Office (physicalDeliveryOfficeName) and Locality (l) make the work
	// address: locality is the city, else the office; formatted is the office.
	Office     string `yaml:"office"`
	Locality   string `yaml:"locality"`
	Region     string `yaml:"region"`
	PostalCode string `yaml:"postal_code"`
	Country    string `yaml:"country"`
	Street     string `yaml:"street"`
	Phone      string `yaml:"phone"`
	Mobile     string `yaml:"mobile"`
	// Disabled rules: a user is inactive when any rule matches.
	Disabled []DisabledRule `yaml:"disabled"`
	// MemberOf lists a user's groups (oTMemberOf; AD memberOf).
	MemberOf string `yaml:"member_of"`
	// Modified is the change timestamp (modifyTimestamp; AD whenChanged).
	Modified string `yaml:"modified"`

	GroupName       string `yaml:"group_name"`
	GroupExternalID string `yaml:"group_external_id"`
	// GroupMembers lists a group's members (oTMember; AD member).
	GroupMembers string `yaml:"group_members"`
}

// DisabledRule marks a user disabled when Attribute holds one of Values
// (compared without regard to case), or, with Bit, when the attribute is an
// integer with that bit set (AD userAccountControl, bit 2).
type DisabledRule struct {
	Attribute string   `yaml:"attribute"`
	Values    []string `yaml:"values"`
	Bit       int64    `yaml:"bit"`
}

// Presets.
const (
	PresetOTDS = "otds"
	PresetAD   = "ad"
)

// SetDefaults fills unset fields from the preset.
func (m *Mapping) SetDefaults() {
	if m.Preset == "" {
		m.Preset = PresetOTDS
	}
	def := func(f *string, v string) {
		if *f == "" {
			*f = v
		}
	}
	switch m.Preset {
	case PresetAD:
		if len(m.UserName) == 0 {
			m.UserName = []string{"userPrincipalName", "sAMAccountName", "mail"}
		}
		if m.ExternalID == "" {
			m.ExternalID, m.ExternalIDBinary = "objectGUID", true
		}
		if m.Disabled == nil {
			m.Disabled = []DisabledRule{{Attribute: "userAccountControl", Bit: 2}}
		}
		def(&m.MemberOf, "memberOf")
		def(&m.Modified, "whenChanged")
		def(&m.GroupExternalID, "objectGUID")
		def(&m.GroupMembers, "member")
		def(&m.EmployeeNumber, "employeeID")
		def(&m.Department, "department")
		def(&m.Organization, "company")
		def(&m.Division, "division")
		def(&m.Phone, "telephoneNumber")
		def(&m.Mobile, "mobile")
		def(&m.Street, "streetAddress")
	default:
		if len(m.UserName) == 0 {
			m.UserName = []string{"oTExternalID3", "mail"}
		}
		def(&m.ExternalID, "entryUUID")
		if m.Disabled == nil {
			m.Disabled = []DisabledRule{
				{Attribute: "accountDisabled", Values: []string{"true"}},
				{Attribute: "ds-pwp-account-disabled", Values: []string{"true"}},
			}
		}
		def(&m.MemberOf, "oTMemberOf")
		def(&m.Modified, "modifyTimestamp")
		def(&m.GroupExternalID, "entryUUID")
		def(&m.GroupMembers, "oTMember")
		def(&m.Department, "oTDepartment")
		def(&m.Organization, "oTCompany")
		def(&m.Phone, "oTTelephoneNumber")
		def(&m.Mobile, "oTMobile")
		def(&m.Street, "oTStreetAddress")
		def(&m.EmployeeNumber, "employeeNumber")
	}
	def(&m.GivenName, "givenName")
	def(&m.FamilyName, "sn")
	def(&m.DisplayName, "displayName")
	def(&m.Email, "mail")
	def(&m.Title, "title")
	def(&m.Manager, "manager")
	def(&m.Office, "physicalDeliveryOfficeName")
	def(&m.Locality, "l")
	def(&m.Region, "st")
	def(&m.PostalCode, "postalCode")
	def(&m.Country, "c")
	def(&m.GroupName, "cn")
}

// Validate reports configuration problems.
func (m *Mapping) Validate() []error {
	var errs []error
	if m.Preset != PresetOTDS && m.Preset != PresetAD {
		errs = append(errs, fmt.Errorf("preset: %q is not otds or ad", m.Preset))
	}
	if len(m.UserName) == 0 || m.ExternalID == "" || m.GroupName == "" || m.GroupExternalID == "" {
		errs = append(errs, errors.New("user_name, external_id, group_name and group_external_id are required"))
	}
	for i, r := range m.Disabled {
		if r.Attribute == "" || (len(r.Values) == 0 && r.Bit == 0) {
			errs = append(errs, fmt.Errorf("disabled[%d]: attribute and values or bit are required", i))
		}
	}
	return errs
}

// UserAttributes lists every attribute the mapping reads for users, for
// drivers that must name the attributes they ask for.
func (m *Mapping) UserAttributes() []string {
	attrs := slices.Clone(m.UserName)
	attrs = append(attrs, m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName, m.Email, m.Title,
		m.Department, m.Organization, m.Division, m.CostCenter, m.EmployeeNumber, m.Manager, m.Office,
		m.Locality, m.Region, m.PostalCode, m.Country, m.Street, m.Phone, m.Mobile, m.MemberOf, m.Modified)
	for _, r := range m.Disabled {
		attrs = append(attrs, r.Attribute)
	}
	return compact(attrs)
}

// GroupAttributes lists every attribute the mapping reads for groups.
func (m *Mapping) GroupAttributes() []string {
	return compact([]string{m.GroupName, m.GroupExternalID, m.GroupMembers, m.Modified})
}

func compact(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range in {
		if a != "" && !seen[lower(a)] {
			seen[lower(a)] = true
			out = append(out, a)
		}
	}
	return out
}

func lower(s string) string { return strings.ToLower(s) }

// User is a directory user mapped to SCIM.
type User struct {
	Ref        string
	ExternalID string
	// Resource is the SCIM user, without id; groups and manager are
	// resolved by the reconcile.
	Resource   schemas.User
	ManagerRef string
	MemberOf   []string
	Modified   time.Time
}

// Group is a directory group mapped to SCIM.
type Group struct {
	Ref        string
	ExternalID string
	Name       string
	// Members are references (DNs or ids) of users and groups.
	Members  []string
	Modified time.Time
}

// MapUser maps a user entry. An entry without an external id or a
// userName is an error: it cannot be tracked safely.
func (m *Mapping) MapUser(e Entry) (User, error) {
	u := User{Ref: e.Ref, ManagerRef: e.First(m.Manager), MemberOf: e.Values(m.MemberOf)}
	var err error
	if u.ExternalID, err = m.externalID(e, m.ExternalID); err != nil {
		return u, err
	}
	for _, a := range m.UserName {
		if v := strings.TrimSpace(e.First(a)); v != "" {
			u.Resource.UserName = v
			break
		}
	}
	if u.Resource.UserName == "" {
		return u, fmt.Errorf("directory: %s has none of %s for a userName", e.Ref, strings.Join(m.UserName, ", "))
	}
	r := &u.Resource
	r.ExternalID = u.ExternalID
	if g, f := e.First(m.GivenName), e.First(m.FamilyName); g != "" || f != "" {
		r.Name = &schemas.Name{GivenName: g, FamilyName: f}
		if g != "" && f != "" {
			r.Name.Formatted = g + " " + f
		}
	}
	r.DisplayName = e.First(m.DisplayName)
	if r.DisplayName == "" && r.Name != nil {
		r.DisplayName = r.Name.Formatted
	}
	r.Title = e.First(m.Title)
	if mail := e.First(m.Email); mail != "" {
		r.Emails = []schemas.MultiValue{{Value: mail, Type: "work", Primary: true}}
	}
	if p := e.First(m.Phone); p != "" {
		r.PhoneNumbers = append(r.PhoneNumbers, schemas.MultiValue{Value: p, Type: "work"})
	}
	if p := e.First(m.Mobile); p != "" {
		r.PhoneNumbers = append(r.PhoneNumbers, schemas.MultiValue{Value: p, Type: "mobile"})
	}
	office, city := e.First(m.Office), e.First(m.Locality)
	addr := schemas.Address{Type: "work", Formatted: office, Locality: city, Region: e.First(m.Region),
		PostalCode: e.First(m.PostalCode), Country: e.First(m.Country), StreetAddress: e.First(m.Street)}
	if addr.Locality == "" {
		addr.Locality = office
	}
	if addr != (schemas.Address{Type: "work"}) {
		r.Addresses = []schemas.Address{addr}
	}
	ent := schemas.EnterpriseExt{
		EmployeeNumber: e.First(m.EmployeeNumber), CostCenter: e.First(m.CostCenter),
		Organization: e.First(m.Organization), Division: e.First(m.Division), Department: e.First(m.Department),
	}
	if ent != (schemas.EnterpriseExt{}) {
		r.Enterprise = &ent
	}
	active := !m.disabled(e)
	r.Active = &active
	u.Modified = parseTime(e.First(m.Modified))
	return u, nil
}

// MapGroup maps a group entry.
func (m *Mapping) MapGroup(e Entry) (Group, error) {
	g := Group{Ref: e.Ref, Name: strings.TrimSpace(e.First(m.GroupName)), Members: e.Values(m.GroupMembers)}
	var err error
	if g.ExternalID, err = m.externalID(e, m.GroupExternalID); err != nil {
		return g, err
	}
	if g.Name == "" {
		return g, fmt.Errorf("directory: group %s has no %s", e.Ref, m.GroupName)
	}
	g.Modified = parseTime(e.First(m.Modified))
	return g, nil
}

func (m *Mapping) externalID(e Entry, attr string) (string, error) {
	v := e.First(attr)
	if v == "" {
		return "", fmt.Errorf("directory: %s has no %s", e.Ref, attr)
	}
	if m.ExternalIDBinary && strings.EqualFold(attr, "objectGUID") {
		if len(v) != 16 {
			return "", fmt.Errorf("directory: %s: %s is not 16 bytes", e.Ref, attr)
		}
		return guidString([]byte(v)), nil
	}
	return v, nil
}

// guidString formats an AD objectGUID the way AD shows it: the first three
// fields are little-endian.
func guidString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[0:4]),
		binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

func (m *Mapping) disabled(e Entry) bool {
	for _, r := range m.Disabled {
		for _, v := range e.Values(r.Attribute) {
			if r.Bit != 0 {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n&r.Bit != 0 {
					return true
				}
				continue
			}
			for _, want := range r.Values {
				if strings.EqualFold(strings.TrimSpace(v), want) {
					return true
				}
			}
		}
	}
	return false
}

// parseTime reads an LDAP GeneralizedTime (20261128120000Z,
// 20261128120000.123Z, 20261128120000.0Z, with an offset) or RFC 3339;
// unreadable values give the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "20060102150405.0Z0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
