package review

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// Inputs is everything a review looks at. Run reads it and never changes
// it.
type Inputs struct {
	// Now is the review's time (dormancy is measured from it).
	Now time.Time
	// Directory is nil when no directory is configured.
	Directory *Directory
	// Bridge is the bridge's users, with their provisioning rows; a user
	// deleted in the bridge whose row remains has User nil.
	Bridge  []BridgeUser
	HubSpot HubSpot
	// Rules are the mapping rules (nil: no rules, the defaults); the
	// catalogue is HubSpot's Roles and Teams.
	Rules  *provision.Rules
	Config Config
	// Notes are added to the report's summary (a check that could not
	// run, and why).
	Notes []string
}

// Directory is a snapshot of the directory.
type Directory struct{ Users []DirectoryUser }

// DirectoryUser is one directory entry as the review needs it.
type DirectoryUser struct {
	ExternalID string
	UserName   string
	// Email is the directory's mail.
	Email string
	// Active is false for an account disabled in the directory.
	Active bool
	// InScope says whether the user is within the provisioning scope
	// (scope groups, filter, bases).
	InScope bool
	Groups  []string
}

// BridgeUser is a user of the bridge's store with its provisioning row.
type BridgeUser struct {
	ID, ExternalID, UserName string
	// Email is the address HubSpot should know them by.
	Email  string
	Active bool
	// Origin is schemas.OriginSCIM or schemas.OriginDirectory.
	Origin string
	// Groups are the user's groups' display names.
	Groups []string
	// User is the full user, for provision.DesiredState; nil when the
	// user was deleted in the bridge and only the provisioning row is left.
	User *schemas.User
	// HubSpotID, State and LastError come from the provisioning row (the
	// HubSpot extension).
	HubSpotID, State, LastError string
	// Pending says HubSpot work is queued (desired ahead of applied).
	Pending bool
}

// HubSpot is the portal's state.
type HubSpot struct {
	Users []hubspot.User
	Roles []hubspot.Role
	Teams []hubspot.Team
	// LastLogin is each user's last successful login, by HubSpot user id
	// (from the last 90 days of login activity).
	LastLogin map[string]time.Time
	// LoginsKnown is false when the activity API was not readable: the
	// dormant and never-logged-in checks are then skipped.
	LoginsKnown bool
}

// Config tunes the review.
type Config struct {
	// DormantDays without a successful login make a user dormant
	// (default 60; HubSpot keeps 90 days of login activity).
	DormantDays int `yaml:"dormant_days"`
	// VerifiedDomains are the portal's SSO domains: a HubSpot email outside
	// them (or their subdomains) is reported as not SSO-ready. Empty skips
	// the check.
	VerifiedDomains []string `yaml:"verified_domains"`
	// Interval runs a review on a schedule inside serve (Service.Loop),
	// keeping the latest report and what is new and resolved since the one
	// before (GET /admin/v1/review/latest). 0: off.
	Interval time.Duration `yaml:"interval"`
	// Adopt is reconcile.adopt: a link fix may take over a bridge user a
	// SCIM client pushed; without it only directory-origin users are
	// relinked.
	Adopt bool `yaml:"-"`
}

// Validate reports every problem of c, each naming its key.
func (c *Config) Validate() []error {
	var errs []error
	if c.DormantDays < 0 || c.DormantDays > 90 {
		errs = append(errs, errors.New("dormant_days: must be between 0 (default 60) and 90 (HubSpot keeps 90 days of login activity)"))
	}
	if c.Interval != 0 && c.Interval < time.Minute {
		errs = append(errs, errors.New("interval: must be 0 (off) or at least 1m"))
	}
	for i, d := range c.VerifiedDomains {
		if d = strings.TrimPrefix(strings.TrimSpace(d), "@"); d == "" || strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			errs = append(errs, fmt.Errorf("verified_domains[%d]: %q is not a domain", i, c.VerifiedDomains[i]))
		}
	}
	return errs
}

// DefaultDormantDays is the dormancy threshold when Config leaves it 0.
const DefaultDormantDays = 60

// activityWindow is how far back HubSpot's login activity goes.
const activityWindow = "last 90 days"

// Run reviews in and returns the report. It is pure and deterministic:
// the same inputs give the same report, findings sorted.
func Run(in Inputs) *Report {
	rv := newReviewer(in)
	for i := range in.HubSpot.Users {
		rv.hubspotUser(&in.HubSpot.Users[i])
	}
	rv.duplicates()
	for i := range in.Bridge {
		rv.provisioningFailure(&in.Bridge[i])
	}
	rep := &Report{Generated: in.Now, Findings: rv.out, Summary: rv.summary()}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.finish()
	return rep
}

