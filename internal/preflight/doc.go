// Package preflight checks, before provisioning starts, that a HubSpot
// portal is ready for the bridge's configuration (scimbridge hubspot
// check): the token works and holds every scope the configuration needs,
// the configured API versions answer, every role and team the mapping
// names exists, which mapped roles take paid seats, who the super admins
// are, and how much of the day's API budget is left.
//
// It is read-only by construction: [Collect] reads through [HubSpot], an
// interface of GET calls only, so it is safe against a production portal.
// Write scopes of a private-app token or service key cannot be learned
// without writing, so they are reported as not verifiable rather than
// tried.
//
// [Evaluate] is pure: from the [Settings] and what was read ([Facts]) it
// makes a [Report] of findings, one per check, each OK, WARN or FAIL. A
// FAIL is something that would block provisioning (a refused token, a
// missing required scope, an unknown or unreachable API version, a role or
// team the mapping names that HubSpot does not have).
package preflight
