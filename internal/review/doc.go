// Package review is the access-review engine: it compares the directory,
// the bridge's store and HubSpot and reports who holds HubSpot access they
// should not, whose permissions differ from what the mapping rules give,
// and which accounts need a human's attention.
//
// [Run] is pure and deterministic: it takes every input as a value
// ([Inputs]), reads no clock and does no I/O, and returns a [Report] whose
// findings are sorted (severity, category, subject, ids). The renderers
// ([WriteJSON], [WriteCSV], [WriteTable], [WriteHTML]) write a report;
// [Compare] tells what is new and resolved since a previous review.
//
// # How the three sides are matched
//
// A HubSpot user is managed by the bridge user whose provisioning row links
// its id (BridgeUser.HubSpotID). A HubSpot user no row links is matched by
// email (without regard to case) to a bridge user that links no existing
// HubSpot user; the bridge would adopt it (category unmanaged, fix link).
// The directory user of a bridge user is the one with its external id; a
// HubSpot user without a bridge user is matched to the directory by email.
// The mapped role and teams are [provision.DesiredState] of the bridge user
// under the rules and HubSpot's catalogue, exactly as the provisioning
// engine computes them, and leavers follow the same leaver policy (delete,
// or restrict: the restricted role and no teams).
//
// # Categories and severities
//
//	category              severity                 finding                                                  fix
//	--------------------  -----------------------  -------------------------------------------------------  ----------------
//	should-be-gone        critical                 disabled, out of scope or deleted in the directory, or   remove | restrict
//	                                               inactive or deleted in the bridge, yet in HubSpot        (nil: super admin)
//	orphaned              high                     in HubSpot, neither managed by the bridge nor in the     remove | restrict
//	                                               directory (super admins are listed as super-admin)
//	role-drift            high                     HubSpot role differs from the role the rules map         set-role (nil when
//	                                                                                                        no role is mapped)
//	duplicate-identity    high                     two HubSpot users whose emails differ only in case;      nil
//	                                               two bridge users linked to one HubSpot user
//	duplicate-identity    medium                   a bridge user and a directory user with the same email   link (one candidate)
//	                                               but different external ids
//	provisioning-failure  high                     a leaver's failed or erroring work (access not removed)  retry
//	provisioning-failure  medium                   failed, or pending with an error, otherwise              retry
//	unmanaged             medium                   in HubSpot and in scope in the directory, but no bridge  link
//	                                               user: the reconcile would create and adopt it
//	unmanaged             medium                   a second account: the directory user it matches is       nil
//	                                               managed through another HubSpot user
//	unmanaged             low                      unlinked, but a bridge user has its email and would      link
//	                                               adopt it
//	team-drift            medium                   main team differs from the routing rules' main team      set-teams
//	team-drift            low                      only additional teams differ                             set-teams
//	sso-readiness         medium                   HubSpot email differs from the directory's mail, or is   nil
//	                                               outside the verified domains
//	dormant               medium                   last successful login older than DormantDays (only       nil
//	                                               when the login activity was readable)
//	never-logged-in       medium                   no successful login in the activity log (90 days)        nil
//	never-logged-in       low                      the same, for a bridge user created within DormantDays   nil
//	super-admin           info                     every super admin, listed for review                     nil
//
// Under the restrict leaver policy a leaver holding exactly the restricted
// role and no teams is compliant and not reported. Noise is kept down: a
// user whose access should be gone gets that one critical finding and no
// drift, login or SSO finding; super admins get no drift finding (the
// bridge never writes them) but do get should-be-gone, dormant,
// never-logged-in and SSO findings. Drift is not reported for a user whose
// mapping has problems (a rule naming a missing role or team): the
// provisioning failure names them.
//
// # Fixes
//
// [PlanFixes] selects the findings of some categories; [FixPlan.Apply]
// makes their changes by each fix's route (Fix.Via): provisioning re-queues
// the bridge user's HubSpot work, reconcile runs one full directory
// reconcile (under its own guard), relink gives a bridge user the directory
// user's externalId, and hubspot changes a HubSpot user no bridge user
// manages directly — bounded by a deletion guard, re-read first, never a
// super admin. Relinks run before the reconcile, so it finds the linked
// users by external id.
package review
