// Package provision is the write path every change to users and groups
// takes, whether a SCIM client or the directory reconcile asked for it: one
// store transaction holds the resource change, its audit record and the
// follow-up work it implies, so they commit together or not at all.
package provision
