package scim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
)

// discoveryList serves the /Schemas and /ResourceTypes lists through the
// library, then makes the list response tell the truth: itemsPerPage is
// the number of resources returned and Resources is an array, never null.
// A filter is refused with 403, as RFC 7644 §4 asks of discovery
// endpoints, so that no client believes it was applied.
func (s *Server) discoveryList(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("filter") {
		writeError(w, r, newError(http.StatusForbidden, "", "Discovery endpoints do not support filtering (RFC 7644 §4)."))
		return
	}
	rec := httptest.NewRecorder()
	s.lib.ServeHTTP(rec, r)
	var list map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	resources, _ := list["Resources"].([]any)
	if resources == nil {
		resources = []any{}
	}
	list["Resources"] = resources
	list["itemsPerPage"] = len(resources)
	writeJSON(w, http.StatusOK, contentType, list)
}