// reviewer holds the indexes of one review.
type reviewer struct {
	in       Inputs
	rules    *provision.Rules
	cat      *provision.Catalog
	dormant  time.Duration
	dormantN int
	domains  []string
	// leaver is the desired state of any leaver under the leaver policy.
	leaver provision.Desired

	hsByID    map[string]*hubspot.User
	hsByEmail map[string][]*hubspot.User
	// bridgeByHS: bridge users by the HubSpot id their row links.
	bridgeByHS map[string][]*BridgeUser
	// unlinkedByEmail: bridge users linking no existing HubSpot user, by
	// folded email.
	unlinkedByEmail map[string][]*BridgeUser
	// bridgeByExt: bridge users by external id.
	bridgeByExt map[string]*BridgeUser
	dirByExt    map[string]*DirectoryUser
	dirByEmail  map[string][]*DirectoryUser

	superAdmins int
	out         []Finding
}

func newReviewer(in Inputs) *reviewer {
	rules := provision.Rules{}
	if in.Rules != nil {
		rules = *in.Rules
	}
	rules.SetDefaults()
	rv := &reviewer{
		in:       in,
		rules:    &rules,
		cat:      &provision.Catalog{Roles: in.HubSpot.Roles, Teams: in.HubSpot.Teams},
		dormantN: cmp.Or(max(in.Config.DormantDays, 0), DefaultDormantDays),
	}
	rv.dormant = time.Duration(rv.dormantN) * 24 * time.Hour
	for _, d := range in.Config.VerifiedDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d != "" {
			rv.domains = append(rv.domains, d)
		}
	}
	slices.Sort(rv.domains)
	rv.leaver = provision.DesiredState(nil, "leaver@invalid", nil, rv.rules, rv.cat)

	hs := in.HubSpot.Users
	rv.hsByID = make(map[string]*hubspot.User, len(hs))
	rv.hsByEmail = make(map[string][]*hubspot.User, len(hs))
	for i := range hs {
		h := &hs[i]
		rv.hsByID[h.ID] = h
		if h.Email != "" {
			k := schemas.Fold(h.Email)
			rv.hsByEmail[k] = append(rv.hsByEmail[k], h)
		}
	}
	rv.bridgeByHS = make(map[string][]*BridgeUser, len(in.Bridge))
	rv.unlinkedByEmail = make(map[string][]*BridgeUser)
	rv.bridgeByExt = make(map[string]*BridgeUser, len(in.Bridge))
	for i := range in.Bridge {
		b := &in.Bridge[i]
		if b.ExternalID != "" {
			if o := rv.bridgeByExt[b.ExternalID]; o == nil || pickBridge([]*BridgeUser{o, b}) == b {
				rv.bridgeByExt[b.ExternalID] = b
			}
		}
		if b.HubSpotID != "" {
			rv.bridgeByHS[b.HubSpotID] = append(rv.bridgeByHS[b.HubSpotID], b)
		}
		if _, ok := rv.hsByID[b.HubSpotID]; (b.HubSpotID == "" || !ok) && b.Email != "" {
			k := schemas.Fold(b.Email)
			rv.unlinkedByEmail[k] = append(rv.unlinkedByEmail[k], b)
		}
	}
	if in.Directory != nil {
		du := in.Directory.Users
		rv.dirByExt = make(map[string]*DirectoryUser, len(du))
		rv.dirByEmail = make(map[string][]*DirectoryUser, len(du))
		for i := range du {
			d := &du[i]
			if d.ExternalID != "" {
				if _, dup := rv.dirByExt[d.ExternalID]; !dup {
					rv.dirByExt[d.ExternalID] = d
				}
			}
			if d.Email != "" {
				k := schemas.Fold(d.Email)
				rv.dirByEmail[k] = append(rv.dirByEmail[k], d)
			}
		}
	}
	return rv
}

func (rv *reviewer) add(f Finding) { rv.out = append(rv.out, f) }

// pickBridge chooses, among bridge users sharing a HubSpot user, the one
// that decides: an active one first, then the smallest id.
func pickBridge(bs []*BridgeUser) *BridgeUser {
	best := bs[0]
	for _, b := range bs[1:] {
		ba, bb := live(best), live(b)
		if (bb && !ba) || (ba == bb && b.ID < best.ID) {
			best = b
		}
	}
	return best
}

