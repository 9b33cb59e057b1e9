package hubspotsim

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Property definitions of the CRM users object, and the seed's part in
// them (Seed.CRMUserProperties, Seed.CRMUsers).
//
// Sources: the Users API guide (developers.hubspot.com …/crm/objects/users/
// guide) lists the properties "that can be set through this API":
// hs_additional_phone, hs_availability_status ("available" or "away"),
// hs_job_title, hs_main_user_language_skill, hs_out_of_office_hours,
// hs_secondary_user_language_skill, hs_standard_time_zone,
// hs_uncategorized_skills and hs_working_hours; its examples show
// hs_object_id, hs_createdate and hs_lastmodifieddate, and its note names
// hs_internal_user_id (the Settings user id) and hubspot_owner_id. The
// OpenAPI spec (PublicApiSpecs/CRM/Users) names no property at all.
//
// Assumption: hs_email, hs_given_name, hs_family_name and
// hs_searchable_calculated_name, seen in open-source clients of the users
// object, hold the user's email and names. HubSpot defines no department,
// location, manager, business unit or cost center property on the users
// object: a portal has them only as custom properties (DefaultSeed has
// some). Labels, types, groups, read-only flags and hasUniqueValue are not
// documented; the values below are the simulator's choice, read-only for
// every property the guide does not list as settable, and hasUniqueValue
// only for hs_object_id (HubSpot does not say hs_internal_user_id is
// unique, so idProperty=hs_internal_user_id is refused).

// crmProp is one property definition. Definitions are read-only after New.
type crmProp struct {
	name, label, typ, fieldType, group, description string
	readOnly, unique, hubspotDefined, calculated    bool
	options                                         []string // allowed values of an enumeration
	order                                           int
}

// Properties the simulator keeps itself.
const (
	crmPropID           = "hs_object_id"
	crmPropCreated      = "hs_createdate"
	crmPropModified     = "hs_lastmodifieddate"
	crmPropInternalUser = "hs_internal_user_id"
	crmPropEmail        = "hs_email"
	crmPropGivenName    = "hs_given_name"
	crmPropFamilyName   = "hs_family_name"
	crmPropName         = "hs_searchable_calculated_name"
	crmGroup            = "userinformation" // Assumption: the group name is not documented.
)

// crmDefaultProps are the simulator's HubSpot-defined users-object properties.
func crmDefaultProps() []*crmProp {
	languages := []string{"da", "de", "en", "es", "fr", "it", "nl", "no", "pl", "ptbr", "fi", "sv", "zhtw", "ja"} // the guide's list
	ro := func(name, label, typ, fieldType string) *crmProp {
		return &crmProp{name: name, label: label, typ: typ, fieldType: fieldType, readOnly: true}
	}
	rw := func(name, label, typ, fieldType string, options ...string) *crmProp {
		return &crmProp{name: name, label: label, typ: typ, fieldType: fieldType, options: options}
	}
	props := []*crmProp{
		{name: crmPropID, label: "Record ID", typ: "number", fieldType: "number", readOnly: true, unique: true, calculated: true},
		ro(crmPropCreated, "Create date", "datetime", "date"),
		ro(crmPropModified, "Last modified date", "datetime", "date"),
		ro(crmPropInternalUser, "User ID", "number", "number"),
		ro(crmPropEmail, "Email", "string", "text"),
		ro(crmPropGivenName, "First name", "string", "text"),
		ro(crmPropFamilyName, "Last name", "string", "text"),
		{name: crmPropName, label: "Name", typ: "string", fieldType: "text", readOnly: true, calculated: true},
		ro("hubspot_owner_id", "Owner ID", "string", "text"), // no value: owners are not simulated
		rw("hs_additional_phone", "Additional phone number", "string", "phonenumber"),
		rw("hs_availability_status", "Availability status", "enumeration", "select", "available", "away"),
		rw("hs_job_title", "Job title", "string", "text"),
		rw("hs_main_user_language_skill", "Main language skill", "enumeration", "select", languages...),
		rw("hs_secondary_user_language_skill", "Secondary language skill", "enumeration", "select", languages...),
		rw("hs_out_of_office_hours", "Out of office hours", "string", "textarea"),
		rw("hs_standard_time_zone", "Time zone", "string", "text"),
		rw("hs_uncategorized_skills", "Uncategorized skills", "string", "text"),
		rw("hs_working_hours", "Working hours", "string", "textarea"),
	}
	for _, p := range props {
		p.hubspotDefined, p.group = true, crmGroup
	}
	return props
}

