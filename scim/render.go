package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// metaJSON is the rendered meta attribute (RFC 7643 §3.1). Timestamps keep
// the store's microseconds, writes and reads alike: a client filtering on
// meta.lastModified with the value it was shown finds the resource.
type metaJSON struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

type userJSON struct {
	Schemas []string `json:"schemas"`
	*schemas.User
	Meta metaJSON `json:"meta"`
}

type groupJSON struct {
	Schemas []string `json:"schemas"`
	*schemas.Group
	Meta metaJSON `json:"meta"`
}

func (s *Server) location(endpoint, id string) string {
	return s.cfg.BaseURL + endpoint + "/" + url.PathEscape(id)
}

func (s *Server) meta(resourceType, endpoint, id string, m schemas.Meta) metaJSON {
	return metaJSON{
		ResourceType: resourceType,
		Created:      m.Created.UTC().Format(time.RFC3339Nano),
		LastModified: m.LastModified.UTC().Format(time.RFC3339Nano),
		Location:     s.location(endpoint, id),
		Version:      m.ETag(),
	}
}

// fillUserRefs sets the $ref URIs the store leaves empty.
func (s *Server) fillUserRefs(u *schemas.User) {
	for i := range u.Groups {
		u.Groups[i].Ref = s.location("/Groups", u.Groups[i].Value)
	}
	if u.Enterprise != nil && u.Enterprise.Manager != nil && u.Enterprise.Manager.Value != "" {
		u.Enterprise.Manager.Ref = s.location("/Users", u.Enterprise.Manager.Value)
	}
}

func (s *Server) fillGroupRefs(g *schemas.Group) {
	for i, m := range g.Members {
		endpoint := "/Users"
		if m.Type == schemas.MemberGroup {
			endpoint = "/Groups"
		}
		g.Members[i].Ref = s.location(endpoint, m.Value)
	}
}

func (s *Server) userDoc(u *schemas.User) *userJSON {
	s.fillUserRefs(u)
	return &userJSON{Schemas: s.cat.Users.SchemaURIs(), User: u, Meta: s.meta("User", "/Users", u.ID, u.Meta)}
}

func (s *Server) groupDoc(g *schemas.Group) *groupJSON {
	s.fillGroupRefs(g)
	return &groupJSON{Schemas: s.cat.Groups.SchemaURIs(), Group: g, Meta: s.meta("Group", "/Groups", g.ID, g.Meta)}
}

// toMap turns a typed resource into its JSON-object form.
func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	err = d.Decode(&m)
	return m, err
}

func writeJSON(w http.ResponseWriter, status int, ctype string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"status":"error"}`)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
