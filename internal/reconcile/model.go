package reconcile

import (
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/schemas"
)

// Model is the directory as the reconcile understands it: users and groups
// by external id, and how references (DNs, OTDS ids) resolve. A full read
// builds it; incremental polls patch it with what changed.
type Model struct {
	Users    map[string]*DirUser         // by external id
	Groups   map[string]*directory.Group // by external id
	userRef  map[string]string           // user Ref → external id
	groupRef map[string]string           // group Ref → external id
}

// NewModel indexes a full snapshot.
func NewModel(s *Snapshot) *Model {
	m := &Model{
		Users: make(map[string]*DirUser, len(s.Users)), Groups: make(map[string]*directory.Group, len(s.Groups)),
		userRef: make(map[string]string, len(s.Users)), groupRef: make(map[string]string, len(s.Groups)),
	}
	m.Merge(s)
	return m
}

// Merge adds or replaces the entries of a (changed-since) snapshot.
func (m *Model) Merge(s *Snapshot) {
	for _, u := range s.Users {
		if old := m.Users[u.ExternalID]; old != nil && old.Ref != u.Ref {
			delete(m.userRef, refKey(old.Ref))
		}
		m.Users[u.ExternalID] = u
		m.userRef[refKey(u.Ref)] = u.ExternalID
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		if old := m.Groups[g.ExternalID]; old != nil && old.Ref != g.Ref {
			delete(m.groupRef, refKey(old.Ref))
		}
		m.Groups[g.ExternalID] = g
		m.groupRef[refKey(g.Ref)] = g.ExternalID
	}
}

// refKey normalises a reference: DNs compare without regard to case.
func refKey(ref string) string { return strings.ToLower(strings.TrimSpace(ref)) }

// memberships computes, for every user, the groups they belong to (external
// ids): directly (a group's members or the user's memberOf) and, with
// nested, through sub-groups, with cycles cut.
func (m *Model) memberships(nested bool) map[string][]string {
	// A user is in a handful of groups: small slices with a linear
	// duplicate check cost far less memory than a set per user.
	direct := make(map[string][]string, len(m.Users))
	add := func(user, group string) {
		gs := direct[user]
		if !slices.Contains(gs, group) {
			direct[user] = append(gs, group)
		}
	}
	parents := map[string][]string{} // group → groups it is a member of
	for gid, g := range m.Groups {
		for _, ref := range g.Members {
			k := refKey(ref)
			if uid, ok := m.userRef[k]; ok {
				add(uid, gid)
			} else if sub, ok := m.groupRef[k]; ok && sub != gid {
				parents[sub] = append(parents[sub], gid)
			}
		}
	}
	for uid, u := range m.Users {
		for _, ref := range u.MemberOf {
			if gid, ok := m.groupRef[refKey(ref)]; ok {
				add(uid, gid)
			}
		}
	}
	for uid, gs := range direct {
		if nested && len(parents) > 0 {
			seen := map[string]bool{}
			var walk func(string)
			walk = func(g string) {
				if seen[g] {
					return // already seen: also cuts cycles
				}
				seen[g] = true
				for _, p := range parents[g] {
					walk(p)
				}
			}
			for _, g := range gs {
				walk(g)
			}
			gs = gs[:0]
			for g := range seen {
				gs = append(gs, g)
			}
		}
		slices.Sort(gs)
		direct[uid] = gs
	}
	return direct
}

// inScope reports whether a user belongs to one of the scope groups.
func (m *Model) inScope(groups []string, scope []string) bool {
	if len(scope) == 0 {
		return true
	}
	for _, gid := range groups {
		g := m.Groups[gid]
		if g == nil {
			continue
		}
		for _, s := range scope {
			if strings.EqualFold(g.Name, s) {
				return true
			}
		}
	}
	return false
}

// managerExternalID resolves a user's manager reference.
func (m *Model) managerExternalID(u *DirUser) string {
	if u.ManagerRef == "" {
		return ""
	}
	return m.userRef[refKey(u.ManagerRef)]
}

// fold compares names without regard to case.
func fold(s string) string { return schemas.Fold(s) }

// foldUser is how the store compares user names (PRECIS
// UsernameCaseMapped, RFC 8265): a directory name that differs from a
// bridge user's only by width, case or composition is that user.
func foldUser(s string) string { return schemas.UsernameFold(s) }
