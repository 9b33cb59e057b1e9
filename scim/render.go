package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	lib "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"

	"github.com/scimbridge/scimbridge/schemas"
)

// metaJSON is the rendered meta attribute (RFC 7643 §3.1). Timestamps are
// whole seconds, as the elimity library renders them on writes, so a
// resource reads the same however it was fetched.
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

// fromMap fills a typed resource from its JSON-object form.
func fromMap(m map[string]any, v any) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// libResource converts a resource for the elimity library's renderer.
func libResource(id, externalID string, m schemas.Meta, v any) (lib.Resource, error) {
	attrs, err := toMap(v)
	if err != nil {
		return lib.Resource{}, err
	}
	delete(attrs, "id")
	delete(attrs, "externalId")
	created, modified := m.Created.UTC(), m.LastModified.UTC()
	res := lib.Resource{
		ID:         id,
		Attributes: attrs,
		Meta:       lib.Meta{Created: &created, LastModified: &modified, Version: m.ETag()},
	}
	if externalID != "" {
		res.ExternalID = optional.NewString(externalID)
	}
	return res, nil
}

func optString(s string) optional.String { return optional.NewString(s) }

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

func nopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
