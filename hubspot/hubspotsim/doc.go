// Package hubspotsim simulates the HubSpot APIs scimbridge drives, in
// process (Sim.Handler) or on a port (Start): the Settings user-provisioning
// API (versions v3, 2026-03 and 2026-09-beta: users, roles, teams), the beta
// Teams API (2026-09-beta) and the login activity log (account-info
// 2026-03). Paths, JSON shapes and status codes follow HubSpot's public
// OpenAPI specs (HubSpot/HubSpot-public-api-spec-collection, folders
// PublicApiSpecs/Settings/User Provisioning, PublicApiSpecs/Settings/Teams
// and PublicApiSpecs/Account/Audit Logs) and the facts in
// shared/reference/hubspot-api.md.
//
// Around the API sit the things a client has to survive: bearer tokens
// with scopes (401 INVALID_AUTHENTICATION, 403 MISSING_SCOPES), HubSpot's
// rate limits (rolling 10-second window and daily budget per app, with the
// X-HubSpot-RateLimit-* headers and HubSpot's 429 bodies), and
// deterministic fault injection (5xx, latency, timeouts, 429 storms, writes
// committed whose answer is lost, nested error envelopes, eventually
// consistent deletes, unaccepted invites).
//
// Unauthenticated inspection endpoints under /_sim/ expose the state,
// call statistics, and change faults and limits at runtime.
//
// Where HubSpot documents nothing the simulator makes a choice and says so
// in a comment starting "Assumption:"; the package README lists them.
package hubspotsim
