package review

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Finding categories. They are stable names, usable on a command line
// (review --fix CATEGORY).
const (
	CatShouldBeGone        = "should-be-gone"
	CatOrphaned            = "orphaned"
	CatRoleDrift           = "role-drift"
	CatTeamDrift           = "team-drift"
	CatSuperAdmin          = "super-admin"
	CatDormant             = "dormant"
	CatNeverLoggedIn       = "never-logged-in"
	CatDuplicateIdentity   = "duplicate-identity"
	CatSSOReadiness        = "sso-readiness"
	CatProvisioningFailure = "provisioning-failure"
	CatUnmanaged           = "unmanaged"
)

// Severities, most severe first.
const (
	SevCritical = "critical"
	SevHigh     = "high"
	SevMedium   = "medium"
	SevLow      = "low"
	SevInfo     = "info"
)

// Fix actions: the change the bridge would make.
const (
	FixRemove   = "remove"    // delete the HubSpot user (leaver policy delete)
	FixRestrict = "restrict"  // restricted role, no teams (leaver policy restrict)
	FixSetRole  = "set-role"  // give the mapped role
	FixSetTeams = "set-teams" // give the mapped main and additional teams
	FixLink     = "link"      // link (adopt) the HubSpot or directory identity
	FixRetry    = "retry"     // retry the bridge's provisioning work
)

// Categories returns every category in report order (most pressing first).
func Categories() []string {
	return []string{
		CatShouldBeGone, CatOrphaned, CatRoleDrift, CatDuplicateIdentity,
		CatProvisioningFailure, CatUnmanaged, CatTeamDrift, CatSSOReadiness,
		CatDormant, CatNeverLoggedIn, CatSuperAdmin,
	}
}

// Severities returns every severity, most severe first.
func Severities() []string {
	return []string{SevCritical, SevHigh, SevMedium, SevLow, SevInfo}
}

// CategoryTitle is a category's human name.
func CategoryTitle(c string) string {
	switch c {
	case CatShouldBeGone:
		return "Access that should be gone"
	case CatOrphaned:
		return "Orphaned HubSpot users"
	case CatRoleDrift:
		return "Role drift"
	case CatTeamDrift:
		return "Team drift"
	case CatSuperAdmin:
		return "Super admins"
	case CatDormant:
		return "Dormant"
	case CatNeverLoggedIn:
		return "Never logged in"
	case CatDuplicateIdentity:
		return "Duplicate identities"
	case CatSSOReadiness:
		return "SSO readiness"
	case CatProvisioningFailure:
		return "Provisioning failures"
	case CatUnmanaged:
		return "Unmanaged (would be adopted)"
	}
	return c
}

// SeverityRank orders severities: 0 for critical … 4 for info, 5 for
// anything else.
func SeverityRank(s string) int {
	switch s {
	case SevCritical:
		return 0
	case SevHigh:
		return 1
	case SevMedium:
		return 2
	case SevLow:
		return 3
	case SevInfo:
		return 4
	}
	return 5
}

// categoryRank orders categories as Categories does.
func categoryRank(c string) int {
	switch c {
	case CatShouldBeGone:
		return 0
	case CatOrphaned:
		return 1
	case CatRoleDrift:
		return 2
	case CatDuplicateIdentity:
		return 3
	case CatProvisioningFailure:
		return 4
	case CatUnmanaged:
		return 5
	case CatTeamDrift:
		return 6
	case CatSSOReadiness:
		return 7
	case CatDormant:
		return 8
	case CatNeverLoggedIn:
		return 9
	case CatSuperAdmin:
		return 10
	}
	return 99
}

