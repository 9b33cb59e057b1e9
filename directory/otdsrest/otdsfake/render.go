package otdsfake

import (
	"slices"
	"strings"
)

// attrValue is one entry of the "values" list shape.
type attrValue struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// wireObject is a user or group as OTDS sends it (pyxecm's get_users and
// get_groups examples).
type wireObject struct {
	NumMembers       *int                `json:"numMembers,omitempty"`
	UserPartitionID  string              `json:"userPartitionID"`
	Name             string              `json:"name"`
	Location         string              `json:"location"`
	ID               string              `json:"id"`
	Attributes       map[string][]string `json:"attributes"`
	Values           []attrValue         `json:"values"`
	CustomAttributes any                 `json:"customAttributes"`
	ObjectClass      string              `json:"objectClass"`
	UUID             string              `json:"uuid"`
	Description      *string             `json:"description"`
	OriginUUID       any                 `json:"originUUID"`
	URLID            string              `json:"urlId"`
	URLLocation      string              `json:"urlLocation"`
}

// fullAttrs is the object's attributes with the computed ones added.
func (s *Server) fullAttrs(o *object) map[string][]string {
	out := make(map[string][]string, len(o.attrs)+6)
	for k, v := range o.attrs {
		out[k] = slices.Clone(v)
	}
	setDefault := func(name string, v ...string) {
		if o.attr(name) == nil {
			out[name] = v
		}
	}
	setDefault("entryUUID", o.uuid)
	setDefault("entryDN", o.location())
	setDefault("cn", o.name)
	if o.kind == kindUser {
		setDefault("accountDisabled", "false")
	}
	for k := range out {
		if strings.EqualFold(k, "oTMemberOf") {
			delete(out, k) // computed from the memberships below
		}
	}
	// Assumption: an object in no group has no oTMemberOf at all (OTDS,
	// like LDAP, leaves out attributes without values).
	if s.cfg.MemberOfStyle != MemberOfOmitted && len(o.memberOf) > 0 {
		var dns []string
		for _, gid := range o.memberOf {
			g := s.st.objects[gid]
			if g == nil {
				continue
			}
			if s.cfg.MemberOfStyle == MemberOfLocation {
				dns = append(dns, g.location())
			} else {
				dns = append(dns, g.shortDN())
			}
		}
		if len(dns) > 0 {
			out["oTMemberOf"] = dns
		}
	}
	return out
}

func (s *Server) render(o *object, attrsAsKeys bool) wireObject {
	w := wireObject{
		UserPartitionID: o.partition,
		Name:            o.name,
		Location:        o.location(),
		ID:              o.id,
		ObjectClass:     o.objectClass(),
		UUID:            o.uuid,
		URLID:           o.id,
		URLLocation:     o.location(),
	}
	if o.description != "" {
		d := o.description
		w.Description = &d
	}
	if o.kind == kindGroup {
		n := s.st.numMembers(o.id)
		w.NumMembers = &n
	}
	attrs := s.fullAttrs(o)
	if attrsAsKeys && !s.cfg.IgnoreAttrsAsKeys {
		w.Attributes = attrs
		if o.kind == kindUser {
			w.Values = []attrValue{} // pyxecm's user example: "values": []
		}
		return w
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	w.Values = make([]attrValue, 0, len(names))
	for _, k := range names {
		w.Values = append(w.Values, attrValue{Name: k, Values: attrs[k]})
	}
	return w
}
