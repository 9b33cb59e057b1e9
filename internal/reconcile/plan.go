package reconcile

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/scimbridge/scimbridge/schemas"
)

// Operation kinds of a plan.
const (
	OpCreate     = "create"
	OpUpdate     = "update"
	OpDeactivate = "deactivate"
	OpDelete     = "delete"
	OpAdopt      = "adopt"
)

// Reasons a user is deprovisioned.
const (
	ReasonDisabled   = "disabled in the directory"
	ReasonOutOfScope = "left the provisioning scope"
	ReasonRemoved    = "removed from the directory"
)

// UserOp is one planned user change.
type UserOp struct {
	Op         string `json:"op"`
	ExternalID string `json:"externalId"`
	// ID is the bridge's user id ("" for creates).
	ID       string `json:"id,omitempty"`
	UserName string `json:"userName"`
	Reason   string `json:"reason,omitempty"`
	// WasActive: the user had access before the change (a delete of an
	// already inactive user takes nobody's access away).
	WasActive bool `json:"-"`
	// Changes lists the attributes that differ, old → new.
	Changes []Change `json:"changes,omitempty"`
	// Desired is the user as it should be stored (creates, updates,
	// adoptions), with the manager to resolve by ManagerExternalID.
	Desired           *schemas.User `json:"-"`
	ManagerExternalID string        `json:"-"`
}

// Change is one attribute's difference.
type Change struct {
	Attribute string `json:"attribute"`
	Old       any    `json:"old,omitempty"`
	New       any    `json:"new,omitempty"`
}

// GroupOp is one planned group change.
type GroupOp struct {
	Op         string `json:"op"`
	ExternalID string `json:"externalId"`
	ID         string `json:"id,omitempty"`
	Name       string `json:"name"`
	OldName    string `json:"oldName,omitempty"`
	// Members are the external ids of the group's users as they should be.
	Members []string `json:"-"`
	Added   int      `json:"added,omitempty"`
	Removed int      `json:"removed,omitempty"`
}

// Plan is what a run would change.
type Plan struct {
	Full bool `json:"full"`
	// Managed is the number of active users the directory owns now.
	Managed   int       `json:"managed"`
	Users     []UserOp  `json:"users,omitempty"`
	Groups    []GroupOp `json:"groups,omitempty"`
	Conflicts []string  `json:"conflicts,omitempty"`
	Skipped   []string  `json:"skipped,omitempty"`
}

// Deprovisions counts the users the plan would take access from.
func (p *Plan) Deprovisions() int {
	n := 0
	for _, u := range p.Users {
		if u.Op == OpDeactivate || (u.Op == OpDelete && u.WasActive) {
			n++
		}
	}
	return n
}

// Counts summarises the plan by kind.
func (p *Plan) Counts() map[string]int {
	c := map[string]int{}
	for _, u := range p.Users {
		c["users_"+u.Op]++
	}
	for _, g := range p.Groups {
		c["groups_"+g.Op]++
	}
	if len(p.Conflicts) > 0 {
		c["conflicts"] = len(p.Conflicts)
	}
	if len(p.Skipped) > 0 {
		c["skipped"] = len(p.Skipped)
	}
	return c
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Users) == 0 && len(p.Groups) == 0 }

// Current is the store's side: every user in compact form, every group
// with members, and a way to read a full user back. Holding 100,000 full
// users in memory costs ~100 MB; the compact form is a tenth of that, and
// only the users whose controlled attributes differ are read in full.
type Current struct {
	Users  []*CurrentUser
	Groups []*schemas.Group
	// Load reads a full user by id.
	Load func(id string) (*schemas.User, error)
}

// CurrentUser is what the plan needs to know of a bridge user up front.
type CurrentUser struct {
	ID, ExternalID, UserName, Origin string
	Active                           bool
	// Sum is a digest of the attributes the directory controls, manager
	// left out; ManagerID is the manager's bridge id.
	Sum       [sha256.Size]byte
	ManagerID string
}

// Compact makes the compact form of a bridge user.
func Compact(u *schemas.User) *CurrentUser {
	c := &CurrentUser{ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName, Origin: u.Origin, Active: u.IsActive(), Sum: controlledSum(u)}
	if u.Enterprise != nil && u.Enterprise.Manager != nil {
		c.ManagerID = u.Enterprise.Manager.Value
	}
	return c
}

