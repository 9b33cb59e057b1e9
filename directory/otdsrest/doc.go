// Package otdsrest reads users and groups from current OpenText Directory
// Services through its REST API (/otdsws/rest, or
// /otdstenant/<tenant>/otdsws/rest), as a directory.Source.
//
// # Authentication
//
// Either OAuth2 client credentials (POST /otdsws/oauth2/token, then
// "Authorization: Bearer"; a token is renewed shortly before its
// expires_in) or a ticket (POST /authentication/credentials, then the
// OTDSTicket header). When OTDS refuses a credential (401, or 400 with
// {"status":1034,"error":"Expired OTDS SSO ticket"}) the driver logs in
// again and retries that request once; a second refusal is an error
// matching ErrAuth. Secrets, tokens and tickets never appear in errors or
// logs, and redirects are never followed (they would carry the ticket).
//
// # Reading
//
// Users and groups are listed with GET /users and GET /groups,
// where_partition_name per configured partition (one scan of all
// partitions when none is configured), where_filter, page_size and
// attrsAsKeys=true, following nextPageCookie (a string, or an array as one
// client observed) until it is empty. Either attribute shape is read:
// "attributes" {name: [values]} or "values" [{name, values}]. A failed
// page, login or membership request fails the whole read: the Source never
// returns a partial directory, so an outage cannot look like deletions.
//
// Entries carry the object's attributes under lower-cased names (the names
// OTDS also uses over LDAP: oTExternalID3, mail, givenName, sn,
// oTDepartment, accountDisabled, …), plus synthetic ones: entryuuid (uuid),
// dn (location), name, id, partition (userPartitionID), objectclass and
// description when absent. Ref is the object's id ("name@partition"), and
// memberships hold ids, so directory.Mapping works unchanged.
//
// # Memberships and their cost
//
// Users carry their groups in oTMemberOf as DNs, which the driver
// translates to group ids using a scan of the groups in scope; memberships
// in groups out of scope are dropped. A user without oTMemberOf costs one
// GET /users/{id}/memberof (Config.Memberships auto, the default; bounded
// by MemberOfConcurrency); "attribute" never asks, "memberof" always asks.
// So Users costs the group pages, the user pages and those requests.
//
// Groups get their members by inverting the users' memberships (and the
// groups' own oTMemberOf, for nested groups: without it they cannot be
// seen), since no members endpoint is confirmed. Groups costs what Users
// costs and holds the groups and memberships in memory before it calls fn.
package otdsrest
