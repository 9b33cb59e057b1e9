// Package directory reads identities from OpenText Directory Services (or
// any LDAP directory, including Active Directory) for the reconcile engine.
//
// A Source streams raw entries (a reference plus attributes); drivers live
// in sub-packages: directory/ldap (go-ldap, for OpenDJ-era OTDS, OpenLDAP,
// AD) and directory/otdsrest (current OTDS's REST API). A Mapping, shared by
// all drivers since OTDS uses the same attribute names over LDAP and REST,
// turns entries into SCIM users and groups. Every attribute name is
// configurable; presets cover OTDS and Active Directory.
//
// Failed reads carry a Cause (*Error: unreachable, timeout,
// base_dn_missing, bind_refused, other) that the admin API turns into 503,
// 504 or 502 and Metrics counts in scimbridge_directory_read_errors_total;
// a Prober checks cheaply that the directory answers, for health checks.
package directory
