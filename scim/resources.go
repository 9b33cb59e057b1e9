package scim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/scimbridge/scimbridge/schemas"
)

// resourceRoutes are the handlers of one resource type: the reads here,
// the writes in handlers.go.
type resourceRoutes struct {
	rt       *schemas.ResourceType
	endpoint string
	list     http.HandlerFunc
	search   http.HandlerFunc
	get      http.HandlerFunc
	create   http.HandlerFunc
	replace  http.HandlerFunc
	patch    http.HandlerFunc
	remove   http.HandlerFunc
}

// reader abstracts the two resource types for the shared read handlers.
type reader struct {
	rt      *schemas.ResourceType
	related string // the attribute read from other rows: groups / members
	get     func(ctx context.Context, id string, related bool) (doc any, version int64, err error)
	query   func(ctx context.Context, q schemas.Query) (total int, docs []any, err error)
}

func (s *Server) userRoutes() *resourceRoutes {
	return withWrites(s.userWrites(), s.routes("/Users", reader{
		rt: s.cat.Users, related: "groups",
		get: func(ctx context.Context, id string, related bool) (any, int64, error) {
			u, err := s.users.GetUser(ctx, id, related)
			if err != nil {
				return nil, 0, err
			}
			return s.userDoc(u), u.Meta.Version, nil
		},
		query: func(ctx context.Context, q schemas.Query) (int, []any, error) {
			total, users, err := s.users.QueryUsers(ctx, q)
			docs := make([]any, len(users))
			for i, u := range users {
				docs[i] = s.userDoc(u)
			}
			return total, docs, err
		},
	}))
}

func (s *Server) groupRoutes() *resourceRoutes {
	return withWrites(s.groupWrites(), s.routes("/Groups", reader{
		rt: s.cat.Groups, related: "members",
		get: func(ctx context.Context, id string, related bool) (any, int64, error) {
			g, err := s.groups.GetGroup(ctx, id, related)
			if err != nil {
				return nil, 0, err
			}
			return s.groupDoc(g), g.Meta.Version, nil
		},
		query: func(ctx context.Context, q schemas.Query) (int, []any, error) {
			total, groups, err := s.groups.QueryGroups(ctx, q)
			docs := make([]any, len(groups))
			for i, g := range groups {
				docs[i] = s.groupDoc(g)
			}
			return total, docs, err
		},
	}))
}

// withWrites adds the write handlers of h to rr.
func withWrites[T any](h *writes[T], rr *resourceRoutes) *resourceRoutes {
	rr.create, rr.replace, rr.patch, rr.remove = h.handleCreate, h.handleReplace, h.handlePatch, h.handleDelete
	return rr
}

func (s *Server) routes(endpoint string, rd reader) *resourceRoutes {
	list := func(w http.ResponseWriter, r *http.Request, lp listParams) {
		q, proj, err := s.buildQuery(rd.rt, lp)
		if err != nil {
			writeError(w, r, err)
			return
		}
		q.Related = proj.wants(rd.related)
		total, docs, err := rd.query(r.Context(), q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if proj != nil {
			for i, d := range docs {
				m, err := toMap(d)
				if err != nil {
					writeError(w, r, err)
					return
				}
				docs[i] = proj.apply(m)
			}
		}
		if err := writeList(w, total, q.StartIndex, docs); err != nil {
			zlog(r).Debug().Err(err).Msg("writing list response")
		}
	}
	return &resourceRoutes{
		rt:       rd.rt,
		endpoint: endpoint,
		list: func(w http.ResponseWriter, r *http.Request) {
			lp, err := queryParams(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			list(w, r, lp)
		},
		search: func(w http.ResponseWriter, r *http.Request) {
			lp, err := s.searchParams(w, r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			list(w, r, lp)
		},
		get: func(w http.ResponseWriter, r *http.Request) {
			lp, err := queryParams(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			proj := parseProjection(rd.rt, lp.Attributes, lp.ExcludedAttributes)
			doc, version, err := rd.get(r.Context(), chi.URLParam(r, "id"), proj.wants(rd.related))
			if err != nil {
				writeError(w, r, err)
				return
			}
			etag := schemas.ETag(version)
			// RFC 9110 §13.1.1: a GET with If-Match that matches nothing is
			// refused too (a client holding a stale copy learns it).
			if h := strings.TrimSpace(r.Header.Get("If-Match")); h != "" && !tagMatches(h, version) {
				writeError(w, r, newError(http.StatusPreconditionFailed, "", "If-Match "+h+" does not match the resource's current version."))
				return
			}
			if tagMatches(r.Header.Get("If-None-Match"), version) {
				w.Header().Set("ETag", etag)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			if proj != nil {
				m, err := toMap(doc)
				if err != nil {
					writeError(w, r, err)
					return
				}
				doc = proj.apply(m)
			}
			writeResource(w, http.StatusOK, etag, doc)
		},
	}
}

// tagMatches reports whether an If-Match or If-None-Match list (RFC 9110
// §13.1, weak comparison) holds "*" or a tag of version.
func tagMatches(header string, version int64) bool {
	if header == "" {
		return false
	}
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if v, ok := schemas.ParseETag(tag); ok && v == version {
			return true
		}
	}
	return false
}

// expectedVersion reads If-Match (RFC 7644 §3.14): 0 when absent or "*".
// A tag that is not one of ours can never match: 412. With several tags
// (RFC 9110 §13.1.1: any may match), current reads the resource's version
// and the matching one is returned; the write then checks it again in its
// transaction.
func expectedVersion(r *http.Request, current func() (int64, error)) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	var versions []int64
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return 0, nil
		}
		if v, ok := schemas.ParseETag(tag); ok && v > 0 {
			versions = append(versions, v)
		}
	}
	refuse := newError(http.StatusPreconditionFailed, "", "If-Match "+h+" does not match the resource's current version.")
	switch len(versions) {
	case 0:
		return 0, refuse
	case 1:
		return versions[0], nil
	}
	v, err := current()
	if err != nil {
		return 0, err
	}
	if !slices.Contains(versions, v) {
		return 0, refuse
	}
	return v, nil
}