// live reports whether a bridge user exists and is active.
func live(b *BridgeUser) bool { return b.User != nil && b.Active }

// pickDirectory chooses one directory user among several with one email:
// the smallest external id.
func pickDirectory(ds []*DirectoryUser) *DirectoryUser {
	best := ds[0]
	for _, d := range ds[1:] {
		if d.ExternalID < best.ExternalID {
			best = d
		}
	}
	return best
}

// hubspotUser runs every per-user check on one HubSpot user.
func (rv *reviewer) hubspotUser(h *hubspot.User) {
	var b *BridgeUser
	byEmail := false
	if linked := rv.bridgeByHS[h.ID]; len(linked) > 0 {
		b = pickBridge(linked)
	} else if h.Email != "" {
		if cands := rv.unlinkedByEmail[schemas.Fold(h.Email)]; len(cands) > 0 {
			b, byEmail = pickBridge(cands), true
		}
	}
	var d *DirectoryUser
	if rv.in.Directory != nil {
		if b != nil {
			if b.ExternalID != "" {
				d = rv.dirByExt[b.ExternalID]
			}
		} else if h.Email != "" {
			if ds := rv.dirByEmail[schemas.Fold(h.Email)]; len(ds) > 0 {
				d = pickDirectory(ds)
			}
		}
	}

	if h.SuperAdmin {
		rv.superAdmins++
		rv.superAdmin(h, b, d)
	}
	if gone := rv.goneReasons(b, d); len(gone) > 0 {
		rv.shouldBeGone(h, b, d, gone)
		return
	}
	switch {
	case b == nil && d == nil:
		if !h.SuperAdmin {
			rv.orphaned(h)
		}
	case b == nil:
		if !h.SuperAdmin {
			rv.unmanagedDirectory(h, d)
		}
	default:
		if byEmail && !h.SuperAdmin {
			rv.add(Finding{
				Category: CatUnmanaged, Severity: SevLow, Subject: h.Email,
				HubSpotID: h.ID, BridgeID: b.ID, ExternalID: b.ExternalID,
				Evidence: fmt.Sprintf("no provisioning row links HubSpot user %s, but bridge user %s has its email (state %s)", h.ID, b.ID, stateOf(b)),
				Fix:      &Fix{Action: FixLink, Via: ViaProvisioning, Detail: fmt.Sprintf("link HubSpot user %s to bridge user %s (its provisioning adopts the account with that email)", h.ID, b.ID)},
			})
		}
		if !h.SuperAdmin {
			rv.drift(h, b)
		}
	}
	rv.sso(h, b, d)
	rv.logins(h, b)
}

func stateOf(b *BridgeUser) string { return cmp.Or(b.State, "unknown") }

// goneReasons lists why a user should have no (or only restricted) access.
func (rv *reviewer) goneReasons(b *BridgeUser, d *DirectoryUser) []string {
	var why []string
	if b != nil {
		switch {
		case b.User == nil:
			why = append(why, "deleted in the bridge")
		case !b.Active:
			why = append(why, "inactive in the bridge")
		}
	}
	if rv.in.Directory == nil {
		return why
	}
	switch {
	case d != nil:
		if !d.Active {
			why = append(why, "disabled in the directory")
		}
		if !d.InScope {
			why = append(why, "out of the provisioning scope in the directory")
		}
	case b != nil && b.Origin == schemas.OriginDirectory && b.ExternalID != "":
		why = append(why, fmt.Sprintf("deleted from the directory (external id %s not found)", b.ExternalID))
	}
	return why
}

// leaverFix is the change the leaver policy asks for.
func (rv *reviewer) leaverFix(h *hubspot.User, via string) *Fix {
	how := map[string]string{
		ViaProvisioning: "through the bridge user's provisioning",
		ViaReconcile:    "after a directory reconcile takes the bridge user's access away",
		ViaHubSpot:      "directly in HubSpot, under the deletion guard",
	}[via]
	if rv.leaver.Present {
		return &Fix{Action: FixRestrict, Via: via, RoleID: rv.leaver.RoleID,
			Detail: fmt.Sprintf("give HubSpot user %s the restricted role %s and no teams (leaver policy restrict), %s", h.ID, rv.roleLabel(rv.leaver.RoleID), how)}
	}
	return &Fix{Action: FixRemove, Via: via, Detail: fmt.Sprintf("delete HubSpot user %s (leaver policy %s), %s", h.ID, rv.rules.LeaverPolicy, how)}
}

