package scim

import (
	"encoding/json"
	"io"
	"net/http"

	lib "github.com/elimity-com/scim"
	libErrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/patch"
)

// userHandler and groupHandler are the elimity library's callbacks. The
// library has validated bodies against the schemas; these convert to the
// domain types, call the services and convert back. Reads are served by
// resourceRoutes, so Get and GetAll here only satisfy the interface.

type userHandler struct{ s *Server }

var _ lib.ResourceHandler = (*userHandler)(nil)

// libErr records an error for the response and hands the library a
// stand-in: the library maps statuses it does not expect for a method (503,
// say) to 500, so the real error is rendered by libWriter instead.
func libErr(r *http.Request, err error) error {
	ae := toAPIError(r, err)
	if h, ok := r.Context().Value(ctxLibError).(*errHolder); ok {
		h.err = ae
		return libErrors.ScimError{Status: http.StatusBadRequest}
	}
	return ae.scimError()
}

// errHolder carries a handler's error past the library to libWriter.
// errHolder carries, from the library's call of a handler back to
// libWriter, the handler's error, or the resource as scimbridge renders
// it (the library would cut meta's timestamps to whole seconds; GET
// answers keep them, and a client filters on what it was shown).
type errHolder struct {
	err *apiError
	doc any
}

// libWriter passes the library's response through unless a handler
// recorded an error, which it then renders itself.
type libWriter struct {
	http.ResponseWriter
	r       *http.Request
	hold    *errHolder
	written bool
}

func (w *libWriter) WriteHeader(code int) {
	if w.hold.err == nil {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.written {
		w.written = true
		writeError(w.ResponseWriter, w.r, w.hold.err)
	}
}

func (w *libWriter) Write(b []byte) (int, error) {
	if w.hold.err == nil && w.hold.doc != nil {
		if !w.written {
			w.written = true
			body, err := json.Marshal(w.hold.doc)
			if err != nil {
				return 0, err
			}
			if _, err := w.ResponseWriter.Write(body); err != nil {
				return 0, err
			}
		}
		return len(b), nil
	}
	if w.hold.err == nil {
		return w.ResponseWriter.Write(b)
	}
	w.WriteHeader(0)
	return len(b), nil
}

func userFromAttrs(attrs lib.ResourceAttributes) (*schemas.User, error) {
	u := new(schemas.User)
	if err := fromMap(attrs, u); err != nil {
		return nil, newError(http.StatusBadRequest, "invalidValue", "The user does not fit the schema: "+err.Error())
	}
	u.Groups, u.HubSpot = nil, nil // read-only
	return u, nil
}

func (h *userHandler) resource(r *http.Request, u *schemas.User) (lib.Resource, error) {
	h.s.fillUserRefs(u)
	keepDoc(r, h.s.userDoc(u))
	return libResource(u.ID, u.ExternalID, u.Meta, u)
}

// keepDoc records the resource a write answers with, for libWriter.
func keepDoc(r *http.Request, doc any) {
	if hold, ok := r.Context().Value(ctxLibError).(*errHolder); ok {
		hold.doc = doc
	}
}

func (h *userHandler) Create(r *http.Request, attrs lib.ResourceAttributes) (lib.Resource, error) {
	u, err := userFromAttrs(attrs)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	u.ID = ""
	created, err := h.s.users.CreateUser(r.Context(), actor(r), u)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, created)
}

func (h *userHandler) Get(r *http.Request, id string) (lib.Resource, error) {
	u, err := h.s.users.GetUser(r.Context(), id, true)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, u)
}

func (h *userHandler) GetAll(r *http.Request, _ lib.ListRequestParams) (lib.Page, error) {
	return lib.Page{}, libErrors.ScimError{Status: http.StatusNotImplemented}
}

func (h *userHandler) Replace(r *http.Request, id string, attrs lib.ResourceAttributes) (lib.Resource, error) {
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	u, err := userFromAttrs(attrs)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	u.ID = id
	replaced, err := h.s.users.ReplaceUser(r.Context(), actor(r), u, expect)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, replaced)
}

func (h *userHandler) Delete(r *http.Request, id string) error {
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		return libErr(r, err)
	}
	if err := h.s.users.DeleteUser(r.Context(), actor(r), id, expect); err != nil {
		return libErr(r, err)
	}
	return nil
}

// Patch applies the operations with scimbridge's own engine (package
// patch): the library validates PATCH bodies but leaves applying them to
// the handler. The body is read again, as normalised by the quirk layer.
func (h *userHandler) Patch(r *http.Request, id string, _ []lib.PatchOperation) (lib.Resource, error) {
	ops, expect, err := patchOps(r, h.version(r, id))
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	rt := h.s.cat.Users
	u, err := h.s.users.PatchUser(r.Context(), actor(r), id, expect, func(u *schemas.User) ([]string, error) {
		doc, err := toMap(u)
		if err != nil {
			return nil, err
		}
		changed, err := patch.Apply(rt, doc, ops)
		if err != nil || len(changed) == 0 {
			return nil, err
		}
		next, err := userFromAttrs(doc)
		if err != nil {
			return nil, err
		}
		next.ID, next.Meta, next.Groups, next.HubSpot = u.ID, u.Meta, u.Groups, u.HubSpot
		*u = *next
		return changed, nil
	})
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, u)
}

