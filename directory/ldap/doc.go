// Package ldap is the directory driver for LDAP: OpenDJ-era OpenText
// Directory Services, OpenLDAP, Active Directory.
//
// Open connects (failing over across Config.URLs, with ldaps:// or
// StartTLS), binds, and returns a *Source that implements
// directory.ChangeSource: every read is an RFC 2696 paged subtree search per
// base that asks only for the attributes the directory.Mapping names and
// streams entries (DN as Ref, attribute names lower-cased, binary values as
// raw bytes, DNs normalised by NormalizeDN so member references match). A
// read that fails part-way (a failed page, a referral, a dropped
// connection) returns an error, never a partial success, so an outage
// cannot look like deletions. Change reads filter on modifyTimestamp (AD
// whenChanged) with a GeneralizedTime. Active Directory's ranged attributes
// (member;range=0-1499) are fetched to the end.
//
// Values that reach a filter are escaped (RFC 4515); operator-written
// filters are checked with ldap.CompileFilter when the Config is validated.
//
// Errors from Open and reads are *directory.Error values with a cause:
// noSuchObject on a search base is base_dn_missing, a bind answered with an
// error bind_refused, refused or reset connections unreachable, deadlines
// timeout. Probe dials, binds and reads each base entry on a connection of
// its own, for health checks.
//
// The wire protocol for reads is a small synchronous client (wire.go):
// go-ldap's decoder allocated about 900 times per entry and made a full
// read several times slower than ldapsearch. go-ldap (github.com/go-ldap/ldap/v3)
// still provides filter compilation, escaping, DN parsing, controls and
// error values, and asn1-ber encodes the requests. The reader holds one
// message at a time, at most maxMessage (16 MiB: the largest message is one
// entry, a big group's member list), and is fuzzed by FuzzDecode, which
// checks it against asn1-ber on the same bytes.
package ldap
