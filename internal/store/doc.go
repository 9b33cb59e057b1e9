// Package store defines how scimbridge persists SCIM resources, group
// memberships and the audit trail, independent of the database.
//
// Every write runs inside Update, one transaction per call: a resource change
// and the follow-up work it implies (audit record, the desired HubSpot state
// of the users it affects) commit together or not at all. Drivers live in sub-packages
// (sqlite); storetest is the conformance suite every driver must pass.
package store
