package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	libschema "github.com/elimity-com/scim/schema"
	"github.com/go-chi/chi/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

// discovery holds the /Schemas and /ResourceTypes documents (RFC 7643 §6,
// §7), rendered once from the catalog when the server starts: the schema
// documents as the elimity library renders the schemas it validates with
// (and, as it does, the definitions of the Schema, ResourceType and
// ServiceProviderConfig resources themselves), the resource types from the
// catalog's.
type discovery struct {
	schemas, resourceTypes []discoveryDoc
}

type discoveryDoc struct {
	id  string
	doc json.RawMessage
}

func newDiscovery(cat *schemas.Catalog, types ...*libType) (*discovery, error) {
	d := &discovery{}
	add := func(list *[]discoveryDoc, id string, v any) error {
		doc, err := json.Marshal(v)
		if err == nil {
			*list = append(*list, discoveryDoc{id: id, doc: doc})
		}
		return err
	}
	for _, s := range []libschema.Schema{libschema.Definition(), libschema.ResourceTypeSchema(), libschema.ServiceProviderConfigSchema()} {
		if err := add(&d.schemas, s.ID, s); err != nil {
			return nil, err
		}
	}
	descriptions := map[string]string{"User": "User Account", "Group": "Group"}
	for _, t := range types {
		for _, s := range append([]libschema.Schema{t.schema}, t.exts...) {
			if err := add(&d.schemas, s.ID, s); err != nil {
				return nil, err
			}
		}
		exts := make([]map[string]any, 0, len(t.rt.Extensions))
		for _, e := range t.rt.Extensions {
			exts = append(exts, map[string]any{"schema": e.ID, "required": false})
		}
		if err := add(&d.resourceTypes, t.rt.Name, map[string]any{
			"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":               t.rt.Name,
			"name":             t.rt.Name,
			"description":      descriptions[t.rt.Name],
			"endpoint":         t.rt.Endpoint,
			"schema":           t.rt.Core.ID,
			"schemaExtensions": exts,
		}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// discoveryList serves /Schemas and /ResourceTypes. itemsPerPage is the
// number of resources returned and Resources is an array, never null;
// startIndex and count page as the library did. A filter is refused with
// 403, as RFC 7644 §4 asks of discovery endpoints, so that no client
// believes it was applied.
func (s *Server) discoveryList(docs []discoveryDoc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("filter") {
			writeError(w, r, newError(http.StatusForbidden, "", "Discovery endpoints do not support filtering (RFC 7644 §4)."))
			return
		}
		startIndex, count, err := discoveryPage(q, s.cfg.MaxResults)
		if err != nil {
			writeError(w, r, err)
			return
		}
		start := min(startIndex-1, len(docs))
		end := start + min(count, len(docs)-start)
		resources := make([]json.RawMessage, 0, end-start)
		for _, d := range docs[start:end] {
			resources = append(resources, d.doc)
		}
		writeJSON(w, http.StatusOK, contentType, map[string]any{
			"schemas":      []string{schemas.ListResponseURI},
			"totalResults": len(docs),
			"itemsPerPage": len(resources),
			"startIndex":   startIndex,
			"Resources":    resources,
		})
	}
}

// discoveryPage reads startIndex and count: integers, count at most
// limit, out-of-range values clamped.
func discoveryPage(q url.Values, limit int) (startIndex, count int, err error) {
	var bad []string
	count, startIndex = limit, 1
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, "count")
		}
		count = n
	}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, "startIndex")
		}
		startIndex = n
	}
	switch len(bad) {
	case 0:
		return max(startIndex, 1), min(max(count, 0), limit), nil
	case 1:
		return 0, 0, newError(http.StatusBadRequest, "", "Bad Request. Invalid parameter provided in request: "+bad[0]+".")
	}
	return 0, 0, newError(http.StatusBadRequest, "", "Bad Request. Invalid parameters provided in request: "+strings.Join(bad, ", ")+".")
}

// discoveryItem serves /Schemas/{id} and /ResourceTypes/{id}.
func (s *Server) discoveryItem(docs []discoveryDoc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if u, err := url.PathUnescape(id); err == nil {
			id = u
		}
		for _, d := range docs {
			if d.id == id {
				w.Header().Set("Content-Type", contentType)
				w.Header().Set("Content-Length", strconv.Itoa(len(d.doc)))
				_, _ = w.Write(d.doc)
				return
			}
		}
		writeError(w, r, newError(http.StatusNotFound, "", "Resource "+id+" not found."))
	}
}
