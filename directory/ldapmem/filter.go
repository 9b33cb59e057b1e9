package ldapmem

import (
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// match evaluates a compiled filter (ldap.CompileFilter) against an entry.
// Values compare without regard to case, as the schema's caseIgnoreMatch
// and distinguishedNameMatch would for the attributes the driver filters
// on; ordering compares timestamps as time when both sides parse as
// GeneralizedTime. Undefined results (unknown filter types) count as false.
func match(f *ber.Packet, e *entry) (bool, error) {
	switch f.Tag {
	case ldap.FilterAnd:
		for _, c := range f.Children {
			ok, err := match(c, e)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case ldap.FilterOr:
		for _, c := range f.Children {
			ok, err := match(c, e)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case ldap.FilterNot:
		if len(f.Children) != 1 {
			return false, fmt.Errorf("not: want one child")
		}
		ok, err := match(f.Children[0], e)
		return !ok, err
	case ldap.FilterPresent:
		name := f.Data.String()
		if strings.EqualFold(name, "objectClass") {
			return true, nil
		}
		return len(e.values(name)) > 0, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		if len(f.Children) != 2 {
			return false, fmt.Errorf("malformed assertion")
		}
		name, want := f.Children[0].Data.String(), f.Children[1].Data.String()
		for _, v := range e.values(name) {
			if compare(f.Tag, v, want) {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterSubstrings:
		if len(f.Children) != 2 {
			return false, fmt.Errorf("malformed substrings")
		}
		name := f.Children[0].Data.String()
		for _, v := range e.values(name) {
			if substrings(strings.ToLower(v), f.Children[1].Children) {
				return true, nil
			}
		}
		return false, nil
	default:
		return false, nil
	}
}

func compare(tag ber.Tag, have, want string) bool {
	switch tag {
	case ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		c := 0
		ht, hok := parseTime(have)
		wt, wok := parseTime(want)
		if hok && wok {
			c = ht.Compare(wt)
		} else {
			c = strings.Compare(strings.ToLower(have), strings.ToLower(want))
		}
		if tag == ldap.FilterGreaterOrEqual {
			return c >= 0
		}
		return c <= 0
	default:
		if strings.EqualFold(have, want) {
			return true
		}
		// DN-valued attributes: compare normalised DNs.
		if strings.ContainsRune(want, '=') {
			a, err1 := normDN(have)
			b, err2 := normDN(want)
			return err1 == nil && err2 == nil && joinDN(a) == joinDN(b)
		}
		return false
	}
}

func substrings(v string, parts []*ber.Packet) bool {
	for i, p := range parts {
		s := strings.ToLower(p.Data.String())
		switch p.Tag {
		case ldap.FilterSubstringsInitial:
			if i != 0 || !strings.HasPrefix(v, s) {
				return false
			}
			v = v[len(s):]
		case ldap.FilterSubstringsAny:
			j := strings.Index(v, s)
			if j < 0 {
				return false
			}
			v = v[j+len(s):]
		case ldap.FilterSubstringsFinal:
			if !strings.HasSuffix(v, s) {
				return false
			}
			v = ""
		}
	}
	return true
}
