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
	Users    map[string]*directory.User  // by external id
	Groups   map[string]*directory.Group // by external id
	userRef  map[string]string           // user Ref → external id
	groupRef map[string]string           // group Ref → external id
}

// NewModel indexes a full snapshot.
func NewModel(s *Snapshot) *Model {
	m := &Model{
		Users: make(map[string]*directory.User, len(s.Users)), Groups: make(map[string]*directory.Group, len(s.Groups)),
		userRef: make(map[string]string, len(s.Users)), groupRef: make(map[string]string, len(s.Groups)),
	}
	m.Merge(s)
	return m
}

// Merge adds or replaces the entries of a (changed-since) snapshot.
func (m *Model) Merge(s *Snapshot) {
	for i := range s.Users {
		u := &s.Users[i]
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
	direct := map[string]map[string]bool{}
	add := func(user, group string) {
		if direct[user] == nil {
			direct[user] = map[string]bool{}
		}
		direct[user][group] = true
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
	out := make(map[string][]string, len(direct))
	for uid, gs := range direct {
		all := map[string]bool{}
		var walk func(string)
		walk = func(g string) {
			if all[g] {
				return // already seen: also cuts cycles
			}
			all[g] = true
			if nested {
				for _, p := range parents[g] {
					walk(p)
				}
			}
		}
		for g := range gs {
			walk(g)
		}
		list := make([]string, 0, len(all))
		for g := range all {
			list = append(list, g)
		}
		slices.Sort(list)
		out[uid] = list
	}
	return out
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
func (m *Model) managerExternalID(u *directory.User) string {
	if u.ManagerRef == "" {
		return ""
	}
	return m.userRef[refKey(u.ManagerRef)]
}

// fold compares names without regard to case.
func fold(s string) string { return schemas.Fold(s) }
