package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	s.lib.ServeHTTP(rec, r)
	var list map[string]any
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &list) != nil {
		rec.copyTo(w)
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

// bufferedResponse holds a handler's response so it can be rewritten.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