// CurrentOf builds a Current from full users (tests, small stores).
func CurrentOf(users []*schemas.User, groups []*schemas.Group) *Current {
	c := &Current{Groups: groups}
	byID := map[string]*schemas.User{}
	for _, u := range users {
		c.Users = append(c.Users, Compact(u))
		byID[u.ID] = u
	}
	c.Load = func(id string) (*schemas.User, error) {
		if u := byID[id]; u != nil {
			return u, nil
		}
		return nil, schemas.Errorf(schemas.ENOTFOUND, "user %s not found", id)
	}
	return c
}

// projection holds the attributes the directory mapping writes.
type projection struct {
	UserName     string                 `json:"u"`
	ExternalID   string                 `json:"x"`
	Name         *schemas.Name          `json:"n,omitempty"`
	DisplayName  string                 `json:"d,omitempty"`
	Title        string                 `json:"t,omitempty"`
	Emails       []schemas.MultiValue   `json:"e,omitempty"`
	PhoneNumbers []schemas.MultiValue   `json:"p,omitempty"`
	Addresses    []schemas.Address      `json:"a,omitempty"`
	Active       bool                   `json:"ac"`
	Enterprise   *schemas.EnterpriseExt `json:"en,omitempty"`
}

func controlledSum(u *schemas.User) [sha256.Size]byte {
	p := projection{UserName: u.UserName, ExternalID: u.ExternalID, Name: u.Name, DisplayName: u.DisplayName, Title: u.Title,
		Emails: u.Emails, PhoneNumbers: u.PhoneNumbers, Addresses: u.Addresses, Active: u.IsActive(), Enterprise: u.Enterprise}
	if p.Enterprise != nil && p.Enterprise.Manager != nil {
		e := *p.Enterprise
		e.Manager = nil // compared by id, separately
		if e == (schemas.EnterpriseExt{}) {
			p.Enterprise = nil
		} else {
			p.Enterprise = &e
		}
	}
	data, _ := json.Marshal(&p)
	return sha256.Sum256(data)
}

// PlanInput is everything a plan depends on.
type PlanInput struct {
	Model *Model
	// Full: every directory user and group was read, so resources the
	// directory owns that are missing from it are removals. Incremental
	// plans only look at ChangedUsers and ChangedGroups (external ids).
	Full          bool
	ChangedUsers  []string
	ChangedGroups []string
	Current       *Current
	Config        Config
	Skipped       []string
}

