package preflight

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
)

// Status is a finding's verdict.
type Status string

// Statuses: FAIL blocks provisioning, WARN deserves a look, OK is fine.
const (
	OK   Status = "OK"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Checks, in report order.
const (
	CheckToken       = "token"
	CheckScopes      = "scopes"
	CheckAPIVersions = "api_versions"
	CheckRoles       = "roles"
	CheckTeams       = "teams"
	CheckProfile     = "profile"
	CheckPaidSeats   = "paid_seats"
	CheckSuperAdmins = "super_admins"
	CheckPortal      = "portal"
	CheckAPIUsage    = "api_usage"
	CheckRateLimits  = "rate_limits"
)

// Finding is the outcome of one check. Data holds the check's figures
// (one of the *Data types of this package).
type Finding struct {
	Check   string   `json:"check"`
	Status  Status   `json:"status"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
	Data    any      `json:"data,omitempty"`
}

// Report is a preflight's result.
type Report struct {
	BaseURL    string    `json:"baseUrl"`
	APIVersion string    `json:"apiVersion"`
	CheckedAt  time.Time `json:"checkedAt"`
	// Blocking counts FAIL findings, Warnings WARN findings.
	Blocking int       `json:"blocking"`
	Warnings int       `json:"warnings"`
	Findings []Finding `json:"checks"`
}

// OK reports whether nothing blocks provisioning.
func (r *Report) OK() bool { return r.Blocking == 0 }

// Finding returns the finding of check, or nil.
func (r *Report) Finding(check string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Check == check {
			return &r.Findings[i]
		}
	}
	return nil
}

// Settings is what the configuration asks of HubSpot.
type Settings struct {
	BaseURL         string
	APIVersion      string // hubspot.api_version
	TeamsAPIVersion string // hubspot.teams_api_version
	ManageTeams     bool   // provisioning.manage_teams
	// ProfileProperties are the users-object properties profile
	// attributes are written to; empty: no profile attributes.
	ProfileProperties []string
	Rules             provision.Rules
	// TimeZone, DailyLimit, RateLimit and RateInterval are the hubspot
	// settings of the same names.
	TimeZone     string
	DailyLimit   int
	RateLimit    int
	RateInterval time.Duration
	// Now is when the check runs.
	Now time.Time
}

func (s *Settings) profile() bool { return len(s.ProfileProperties) > 0 }

// Evaluate turns what was read into findings, one per check.
func Evaluate(s Settings, f Facts) *Report {
	r := &Report{BaseURL: s.BaseURL, APIVersion: s.APIVersion, CheckedAt: s.Now}
	add := func(fd Finding) {
		switch fd.Status {
		case Fail:
			r.Blocking++
		case Warn:
			r.Warnings++
		}
		r.Findings = append(r.Findings, fd)
	}
	add(checkToken(s, f))
	add(checkScopes(s, f))
	add(checkVersions(s, f))
	add(checkRoles(s, f))
	add(checkTeams(s, f))
	if s.profile() {
		add(checkProfile(s, f))
	}
	add(checkPaidSeats(s, f))
	add(checkSuperAdmins(f))
	add(checkPortal(s, f))
	add(checkUsage(s, f))
	add(checkRateLimits(s, f))
	return r
}

// notRead explains why a read has no value: the early stop, or its error.
func notRead[T any](f Facts, res Result[T]) string {
	if f.Stopped != "" && (!res.Read || status(res.Err) == http.StatusUnauthorized || unreachable(res.Err)) {
		return "not checked: " + f.Stopped
	}
	if !res.Read {
		return "not checked"
	}
	if status(res.Err) == http.StatusForbidden {
		return "not checked: HubSpot refused the read (403, missing scopes: see scopes)"
	}
	return "not checked: " + errText(res.Err)
}

// errText is an error for a report line.
func errText(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// TokenData describes the token.
type TokenData struct {
	// Type is "oauth" (HubSpot answered its token information) or
	// "static" (a private-app token or service key).
	Type      string `json:"type"`
	HubID     int64  `json:"hubId,omitempty"`
	AppID     int64  `json:"appId,omitempty"`
	User      string `json:"user,omitempty"`
	ExpiresIn int64  `json:"expiresInSeconds,omitempty"`
}

func checkToken(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckToken}
	switch {
	case f.Stopped == StoppedUnreachable:
		err := f.Users.Err
		if err == nil {
			err = f.TokenInfo.Err
		}
		fd.Status, fd.Summary = Fail, "HubSpot could not be reached at "+s.BaseURL
		fd.Details = []string{errText(err)}
		return fd
	case f.Stopped == StoppedUnauthorized:
		fd.Status, fd.Summary = Fail, "HubSpot refused the token (401): check hubspot.token"
		fd.Details = []string{errText(f.Users.Err)}
		return fd
	}
	if f.oauth() {
		ti := f.TokenInfo.Value
		fd.Data = TokenData{Type: "oauth", HubID: ti.HubID, AppID: ti.AppID, User: ti.User, ExpiresIn: ti.ExpiresIn}
		fd.Status = Warn
		fd.Summary = fmt.Sprintf("OAuth access token of app %d for portal %d, expiring in %s", ti.AppID, ti.HubID,
			(time.Duration(ti.ExpiresIn) * time.Second).String())
		fd.Details = []string{"OAuth access tokens expire within hours and the bridge does not refresh them: use a private-app token or service key for hubspot.token"}
		return fd
	}
	fd.Status, fd.Data = OK, TokenData{Type: "static"}
	fd.Summary = "accepted (a private-app token or service key: HubSpot gives no token information for those, so scopes are probed with reads)"
	return fd
}

// ScopeResult is one scope need and whether the token meets it.
type ScopeResult struct {
	// Scopes: any one of them will do.
	Scopes  []string `json:"scopes"`
	Purpose string   `json:"purpose"`
	// Required: without it provisioning fails (else a warning).
	Required bool `json:"required"`
	// Status is granted, missing, not verifiable (a write scope of a
	// token whose scopes HubSpot does not tell) or unknown (the read that
	// would tell failed otherwise).
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Scope statuses.
const (
	ScopeGranted      = "granted"
	ScopeMissing      = "missing"
	ScopeUnverifiable = "not verifiable"
	ScopeUnknown      = "unknown"
)

// ScopeData is the scopes check's figures.
type ScopeData struct {
	// Source is "token information" (an OAuth token's scopes, from
	// HubSpot) or "probes" (reads that need the scope).
	Source string `json:"source"`
	// Granted lists an OAuth token's scopes.
	Granted []string      `json:"granted,omitempty"`
	Needs   []ScopeResult `json:"needs"`
}

// scopeNeed is a scope the configuration needs and the read, if any,
// that proves it without writing.
type scopeNeed struct {
	scopes   []string
	purpose  string
	required bool
	probe    func(Facts) (read bool, err error)
}

func probeOf[T any](get func(Facts) Result[T]) func(Facts) (bool, error) {
	return func(f Facts) (bool, error) { r := get(f); return r.Read, r.Err }
}

// PaidRole is a mapped role that takes a paid seat: where the
// configuration names it, and HubSpot's name.
type PaidRole struct {
	Where string `json:"where"`
	Role  string `json:"role"`
}

// roleRefs lists the role references of the rules: where and what.
func roleRefs(r *provision.Rules) [][2]string {
	var refs [][2]string
	if r.DefaultRole != "" {
		refs = append(refs, [2]string{"default_role", r.DefaultRole})
	}
	if r.RestrictedRole != "" {
		refs = append(refs, [2]string{"restricted_role", r.RestrictedRole})
	}
	for i, rr := range r.Roles {
		refs = append(refs, [2]string{fmt.Sprintf("roles[%d]", i), rr.Role})
	}
	return refs
}

// paidRoles lists the mapped roles HubSpot marks requiresBillingWrite.
func paidRoles(s *Settings, roles []hubspot.Role) []PaidRole {
	cat := &provision.Catalog{Roles: roles}
	var out []PaidRole
	for _, ref := range roleRefs(&s.Rules) {
		if r, ok := cat.Role(ref[1]); ok && r.RequiresBillingWrite {
			out = append(out, PaidRole{Where: ref[0], Role: r.Name})
		}
	}
	return out
}

// needs lists the scopes the configuration needs (reference/hubspot-api.md,
// "Scopes"; the specs' security blocks).
func needs(s Settings, f Facts) []scopeNeed {
	ns := []scopeNeed{
		{scopes: []string{"settings.users.read", "crm.objects.users.read"}, purpose: "read users and roles", required: true,
			probe: probeOf(func(f Facts) Result[[]hubspot.User] { return f.Users })},
		{scopes: []string{"settings.users.write", "crm.objects.users.write"}, purpose: "create, change and remove users", required: true},
		{scopes: []string{"settings.users.teams.read"}, purpose: "read the team list", required: true,
			probe: probeOf(func(f Facts) Result[[]hubspot.Team] { return f.Teams })},
	}
	if s.ManageTeams {
		ns = append(ns, scopeNeed{scopes: []string{"settings.users.teams.write"}, purpose: "create, rename and delete teams (provisioning.manage_teams)", required: true})
	}
	if f.Roles.Err == nil && len(paidRoles(&s, f.Roles.Value)) > 0 {
		n := scopeNeed{scopes: []string{"settings.billing.write"}, purpose: "assign the mapped paid-seat roles", required: true}
		if f.Seats.Read { // the seats read needs this very scope
			n.probe = probeOf(func(f Facts) Result[[]hubspot.Seat] { return f.Seats })
		}
		ns = append(ns, n)
	}
	if s.profile() {
		ns = append(ns,
			scopeNeed{scopes: []string{"crm.objects.users.read"}, purpose: "read users-object records (profile.properties)", required: true,
				probe: probeOf(func(f Facts) Result[[]hubspot.Property] { return f.CRMProperties })},
			scopeNeed{scopes: []string{"crm.objects.users.write"}, purpose: "write profile attributes (profile.properties)", required: true})
	}
	ns = append(ns, scopeNeed{scopes: []string{"account-info.security.read"}, purpose: "read the login log for access reviews",
		probe: probeOf(func(f Facts) Result[[]hubspot.Login] { return f.Logins })})
	return ns
}

func scopeLabel(scopes []string) string {
	if len(scopes) == 1 {
		return scopes[0]
	}
	return scopes[0] + " (or " + strings.Join(scopes[1:], " or ") + ")"
}

func checkScopes(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckScopes}
	if f.Stopped != "" {
		fd.Status, fd.Summary = Warn, "not checked: "+f.Stopped
		return fd
	}
	data := ScopeData{Source: "probes"}
	var granted map[string]bool
	if f.oauth() {
		data.Source = "token information"
		data.Granted = slices.Sorted(slices.Values(f.TokenInfo.Value.Scopes))
		granted = map[string]bool{}
		for _, sc := range data.Granted {
			granted[sc] = true
		}
	}
	var missingReq, missingOpt, unverifiable, unknown []string
	for _, n := range needs(s, f) {
		res := ScopeResult{Scopes: n.scopes, Purpose: n.purpose, Required: n.required}
		read, err := false, error(nil)
		if n.probe != nil {
			read, err = n.probe(f)
		}
		var herr *hubspot.Error
		switch {
		case read && err == nil:
			res.Status = ScopeGranted
		case read && errors.As(err, &herr) && herr.StatusCode == http.StatusForbidden:
			res.Status = ScopeMissing
			if ms := herr.MissingScopes(); len(ms) > 0 {
				res.Detail = "HubSpot names the missing scope: " + strings.Join(ms, ", ")
			}
		case granted != nil:
			res.Status = ScopeMissing
			for _, sc := range n.scopes {
				if granted[sc] {
					res.Status = ScopeGranted
				}
			}
		case read:
			res.Status, res.Detail = ScopeUnknown, "the read that needs it failed: "+errText(err)
		default:
			res.Status = ScopeUnverifiable
		}
		label := scopeLabel(n.scopes)
		switch {
		case res.Status == ScopeMissing && n.required:
			missingReq = append(missingReq, label)
		case res.Status == ScopeMissing:
			missingOpt = append(missingOpt, label)
		case res.Status == ScopeUnverifiable:
			unverifiable = append(unverifiable, label)
		case res.Status == ScopeUnknown:
			unknown = append(unknown, label)
		}
		line := fmt.Sprintf("%s: %s — %s", res.Status, label, n.purpose)
		if !n.required {
			line += " (optional)"
		}
		if res.Detail != "" {
			line += "; " + res.Detail
		}
		fd.Details = append(fd.Details, line)
		data.Needs = append(data.Needs, res)
	}
	if len(unverifiable) > 0 {
		fd.Details = append(fd.Details, "HubSpot tells no private-app token's or service key's scopes, and a write scope shows only when writing, which a preflight never does: check them in the app's settings")
	}
	fd.Data = data
	var parts []string
	if len(missingReq) > 0 {
		parts = append(parts, "missing "+strings.Join(missingReq, ", "))
	}
	if len(missingOpt) > 0 {
		parts = append(parts, "missing "+strings.Join(missingOpt, ", ")+" (access reviews lack logins)")
	}
	if len(unknown) > 0 {
		parts = append(parts, "could not verify "+strings.Join(unknown, ", "))
	}
	if len(unverifiable) > 0 {
		parts = append(parts, "not verifiable with this token type: "+strings.Join(unverifiable, ", "))
	}
	switch {
	case len(missingReq) > 0:
		fd.Status = Fail
	case len(parts) > 0:
		fd.Status = Warn
	default:
		fd.Status, parts = OK, []string{"every needed scope is granted (" + data.Source + ")"}
	}
	fd.Summary = strings.Join(parts, "; ")
	return fd
}

// VersionResult is one configured API and whether it answers.
type VersionResult struct {
	API     string `json:"api"`
	Version string `json:"version"`
	Status  Status `json:"status"`
	Detail  string `json:"detail"`
}

// versionOutcome judges a read of a versioned path.
func versionOutcome[T any](f Facts, res Result[T]) (Status, string) {
	if !res.Read {
		return Warn, notRead(f, res)
	}
	if res.Err == nil {
		return OK, "answers"
	}
	switch st := status(res.Err); {
	case st == http.StatusForbidden:
		return OK, "answers (403 for missing scopes: see scopes)"
	case st == http.StatusUnauthorized:
		return Warn, "not checked: the token was refused"
	case st == http.StatusNotFound:
		return Fail, "unknown to HubSpot (404): " + errText(res.Err)
	case st == http.StatusTooManyRequests, errors.Is(res.Err, hubspot.ErrDailyLimit):
		return Warn, "not checked: rate limited: " + errText(res.Err)
	case st == 0:
		return Fail, "unreachable: " + errText(res.Err)
	default:
		return Fail, errText(res.Err)
	}
}

func checkVersions(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckAPIVersions}
	var rs []VersionResult
	addV := func(api, version string, st Status, detail string) {
		rs = append(rs, VersionResult{API: api, Version: version, Status: st, Detail: detail})
	}
	st, d := versionOutcome(f, f.Users)
	addV("users", s.APIVersion, st, d)
	if s.ManageTeams {
		st, d := versionOutcome(f, f.TeamsAPI)
		addV("teams", s.TeamsAPIVersion, st, d)
	}
	if s.profile() {
		crm := "2026-03"
		if s.APIVersion == hubspot.VersionV3 {
			crm = "v3"
		}
		st, d := versionOutcome(f, f.CRMProperties)
		addV("crm users object", crm, st, d)
	}
	fd.Status = OK
	var bad, good []string
	for _, v := range rs {
		fd.Details = append(fd.Details, fmt.Sprintf("%s API %s: %s", v.API, v.Version, v.Detail))
		if v.Status == OK {
			good = append(good, v.API+" "+v.Version)
		} else {
			bad = append(bad, v.API+" "+v.Version)
		}
		if v.Status == Fail || v.Status == Warn && fd.Status == OK {
			fd.Status = v.Status
		}
	}
	fd.Data = rs
	switch fd.Status {
	case OK:
		fd.Summary = strings.Join(good, ", ") + " answer"
	case Fail:
		fd.Summary = "failing: " + strings.Join(bad, ", ")
	default:
		fd.Summary = "not checked: " + strings.Join(bad, ", ")
	}
	return fd
}

// MappingData is the roles or teams check's figures.
type MappingData struct {
	// Mapped are the references of the configuration.
	Mapped []string `json:"mapped"`
	// Available are HubSpot's names, sorted.
	Available []string `json:"available"`
	Problems  []string `json:"problems,omitempty"`
}

func checkRoles(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckRoles}
	rules := provision.Rules{DefaultRole: s.Rules.DefaultRole, Policy: provision.Policy{RestrictedRole: s.Rules.RestrictedRole}, Roles: s.Rules.Roles}
	var mapped []string
	for _, ref := range roleRefs(&rules) {
		mapped = append(mapped, ref[1])
	}
	if f.Roles.Err != nil || !f.Roles.Read {
		fd.Status, fd.Summary = Warn, notRead(f, f.Roles)
		return fd
	}
	names := make([]string, 0, len(f.Roles.Value))
	for _, r := range f.Roles.Value {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	data := MappingData{Mapped: mapped, Available: names}
	for _, err := range rules.Check(&provision.Catalog{Roles: f.Roles.Value}) {
		data.Problems = append(data.Problems, err.Error())
	}
	fd.Data, fd.Details = data, data.Problems
	switch {
	case len(data.Problems) > 0:
		fd.Status, fd.Summary = Fail, fmt.Sprintf("%d mapped role(s) unknown to HubSpot", len(data.Problems))
	case len(mapped) == 0:
		fd.Status, fd.Summary = OK, fmt.Sprintf("no role mapped (users get HubSpot's default permissions); HubSpot has %d roles", len(names))
	default:
		fd.Status, fd.Summary = OK, fmt.Sprintf("every mapped role exists (%s)", strings.Join(uniq(mapped), ", "))
	}
	return fd
}

func checkTeams(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckTeams}
	rules := provision.Rules{Teams: s.Rules.Teams}
	var mapped []string
	for _, t := range rules.Teams {
		mapped = append(mapped, t.Team)
	}
	if f.Teams.Err != nil || !f.Teams.Read {
		fd.Status, fd.Summary = Warn, notRead(f, f.Teams)
		return fd
	}
	names := make([]string, 0, len(f.Teams.Value))
	for _, t := range f.Teams.Value {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	data := MappingData{Mapped: mapped, Available: names}
	for _, err := range rules.Check(&provision.Catalog{Teams: f.Teams.Value}) {
		data.Problems = append(data.Problems, err.Error())
	}
	fd.Data, fd.Details = data, data.Problems
	byName := ""
	if s.Rules.TeamsByGroupName == nil || *s.Rules.TeamsByGroupName {
		byName = "; groups named like one of HubSpot's teams map to it"
	}
	switch {
	case len(data.Problems) > 0:
		fd.Status, fd.Summary = Fail, fmt.Sprintf("%d mapped team(s) unknown to HubSpot", len(data.Problems))
	case len(mapped) == 0:
		fd.Status, fd.Summary = OK, fmt.Sprintf("no team rule; HubSpot has %d teams%s", len(names), byName)
	default:
		fd.Status, fd.Summary = OK, fmt.Sprintf("every mapped team exists (%s)%s", strings.Join(uniq(mapped), ", "), byName)
	}
	return fd
}

// ProfileData is the profile check's figures.
type ProfileData struct {
	Properties []string `json:"properties"`
	Missing    []string `json:"missing,omitempty"`
	ReadOnly   []string `json:"readOnly,omitempty"`
}

func checkProfile(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckProfile}
	if f.CRMProperties.Err != nil || !f.CRMProperties.Read {
		fd.Status, fd.Summary = Warn, notRead(f, f.CRMProperties)
		return fd
	}
	byName := map[string]hubspot.Property{}
	for _, p := range f.CRMProperties.Value {
		byName[p.Name] = p
	}
	data := ProfileData{Properties: s.ProfileProperties}
	for _, n := range s.ProfileProperties {
		switch p, ok := byName[n]; {
		case !ok:
			data.Missing = append(data.Missing, n)
			fd.Details = append(fd.Details, fmt.Sprintf("HubSpot's users object has no property %q: create it (Settings → Properties → User properties, internal name %s) or change profile.properties", n, n))
		case p.ReadOnly:
			data.ReadOnly = append(data.ReadOnly, n)
			fd.Details = append(fd.Details, fmt.Sprintf("the users-object property %q is read-only in HubSpot: map the attribute to another property", n))
		}
	}
	fd.Data = data
	if len(fd.Details) > 0 {
		// The engine refuses (parks as failed) every user whose profile
		// it cannot write: that blocks provisioning.
		fd.Status = Fail
		fd.Summary = fmt.Sprintf("%d of %d profile properties cannot be written: profile updates of every user would be refused", len(data.Missing)+len(data.ReadOnly), len(s.ProfileProperties))
		return fd
	}
	fd.Status, fd.Summary = OK, "every profile property exists and is writable ("+strings.Join(s.ProfileProperties, ", ")+")"
	return fd
}

// SeatData is the paid-seats check's figures.
type SeatData struct {
	// PaidRoles are the mapped roles that take a paid seat.
	PaidRoles []PaidRole `json:"paidRoles"`
	// SeatsReported: HubSpot said how many seats are free (Seats).
	SeatsReported bool           `json:"seatsReported"`
	Seats         []hubspot.Seat `json:"seats,omitempty"`
}

func checkPaidSeats(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckPaidSeats}
	if f.Roles.Err != nil || !f.Roles.Read {
		fd.Status, fd.Summary = Warn, notRead(f, f.Roles)
		return fd
	}
	data := SeatData{PaidRoles: paidRoles(&s, f.Roles.Value)}
	fd.Status = OK
	if len(data.PaidRoles) == 0 {
		fd.Summary = "no mapped role takes a paid seat"
	} else {
		var rs []string
		for _, p := range data.PaidRoles {
			rs = append(rs, fmt.Sprintf("%s (%s)", p.Role, p.Where))
		}
		fd.Summary = fmt.Sprintf("%d mapped role(s) take a paid seat (requiresBillingWrite): %s", len(rs), strings.Join(rs, ", "))
	}
	switch {
	case s.APIVersion != hubspot.Version202609Beta:
		fd.Details = append(fd.Details, fmt.Sprintf("free seats: not reported by users API %s (only 2026-09-beta has GET …/seats)", s.APIVersion))
	case !f.Seats.Read:
		fd.Details = append(fd.Details, "free seats: "+notRead(f, f.Seats))
	case f.Seats.Err != nil:
		if status(f.Seats.Err) == http.StatusForbidden {
			fd.Details = append(fd.Details, "free seats: not readable without settings.billing.write")
		} else {
			fd.Details = append(fd.Details, "free seats: "+notRead(f, f.Seats))
		}
	default:
		data.SeatsReported, data.Seats = true, f.Seats.Value
		if len(f.Seats.Value) == 0 {
			fd.Details = append(fd.Details, "free seats: HubSpot lists no seats")
		}
		for _, seat := range f.Seats.Value {
			free := "free seats not said"
			if seat.RemainingSeats != nil {
				free = fmt.Sprintf("%d free", *seat.RemainingSeats)
				if *seat.RemainingSeats == 0 && len(data.PaidRoles) > 0 {
					fd.Status = Warn
				}
			}
			fd.Details = append(fd.Details, fmt.Sprintf("seat %s: %s", seat.Name, free))
		}
		if fd.Status == Warn {
			fd.Summary += "; some seats have none free: users given a paid-seat role may be refused"
		}
	}
	fd.Data = data
	return fd
}

// SuperAdminData is the super admins check's figures.
type SuperAdminData struct {
	Count  int      `json:"count"`
	Emails []string `json:"emails"`
}

func checkSuperAdmins(f Facts) Finding {
	fd := Finding{Check: CheckSuperAdmins}
	if f.Users.Err != nil || !f.Users.Read {
		fd.Status, fd.Summary = Warn, notRead(f, f.Users)
		return fd
	}
	data := SuperAdminData{Emails: []string{}}
	for _, u := range f.Users.Value {
		if u.SuperAdmin {
			data.Emails = append(data.Emails, u.Email)
		}
	}
	slices.SortFunc(data.Emails, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	data.Count = len(data.Emails)
	fd.Status, fd.Data, fd.Details = OK, data, data.Emails
	fd.Summary = fmt.Sprintf("%d super admin(s) among %d users: the bridge never changes or removes them", data.Count, len(f.Users.Value))
	return fd
}

// PortalData is the portal check's figures.
type PortalData struct {
	PortalID           int64  `json:"portalId"`
	AccountType        string `json:"accountType,omitempty"`
	TimeZone           string `json:"timeZone"`
	ConfiguredTimeZone string `json:"configuredTimeZone"`
}

func checkPortal(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckPortal}
	if f.Details.Err != nil || !f.Details.Read || f.Details.Value == nil {
		fd.Status, fd.Summary = Warn, notRead(f, f.Details)
		fd.Details = []string{"hubspot.time_zone (" + s.TimeZone + ") cannot be compared with the portal's"}
		return fd
	}
	d := f.Details.Value
	fd.Data = PortalData{PortalID: d.PortalID, AccountType: d.AccountType, TimeZone: d.TimeZone, ConfiguredTimeZone: s.TimeZone}
	what := fmt.Sprintf("portal %d", d.PortalID)
	if d.AccountType != "" {
		what += " (" + d.AccountType + ")"
	}
	if sameZone(s.TimeZone, d.TimeZone, s.Now) {
		fd.Status, fd.Summary = OK, fmt.Sprintf("%s, time zone %s as hubspot.time_zone", what, d.TimeZone)
		return fd
	}
	fd.Status = Warn
	fd.Summary = fmt.Sprintf("%s, time zone %s, but hubspot.time_zone is %s", what, d.TimeZone, s.TimeZone)
	fd.Details = []string{fmt.Sprintf("HubSpot resets the daily API budget at midnight %s: set hubspot.time_zone: %s", d.TimeZone, d.TimeZone)}
	return fd
}

// sameZone reports whether two time zone names agree: the same name, or
// zones with the same offsets over the coming year (aliases such as UTC
// and Etc/UTC).
func sameZone(a, b string, now time.Time) bool {
	if a == b {
		return true
	}
	la, errA := time.LoadLocation(a)
	lb, errB := time.LoadLocation(b)
	if errA != nil || errB != nil {
		return false
	}
	for d := range 53 {
		t := now.AddDate(0, 0, 7*d)
		_, oa := t.In(la).Zone()
		_, ob := t.In(lb).Zone()
		if oa != ob {
			return false
		}
	}
	return true
}

// UsageData is the API usage check's figures.
type UsageData struct {
	// Source is "api-usage" (HubSpot's daily usage read), "headers" (the
	// daily rate-limit headers) or "none".
	Source    string    `json:"source"`
	Used      int       `json:"used,omitempty"`
	Limit     int       `json:"limit,omitempty"`
	Remaining int       `json:"remaining,omitempty"`
	ResetsAt  time.Time `json:"resetsAt,omitzero"`
}

func checkUsage(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckAPIUsage}
	if f.Stopped != "" {
		fd.Status, fd.Summary = Warn, "not checked: "+f.Stopped
		return fd
	}
	if f.oauth() {
		fd.Status, fd.Data = OK, UsageData{Source: "none"}
		fd.Summary = "OAuth app: no daily limit (HubSpot sends no daily rate-limit headers to OAuth apps)"
		if s.DailyLimit > 0 {
			fd.Details = []string{fmt.Sprintf("hubspot.daily_limit is %d: -1 says the app has no daily budget", s.DailyLimit)}
		}
		return fd
	}
	var data UsageData
	var notes []string
	if f.Usage.Read && f.Usage.Err == nil {
		if u, ok := dailyUsage(f.Usage.Value); ok {
			data = UsageData{Source: "api-usage", Used: u.CurrentUsage, Limit: u.UsageLimit, Remaining: max(u.UsageLimit-u.CurrentUsage, 0), ResetsAt: u.ResetsAt}
			if u.FetchStatus != "" && u.FetchStatus != "SUCCESS" {
				notes = append(notes, fmt.Sprintf("HubSpot's figure is %s, collected at %s", u.FetchStatus, u.CollectedAt.Format(time.RFC3339)))
			}
		}
	} else if f.Usage.Read {
		notes = append(notes, "daily API usage "+notRead(f, f.Usage))
	}
	if data.Source == "" && f.Headers.DailySeen {
		data = UsageData{Source: "headers", Limit: f.Headers.Daily, Remaining: f.Headers.DailyRemaining, Used: max(f.Headers.Daily-f.Headers.DailyRemaining, 0)}
	}
	switch {
	case data.Source == "" && f.Usage.Read && f.Usage.Err == nil:
		data.Source = "none"
		fd.Status, fd.Summary = OK, "HubSpot reports no daily limit for the portal's private apps"
	case data.Source == "":
		data.Source = "none"
		fd.Status, fd.Summary = Warn, "today's API usage is unknown: no usage figures and no daily rate-limit headers"
	default:
		fd.Status = OK
		fd.Summary = fmt.Sprintf("%d of %d requests used today, %d left", data.Used, data.Limit, data.Remaining)
		if data.Source == "headers" {
			fd.Summary += " (from the X-HubSpot-RateLimit-Daily headers)"
		}
		if !data.ResetsAt.IsZero() {
			fd.Summary += fmt.Sprintf("; resets %s", data.ResetsAt.Format(time.RFC3339))
		}
		if data.Limit > 0 && data.Remaining*10 < data.Limit {
			fd.Status = Warn
			notes = append(notes, "less than 10% of the daily budget is left: the bridge pauses writes near the end of it until the reset")
		}
		if s.DailyLimit > 0 && data.Limit > 0 && s.DailyLimit != data.Limit {
			notes = append(notes, fmt.Sprintf("hubspot.daily_limit is %d, HubSpot's limit %d (the bridge follows HubSpot's headers once it sees them)", s.DailyLimit, data.Limit))
		}
	}
	fd.Data, fd.Details = data, notes
	return fd
}

// dailyUsage picks the daily limit among HubSpot's usage figures.
func dailyUsage(us []hubspot.APIUsage) (hubspot.APIUsage, bool) {
	for _, u := range us {
		if strings.Contains(strings.ToLower(u.Name), "daily") {
			return u, true
		}
	}
	if len(us) > 0 {
		return us[0], true
	}
	return hubspot.APIUsage{}, false
}

func checkRateLimits(s Settings, f Facts) Finding {
	fd := Finding{Check: CheckRateLimits, Data: f.Headers}
	h := f.Headers
	if !h.Seen && !h.DailySeen {
		fd.Status, fd.Summary = Warn, "no X-HubSpot-RateLimit-* headers seen"
		if f.Stopped != "" {
			fd.Summary += " (" + f.Stopped + ")"
		}
		return fd
	}
	fd.Status = OK
	var parts []string
	if h.Seen {
		iv := time.Duration(h.IntervalMilliseconds) * time.Millisecond
		parts = append(parts, fmt.Sprintf("%d requests per %s, %d left in the window", h.Max, iv, h.Remaining))
		if s.RateLimit > 0 && (s.RateLimit != h.Max || s.RateInterval != iv) {
			fd.Details = append(fd.Details, fmt.Sprintf("hubspot.rate_limit is %d per %s, HubSpot's %d per %s (the bridge follows HubSpot's headers)", s.RateLimit, s.RateInterval, h.Max, iv))
		}
	}
	switch {
	case h.DailySeen:
		parts = append(parts, fmt.Sprintf("daily %d, %d left", h.Daily, h.DailyRemaining))
	case f.oauth():
		parts = append(parts, "no daily headers (OAuth apps have no daily limit)")
	default:
		parts = append(parts, "no daily headers (HubSpot leaves them out for OAuth apps only)")
	}
	fd.Summary = strings.Join(parts, "; ")
	return fd
}

// uniq keeps the first of equal strings, in order.
func uniq(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
