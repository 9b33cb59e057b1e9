package sqlite

import (
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/schemas"
)

// decodeUserDocFast decodes users.doc into u as encoding/json would, for
// documents as this store writes them (json.Marshal of userDoc: no
// whitespace, no null, known attribute names) whose strings hold no escape
// sequence — nearly every user. Listing pages spends most of its time
// decoding documents, and this is several times faster than
// encoding/json. Anything else reports false, leaving u in an unspecified
// state, for encoding/json to decode from scratch.
func decodeUserDocFast(js []byte, u *schemas.User) bool {
	d := docDecoder{b: js}
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			if u.Name != nil {
				return false // a repeated key: encoding/json merges
			}
			u.Name = new(schemas.Name)
			return d.name(u.Name)
		case "displayName":
			return d.str(&u.DisplayName)
		case "nickName":
			return d.str(&u.NickName)
		case "title":
			return d.str(&u.Title)
		case "userType":
			return d.str(&u.UserType)
		case "preferredLanguage":
			return d.str(&u.PreferredLanguage)
		case "locale":
			return d.str(&u.Locale)
		case "timezone":
			return d.str(&u.Timezone)
		case "active":
			if u.Active != nil {
				return false
			}
			u.Active = new(bool)
			return d.boolean(u.Active)
		case "emails":
			return d.multi(&u.Emails)
		case "phoneNumbers":
			return d.multi(&u.PhoneNumbers)
		case "entitlements":
			return d.multi(&u.Entitlements)
		case "roles":
			return d.multi(&u.Roles)
		case "addresses":
			return d.addresses(&u.Addresses)
		case schemas.EnterpriseURI:
			if u.Enterprise != nil {
				return false
			}
			u.Enterprise = new(schemas.EnterpriseExt)
			return d.enterprise(u.Enterprise)
		}
		return false
	})
	return ok && d.i == len(d.b)
}

type docDecoder struct {
	b []byte
	i int
}

func (d *docDecoder) next(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// raw reads a string without escapes; the bytes alias the input.
func (d *docDecoder) raw() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false // encoding/json would replace bytes
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (d *docDecoder) str(dst *string) bool {
	s, ok := d.raw()
	*dst = string(s)
	return ok
}

func (d *docDecoder) boolean(dst *bool) bool {
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*dst, d.i = true, d.i+4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*dst, d.i = false, d.i+5
	default:
		return false
	}
	return true
}

// object reads {"key":value,…}, field reading each value.
func (d *docDecoder) object(field func(key []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		key, ok := d.raw()
		if !ok || !d.next(':') || !field(key) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// array reads [elem,…]. An empty one (never written: omitempty) is
// refused, as encoding/json makes it empty but not nil.
func (d *docDecoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return false // let encoding/json decide what an empty array is
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

func (d *docDecoder) name(n *schemas.Name) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "formatted":
			return d.str(&n.Formatted)
		case "familyName":
			return d.str(&n.FamilyName)
		case "givenName":
			return d.str(&n.GivenName)
		case "middleName":
			return d.str(&n.MiddleName)
		case "honorificPrefix":
			return d.str(&n.HonorificPrefix)
		case "honorificSuffix":
			return d.str(&n.HonorificSuffix)
		}
		return false
	})
}

func (d *docDecoder) multi(dst *[]schemas.MultiValue) bool {
	if *dst != nil {
		return false // a repeated key: encoding/json reuses the elements
	}
	return d.array(func() bool {
		*dst = append(*dst, schemas.MultiValue{})
		v := &(*dst)[len(*dst)-1]
		return d.object(func(key []byte) bool {
			switch string(key) {
			case "value":
				return d.str(&v.Value)
			case "display":
				return d.str(&v.Display)
			case "type":
				return d.str(&v.Type)
			case "primary":
				return d.boolean(&v.Primary)
			}
			return false
		})
	})
}

func (d *docDecoder) addresses(dst *[]schemas.Address) bool {
	if *dst != nil {
		return false
	}
	return d.array(func() bool {
		*dst = append(*dst, schemas.Address{})
		a := &(*dst)[len(*dst)-1]
		return d.object(func(key []byte) bool {
			switch string(key) {
			case "formatted":
				return d.str(&a.Formatted)
			case "streetAddress":
				return d.str(&a.StreetAddress)
			case "locality":
				return d.str(&a.Locality)
			case "region":
				return d.str(&a.Region)
			case "postalCode":
				return d.str(&a.PostalCode)
			case "country":
				return d.str(&a.Country)
			case "type":
				return d.str(&a.Type)
			case "primary":
				return d.boolean(&a.Primary)
			}
			return false
		})
	})
}

func (d *docDecoder) enterprise(e *schemas.EnterpriseExt) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "employeeNumber":
			return d.str(&e.EmployeeNumber)
		case "costCenter":
			return d.str(&e.CostCenter)
		case "organization":
			return d.str(&e.Organization)
		case "division":
			return d.str(&e.Division)
		case "department":
			return d.str(&e.Department)
		case "manager":
			if e.Manager != nil {
				return false
			}
			e.Manager = new(schemas.Manager)
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "value":
					return d.str(&e.Manager.Value)
				case "$ref":
					return d.str(&e.Manager.Ref)
				case "displayName":
					return d.str(&e.Manager.DisplayName)
				}
				return false
			})
		}
		return false
	})
}
