// Package hubspotsim simulates the HubSpot APIs scimbridge drives, in
// process (Sim.Handler) or on a port (Start): the Settings user-provisioning
// API (versions v3, 2026-03 and 2026-09-beta: users, roles, teams), the
// Teams API (2026-09, published as GA, and 2026-09-beta), the CRM users
// object and its properties, and the login activity log (account-info
// 2026-03). Paths, JSON shapes and status codes follow HubSpot's public
// OpenAPI specs (HubSpot/HubSpot-public-api-spec-collection, folders
// PublicApiSpecs/Settings/User Provisioning, PublicApiSpecs/Settings/Teams,
// PublicApiSpecs/CRM/Users and PublicApiSpecs/Account/Audit Logs) and the
// facts in shared/reference/hubspot-api.md.
//
// The simulator is strict by default: where a real portal is stricter,
// slower or lags behind its own writes, it does too (Behaviour, whose
// zero value is strict). Users created through the API have not accepted
// their invitation and refuse name changes with USER_NOT_ON_ANY_HUBS; a
// new user's CRM users-object record appears a few seconds later; CRM
// search sees writes a moment late and is limited to four requests per
// second per token, with a 429 that names no policy; an email that
// exists is a 400. Each behaviour names its source in behaviour.go. Loose
// returns the permissive preset (Config.Behaviour, Sim.SetBehaviour, POST
// /_sim/behaviour, or `scimbridge hubspot-sim --loose`).
//
// Around the API sit the things a client has to survive: bearer tokens
// with scopes (401 INVALID_AUTHENTICATION, 403 MISSING_SCOPES), HubSpot's
// rate limits (rolling 10-second window and daily budget per app, with the
// X-HubSpot-RateLimit-* headers and HubSpot's 429 bodies), and
// deterministic fault injection (5xx, latency, timeouts, 429 storms, writes
// committed whose answer is lost, nested error envelopes, eventually
// consistent deletes).
//
// Unauthenticated inspection endpoints under /_sim/ expose the state,
// call statistics, and change faults, limits and behaviour at runtime.
//
// Where HubSpot documents nothing the simulator makes a choice and says so
// in a comment starting "Assumption:"; the package README lists them.
package hubspotsim
