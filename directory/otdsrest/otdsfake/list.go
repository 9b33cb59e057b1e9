package otdsfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// listParams are the parameters a paged search was started with.
type listParams struct {
	kind      string
	partition string
	filter    string
	state     string
}

// cursor is a paged search under way: the matching ids, taken when the
// first page was asked for, and where the next page starts.
type cursor struct {
	params  listParams
	ids     []string
	offset  int
	expires time.Time
}

// list serves GET /users and GET /groups.
func (s *Server) list(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		attrsAsKeys, _ := strconv.ParseBool(q.Get("attrsAsKeys"))
		size := s.cfg.DefaultPageSize
		if v := q.Get("page_size"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				writeError(w, http.StatusBadRequest, 0, "Invalid page_size")
				return
			}
			size = n
		}
		size = min(size, s.cfg.MaxPageSize)
		p := listParams{kind: kind, partition: q.Get("where_partition_name"),
			filter: q.Get("where_filter"), state: q.Get("where_state")}

		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.cfg.Now()
		for k, c := range s.cursors {
			if !now.Before(c.expires) {
				delete(s.cursors, k)
			}
		}
		var c *cursor
		if ck := q.Get("next_page_cookie"); ck != "" {
			// Expired cookies were dropped above, so they are unknown too.
			c = s.cursors[ck]
			if c == nil {
				writeError(w, http.StatusBadRequest, 0, "Invalid or expired next_page_cookie")
				return
			}
			if c.params != p {
				writeError(w, http.StatusBadRequest, 0, "next_page_cookie does not belong to this search")
				return
			}
		} else {
			ids, status, msg := s.match(p)
			if status != 0 {
				writeError(w, status, 0, msg)
				return
			}
			c = &cursor{params: p, ids: ids}
		}
		end := min(c.offset+size, len(c.ids))
		items := make([]wireObject, 0, end-c.offset)
		for _, id := range c.ids[c.offset:end] {
			if o := s.st.objects[id]; o != nil { // deleted since the search began
				items = append(items, s.render(o, attrsAsKeys))
			}
		}
		var next any
		if s.cfg.CookieAsArray {
			next = []string{}
		}
		if end < len(c.ids) {
			ck := randomString(16)
			s.cursors[ck] = &cursor{params: p, ids: c.ids, offset: end, expires: now.Add(s.cfg.CookieLifetime)}
			next = ck
			if s.cfg.CookieAsArray {
				next = []string{ck}
			}
		}
		key := "users"
		if kind == kindGroup {
			key = "groups"
		}
		writeJSON(w, http.StatusOK, map[string]any{
			key:                 items,
			"actualPageSize":    len(items),
			"requestedPageSize": size,
			"nextPageCookie":    next,
		})
	}
}

// match lists the ids a new search finds, or an error status and message.
func (s *Server) match(p listParams) ([]string, int, string) {
	parts := s.st.parts
	if p.partition != "" {
		part := s.st.partition(p.partition)
		if part == nil {
			// Assumption: an unknown partition is an error, not an empty list.
			return nil, http.StatusNotFound, "Partition " + p.partition + " not found"
		}
		parts = []*partition{part}
	}
	switch p.state {
	case "", "enabled", "disabled":
	default:
		return nil, http.StatusBadRequest, "Invalid where_state"
	}
	f, ok := parseFilter(p.filter)
	if !ok {
		return nil, http.StatusBadRequest, "Invalid where_filter"
	}
	var ids []string
	for _, part := range parts {
		list := part.users
		if p.kind == kindGroup {
			list = part.groups
		}
		for _, id := range list {
			o := s.st.objects[id]
			if p.kind == kindUser && (p.state == "enabled" && o.disabled() || p.state == "disabled" && !o.disabled()) {
				continue
			}
			if f.matches(s, o) {
				ids = append(ids, id)
			}
		}
	}
	return ids, 0, ""
}

// filter is the subset of where_filter the fake understands: attr=value
// (attribute name without regard to case, value with * wildcards, compared
// without regard to case) or, without "=", a substring of the name.
// Assumption: OTDS's own filter syntax is richer and undocumented here.
type filter struct {
	attr, value string
}

func parseFilter(s string) (filter, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return filter{}, true
	}
	a, v, ok := strings.Cut(s, "=")
	if !ok {
		return filter{value: "*" + s + "*"}, true
	}
	a, v = strings.TrimSpace(a), strings.TrimSpace(v)
	if a == "" || strings.ContainsAny(a, "()&|!*") {
		return filter{}, false
	}
	return filter{attr: a, value: v}, true
}

func (f filter) matches(s *Server, o *object) bool {
	if f.value == "" && f.attr == "" {
		return true
	}
	if f.attr == "" || strings.EqualFold(f.attr, "name") {
		return glob(f.value, o.name)
	}
	for k, vs := range s.fullAttrs(o) {
		if !strings.EqualFold(k, f.attr) {
			continue
		}
		for _, v := range vs {
			if glob(f.value, v) {
				return true
			}
		}
	}
	return false
}

// glob matches s against a pattern whose * stand for any text, without
// regard to case.
func glob(pattern, s string) bool {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// one serves GET /users/{id} and GET /groups/{id}.
func (s *Server) one(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		attrsAsKeys, _ := strconv.ParseBool(r.URL.Query().Get("attrsAsKeys"))
		s.mu.Lock()
		defer s.mu.Unlock()
		o := s.st.objects[r.PathValue("id")]
		if o == nil || o.kind != kind {
			writeError(w, http.StatusNotFound, 0, "Object "+r.PathValue("id")+" not found")
			return
		}
		writeJSON(w, http.StatusOK, s.render(o, attrsAsKeys))
	}
}

// memberOf serves GET /users/{id}/memberof: {"groups":[…]}, the user's
// direct groups (pyxecm reads group["id"] from it).
// Assumption: direct memberships only, in one unpaged answer.
func (s *Server) memberOf(w http.ResponseWriter, r *http.Request) {
	attrsAsKeys, _ := strconv.ParseBool(r.URL.Query().Get("attrsAsKeys"))
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.objects[r.PathValue("id")]
	if o == nil || o.kind != kindUser {
		writeError(w, http.StatusNotFound, 0, "User "+r.PathValue("id")+" not found")
		return
	}
	groups := make([]wireObject, 0, len(o.memberOf))
	for _, gid := range o.memberOf {
		if g := s.st.objects[gid]; g != nil {
			groups = append(groups, s.render(g, attrsAsKeys))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": groups})
}