// restricted reports whether h already is in the restrict policy's state.
func (rv *reviewer) restricted(h *hubspot.User) bool {
	return rv.leaver.Present && !h.SuperAdmin && h.RoleID == rv.leaver.RoleID &&
		h.PrimaryTeamID == "" && len(h.SecondaryTeamIDs) == 0
}

func (rv *reviewer) shouldBeGone(h *hubspot.User, b *BridgeUser, d *DirectoryUser, why []string) {
	if rv.restricted(h) {
		return // the leaver policy keeps them, restricted: compliant
	}
	f := Finding{Category: CatShouldBeGone, Severity: SevCritical, Subject: h.Email, HubSpotID: h.ID}
	var ev strings.Builder
	ev.WriteString(strings.Join(why, "; "))
	if b != nil {
		f.BridgeID, f.ExternalID = b.ID, b.ExternalID
		fmt.Fprintf(&ev, " (bridge user %s, state %s", b.ID, stateOf(b))
		if b.Pending {
			ev.WriteString(", work queued")
		}
		if b.LastError != "" {
			fmt.Fprintf(&ev, ", last error: %s", OneLine(b.LastError))
		}
		ev.WriteString(")")
	} else if d != nil {
		f.ExternalID = d.ExternalID
		fmt.Fprintf(&ev, " (directory user %s, not in the bridge)", d.UserName)
	}
	fmt.Fprintf(&ev, ", yet HubSpot user %s has access%s", h.ID, rv.accessLabel(h))
	switch {
	case h.SuperAdmin:
		ev.WriteString("; a super admin: the bridge never modifies super admins, remove them in HubSpot")
	case b == nil:
		f.Fix = rv.leaverFix(h, ViaHubSpot)
	case !live(b):
		f.Fix = rv.leaverFix(h, ViaProvisioning)
	case b.Origin == schemas.OriginDirectory:
		f.Fix = rv.leaverFix(h, ViaReconcile)
	default:
		ev.WriteString("; the bridge user is managed by a SCIM client that still sends it active: deactivate or unassign it there")
	}
	f.Evidence = ev.String()
	rv.add(f)
}