// BuildPlan compares the directory with the store. It is pure: same
// inputs, same plan.
func BuildPlan(in PlanInput) *Plan {
	p := &Plan{Full: in.Full, Skipped: in.Skipped}
	cur := indexCurrent(in.Current)
	for _, u := range in.Current.Users {
		if u.Origin == schemas.OriginDirectory && u.Active {
			p.Managed++
		}
	}
	member := in.Model.memberships(in.Config.NestedGroups)

	// Users, in external-id order for a stable plan.
	consider := in.ChangedUsers
	if in.Full {
		consider = sortedKeys(in.Model.Users)
	}
	// An incremental run also re-checks the members of changed groups: a
	// membership can move a user in or out of scope.
	if !in.Full {
		seen := map[string]bool{}
		for _, id := range consider {
			seen[id] = true
		}
		for _, gid := range in.ChangedGroups {
			for uid, gs := range member {
				if slices.Contains(gs, gid) && !seen[uid] {
					seen[uid] = true
					consider = append(consider, uid)
				}
			}
		}
		sort.Strings(consider)
	}
	// Users this run will create, so managers among them can be pointed to.
	creating := map[string]bool{}
	for _, ext := range consider {
		du := in.Model.Users[ext]
		if du != nil && du.Active && cur.byExt[ext] == nil && cur.byUserName[foldUser(du.UserName)] == nil &&
			in.Model.inScope(member[ext], in.Config.ScopeGroups) {
			creating[ext] = true
		}
	}
	planned := map[string]bool{}
	for _, ext := range consider {
		du := in.Model.Users[ext]
		if du == nil {
			continue
		}
		planned[ext] = true
		scoped := in.Model.inScope(member[ext], in.Config.ScopeGroups)
		existing, owned, conflict := cur.match(ext, du.UserName, in.Config.Adopt)
		if conflict != "" {
			p.Conflicts = append(p.Conflicts, conflict)
			continue
		}
		if !scoped {
			if existing != nil && owned && existing.Active {
				p.Users = append(p.Users, UserOp{Op: OpDeactivate, ExternalID: ext, ID: existing.ID, UserName: existing.UserName, Reason: ReasonOutOfScope,
					Changes: []Change{{Attribute: "active", Old: true, New: false}}})
			}
			continue
		}
		// The manager: a bridge user, one this run creates (its id is set
		// by the apply), or nobody the bridge knows (no manager then).
		mgrExt, mgrID, pending := in.Model.managerExternalID(du), "", false
		switch {
		case mgrExt == "":
		case cur.byExt[mgrExt] != nil:
			mgrID = cur.byExt[mgrExt].ID
		case creating[mgrExt]:
			pending = true
		default:
			mgrExt = ""
		}
		if existing != nil && owned && !pending && existing.Sum == du.Sum && existing.ManagerID == mgrID {
			continue // nothing the directory controls differs
		}
		if existing == nil && !du.Active {
			continue // never create a disabled user
		}
		var desired schemas.User
		var err error
		if du.Stored() && existing != nil {
			// Same controlled attributes as stored: only the manager moved.
			var full *schemas.User
			if full, err = in.Current.Load(existing.ID); err == nil {
				desired = *full
				desired.Origin, desired.Groups, desired.HubSpot = "", nil, nil
			}
		} else {
			desired, err = du.Resource()
		}
		if err != nil {
			p.Conflicts = append(p.Conflicts, fmt.Sprintf("user %s (%s): %v", du.UserName, ext, err))
			continue
		}
		if mgrExt != "" {
			desired.Enterprise = withManager(desired.Enterprise, mgrID)
		} else if desired.Enterprise != nil {
			e := *desired.Enterprise
			e.Manager = nil
			desired.Enterprise = &e
		}
		if existing == nil {
			d := desired
			d.Origin = schemas.OriginDirectory
			p.Users = append(p.Users, UserOp{Op: OpCreate, ExternalID: ext, UserName: d.UserName, Desired: &d, ManagerExternalID: mgrExt})
			continue
		}
		full, err := in.Current.Load(existing.ID)
		if err != nil {
			p.Conflicts = append(p.Conflicts, fmt.Sprintf("user %s (%s): reading the bridge user: %v", du.UserName, ext, err))
			cur.conflicted[ext] = struct{}{}
			continue
		}
		next := merged(full, &desired)
		changes := diff(full, next)
		if mgrExt != "" && next.Enterprise != nil && next.Enterprise.Manager != nil && next.Enterprise.Manager.Value == "" {
			// The manager is created in this run: the apply sets the id.
			changes = slices.DeleteFunc(changes, func(c Change) bool { return c.Attribute == schemas.EnterpriseURI+":manager" })
			changes = append(changes, Change{Attribute: schemas.EnterpriseURI + ":manager", New: "(created in this run)"})
		}
		switch {
		case !owned:
			next.Origin = schemas.OriginDirectory
			p.Users = append(p.Users, UserOp{Op: OpAdopt, ExternalID: ext, ID: existing.ID, UserName: next.UserName, Changes: changes, Desired: next, ManagerExternalID: mgrExt})
		case existing.Active && !next.IsActive():
			p.Users = append(p.Users, UserOp{Op: OpDeactivate, ExternalID: ext, ID: existing.ID, UserName: next.UserName, Reason: ReasonDisabled, Changes: changes, Desired: next, ManagerExternalID: mgrExt})
		case len(changes) > 0:
			p.Users = append(p.Users, UserOp{Op: OpUpdate, ExternalID: ext, ID: existing.ID, UserName: next.UserName, Changes: changes, Desired: next, ManagerExternalID: mgrExt})
		}
	}
	if in.Full {
		for _, u := range in.Current.Users {
			if u.Origin != schemas.OriginDirectory || u.ExternalID == "" || in.Model.Users[u.ExternalID] != nil {
				continue
			}
			p.Users = append(p.Users, UserOp{Op: OpDelete, ExternalID: u.ExternalID, ID: u.ID, UserName: u.UserName, Reason: ReasonRemoved, WasActive: u.Active})
		}
	}
	planGroups(p, in, cur, member)
	return p
}

