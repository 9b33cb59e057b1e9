package otdsfake

import (
	"crypto/sha1"
	"fmt"
	"maps"
	"slices"
	"strings"
)

const (
	kindUser  = "user"
	kindGroup = "group"
)

// object is a stored user or group. memberOf holds group ids.
type object struct {
	kind        string
	id          string
	name        string
	uuid        string
	partition   string
	description string
	attrs       map[string][]string
	memberOf    []string
}

func (o *object) location() string {
	if o.kind == kindGroup {
		return "oTGroup=" + o.uuid + ",orgunit=groups,partition=" + o.partition + "," + suffix
	}
	return "oTPerson=" + o.uuid + ",orgunit=users,partition=" + o.partition + "," + suffix
}

func (o *object) shortDN() string {
	if o.kind == kindGroup {
		return "oTGroup=" + o.uuid + "," + suffix
	}
	return "oTPerson=" + o.uuid + "," + suffix
}

func (o *object) objectClass() string {
	if o.kind == kindGroup {
		return "oTGroup"
	}
	return "oTPerson"
}

// attr returns an attribute's values, the name matched without regard to case.
func (o *object) attr(name string) []string {
	for k, v := range o.attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func (o *object) disabled() bool {
	v := o.attr("accountDisabled")
	return len(v) > 0 && strings.EqualFold(v[0], "true")
}

// partition holds the ids of its objects in listing order.
type partition struct {
	name   string
	users  []string
	groups []string
}

// store is the directory. The Server's mutex guards it.
type store struct {
	parts   []*partition
	objects map[string]*object // by id, users and groups
}

func (st *store) partition(name string) *partition {
	for _, p := range st.parts {
		if p.name == name {
			return p
		}
	}
	return nil
}

func newStore(parts []Partition) (*store, error) {
	st := &store{objects: map[string]*object{}}
	for _, p := range parts {
		if p.Name == "" {
			return nil, fmt.Errorf("otdsfake: a partition has no name")
		}
		if st.partition(p.Name) != nil {
			return nil, fmt.Errorf("otdsfake: partition %q twice", p.Name)
		}
		st.parts = append(st.parts, &partition{name: p.Name})
	}
	// Groups first, so that memberships can be resolved.
	for _, p := range parts {
		for _, g := range p.Groups {
			if _, err := st.put(p.Name, kindGroup, g, false); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range parts {
		for _, g := range p.Groups {
			if err := st.setMemberOf(p.Name, kindGroup, g); err != nil {
				return nil, err
			}
		}
		for _, u := range p.Users {
			if _, err := st.put(p.Name, kindUser, u, false); err != nil {
				return nil, err
			}
			if err := st.setMemberOf(p.Name, kindUser, u); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func objectID(part string, o Object) string {
	if o.ID != "" {
		return o.ID
	}
	return o.Name + "@" + part
}

// put stores o (replacing an object with the same id when replace is set).
func (st *store) put(part, kind string, o Object, replace bool) (*object, error) {
	p := st.partition(part)
	if p == nil {
		return nil, fmt.Errorf("otdsfake: no partition %q", part)
	}
	if o.Name == "" {
		return nil, fmt.Errorf("otdsfake: a %s in %q has no name", kind, part)
	}
	id := objectID(part, o)
	old := st.objects[id]
	if old != nil && (!replace || old.kind != kind || old.partition != part) {
		return nil, fmt.Errorf("otdsfake: id %q is taken", id)
	}
	uuid := o.UUID
	if uuid == "" {
		if old != nil {
			uuid = old.uuid
		} else {
			uuid = derivedUUID(part + "\x00" + kind + "\x00" + o.Name)
		}
	}
	obj := &object{kind: kind, id: id, name: o.Name, uuid: uuid, partition: part,
		description: o.Description, attrs: maps.Clone(o.Attributes)}
	if obj.attrs == nil {
		obj.attrs = map[string][]string{}
	}
	for k, v := range obj.attrs {
		obj.attrs[k] = slices.Clone(v)
	}
	st.objects[id] = obj
	if old == nil {
		if kind == kindGroup {
			p.groups = append(p.groups, id)
		} else {
			p.users = append(p.users, id)
		}
	}
	return obj, nil
}

// setMemberOf resolves o.MemberOf (group ids, or group names in part).
func (st *store) setMemberOf(part, kind string, o Object) error {
	obj := st.objects[objectID(part, o)]
	obj.memberOf = nil
	for _, ref := range o.MemberOf {
		g := st.objects[ref]
		if g == nil || g.kind != kindGroup {
			g = st.objects[ref+"@"+part]
		}
		if g == nil || g.kind != kindGroup {
			return fmt.Errorf("otdsfake: %s %q: no group %q", kind, obj.id, ref)
		}
		if g.id == obj.id {
			return fmt.Errorf("otdsfake: group %q is a member of itself", obj.id)
		}
		if !slices.Contains(obj.memberOf, g.id) {
			obj.memberOf = append(obj.memberOf, g.id)
		}
	}
	return nil
}

// remove deletes an object and every membership in it.
func (st *store) remove(id string) bool {
	obj := st.objects[id]
	if obj == nil {
		return false
	}
	delete(st.objects, id)
	p := st.partition(obj.partition)
	p.users = slices.DeleteFunc(p.users, func(s string) bool { return s == id })
	p.groups = slices.DeleteFunc(p.groups, func(s string) bool { return s == id })
	for _, o := range st.objects {
		o.memberOf = slices.DeleteFunc(o.memberOf, func(s string) bool { return s == id })
	}
	return true
}

// derivedUUID makes a stable, UUID-shaped id from a seed.
func derivedUUID(seed string) string {
	h := sha1.Sum([]byte(seed))
	h[6] = h[6]&0x0f | 0x50 // version 5 layout
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// numMembers counts the direct members of a group.
func (st *store) numMembers(groupID string) int {
	n := 0
	for _, o := range st.objects {
		if slices.Contains(o.memberOf, groupID) {
			n++
		}
	}
	return n
}
