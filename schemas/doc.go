// Package schemas holds the SCIM schema documents scimbridge serves and keeps
// (RFC 7643 §4, §8.7), the domain types built from them (User, Group), and the
// query shape the store answers. It is the leaf of the dependency graph: the
// HTTP front, the store and the provisioning engine all speak these types.
//
// The JSON documents under json/ are the single source of truth for what the
// bridge keeps: /Schemas serves them, request validation is driven by them, and
// anything a client sends that they do not describe is ignored (RFC 7644 §3.3
// lets a service provider ignore unknown attributes; IdPs rely on it).
package schemas
