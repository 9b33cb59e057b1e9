// Package otdsfake is a fake OpenText Directory Services REST server for
// tests: partitions of users and groups seeded from Go structs, served over
// real HTTP (Handler for httptest, or Start on 127.0.0.1:0).
//
// It reproduces the shapes documented in shared/reference/otds.md, taken
// from OpenText's own client (opentext/pyxecm, otds.py):
//
//   - OAuth2 client credentials at POST /otdsws/oauth2/token, bearer tokens
//     that expire (Config.TokenLifetime); a bad or expired token answers 401;
//   - ticket login at POST /otdsws/rest/authentication/credentials, sent back
//     as the OTDSTicket header; an expired ticket answers 400
//     {"status":1034,"error":"Expired OTDS SSO ticket"} (or 401, by config);
//   - GET /users and GET /groups with where_partition_name, where_filter (a
//     small subset: attr=value with * wildcards, or a substring of the
//     name), where_state, page_size, attrsAsKeys and next_page_cookie; the
//     answer {users|groups, actualPageSize, requestedPageSize,
//     nextPageCookie}; cookies are opaque, server-side and expire (an
//     unknown or expired cookie answers 400); nextPageCookie can be sent as
//     an array, as one client observed;
//   - objects {userPartitionID, name, id, location, uuid, objectClass,
//     description, attributes|values, …}, every value an array of strings;
//   - GET /users/{id}, GET /groups/{id} and GET /users/{id}/memberof
//     ({"groups":[…]}); the tenant form /otdstenant/<tenant>/otdsws/….
//
// Around the API: request counting per route (Count), and fault injection
// (AddFault: answer the Nth request of a route with a status, an OTDS error
// such as 1034, or drop the connection; ExpireCredentials).
//
// GET /groups/{id}/members is deliberately absent (404): whether OTDS
// offers it is unconfirmed. Where OTDS's behaviour is unknown the fake makes
// a choice marked "Assumption:" in a comment.
package otdsfake