// accessLabel describes a HubSpot user's role and main team.
func (rv *reviewer) accessLabel(h *hubspot.User) string {
	var parts []string
	if h.SuperAdmin {
		parts = append(parts, "super admin")
	}
	if h.RoleID != "" {
		parts = append(parts, "role "+rv.roleLabel(h.RoleID))
	}
	if h.PrimaryTeamID != "" {
		parts = append(parts, "main team "+rv.teamLabel(h.PrimaryTeamID))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (rv *reviewer) roleLabel(id string) string {
	if id == "" {
		return "(none)"
	}
	if n := rv.cat.RoleName(id); n != "" {
		return fmt.Sprintf("%q (%s)", n, id)
	}
	return fmt.Sprintf("%s (unknown role)", id)
}

func (rv *reviewer) teamLabel(id string) string {
	if id == "" {
		return "(none)"
	}
	if n := rv.cat.TeamName(id); n != "" {
		return fmt.Sprintf("%q (%s)", n, id)
	}
	return fmt.Sprintf("%s (unknown team)", id)
}

func (rv *reviewer) teamsLabel(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = rv.teamLabel(id)
	}
	return strings.Join(out, ", ")
}

func (rv *reviewer) superAdmin(h *hubspot.User, b *BridgeUser, d *DirectoryUser) {
	f := Finding{Category: CatSuperAdmin, Severity: SevInfo, Subject: h.Email, HubSpotID: h.ID}
	var how string
	switch {
	case b != nil:
		f.BridgeID, f.ExternalID = b.ID, b.ExternalID
		how = fmt.Sprintf("linked to bridge user %s (the bridge never modifies super admins)", b.ID)
	case d != nil:
		f.ExternalID = d.ExternalID
		how = fmt.Sprintf("in the directory as %s, not managed by the bridge", d.UserName)
	case rv.in.Directory == nil:
		how = "not managed by the bridge (no directory configured)"
	default:
		how = "neither managed by the bridge nor in the directory"
	}
	f.Evidence = "super admin, " + how
	rv.add(f)
}

func (rv *reviewer) orphaned(h *hubspot.User) {
	where := "neither managed by the bridge nor in the directory"
	if rv.in.Directory == nil {
		where = "not managed by the bridge (no provisioning row links it, no bridge user has its email); no directory configured"
	}
	rv.add(Finding{
		Category: CatOrphaned, Severity: SevHigh, Subject: h.Email, HubSpotID: h.ID,
		Evidence: fmt.Sprintf("HubSpot user %s%s is %s", h.ID, rv.accessLabel(h), where),
		Fix:      rv.leaverFix(h, ViaHubSpot),
	})
}

func (rv *reviewer) unmanagedDirectory(h *hubspot.User, d *DirectoryUser) {
	if other := rv.bridgeByExt[d.ExternalID]; other != nil {
		// The person is managed through another HubSpot user: this one
		// is a second account.
		if len(rv.hsByEmail[schemas.Fold(h.Email)]) > 1 {
			return // reported as a duplicate identity (emails differ in case)
		}
		rv.add(Finding{
			Category: CatUnmanaged, Severity: SevMedium, Subject: h.Email, HubSpotID: h.ID, ExternalID: d.ExternalID,
			Evidence: fmt.Sprintf("HubSpot user %s%s matches directory user %s by email, whose bridge user %s manages HubSpot user %s: a second account",
				h.ID, rv.accessLabel(h), d.UserName, other.ID, cmp.Or(other.HubSpotID, "(none yet)")),
		})
		return
	}
	detail := fmt.Sprintf("create the bridge user for directory user %s and link HubSpot user %s", d.UserName, h.ID)
	u := &schemas.User{UserName: d.UserName, Emails: []schemas.MultiValue{{Value: d.Email, Primary: true}}}
	if want := provision.DesiredState(u, "", d.Groups, rv.rules, rv.cat); want.Present && len(want.Problems) == 0 {
		detail += fmt.Sprintf("; the rules then give role %s, main team %s", rv.roleLabel(want.RoleID), rv.teamLabel(want.PrimaryTeamID))
	}
	rv.add(Finding{
		Category: CatUnmanaged, Severity: SevMedium, Subject: h.Email, HubSpotID: h.ID, ExternalID: d.ExternalID,
		Evidence: fmt.Sprintf("HubSpot user %s%s matches directory user %s (in scope, active) by email, but no bridge user manages it", h.ID, rv.accessLabel(h), d.UserName),
		Fix:      &Fix{Action: FixLink, Via: ViaReconcile, Detail: detail + " (a directory reconcile creates the bridge user; its provisioning adopts the account)"},
	})
}

// drift compares a managed, active user's role and teams with the rules.
func (rv *reviewer) drift(h *hubspot.User, b *BridgeUser) {
	want := provision.DesiredState(b.User, b.Email, b.Groups, rv.rules, rv.cat)
	if !want.Present || len(want.Problems) > 0 {
		return
	}
	queued := ""
	if b.Pending {
		queued = "; provisioning work is queued"
	}
	base := Finding{Subject: h.Email, HubSpotID: h.ID, BridgeID: b.ID, ExternalID: b.ExternalID}
	if want.RoleID != h.RoleID {
		f := base
		f.Category, f.Severity = CatRoleDrift, SevHigh
		if want.RoleID == "" {
			f.Evidence = fmt.Sprintf("HubSpot role %s, but the rules map no role (HubSpot's default permissions); the API cannot clear a role, remove it in HubSpot%s", rv.roleLabel(h.RoleID), queued)
		} else {
			f.Evidence = fmt.Sprintf("HubSpot role %s, but the rules map %s from %s%s", rv.roleLabel(h.RoleID), rv.roleLabel(want.RoleID), rv.roleSource(b.Groups), queued)
			f.Fix = &Fix{Action: FixSetRole, Via: ViaProvisioning, Detail: fmt.Sprintf("set HubSpot user %s's role to %s", h.ID, rv.roleLabel(want.RoleID))}
		}
		rv.add(f)
	}
	have := slices.Clone(h.SecondaryTeamIDs)
	slices.Sort(have)
	wantSec := slices.Clone(want.SecondaryTeamIDs)
	slices.Sort(wantSec)
	mainDiffers := want.PrimaryTeamID != h.PrimaryTeamID
	extraDiffers := !slices.Equal(have, wantSec)
	if !mainDiffers && !extraDiffers {
		return
	}
	f := base
	f.Category, f.Severity = CatTeamDrift, SevLow
	var ev []string
	if mainDiffers {
		f.Severity = SevMedium
		if want.PrimaryTeamID == "" {
			ev = append(ev, fmt.Sprintf("main team %s, but the rules map no team", rv.teamLabel(h.PrimaryTeamID)))
		} else {
			ev = append(ev, fmt.Sprintf("main team %s disagrees with the routing rules, which give %s from %s (HubSpot's team-based routing follows the main team)",
				rv.teamLabel(h.PrimaryTeamID), rv.teamLabel(want.PrimaryTeamID), rv.teamSource(b.Groups, want.PrimaryTeamID)))
		}
	}
	if extraDiffers {
		ev = append(ev, fmt.Sprintf("additional teams %s, mapped %s", rv.teamsLabel(have), rv.teamsLabel(wantSec)))
	}
	f.Evidence = strings.Join(ev, "; ") + queued
	detail := "no teams"
	if want.PrimaryTeamID != "" {
		detail = "main team " + rv.teamLabel(want.PrimaryTeamID) + ", additional teams " + rv.teamsLabel(wantSec)
	}
	f.Fix = &Fix{Action: FixSetTeams, Via: ViaProvisioning, Detail: fmt.Sprintf("set HubSpot user %s's teams: %s", h.ID, detail)}
	rv.add(f)
}

// memberOf reports whether groups holds group (without regard to case).
func memberOf(groups []string, group string) bool {
	return slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, group) })
}

