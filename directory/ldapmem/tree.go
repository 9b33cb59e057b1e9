package ldapmem

import (
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// entry is one stored object. Entries are never changed in place: writes
// replace them, so a search (or a paging cursor) can keep reading an entry
// it found without holding the lock.
type entry struct {
	dn    string
	rdns  []string // normalised RDNs, leaf first
	attrs []Attr
}

// values returns an attribute's values; name in any case.
func (e *entry) values(name string) []string {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].Name, name) {
			return e.attrs[i].Values
		}
	}
	return nil
}

func (e *entry) clone() *entry {
	c := &entry{dn: e.dn, rdns: e.rdns, attrs: make([]Attr, len(e.attrs))}
	for i, a := range e.attrs {
		c.attrs[i] = Attr{Name: a.Name, Values: append([]string(nil), a.Values...)}
	}
	return c
}

// set replaces (or, with no values, removes) an attribute.
func (e *entry) set(name string, values []string) {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].Name, name) {
			if len(values) == 0 {
				e.attrs = append(e.attrs[:i], e.attrs[i+1:]...)
			} else {
				e.attrs[i].Values = values
			}
			return
		}
	}
	if len(values) > 0 {
		e.attrs = append(e.attrs, Attr{Name: name, Values: values})
	}
}

// isOperational reports whether an attribute (lower-cased) is returned
// only when asked for by name or with "+".
func isOperational(lname string) bool {
	switch lname {
	case "entryuuid", "createtimestamp", "modifytimestamp", "creatorsname", "modifiersname",
		"entrycsn", "entrydn", "structuralobjectclass", "hassubordinates", "subschemasubentry":
		return true
	}
	return false
}

// normDN splits a DN into normalised RDNs (attribute types and values
// lower-cased, escaping made uniform), leaf first.
func normDN(dn string) ([]string, error) {
	if strings.TrimSpace(dn) == "" {
		return nil, nil
	}
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(d.RDNs))
	for i, r := range d.RDNs {
		out[i] = strings.ToLower(r.String())
	}
	return out, nil
}

func joinDN(rdns []string) string { return strings.Join(rdns, ",") }

// within reports whether rdns lies in scope of base.
func within(rdns, base []string, scope int64) bool {
	d := len(rdns) - len(base)
	if d < 0 {
		return false
	}
	for i := range base {
		if rdns[d+i] != base[i] {
			return false
		}
	}
	switch scope {
	case 0: // base object
		return d == 0
	case 1: // single level
		return d == 1
	default: // whole subtree
		return true
	}
}

// generalizedTime is the format written to modifyTimestamp.
const generalizedTime = "20060102150405Z"

// parseTime reads a GeneralizedTime with optional fraction and offset.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "200601021504Z0700", "2006010215Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