// Finding is one thing a reviewer should look at.
type Finding struct {
	Category string `json:"category"`
	// Severity is critical, high, medium, low or info.
	Severity string `json:"severity"`
	// Subject is the email (else the user name) the finding is about.
	Subject    string `json:"subject"`
	HubSpotID  string `json:"hubspotId,omitempty"`
	BridgeID   string `json:"bridgeId,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// Evidence says why, with the facts, on one line.
	Evidence string `json:"evidence"`
	// Fix is the change the bridge would make, or nil when it is a human's
	// call.
	Fix *Fix `json:"fix,omitempty"`
}

// Fix is a corrective change.
type Fix struct {
	// Action is remove, restrict, set-role, set-teams, link or retry.
	Action string `json:"action"`
	Detail string `json:"detail"`
	// Via is how `review --fix` makes the change: provisioning,
	// reconcile, hubspot or relink.
	Via string `json:"via"`
	// RoleID is the restricted role of a restrict fix.
	RoleID string `json:"roleId,omitempty"`
	// FromExternalID is, for a link fix, the bridge user's externalId the
	// review saw ("" for none): the link is made only if it still is.
	FromExternalID string `json:"fromExternalId,omitempty"`
}

// How a fix is made. Every route but hubspot goes through the bridge's
// normal provisioning path, so the store stays the one record of who
// should have what.
const (
	// ViaProvisioning re-queues the bridge user's HubSpot work: the engine
	// brings HubSpot to the desired state (role, teams, removal, adoption).
	ViaProvisioning = "provisioning"
	// ViaReconcile runs a full directory reconcile (under its deletion
	// guard): the bridge user is created, deactivated or deleted as the
	// directory says, and provisioning follows.
	ViaReconcile = "reconcile"
	// ViaHubSpot changes HubSpot directly: only for HubSpot users no bridge
	// user manages (orphans), under the review's deletion guard.
	ViaHubSpot = "hubspot"
	// ViaRelink sets the bridge user's externalId (and directory origin) to
	// the directory user's, as reconcile adoption does.
	ViaRelink = "relink"
)

// Report is the outcome of a review.
type Report struct {
	Generated time.Time `json:"generated"`
	Findings  []Finding `json:"findings"`
	// Counts are the findings by category; every category is present.
	Counts map[string]int `json:"counts"`
	// BySeverity are the findings by severity; every severity is present.
	BySeverity map[string]int `json:"bySeverity"`
	Summary    Summary        `json:"summary"`
}

// Summary describes what was reviewed.
type Summary struct {
	HubSpotUsers        int  `json:"hubspotUsers"`
	BridgeUsers         int  `json:"bridgeUsers"`
	DirectoryUsers      int  `json:"directoryUsers"`
	DirectoryConfigured bool `json:"directoryConfigured"`
	LoginsKnown         bool `json:"loginsKnown"`
	DormantDays         int  `json:"dormantDays"`
	SuperAdmins         int  `json:"superAdmins"`
	Findings            int  `json:"findings"`
	// Fixable counts the findings with a fix.
	Fixable int `json:"fixable"`
	// Notes say which checks could not run and why.
	Notes []string `json:"notes,omitempty"`
}

// compareFindings is the report order: severity, category, subject (without
// regard to case), ids, evidence.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(SeverityRank(a.Severity), SeverityRank(b.Severity)),
		cmp.Compare(categoryRank(a.Category), categoryRank(b.Category)),
		strings.Compare(strings.ToLower(a.Subject), strings.ToLower(b.Subject)),
		strings.Compare(a.Subject, b.Subject),
		strings.Compare(a.HubSpotID, b.HubSpotID),
		strings.Compare(a.BridgeID, b.BridgeID),
		strings.Compare(a.ExternalID, b.ExternalID),
		strings.Compare(a.Evidence, b.Evidence),
	)
}

// finish sorts the findings and fills the counts.
func (r *Report) finish() {
	slices.SortFunc(r.Findings, compareFindings)
	r.Counts = make(map[string]int, len(Categories()))
	for _, c := range Categories() {
		r.Counts[c] = 0
	}
	r.BySeverity = make(map[string]int, 5)
	for _, s := range Severities() {
		r.BySeverity[s] = 0
	}
	r.Summary.Findings = len(r.Findings)
	r.Summary.Fixable = 0
	for _, f := range r.Findings {
		r.Counts[f.Category]++
		r.BySeverity[f.Severity]++
		if f.Fix != nil {
			r.Summary.Fixable++
		}
	}
}

// ByCategory returns the findings of one category, in report order.
func (r *Report) ByCategory(category string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Category == category {
			out = append(out, f)
		}
	}
	return out
}