// SeedCRMProperty is a custom property of the CRM users object, beside
// HubSpot's own. Type defaults to "string" and FieldType to "text" (or
// "select" with Options). ReadOnly makes writes of its value fail with
// READ_ONLY_VALUE; Unique (hasUniqueValue) lets it address records
// (idProperty).
type SeedCRMProperty struct {
	Name      string   `json:"name" yaml:"name"`
	Label     string   `json:"label,omitempty" yaml:"label"`
	Type      string   `json:"type,omitempty" yaml:"type"`
	FieldType string   `json:"fieldType,omitempty" yaml:"fieldType"`
	ReadOnly  bool     `json:"readOnly,omitempty" yaml:"readOnly"`
	Unique    bool     `json:"unique,omitempty" yaml:"unique"`
	Options   []string `json:"options,omitempty" yaml:"options"`
}

// SeedCRMUser gives the users-object record of the seeded user with
// Email starting property values. Without Email it adds a record of its
// own that no Settings user owns (a stale or duplicate profile): its
// Properties may then set hs_internal_user_id too.
type SeedCRMUser struct {
	Email      string            `json:"email,omitempty" yaml:"email"`
	Properties map[string]string `json:"properties,omitempty" yaml:"properties"`
}

// DefaultCRMUserProperties are the custom users-object properties of
// DefaultSeed, for the profile attributes HubSpot defines no property
// for (the job title is HubSpot's hs_job_title).
func DefaultCRMUserProperties() []SeedCRMProperty {
	return []SeedCRMProperty{
		{Name: "department", Label: "Department"},
		{Name: "location", Label: "Location"},
		{Name: "manager", Label: "Manager"},
		{Name: "business_unit", Label: "Business unit"},
		{Name: "cost_center", Label: "Cost center"},
	}
}

// validPropertyName: HubSpot's internal names are lower case letters,
// digits and underscores, starting with a letter.
func validPropertyName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// buildCRM makes the users object of the portal d: HubSpot's and the
// seed's property definitions, and one record per seeded user (HubSpot
// keeps one for every user of the portal) with the seed's values.
func (sd *Seed) buildCRM(d *db, now time.Time) (*crmStore, error) {
	st := newCRMStore(crmDefaultProps())
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("hubspotsim: seed: "+format, args...))
	}
	for i, p := range sd.CRMUserProperties {
		switch {
		case !validPropertyName(p.Name):
			fail("crmUserProperties[%d]: name %q is not a lower-case property name", i, p.Name)
			continue
		case st.byName[p.Name] != nil:
			fail("crmUserProperties[%d]: property %s is defined twice", i, p.Name)
			continue
		}
		np := &crmProp{name: p.Name, label: p.Label, typ: p.Type, fieldType: p.FieldType, group: crmGroup,
			readOnly: p.ReadOnly, unique: p.Unique, options: append([]string(nil), p.Options...)}
		if np.label == "" {
			np.label = p.Name
		}
		if np.typ == "" {
			np.typ = "string"
			if len(np.options) > 0 {
				np.typ = "enumeration"
			}
		}
		if np.fieldType == "" {
			np.fieldType = "text"
			if len(np.options) > 0 {
				np.fieldType = "select"
			}
		}
		st.addProp(np)
	}
	for _, id := range d.order {
		if u := d.users[id]; u != nil {
			st.sync(u, id, now, -1)
		}
	}
	for i, su := range sd.CRMUsers {
		var rec *crmRecord
		managed := []string{crmPropID, crmPropCreated, crmPropModified, crmPropInternalUser}
		if su.Email != "" {
			uid, ok := d.byEmail[normEmail(su.Email)]
			if !ok {
				fail("crmUsers[%d]: %s is not a seeded user", i, su.Email)
				continue
			}
			rec = st.recs[st.live[uid]]
		} else {
			rec = st.newRecord(0, now)
			managed = managed[:3]
		}
		for name, v := range su.Properties {
			switch {
			case st.byName[name] == nil:
				fail("crmUsers[%d]: property %s is not defined", i, name)
			case slices.Contains(managed, name):
				fail("crmUsers[%d]: property %s is kept by the simulator", i, name)
			case v != "":
				rec.cur().props[name] = v // not yet published: filled in place
			}
		}
		if su.Email == "" {
			st.indexLink(rec)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The portal's records exist before the simulator starts: no
	// Behaviour.CRMRecordDelay or CRMSearchLag holds them back.
	for _, r := range st.recs {
		r.seeded = true
	}
	return st, nil
}
