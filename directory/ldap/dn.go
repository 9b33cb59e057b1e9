package ldap

import (
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// NormalizeDN gives a DN one spelling, so that an entry's DN (a Ref) and
// the same DN held in another entry's member, memberOf or manager compare
// equal as strings. Servers do not guarantee that: OpenLDAP returns an
// entry as cn=a\5Cb but stores a member value as cn=a\\b. The form:
// attribute types lower-cased, no spaces around separators, values escaped
// minimally as RFC 4514 section 2.4 requires (UTF-8 kept as is), the parts
// of a multi-valued RDN sorted. The case of values is kept. A DN that does
// not parse is returned unchanged.
//
// Most DNs are already in this form and are returned without allocating.
func NormalizeDN(dn string) string {
	if isNormalDN(dn) {
		return dn
	}
	d, err := goldap.ParseDN(dn)
	if err != nil {
		return dn
	}
	var b strings.Builder
	b.Grow(len(dn))
	for i, rdn := range d.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + escapeDNValue(a.Value)
		}
		slices.Sort(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}

// isNormalDN reports whether dn is a simple DN already in normal form:
// lower-case types, no escapes, quotes, multi-valued RDNs or stray spaces.
func isNormalDN(dn string) bool {
	if dn == "" {
		return false
	}
	inType := true
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch c {
		case '\\', '"', '+', ';', '<', '>', '#':
			return false
		case ' ':
			if i == 0 || i == len(dn)-1 || inType {
				return false
			}
			if p, n := dn[i-1], dn[i+1]; p == ',' || p == '=' || n == ',' || n == '=' {
				return false
			}
		case '=':
			if inType {
				inType = false
			}
		case ',':
			if inType {
				return false
			}
			inType = true
		default:
			if c < 0x20 || c == 0x7f || inType && 'A' <= c && c <= 'Z' {
				return false
			}
		}
	}
	return !inType
}

func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == ' ' || c == '#') && i == 0, c == ' ' && i == len(v)-1:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			const hex = "0123456789abcdef"
			b.WriteByte('\\')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