// roleSource names what gave the mapped role.
func (rv *reviewer) roleSource(groups []string) string {
	for _, rr := range rv.rules.Roles {
		if memberOf(groups, rr.Group) {
			return fmt.Sprintf("group %q", rr.Group)
		}
	}
	return "the default role"
}

// teamSource names what gave the mapped main team.
func (rv *reviewer) teamSource(groups []string, teamID string) string {
	for _, tr := range rv.rules.Teams {
		if t, ok := rv.cat.Team(tr.Team); ok && t.ID == teamID && memberOf(groups, tr.Group) {
			return fmt.Sprintf("the team rule for group %q", tr.Group)
		}
	}
	if t, ok := rv.cat.Team(teamID); ok {
		for _, g := range groups {
			if strings.EqualFold(g, t.Name) {
				return fmt.Sprintf("group %q, named like the team", g)
			}
		}
	}
	return "the rules"
}

// sso checks that the HubSpot email can sign in through SSO.
func (rv *reviewer) sso(h *hubspot.User, b *BridgeUser, d *DirectoryUser) {
	var why []string
	if d != nil && d.Email != "" && !strings.EqualFold(d.Email, h.Email) {
		why = append(why, fmt.Sprintf("HubSpot email %s differs from the directory's mail %s", h.Email, d.Email))
	}
	if b != nil && b.HubSpotID == h.ID && b.Email != "" && !strings.EqualFold(b.Email, h.Email) &&
		(d == nil || !strings.EqualFold(d.Email, b.Email)) {
		// email_change keep: the account stays linked by id under its old
		// address until it is changed in HubSpot or an admin recreates it.
		why = append(why, fmt.Sprintf("HubSpot email %s differs from the bridge user's email %s (HubSpot cannot change a user's email: change it in HubSpot, or recreate the account with POST /admin/v1/provisioning/%s/recreate)", h.Email, b.Email, b.ID))
	}
	if len(rv.domains) > 0 && !rv.verified(h.Email) {
		why = append(why, fmt.Sprintf("%s is outside the verified SSO domains (%s)", domainOf(h.Email), strings.Join(rv.domains, ", ")))
	}
	if len(why) == 0 {
		return
	}
	f := Finding{Category: CatSSOReadiness, Severity: SevMedium, Subject: h.Email, HubSpotID: h.ID,
		Evidence: strings.Join(why, "; ") + ": SSO sign-in would not match this user"}
	if b != nil {
		f.BridgeID, f.ExternalID = b.ID, b.ExternalID
	}
	if d != nil {
		f.ExternalID = d.ExternalID
	}
	rv.add(f)
}

func domainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return "(no domain)"
	}
	return strings.ToLower(email[i+1:])
}