// planGroups mirrors directory groups as bridge groups whose members are
// the in-scope users of the group.
func planGroups(p *Plan, in PlanInput, cur *currentIndex, member map[string][]string) {
	members := map[string][]string{} // group ext → user exts in scope
	for uid, gs := range member {
		du := in.Model.Users[uid]
		if du == nil || !in.Model.inScope(gs, in.Config.ScopeGroups) || !du.Active && cur.byExt[uid] == nil {
			continue
		}
		if _, conflicted := cur.conflicted[uid]; conflicted {
			continue
		}
		for _, g := range gs {
			members[g] = append(members[g], uid)
		}
	}
	consider := in.ChangedGroups
	if in.Full {
		consider = sortedKeys(in.Model.Groups)
	} else {
		// Groups of users whose membership may have changed.
		seen := map[string]bool{}
		for _, g := range consider {
			seen[g] = true
		}
		for _, u := range in.ChangedUsers {
			for _, g := range member[u] {
				if !seen[g] {
					seen[g] = true
					consider = append(consider, g)
				}
			}
		}
		sort.Strings(consider)
	}
	names := map[string]string{} // folded name → ext, to catch duplicates
	for _, ext := range sortedKeys(in.Model.Groups) {
		g := in.Model.Groups[ext]
		if other, ok := names[fold(g.Name)]; ok && other != ext {
			continue
		}
		names[fold(g.Name)] = ext
	}
	for _, ext := range consider {
		g := in.Model.Groups[ext]
		if g == nil {
			continue
		}
		if names[fold(g.Name)] != ext {
			p.Conflicts = append(p.Conflicts, fmt.Sprintf("group %q (%s): another directory group has the same name", g.Name, ext))
			continue
		}
		want := members[ext]
		sort.Strings(want)
		existing := cur.groupByExt[ext]
		if existing == nil {
			if e := cur.groupByName[fold(g.Name)]; e != nil {
				if e.Origin != schemas.OriginDirectory && !in.Config.Adopt {
					p.Conflicts = append(p.Conflicts, fmt.Sprintf("group %q exists and belongs to a SCIM client; set reconcile.adopt to take it over", g.Name))
					continue
				}
				existing = e
			}
		}
		if existing == nil {
			p.Groups = append(p.Groups, GroupOp{Op: OpCreate, ExternalID: ext, Name: g.Name, Members: want, Added: len(want)})
			continue
		}
		have := cur.memberExts(existing)
		added, removed := setDiff(want, have)
		op := OpUpdate
		if existing.Origin != schemas.OriginDirectory {
			op = OpAdopt
		}
		if op == OpAdopt || existing.DisplayName != g.Name || added > 0 || removed > 0 || existing.ExternalID != ext {
			gop := GroupOp{Op: op, ExternalID: ext, ID: existing.ID, Name: g.Name, Members: want, Added: added, Removed: removed}
			if existing.DisplayName != g.Name {
				gop.OldName = existing.DisplayName
			}
			p.Groups = append(p.Groups, gop)
		}
	}
	if in.Full {
		for _, g := range in.Current.Groups {
			if g.Origin == schemas.OriginDirectory && g.ExternalID != "" && in.Model.Groups[g.ExternalID] == nil {
				p.Groups = append(p.Groups, GroupOp{Op: OpDelete, ExternalID: g.ExternalID, ID: g.ID, Name: g.DisplayName})
			}
		}
	}
}

// currentIndex finds store resources by external id and name.
type currentIndex struct {
	byExt       map[string]*CurrentUser
	byUserName  map[string]*CurrentUser
	byID        map[string]*CurrentUser
	groupByExt  map[string]*schemas.Group
	groupByName map[string]*schemas.Group
	conflicted  map[string]struct{}
}

func indexCurrent(c *Current) *currentIndex {
	x := &currentIndex{
		byExt: map[string]*CurrentUser{}, byUserName: map[string]*CurrentUser{}, byID: map[string]*CurrentUser{},
		groupByExt: map[string]*schemas.Group{}, groupByName: map[string]*schemas.Group{}, conflicted: map[string]struct{}{},
	}
	for _, u := range c.Users {
		if u.ExternalID != "" {
			if prev := x.byExt[u.ExternalID]; prev == nil || u.Origin == schemas.OriginDirectory {
				x.byExt[u.ExternalID] = u
			}
		}
		x.byUserName[foldUser(u.UserName)] = u
		x.byID[u.ID] = u
	}
	for _, g := range c.Groups {
		if g.ExternalID != "" && g.Origin == schemas.OriginDirectory {
			x.groupByExt[g.ExternalID] = g
		}
		x.groupByName[fold(g.DisplayName)] = g
	}
	return x
}

