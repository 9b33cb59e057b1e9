package scim

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/patch"
)

// The write handlers: POST, PUT, PATCH and DELETE on /Users and /Groups.
// A request's body is read once (readBody, with the size limit) and
// decoded once (decodeObject: a map, numbers as json.Number); the quirks
// of identity providers are fixed on the decoded value (quirks.go); the
// elimity library validates it against the schemas (validate.go); the
// validated attributes become a schemas.User or schemas.Group (convert.go)
// for the service; the answer is the resource as a GET shows it, encoded
// once (userDoc, groupDoc). PATCH operations are read from the same
// decoded body and applied by the engine of package patch.

// writes are the write handlers of one resource type T.
type writes[T any] struct {
	s        *Server
	lib      *libType
	endpoint string
	// fromAttrs builds a T from attributes the library validated (or the
	// PATCH engine produced).
	fromAttrs func(map[string]any) (*T, error)
	// toAttrs is the inverse: the document the PATCH engine works on.
	toAttrs func(*T) map[string]any
	// keep copies onto a patched T what a PATCH cannot change.
	keep func(patched, current *T)
	// doc renders a T as answered; meta reads its id and metadata.
	doc  func(*T) any
	meta func(*T) (string, schemas.Meta)
	// patchNoContent answers a PATCH with 204 (Groups: Entra ID expects it,
	// and a large group's members are not worth sending back).
	patchNoContent bool

	create  func(context.Context, schemas.Actor, *T) (*T, error)
	replace func(context.Context, schemas.Actor, *T, int64) (*T, error)
	patch   func(context.Context, schemas.Actor, string, int64, func(*T) ([]string, error)) (*T, error)
	remove  func(context.Context, schemas.Actor, string, int64) error
	get     func(context.Context, string, bool) (*T, error)
	// setID names the resource a PUT replaces (fromAttrs reads no id).
	setID func(*T, string)
}

func (s *Server) userWrites() *writes[schemas.User] {
	return &writes[schemas.User]{
		s: s, lib: s.libUsers, endpoint: "/Users",
		fromAttrs: userFromAttrs,
		toAttrs:   userToAttrs,
		keep: func(next, u *schemas.User) {
			next.ID, next.Meta, next.Groups, next.HubSpot = u.ID, u.Meta, u.Groups, u.HubSpot
		},
		doc:     func(u *schemas.User) any { return s.userDoc(u) },
		meta:    func(u *schemas.User) (string, schemas.Meta) { return u.ID, u.Meta },
		create:  s.users.CreateUser,
		replace: s.users.ReplaceUser,
		patch:   s.users.PatchUser,
		remove:  s.users.DeleteUser,
		get:     s.users.GetUser,
		setID:   func(u *schemas.User, id string) { u.ID = id },
	}
}

func (s *Server) groupWrites() *writes[schemas.Group] {
	return &writes[schemas.Group]{
		s: s, lib: s.libGroups, endpoint: "/Groups",
		fromAttrs: groupFromAttrs,
		toAttrs: func(g *schemas.Group) map[string]any {
			doc := groupToAttrs(g)
			doc["id"] = g.ID // Okta repeats it in a path-less value
			return doc
		},
		keep: func(next, g *schemas.Group) {
			next.ID, next.Meta = g.ID, g.Meta
		},
		doc:            func(g *schemas.Group) any { return s.groupDoc(g) },
		meta:           func(g *schemas.Group) (string, schemas.Meta) { return g.ID, g.Meta },
		patchNoContent: true,
		create:         s.groups.CreateGroup,
		replace:        s.groups.ReplaceGroup,
		patch:          s.groups.PatchGroup,
		remove:         s.groups.DeleteGroup,
		get:            s.groups.GetGroup,
		setID:          func(g *schemas.Group, id string) { g.ID = id },
	}
}

// body reads a POST or PUT body and returns it as a validated T.
func (h *writes[T]) body(w http.ResponseWriter, r *http.Request) (*T, error) {
	data, err := h.s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	m, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	if err := normalizeResource(m, h.lib.rt); err != nil {
		return nil, err
	}
	attrs, err := h.lib.validate(m)
	if err != nil {
		return nil, err
	}
	return h.fromAttrs(attrs)
}

// version reads the resource's current version, for an If-Match list.
func (h *writes[T]) version(r *http.Request, id string) func() (int64, error) {
	return func() (int64, error) {
		v, err := h.get(r.Context(), id, false)
		if err != nil {
			return 0, err
		}
		_, m := h.meta(v)
		return m.Version, nil
	}
}

func (h *writes[T]) answer(w http.ResponseWriter, status int, v *T) {
	id, m := h.meta(v)
	if status == http.StatusCreated {
		w.Header().Set("Location", h.s.location(h.endpoint, id))
	}
	writeResource(w, status, m.ETag(), h.doc(v))
}

// handleCreate serves POST /Users and POST /Groups.
func (h *writes[T]) handleCreate(w http.ResponseWriter, r *http.Request) {
	v, err := h.body(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	created, err := h.create(r.Context(), actor(r), v)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.answer(w, http.StatusCreated, created)
}

// handleReplace serves PUT /Users/{id} and PUT /Groups/{id}.
func (h *writes[T]) handleReplace(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	v, err := h.body(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.setID(v, id)
	replaced, err := h.replace(r.Context(), actor(r), v, expect)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.answer(w, http.StatusOK, replaced)
}

// handlePatch serves PATCH /Users/{id} and PATCH /Groups/{id}: the
// operations are read from the body, checked by the library, and applied
// by scimbridge's engine (package patch) inside the service's update.
func (h *writes[T]) handlePatch(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	ops, err := h.operations(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rt := h.lib.rt
	patched, err := h.patch(r.Context(), actor(r), id, expect, func(cur *T) ([]string, error) {
		doc := h.toAttrs(cur)
		changed, err := patch.Apply(rt, doc, ops)
		if err != nil || len(changed) == 0 {
			return nil, err
		}
		next, err := h.fromAttrs(doc)
		if err != nil {
			return nil, err
		}
		h.keep(next, cur)
		*cur = *next
		return changed, nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if h.patchNoContent {
		// No body, but the new version, for a client's next If-Match.
		_, m := h.meta(patched)
		w.Header().Set("ETag", m.ETag())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.answer(w, http.StatusOK, patched)
}

// operations reads a PATCH body into operations.
func (h *writes[T]) operations(w http.ResponseWriter, r *http.Request) ([]patch.Operation, error) {
	data, err := h.s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	m, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	raw, err := normalizePatch(m, h.lib.rt)
	if err != nil {
		return nil, err
	}
	if err := h.lib.validatePatch(raw); err != nil {
		return nil, err
	}
	return patch.DecodeValue(m)
}

// handleDelete serves DELETE /Users/{id} and DELETE /Groups/{id}.
func (h *writes[T]) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.remove(r.Context(), actor(r), id, expect); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