func (rv *reviewer) verified(email string) bool {
	dom := domainOf(email)
	for _, d := range rv.domains {
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}

// logins checks dormancy from the login activity.
func (rv *reviewer) logins(h *hubspot.User, b *BridgeUser) {
	if !rv.in.HubSpot.LoginsKnown {
		return
	}
	f := Finding{Subject: h.Email, HubSpotID: h.ID}
	if b != nil {
		f.BridgeID, f.ExternalID = b.ID, b.ExternalID
	}
	last, ok := rv.in.HubSpot.LastLogin[h.ID]
	if !ok || last.IsZero() {
		f.Category, f.Severity = CatNeverLoggedIn, SevMedium
		f.Evidence = fmt.Sprintf("no successful login in HubSpot's login activity (%s)", activityWindow)
		if b != nil && b.User != nil && !b.User.Meta.Created.IsZero() {
			created := b.User.Meta.Created
			if rv.in.Now.Sub(created) < rv.dormant {
				f.Severity = SevLow
				f.Evidence += fmt.Sprintf("; a recent joiner: bridge user created %s", created.UTC().Format(time.DateOnly))
			} else {
				f.Evidence += fmt.Sprintf("; bridge user created %s", created.UTC().Format(time.DateOnly))
			}
		}
		rv.add(f)
		return
	}
	if age := rv.in.Now.Sub(last); age > rv.dormant {
		f.Category, f.Severity = CatDormant, SevMedium
		f.Evidence = fmt.Sprintf("last successful login %s, %d days ago (threshold %d days)",
			last.UTC().Format(time.DateOnly), int(age/(24*time.Hour)), rv.dormantN)
		rv.add(f)
	}
}

// duplicates finds identities that exist twice.
func (rv *reviewer) duplicates() {
	// Two HubSpot users whose emails differ only in case.
	for _, hs := range rv.hsByEmail {
		if len(hs) < 2 {
			continue
		}
		hs = slices.Clone(hs)
		slices.SortFunc(hs, func(a, b *hubspot.User) int { return strings.Compare(a.ID, b.ID) })
		ids, desc := make([]string, len(hs)), make([]string, len(hs))
		for i, h := range hs {
			ids[i] = h.ID
			desc[i] = fmt.Sprintf("%s (%s)", h.ID, h.Email)
		}
		rv.add(Finding{
			Category: CatDuplicateIdentity, Severity: SevHigh, Subject: schemas.Fold(hs[0].Email),
			HubSpotID: strings.Join(ids, ","),
			Evidence:  fmt.Sprintf("HubSpot users %s have emails that differ only in case: one person, two accounts", strings.Join(desc, " and ")),
		})
	}
	// Two bridge users linked to one HubSpot user.
	for hid, bs := range rv.bridgeByHS {
		if len(bs) < 2 {
			continue
		}
		bs = slices.Clone(bs)
		slices.SortFunc(bs, func(a, b *BridgeUser) int { return strings.Compare(a.ID, b.ID) })
		ids, desc := make([]string, len(bs)), make([]string, len(bs))
		for i, b := range bs {
			ids[i] = b.ID
			desc[i] = fmt.Sprintf("%s (%s)", b.ID, cmp.Or(b.Email, b.UserName))
		}
		subject := cmp.Or(bs[0].Email, bs[0].UserName)
		if h := rv.hsByID[hid]; h != nil {
			subject = h.Email
		}
		rv.add(Finding{
			Category: CatDuplicateIdentity, Severity: SevHigh, Subject: subject,
			HubSpotID: hid, BridgeID: strings.Join(ids, ","),
			Evidence: fmt.Sprintf("bridge users %s are all linked to HubSpot user %s", strings.Join(desc, " and "), hid),
		})
	}
	// A bridge user and a directory user with the same email but
	// different external ids.
	if rv.in.Directory == nil {
		return
	}
	liveByEmail := map[string]int{}
	for i := range rv.in.Bridge {
		if b := &rv.in.Bridge[i]; b.User != nil && b.Email != "" {
			liveByEmail[schemas.Fold(b.Email)]++
		}
	}
	for i := range rv.in.Bridge {
		b := &rv.in.Bridge[i]
		if b.User == nil || b.Email == "" {
			continue
		}
		ds := rv.dirByEmail[schemas.Fold(b.Email)]
		if len(ds) == 0 || slices.ContainsFunc(ds, func(d *DirectoryUser) bool { return d.ExternalID == b.ExternalID }) {
			continue
		}
		ds = slices.Clone(ds)
		slices.SortFunc(ds, func(a, b *DirectoryUser) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		ext, desc := make([]string, len(ds)), make([]string, len(ds))
		for j, d := range ds {
			ext[j] = d.ExternalID
			desc[j] = fmt.Sprintf("%s (external id %s)", d.UserName, d.ExternalID)
		}
		bext := "no external id"
		if b.ExternalID != "" {
			bext = "external id " + b.ExternalID
		}
		f := Finding{
			Category: CatDuplicateIdentity, Severity: SevMedium, Subject: b.Email,
			HubSpotID: b.HubSpotID, BridgeID: b.ID, ExternalID: strings.Join(ext, ","),
			Evidence: fmt.Sprintf("bridge user %s (%s, origin %s) and directory user %s share the email %s",
				b.ID, bext, cmp.Or(b.Origin, "unknown"), strings.Join(desc, " and "), b.Email),
		}
		// A link only where it is unambiguous: one directory user, whose
		// external id no bridge user has, one live bridge user with the
		// email, and a bridge user the directory may own.
		switch {
		case len(ds) != 1 || rv.bridgeByExt[ds[0].ExternalID] != nil || liveByEmail[schemas.Fold(b.Email)] != 1:
		case b.Origin != schemas.OriginDirectory && !rv.in.Config.Adopt:
			f.Evidence += "; the bridge user was pushed by a SCIM client, so linking it needs reconcile.adopt"
		default:
			f.Fix = &Fix{Action: FixLink, Via: ViaRelink, FromExternalID: b.ExternalID,
				Detail: fmt.Sprintf("link bridge user %s to directory user %s (set externalId %s, as reconcile.adopt does)", b.ID, ds[0].UserName, ds[0].ExternalID)}
		}
		rv.add(f)
	}
}

// provisioningFailure reports HubSpot work the bridge could not do.
func (rv *reviewer) provisioningFailure(b *BridgeUser) {
	failed := b.State == provision.StateFailed
	// Deferred work waits on HubSpot (an invitation not accepted yet, a
	// CRM record not made yet): nothing failed. Never-logged-in shows a
	// user who does not accept.
	erroring := (b.Pending || b.State == provision.StatePending) && b.LastError != "" && b.State != provision.StateDeferred
	if !failed && !erroring {
		return
	}
	f := Finding{
		Category: CatProvisioningFailure, Severity: SevMedium, Subject: cmp.Or(b.Email, b.UserName),
		HubSpotID: b.HubSpotID, BridgeID: b.ID, ExternalID: b.ExternalID,
		Fix: &Fix{Action: FixRetry, Via: ViaProvisioning, Detail: fmt.Sprintf("retry the HubSpot work of bridge user %s", b.ID)},
	}
	what := "provisioning"
	if !live(b) {
		f.Severity = SevHigh
		what = "removing the access of a leaver"
	}
	if failed {
		f.Evidence = fmt.Sprintf("%s failed: %s", what, cmp.Or(OneLine(b.LastError), "no error recorded"))
	} else {
		f.Evidence = fmt.Sprintf("%s still pending after an error: %s", what, OneLine(b.LastError))
	}
	rv.add(f)
}

func (rv *reviewer) summary() Summary {
	s := Summary{
		HubSpotUsers: len(rv.in.HubSpot.Users), BridgeUsers: len(rv.in.Bridge),
		DirectoryConfigured: rv.in.Directory != nil, LoginsKnown: rv.in.HubSpot.LoginsKnown,
		DormantDays: rv.dormantN, SuperAdmins: rv.superAdmins,
	}
	if rv.in.Directory != nil {
		s.DirectoryUsers = len(rv.in.Directory.Users)
	} else {
		s.Notes = append(s.Notes, "no directory configured: the directory checks (disabled, out of scope, deleted, directory mail) did not run")
	}
	if !rv.in.HubSpot.LoginsKnown {
		s.Notes = append(s.Notes, "HubSpot's login activity was not readable: the dormant and never-logged-in checks did not run")
	}
	s.Notes = append(s.Notes, rv.in.Notes...)
	if len(rv.domains) == 0 {
		s.Notes = append(s.Notes, "no verified SSO domains configured: the SSO domain check did not run")
	}
	if len(rv.leaver.Problems) > 0 {
		s.Notes = append(s.Notes, "leaver policy: "+strings.Join(rv.leaver.Problems, "; "))
	}
	return s
}

// OneLine replaces control characters (terminal escapes, line breaks) with
// spaces, for text from HubSpot or the directory shown on a terminal.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// LastLogins reduces HubSpot's login activity to each user's last
// successful login, by HubSpot user id (for HubSpot.LastLogin). Failed
// attempts do not count.
func LastLogins(logins []hubspot.Login) map[string]time.Time {
	out := make(map[string]time.Time)
	for _, l := range logins {
		if !l.LoginSucceeded || l.UserID == "" || l.LoginAt.IsZero() {
			continue
		}
		if prev, ok := out[l.UserID]; !ok || l.LoginAt.After(prev) {
			out[l.UserID] = l.LoginAt
		}
	}
	return out
}
