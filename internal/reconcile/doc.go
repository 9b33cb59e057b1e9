// Package reconcile makes the bridge follow the directory: it reads a
// snapshot of the directory (directory.Source), compares it with the
// resources the directory owns in the store, and turns the difference into
// a plan of creates, updates, deactivations and group changes. The plan is
// a pure function of the two snapshots and the configuration (table-tested,
// printable as a dry run); applying it goes through the very same write path
// as SCIM requests (provision.Service), so the same mapping rules, HubSpot
// workers and audit trail apply.
//
// A deletion guard stands between a plan and HubSpot: a directory error, a
// partial read or a suspiciously empty result never deprovisions anyone,
// and a plan that would deprovision more than max(10%, 25) of the managed
// users is held back until an operator forces it.
package reconcile
