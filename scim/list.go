package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/filter"
)

// listParams are the query parameters of RFC 7644 §3.4.2, from a GET query
// string or a POST /.search body (§3.4.3).
type listParams struct {
	Filter             string
	StartIndex         int
	Count              *int
	SortBy             string
	SortOrder          string
	Attributes         []string
	ExcludedAttributes []string
}

func queryParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{
		Filter:    q.Get("filter"),
		SortBy:    q.Get("sortBy"),
		SortOrder: q.Get("sortOrder"),
	}
	if v := q.Get("attributes"); v != "" {
		lp.Attributes = []string{v}
	}
	if v := q.Get("excludedAttributes"); v != "" {
		lp.ExcludedAttributes = []string{v}
	}
	for _, p := range []struct {
		name string
		dst  func(int)
	}{
		{"startIndex", func(n int) { lp.StartIndex = n }},
		{"count", func(n int) { lp.Count = &n }},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return lp, newError(http.StatusBadRequest, "invalidValue", p.name+" must be an integer.")
		}
		p.dst(n)
	}
	return lp, nil
}

// searchRequest is the body of POST /.search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

func (s *Server) searchParams(w http.ResponseWriter, r *http.Request) (listParams, error) {
	body, err := s.readBody(w, r)
	if err != nil {
		return listParams{}, err
	}
	var sr searchRequest
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&sr); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			// The member is there, with the wrong type: a bad value, said
			// in the request's terms rather than Go's.
			return listParams{}, newError(http.StatusBadRequest, "invalidValue", fmt.Sprintf("%s must be %s, not a JSON %s.", te.Field, searchFieldType(te.Field), te.Value))
		}
		return listParams{}, newError(http.StatusBadRequest, "invalidSyntax", "The search request must be a JSON object.")
	}
	if len(sr.Schemas) > 0 && !containsFold(sr.Schemas, schemas.SearchRequestURI) {
		return listParams{}, newError(http.StatusBadRequest, "invalidValue", "A search request's schemas must be ["+strconv.Quote(schemas.SearchRequestURI)+"].")
	}
	lp := listParams{
		Filter: sr.Filter, SortBy: sr.SortBy, SortOrder: sr.SortOrder, Count: sr.Count,
		Attributes: sr.Attributes, ExcludedAttributes: sr.ExcludedAttributes,
	}
	if sr.StartIndex != nil {
		lp.StartIndex = *sr.StartIndex
	}
	return lp, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// buildQuery validates list parameters into a store query.
func (s *Server) buildQuery(rt *schemas.ResourceType, lp listParams) (schemas.Query, *projection, error) {
	q := schemas.Query{StartIndex: max(lp.StartIndex, 1), Count: s.cfg.DefaultCount}
	if lp.Count != nil {
		q.Count = min(max(*lp.Count, 0), s.cfg.MaxResults)
	}
	if f := strings.TrimSpace(lp.Filter); f != "" {
		e, err := filter.Parse(f)
		if err != nil {
			return q, nil, newError(http.StatusBadRequest, "invalidFilter", err.Error())
		}
		if q.Filter, err = filter.Check(e, rt); err != nil {
			return q, nil, err
		}
	}
	if lp.SortBy != "" {
		ref, err := rt.ResolvePath(strings.TrimSpace(lp.SortBy))
		if err != nil {
			return q, nil, newError(http.StatusBadRequest, "invalidValue", "sortBy: "+err.Error())
		}
		if ref.Sub == nil && ref.Attr.Type == schemas.TypeComplex {
			if v := ref.Attr.Sub("value"); v != nil && ref.Attr.MultiValued {
				ref.Sub = v
			} else {
				return q, nil, newError(http.StatusBadRequest, "invalidValue", "sortBy: "+ref.Path()+" is complex; name a sub-attribute.")
			}
		}
		q.SortBy = &ref
	}
	switch strings.ToLower(lp.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, nil, newError(http.StatusBadRequest, "invalidValue", `sortOrder must be "ascending" or "descending".`)
	}
	return q, parseProjection(rt, lp.Attributes, lp.ExcludedAttributes), nil
}

// listBuffers recycles the buffers list responses are rendered into: a
// page of 100 users is about 100 KB, which would otherwise be allocated
// (and cleared) per request.
var listBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledList bounds the buffers kept for reuse, so that one huge
// response does not stay in memory.
const maxPooledList = 4 << 20

// writeList renders a ListResponse (RFC 7644 §3.4.2). itemsPerPage is the
// number of resources returned on this page.
func writeList(w http.ResponseWriter, total, startIndex int, resources []any) error {
	buf := listBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledList {
			buf.Reset()
			listBuffers.Put(buf)
		}
	}()
	buf.Grow(256 + 1024*len(resources))
	buf.WriteString(`{"schemas":["` + schemas.ListResponseURI + `"],"totalResults":`)
	buf.WriteString(strconv.Itoa(total))
	buf.WriteString(`,"itemsPerPage":`)
	buf.WriteString(strconv.Itoa(len(resources)))
	buf.WriteString(`,"startIndex":`)
	buf.WriteString(strconv.Itoa(startIndex))
	buf.WriteString(`,"Resources":[`)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for i, res := range resources {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteString("]}")
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// writeResource renders one resource with its ETag.
func writeResource(w http.ResponseWriter, status int, etag string, res any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"schemas":["` + schemas.ErrorURI + `"],"status":"500"}`)
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// searchFieldType names the JSON type a search request member takes.
func searchFieldType(field string) string {
	switch field {
	case "startIndex", "count":
		return "an integer"
	case "attributes", "excludedAttributes", "schemas":
		return "an array of strings"
	}
	return "a string"
}
