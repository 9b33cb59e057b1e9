// Package ldapmem is a small in-process LDAP server over an in-memory tree
// loaded from LDIF, built on github.com/jimlambrt/gldap.
//
// It serves what the directory/ldap driver sends: simple bind with one
// configured DN and password (anonymous binds are refused), search with
// base/one/sub scope, the filters and, or, not, equality, presence,
// substrings, >= and <= (matched without regard to case, timestamps
// compared as GeneralizedTime), explicit attribute lists, and the RFC 2696
// paged results control. Add, modify and delete are enough for tests; each
// write maintains modifyTimestamp. Entries get a stable entryUUID (derived
// from the DN) when the LDIF has none, so a restarted demo keeps its ids.
//
// It backs the demo (DemoLDIF, an OTDS-shaped sample directory) and stands
// in for slapd in directory/ldaptest on machines without OpenLDAP. It is not
// a general LDAP server: no schema checking, no ACLs, no referrals.
package ldapmem
