// Package health keeps the bridge's named health checks (store, hubspot,
// directory, provisioning, reconcile) and answers two questions from them:
// may this replica take traffic (Ready, behind /readyz), and what is the
// state of everything it depends on (Report, behind GET /admin/v1/status).
//
// A check returns ok, degraded or down with a reason and a detail object.
// Its Impact says what its trouble means for readiness:
//
//   - Critical (the store): down makes the replica unavailable (503). It
//     cannot take SCIM writes, so a load balancer must send them elsewhere.
//   - Degrades (HubSpot, the directory): any trouble makes the replica
//     degraded, still 200. Writes are stored and queued durably and
//     leavers are recorded; they reach HubSpot when it is back, and taking
//     every replica out of a load balancer would only lose them.
//   - Informational (provisioning queue, reconcile and its deletion
//     guard): shown in the report only.
//
// Probes are cheap: a check with an Interval runs in the background on a
// ticker (Run) and callers read its cached result, so no probe makes a
// network call; a check without one (the store's ping) runs on each call,
// bounded by its Timeout.
package health
