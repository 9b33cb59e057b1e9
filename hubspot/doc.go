// Package hubspot is a client for the HubSpot APIs the bridge drives: the
// Settings user-provisioning API (users, roles, teams; version 2026-03 by
// default, v3 selectable), the Teams API (2026-09, or its beta), the CRM
// users object, and account login activity.
//
// It is shaped like go-github: context-first methods on a Client, one
// request path that applies the shared rate limiter, retries and decodes
// HubSpot's error bodies into typed errors (*Error, *RateLimitError), and
// the API version kept in one place. Package hubspotsim is a simulator of
// the same API for tests and the demo.
//
// Failure handling, in short:
//   - Reads, PUT, PATCH and DELETE are retried (bounded, exponential
//     backoff with full jitter, Retry-After honoured) on 5xx, network
//     errors and timeouts; a DELETE whose retry finds the object gone has
//     succeeded.
//   - A POST is never blindly repeated: after an ambiguous outcome the
//     client looks for what it tried to create (a user by email, a team by
//     name) and only sends the POST again when it is not there. A 409 on
//     create returns an error wrapping ErrExists together with the
//     existing object, for the caller to adopt.
//   - CRM searches also wait for a search limiter (4 per second per token);
//     a search's 429, which names no policy, pauses searches only.
//   - 429 TEN_SECONDLY_ROLLING makes every client of the shared Limiter
//     wait for the window, then the request is sent again. 429 DAILY is
//     returned at once and the Limiter refuses further requests
//     (ErrDailyLimit, no call) until midnight in the portal's time zone.
//   - A request that never reached HubSpot (connection refused, DNS, dial
//     or TLS handshake failure: no connection was handed to it) gives its
//     limiter tokens back (Reservation.Refund), so an unreachable HubSpot
//     cannot spend the daily budget and pause writes; a timeout, a reset
//     or any answer still counts.
//   - Errors wrap with context ("hubspot: create ada@example.com: …");
//     branch with errors.Is/As and IsNotFound, IsConflict, IsValidation,
//     IsForbidden, IsRateLimited, IsPermanent. HubSpot's correlationId is in
//     every *Error message and logged with every error answer; the token
//     never appears in errors or logs.
//
// Config.Metrics receives Prometheus series of the traffic (requests by
// endpoint template, method and status class, durations, 429s by policy,
// the limiters' windows and daily budget), and Client.Health reports what
// the client has seen of HubSpot for readiness checks.
//
// The client does not guard super admins: HubSpot refuses most writes to
// them, and callers (which hold the user they read) must not attempt them.
package hubspot
