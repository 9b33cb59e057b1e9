package scim

import (
	"fmt"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// Conversions between the domain types and their JSON-object form (the
// form the library validates and the PATCH engine edits), written out
// instead of going through encoding/json: a JSON round trip of the
// validated attributes cost a quarter of a POST's allocations and, done
// twice, a third of a PATCH's (the figures are in doc.go).
//
// The maps are exactly what json.Marshal of the type, decoded with
// UseNumber, would give, and the types what json.Unmarshal of the map
// would give (TestConvertMatchesJSON fills every field of User and Group
// and compares, so a field added to a type without being added here fails
// that test). Keys are the canonical attribute names: the library's
// validation and the PATCH engine both write them so.

// userFromAttrs builds the user a write asks for from validated attributes
// (or a document the PATCH engine changed). The read-only groups and
// HubSpot extension are not read.
func userFromAttrs(m map[string]any) (*schemas.User, error) {
	r := attrReader{what: "user"}
	u := &schemas.User{
		ExternalID:        r.str(m, "externalId"),
		UserName:          r.str(m, "userName"),
		DisplayName:       r.str(m, "displayName"),
		NickName:          r.str(m, "nickName"),
		Title:             r.str(m, "title"),
		UserType:          r.str(m, "userType"),
		PreferredLanguage: r.str(m, "preferredLanguage"),
		Locale:            r.str(m, "locale"),
		Timezone:          r.str(m, "timezone"),
		Active:            r.boolPtr(m, "active"),
		Emails:            multiValues(&r, m, "emails"),
		PhoneNumbers:      multiValues(&r, m, "phoneNumbers"),
		Entitlements:      multiValues(&r, m, "entitlements"),
		Roles:             multiValues(&r, m, "roles"),
		Addresses:         list(&r, m, "addresses", address),
	}
	if n := r.object(m, "name"); n != nil {
		u.Name = &schemas.Name{
			Formatted:       r.str(n, "formatted"),
			FamilyName:      r.str(n, "familyName"),
			GivenName:       r.str(n, "givenName"),
			MiddleName:      r.str(n, "middleName"),
			HonorificPrefix: r.str(n, "honorificPrefix"),
			HonorificSuffix: r.str(n, "honorificSuffix"),
		}
	}
	if e := r.object(m, schemas.EnterpriseURI); e != nil {
		u.Enterprise = &schemas.EnterpriseExt{
			EmployeeNumber: r.str(e, "employeeNumber"),
			CostCenter:     r.str(e, "costCenter"),
			Organization:   r.str(e, "organization"),
			Division:       r.str(e, "division"),
			Department:     r.str(e, "department"),
		}
		if mg := r.object(e, "manager"); mg != nil {
			u.Enterprise.Manager = &schemas.Manager{
				Value: r.str(mg, "value"), Ref: r.str(mg, "$ref"), DisplayName: r.str(mg, "displayName"),
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if u.Enterprise != nil && u.Enterprise.Manager != nil {
		// Read-only in effect: the front builds it from value
		// (fillUserRefs), so a user PUT back as read does not change.
		u.Enterprise.Manager.Ref = ""
	}
	return u, nil
}

// groupFromAttrs builds the group a write asks for from validated
// attributes (or a document the PATCH engine changed).
func groupFromAttrs(m map[string]any) (*schemas.Group, error) {
	r := attrReader{what: "group"}
	g := &schemas.Group{
		ExternalID:    r.str(m, "externalId"),
		DisplayName:   r.str(m, "displayName"),
		Members:       list(&r, m, "members", member),
		MembersLoaded: true,
	}
	if r.err != nil {
		return nil, r.err
	}
	for i := range g.Members {
		if g.Members[i].Value == "" {
			return nil, newError(http.StatusBadRequest, "invalidValue", "Every member needs a value (the member's id).")
		}
		g.Members[i].Display, g.Members[i].Ref = "", "" // read-only
	}
	return g, nil
}

func address(r *attrReader, m map[string]any) schemas.Address {
	return schemas.Address{
		Formatted:     r.str(m, "formatted"),
		StreetAddress: r.str(m, "streetAddress"),
		Locality:      r.str(m, "locality"),
		Region:        r.str(m, "region"),
		PostalCode:    r.str(m, "postalCode"),
		Country:       r.str(m, "country"),
		Type:          r.str(m, "type"),
		Primary:       r.bool(m, "primary"),
	}
}

func multiValue(r *attrReader, m map[string]any) schemas.MultiValue {
	return schemas.MultiValue{
		Value: r.str(m, "value"), Display: r.str(m, "display"), Type: r.str(m, "type"), Primary: r.bool(m, "primary"),
	}
}

func multiValues(r *attrReader, m map[string]any, key string) []schemas.MultiValue {
	return list(r, m, key, multiValue)
}

func member(r *attrReader, m map[string]any) schemas.Member {
	return schemas.Member{Value: r.str(m, "value"), Ref: r.str(m, "$ref"), Display: r.str(m, "display"), Type: r.str(m, "type")}
}

// attrReader reads typed values out of an attribute map, keeping the first
// type mismatch (a value the type cannot hold, as json.Unmarshal would
// refuse it); null reads as the zero value.
type attrReader struct {
	what string
	err  error
}

func (r *attrReader) fail(key, want string, v any) {
	if r.err == nil {
		r.err = newError(http.StatusBadRequest, "invalidValue",
			fmt.Sprintf("The %s does not fit the schema: %s must be %s, not %T.", r.what, key, want, v))
	}
}

func (r *attrReader) str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
	case string:
		return v
	default:
		r.fail(key, "a string", v)
	}
	return ""
}

func (r *attrReader) bool(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case nil:
	case bool:
		return v
	default:
		r.fail(key, "a boolean", v)
	}
	return false
}

func (r *attrReader) boolPtr(m map[string]any, key string) *bool {
	switch v := m[key].(type) {
	case nil:
	case bool:
		return &v
	default:
		r.fail(key, "a boolean", v)
	}
	return nil
}

func (r *attrReader) object(m map[string]any, key string) map[string]any {
	switch v := m[key].(type) {
	case nil:
	case map[string]any:
		return v
	default:
		r.fail(key, "an object", v)
	}
	return nil
}

// list reads a multi-valued complex attribute; a null element reads as
// the zero value, as json.Unmarshal has it.
func list[T any](r *attrReader, m map[string]any, key string, elem func(*attrReader, map[string]any) T) []T {
	switch v := m[key].(type) {
	case nil:
	case []any:
		out := make([]T, len(v))
		for i, e := range v {
			switch e := e.(type) {
			case nil:
			case map[string]any:
				out[i] = elem(r, e)
			default:
				r.fail(key, "an array of objects", e)
			}
		}
		return out
	default:
		r.fail(key, "an array", v)
	}
	return nil
}

// userToAttrs is the document of u the PATCH engine works on.
func userToAttrs(u *schemas.User) map[string]any {
	m := make(map[string]any, 16)
	putStr(m, "id", u.ID)
	putStr(m, "externalId", u.ExternalID)
	m["userName"] = u.UserName
	if n := u.Name; n != nil {
		nm := make(map[string]any, 6)
		putStr(nm, "formatted", n.Formatted)
		putStr(nm, "familyName", n.FamilyName)
		putStr(nm, "givenName", n.GivenName)
		putStr(nm, "middleName", n.MiddleName)
		putStr(nm, "honorificPrefix", n.HonorificPrefix)
		putStr(nm, "honorificSuffix", n.HonorificSuffix)
		m["name"] = nm
	}
	putStr(m, "displayName", u.DisplayName)
	putStr(m, "nickName", u.NickName)
	putStr(m, "title", u.Title)
	putStr(m, "userType", u.UserType)
	putStr(m, "preferredLanguage", u.PreferredLanguage)
	putStr(m, "locale", u.Locale)
	putStr(m, "timezone", u.Timezone)
	if u.Active != nil {
		m["active"] = *u.Active
	}
	putList(m, "emails", u.Emails, multiValueAttrs)
	putList(m, "phoneNumbers", u.PhoneNumbers, multiValueAttrs)
	putList(m, "addresses", u.Addresses, addressAttrs)
	putList(m, "groups", u.Groups, func(g schemas.GroupRef) map[string]any {
		gm := map[string]any{"value": g.Value}
		putStr(gm, "$ref", g.Ref)
		putStr(gm, "display", g.Display)
		putStr(gm, "type", g.Type)
		return gm
	})
	putList(m, "entitlements", u.Entitlements, multiValueAttrs)
	putList(m, "roles", u.Roles, multiValueAttrs)
	if e := u.Enterprise; e != nil {
		em := make(map[string]any, 6)
		putStr(em, "employeeNumber", e.EmployeeNumber)
		putStr(em, "costCenter", e.CostCenter)
		putStr(em, "organization", e.Organization)
		putStr(em, "division", e.Division)
		putStr(em, "department", e.Department)
		if mg := e.Manager; mg != nil {
			mm := make(map[string]any, 3)
			putStr(mm, "value", mg.Value)
			putStr(mm, "$ref", mg.Ref)
			putStr(mm, "displayName", mg.DisplayName)
			em["manager"] = mm
		}
		m[schemas.EnterpriseURI] = em
	}
	if h := u.HubSpot; h != nil {
		hm := make(map[string]any, 10)
		putStr(hm, "hubspotUserId", h.HubSpotUserID)
		putStr(hm, "role", h.Role)
		putStr(hm, "primaryTeam", h.PrimaryTeam)
		if len(h.SecondaryTeams) > 0 {
			teams := make([]any, len(h.SecondaryTeams))
			for i, t := range h.SecondaryTeams {
				teams[i] = t
			}
			hm["secondaryTeams"] = teams
		}
		if h.SuperAdmin {
			hm["superAdmin"] = true
		}
		putStr(hm, "provisioningState", h.ProvisioningState)
		putStr(hm, "lastError", h.LastError)
		putTime(hm, "nextAttemptAt", h.NextAttemptAt)
		putTime(hm, "lastSyncedAt", h.LastSyncedAt)
		putStr(hm, "hubspotEmail", h.HubSpotEmail)
		m[schemas.HubSpotURI] = hm
	}
	return m
}

// groupToAttrs is the document of g the PATCH engine works on.
func groupToAttrs(g *schemas.Group) map[string]any {
	m := make(map[string]any, 4)
	putStr(m, "id", g.ID)
	putStr(m, "externalId", g.ExternalID)
	m["displayName"] = g.DisplayName
	putList(m, "members", g.Members, func(mb schemas.Member) map[string]any {
		mm := map[string]any{"value": mb.Value}
		putStr(mm, "$ref", mb.Ref)
		putStr(mm, "display", mb.Display)
		putStr(mm, "type", mb.Type)
		return mm
	})
	return m
}

func multiValueAttrs(v schemas.MultiValue) map[string]any {
	m := make(map[string]any, 4)
	putStr(m, "value", v.Value)
	putStr(m, "display", v.Display)
	putStr(m, "type", v.Type)
	if v.Primary {
		m["primary"] = true
	}
	return m
}

func addressAttrs(a schemas.Address) map[string]any {
	m := make(map[string]any, 8)
	putStr(m, "formatted", a.Formatted)
	putStr(m, "streetAddress", a.StreetAddress)
	putStr(m, "locality", a.Locality)
	putStr(m, "region", a.Region)
	putStr(m, "postalCode", a.PostalCode)
	putStr(m, "country", a.Country)
	putStr(m, "type", a.Type)
	if a.Primary {
		m["primary"] = true
	}
	return m
}

// putStr sets a string attribute unless it is empty (omitempty).
func putStr(m map[string]any, key, v string) {
	if v != "" {
		m[key] = v
	}
}

func putTime(m map[string]any, key string, t *time.Time) {
	if t != nil {
		m[key] = t.Format(time.RFC3339Nano)
	}
}

// putList sets a multi-valued attribute unless it has no values.
func putList[T any](m map[string]any, key string, vs []T, attrs func(T) map[string]any) {
	if len(vs) == 0 {
		return
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = attrs(v)
	}
	m[key] = out
}