// match finds the bridge user for a directory user: owned by external id;
// else a SCIM-pushed one by external id, then userName, when adopting.
// A userName taken by a resource that cannot be adopted is a conflict.
func (x *currentIndex) match(ext, userName string, adopt bool) (u *CurrentUser, owned bool, conflict string) {
	if u := x.byExt[ext]; u != nil {
		if u.Origin == schemas.OriginDirectory {
			return u, true, ""
		}
		if adopt {
			return u, false, ""
		}
		x.conflicted[ext] = struct{}{}
		return nil, false, fmt.Sprintf("user %s (%s) was pushed by a SCIM client; set reconcile.adopt to take it over", userName, ext)
	}
	if u := x.byUserName[foldUser(userName)]; u != nil {
		if adopt && u.Origin != schemas.OriginDirectory {
			return u, false, ""
		}
		x.conflicted[ext] = struct{}{}
		return nil, false, fmt.Sprintf("user %s (%s): the userName is taken by bridge user %s (%s)", userName, ext, u.ID, originName(u.Origin))
	}
	return nil, false, ""
}

func originName(o string) string {
	if o == schemas.OriginDirectory {
		return "another directory entry"
	}
	return "a SCIM client"
}

// memberExts lists a group's user members by external id (members the
// directory does not know are listed by bridge id, so they are removed).
func (x *currentIndex) memberExts(g *schemas.Group) []string {
	out := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		if m.Type == schemas.MemberGroup {
			continue
		}
		if u := x.byID[m.Value]; u != nil && u.ExternalID != "" {
			out = append(out, u.ExternalID)
		} else {
			out = append(out, "id:"+m.Value)
		}
	}
	sort.Strings(out)
	return out
}

func setDiff(want, have []string) (added, removed int) {
	h := map[string]bool{}
	for _, v := range have {
		h[v] = true
	}
	w := map[string]bool{}
	for _, v := range want {
		w[v] = true
		if !h[v] {
			added++
		}
	}
	for _, v := range have {
		if !w[v] {
			removed++
		}
	}
	return added, removed
}

func withManager(e *schemas.EnterpriseExt, id string) *schemas.EnterpriseExt {
	c := schemas.EnterpriseExt{}
	if e != nil {
		c = *e
	}
	c.Manager = &schemas.Manager{Value: id}
	return &c
}

// merged is the existing user with the attributes the directory controls
// replaced by the directory's; others (roles, locale, …) are kept.
func merged(existing, desired *schemas.User) *schemas.User {
	n := *existing
	n.Groups, n.HubSpot = nil, nil
	n.UserName, n.ExternalID = desired.UserName, desired.ExternalID
	n.Name, n.DisplayName, n.Title = desired.Name, desired.DisplayName, desired.Title
	n.Emails, n.PhoneNumbers, n.Addresses = desired.Emails, desired.PhoneNumbers, desired.Addresses
	n.Active, n.Enterprise = desired.Active, desired.Enterprise
	if n.Enterprise != nil && n.Enterprise.Manager != nil && n.Enterprise.Manager.Value == "" &&
		existing.Enterprise != nil && existing.Enterprise.Manager != nil {
		// Keep the current manager until the new one exists.
		m := *existing.Enterprise.Manager
		e := *n.Enterprise
		e.Manager = &m
		n.Enterprise = &e
	}
	return &n
}

// controlled are the attributes the directory mapping writes.
var controlled = []string{"userName", "externalId", "name", "displayName", "title", "emails", "phoneNumbers", "addresses", "active", schemas.EnterpriseURI}

// diff lists the controlled attributes that differ between two users.
func diff(a, b *schemas.User) []Change {
	am, bm := asMap(a), asMap(b)
	var out []Change
	for _, k := range controlled {
		if k == schemas.EnterpriseURI {
			ae, _ := am[k].(map[string]any)
			be, _ := bm[k].(map[string]any)
			for _, sk := range sortedKeys(union(ae, be)) {
				if !reflect.DeepEqual(ae[sk], be[sk]) {
					out = append(out, Change{Attribute: k + ":" + sk, Old: ae[sk], New: be[sk]})
				}
			}
			continue
		}
		if !reflect.DeepEqual(am[k], bm[k]) {
			out = append(out, Change{Attribute: k, Old: am[k], New: bm[k]})
		}
	}
	return out
}

func asMap(u *schemas.User) map[string]any {
	c := *u
	c.ID, c.Groups, c.HubSpot = "", nil, nil
	if c.Enterprise != nil && c.Enterprise.Manager != nil {
		e := *c.Enterprise
		m := *e.Manager
		m.Ref, m.DisplayName = "", ""
		e.Manager = &m
		c.Enterprise = &e
	}
	data, _ := json.Marshal(&c)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

func union(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