func patchOps(r *http.Request, current func() (int64, error)) ([]patch.Operation, int64, error) {
	expect, err := expectedVersion(r, current)
	if err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, 0, err
	}
	ops, err := patch.Decode(body)
	return ops, expect, err
}

type groupHandler struct{ s *Server }

var _ lib.ResourceHandler = (*groupHandler)(nil)

func groupFromAttrs(attrs lib.ResourceAttributes) (*schemas.Group, error) {
	g := new(schemas.Group)
	if err := fromMap(attrs, g); err != nil {
		return nil, newError(http.StatusBadRequest, "invalidValue", "The group does not fit the schema: "+err.Error())
	}
	for i := range g.Members {
		if g.Members[i].Value == "" {
			return nil, newError(http.StatusBadRequest, "invalidValue", "Every member needs a value (the member's id).")
		}
		g.Members[i].Display, g.Members[i].Ref = "", ""
	}
	g.MembersLoaded = true
	return g, nil
}

func (h *groupHandler) resource(r *http.Request, g *schemas.Group) (lib.Resource, error) {
	h.s.fillGroupRefs(g)
	keepDoc(r, h.s.groupDoc(g))
	return libResource(g.ID, g.ExternalID, g.Meta, g)
}

func (h *groupHandler) Create(r *http.Request, attrs lib.ResourceAttributes) (lib.Resource, error) {
	g, err := groupFromAttrs(attrs)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	g.ID = ""
	created, err := h.s.groups.CreateGroup(r.Context(), actor(r), g)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, created)
}

func (h *groupHandler) Get(r *http.Request, id string) (lib.Resource, error) {
	g, err := h.s.groups.GetGroup(r.Context(), id, true)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, g)
}

func (h *groupHandler) GetAll(r *http.Request, _ lib.ListRequestParams) (lib.Page, error) {
	return lib.Page{}, libErrors.ScimError{Status: http.StatusNotImplemented}
}

func (h *groupHandler) Replace(r *http.Request, id string, attrs lib.ResourceAttributes) (lib.Resource, error) {
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	g, err := groupFromAttrs(attrs)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	g.ID = id
	replaced, err := h.s.groups.ReplaceGroup(r.Context(), actor(r), g, expect)
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return h.resource(r, replaced)
}

func (h *groupHandler) Delete(r *http.Request, id string) error {
	expect, err := expectedVersion(r, h.version(r, id))
	if err != nil {
		return libErr(r, err)
	}
	if err := h.s.groups.DeleteGroup(r.Context(), actor(r), id, expect); err != nil {
		return libErr(r, err)
	}
	return nil
}

// Patch answers 204 No Content (an empty resource tells the library so):
// Entra ID expects it for groups, and a large group's member list is not
// worth sending back for every membership change.
func (h *groupHandler) Patch(r *http.Request, id string, _ []lib.PatchOperation) (lib.Resource, error) {
	ops, expect, err := patchOps(r, h.version(r, id))
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	rt := h.s.cat.Groups
	_, err = h.s.groups.PatchGroup(r.Context(), actor(r), id, expect, func(g *schemas.Group) ([]string, error) {
		doc, err := toMap(g)
		if err != nil {
			return nil, err
		}
		doc["id"] = g.ID
		changed, err := patch.Apply(rt, doc, ops)
		if err != nil || len(changed) == 0 {
			return nil, err
		}
		next, err := groupFromAttrs(doc)
		if err != nil {
			return nil, err
		}
		next.ID, next.Meta = g.ID, g.Meta
		*g = *next
		return changed, nil
	})
	if err != nil {
		return lib.Resource{}, libErr(r, err)
	}
	return lib.Resource{}, nil
}

// version reads a user's current version, for an If-Match list.
func (h *userHandler) version(r *http.Request, id string) func() (int64, error) {
	return func() (int64, error) {
		u, err := h.s.users.GetUser(r.Context(), id, false)
		if err != nil {
			return 0, err
		}
		return u.Meta.Version, nil
	}
}

// version reads a group's current version, for an If-Match list.
func (h *groupHandler) version(r *http.Request, id string) func() (int64, error) {
	return func() (int64, error) {
		g, err := h.s.groups.GetGroup(r.Context(), id, false)
		if err != nil {
			return 0, err
		}
		return g.Meta.Version, nil
	}
}
