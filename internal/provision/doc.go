// Package provision is the write path every change to users and groups
// takes, whether a SCIM client or the directory reconcile asked for it: one
// store transaction holds the resource change, its audit record and the
// follow-up work it implies, so they commit together or not at all.
//
// The engine's steps have names of their own, apart from package
// reconcile's plan and apply (directory snapshots turned into changes of
// the bridge's users and groups):
//
//   - desire computes a user's desired HubSpot state (DesiredState) inside
//     the write transaction and stores it in the user's provisioning row,
//     bumping its version when it changed; desireTeam does the same for a
//     group's team when teams are managed.
//   - The dispatcher hands due rows to the workers: workUser re-reads the
//     user, and converge brings the HubSpot account to the desired state,
//     asking decide (a pure function of what is known) for each next step
//     and carrying it out (carryOut) until decide says it is done;
//     workTeam and convergeTeam do the same for a team. The outcome is
//     recorded on the row and the user's HubSpot extension.
//   - The profile writer writes profile attributes to HubSpot's CRM users
//     object in batches, after the Settings user is in place.
//   - The drift sweep reads all of HubSpot's users now and then and makes
//     due again every row HubSpot has drifted from.
//
// A provisioning row says what it provisions: store.KindUser rows a user's
// HubSpot account, store.KindTeam rows a group's HubSpot team.
package provision
