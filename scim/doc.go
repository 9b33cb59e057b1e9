// Package scim is scimbridge's SCIM 2.0 HTTP front (RFC 7643, RFC 7644): the
// /scim/v2 routes on chi, with github.com/elimity-com/scim mounted for
// resource writes and discovery, plus what that library leaves to its users:
// authentication, body limits, the quirks of real IdPs, list queries with
// filters, sorting, paging and attribute projection, ETags, PATCH
// application, and SCIM error bodies for every failure.
//
// The package declares the services it needs (Users, Groups, Authenticator,
// Health); cmd wires implementations in, and mounts further APIs (the
// admin API) beside the SCIM routes with Mount.
package scim
