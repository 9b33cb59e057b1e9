package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// The write pipeline's benchmarks: one request through the whole front
// (routing, authentication, body read, quirk normalisation, the elimity
// library's schema validation, conversion, the service, rendering) with
// httptest, no network. Two services stand behind the front:
//
//   - mem: an in-memory fake, so the figures are the front's own cost;
//
//   - sqlite: the real store and provisioning service, as the tests run
//     them, on tmpfs when /dev/shm exists (an fsync on disk costs more than
//     the whole front and varies by ±50%).
//
//     go test ./scim -run '^$' -bench 'Write' -benchmem -count 6
func BenchmarkWrite(b *testing.B) {
	for _, store := range []string{"mem", "sqlite"} {
		b.Run("POSTUser/"+store, func(b *testing.B) {
			f := newBenchFront(b, store)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				f.send(b, "POST", "/Users", fmt.Sprintf(benchUser, i, i), http.StatusCreated)
			}
		})
		b.Run("PUTUser/"+store, func(b *testing.B) {
			f := newBenchFront(b, store)
			id := f.create(b, "/Users", fmt.Sprintf(benchUser, -1, -1))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				f.send(b, "PUT", "/Users/"+id, strings.Replace(fmt.Sprintf(benchUser, -1, -1), "Engineer", fmt.Sprint("Engineer ", i), 1), http.StatusOK)
			}
		})
		b.Run("PATCHUser/"+store, func(b *testing.B) {
			f := newBenchFront(b, store)
			id := f.create(b, "/Users", fmt.Sprintf(benchUser, -1, -1))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				f.send(b, "PATCH", "/Users/"+id, fmt.Sprintf(benchUserPatch, i, i%2 == 0), http.StatusOK)
			}
		})
		b.Run("PATCHGroup/"+store, func(b *testing.B) {
			f := newBenchFront(b, store)
			user := f.create(b, "/Users", fmt.Sprintf(benchUser, -1, -1))
			group := f.create(b, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales"}`)
			add := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":%q}]}]}`, user)
			remove := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members[value eq \"%s\"]"}]}`, user)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				body := add
				if i%2 == 1 {
					body = remove
				}
				f.send(b, "PATCH", "/Groups/"+group, body, http.StatusNoContent)
			}
		})
	}
}

// BenchmarkRead is the filtered GET every IdP sends before a write, for
// checking the write pipeline's changes leave reads alone.
//
//	go test ./scim -run '^$' -bench 'Read' -benchmem -count 6
func BenchmarkRead(b *testing.B) {
	b.Run("GETFilter/sqlite", func(b *testing.B) {
		f := newBenchFront(b, "sqlite")
		for i := range 200 {
			f.send(b, "POST", "/Users", fmt.Sprintf(benchUser, i, i), http.StatusCreated)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			f.send(b, "GET", fmt.Sprintf("/Users?filter=userName+eq+%%22bench.user%d%%40example.com%%22", i%200), "", http.StatusOK)
		}
	})
}

// benchUser is an Entra ID create (its quirks included: "True" for a
// boolean, the manager as a bare id), 0.8 KB.
const benchUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-%d","userName":"bench.user%d@example.com","active":"True","displayName":"Bench User",
"title":"Engineer","preferredLanguage":"en-US","locale":"en-US","timezone":"Europe/Brussels",
"name":{"formatted":"Bench User","familyName":"User","givenName":"Bench"},
"emails":[{"primary":true,"type":"work","value":"bench.user@example.com"},{"type":"home","value":"bench@example.org"}],
"phoneNumbers":[{"type":"work","value":"+32 2 555 01 01"}],
"addresses":[{"type":"work","streetAddress":"Rue de la Loi 1","locality":"Brussels","postalCode":"1000","country":"BE","primary":true}],
"meta":{"resourceType":"User"},
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1234","department":"Sales","costCenter":"CC-7","manager":"00000000-0000-4000-8000-000000000001"}}`

// benchUserPatch is Entra ID's attribute update: capitalised ops, a value
// filter path, a string boolean.
const benchUserPatch = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
{"op":"Replace","path":"title","value":"Engineer %d"},
{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bench.user@example.com"},
{"op":"Replace","path":"active","value":"%v"},
{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"}]}`

type benchFront struct {
	h http.Handler
}

func newBenchFront(b *testing.B, store string) *benchFront {
	b.Helper()
	cat := schemas.MustLoad()
	log := zerolog.Nop()
	tokens, err := auth.NewStaticTokens([]auth.Token{{Name: "bench", Token: testToken, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}})
	if err != nil {
		b.Fatal(err)
	}
	var users scim.Users
	var groups scim.Groups
	switch store {
	case "mem":
		m := newMemService()
		users, groups = m, m
	case "sqlite":
		dir := b.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			if dir, err = os.MkdirTemp("/dev/shm", "scimbench"); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { os.RemoveAll(dir) })
		}
		st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "bench.db")}, cat)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		svc := provision.New(st, nil, log)
		users, groups = svc, svc
	}
	front, err := scim.New(scim.Config{BaseURL: "http://bridge.test/scim/v2"}, scim.Deps{
		Users: users, Groups: groups, Auth: tokens, Catalog: cat, Log: log,
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchFront{h: front}
}

func (f *benchFront) send(b *testing.B, method, path, body string, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://bridge.test/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	return rec
}

func (f *benchFront) create(b *testing.B, endpoint, body string) string {
	rec := f.send(b, "POST", endpoint, body, http.StatusCreated)
	loc := rec.Header().Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// memService is the smallest Users and Groups that keep what they are
// given: enough to measure the front without a database.
type memService struct {
	users  *memTable[schemas.User]
	groups *memTable[schemas.Group]
}

func newMemService() *memService {
	return &memService{
		users:  &memTable[schemas.User]{rows: map[string]*schemas.User{}, key: func(u *schemas.User) (*string, *schemas.Meta) { return &u.ID, &u.Meta }},
		groups: &memTable[schemas.Group]{rows: map[string]*schemas.Group{}, key: func(g *schemas.Group) (*string, *schemas.Meta) { return &g.ID, &g.Meta }},
	}
}

// memTable keeps one resource type; key gives a resource's id and meta.
type memTable[T any] struct {
	mu   sync.Mutex
	rows map[string]*T
	key  func(*T) (*string, *schemas.Meta)
}

func memMeta(m *schemas.Meta) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if m.Created.IsZero() {
		m.Created = now
	}
	m.LastModified = now
	m.Version++
}

func (t *memTable[T]) get(id string) (*T, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.rows[id]
	if !ok {
		return nil, &schemas.Error{Code: schemas.ENOTFOUND, Message: "Resource " + id + " not found."}
	}
	c := *v
	return &c, nil
}

func (t *memTable[T]) create(v *T) (*T, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := *v
	id, meta := t.key(&c)
	*id = uuid.NewString()
	memMeta(meta)
	t.rows[*id] = &c
	out := c
	return &out, nil
}

// update replaces the resource id with what change makes of a copy, at
// version expect (0: any).
func (t *memTable[T]) update(id string, expect int64, change func(*T) (bool, error)) (*T, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.rows[id]
	if !ok {
		return nil, &schemas.Error{Code: schemas.ENOTFOUND, Message: "Resource " + id + " not found."}
	}
	if _, m := t.key(old); expect > 0 && expect != m.Version {
		return nil, &schemas.Error{Code: schemas.EPRECONDITION, Message: "stale"}
	}
	c := *old
	changed, err := change(&c)
	if err != nil {
		return nil, err
	}
	if changed {
		_, m := t.key(&c)
		memMeta(m)
		t.rows[id] = &c
	}
	out := c
	return &out, nil
}

func (t *memTable[T]) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rows, id)
}

func (s *memService) GetUser(_ context.Context, id string, _ bool) (*schemas.User, error) {
	return s.users.get(id)
}

func (s *memService) QueryUsers(context.Context, schemas.Query) (int, []*schemas.User, error) {
	return 0, nil, nil
}

func (s *memService) CreateUser(_ context.Context, _ schemas.Actor, u *schemas.User) (*schemas.User, error) {
	return s.users.create(u)
}

func (s *memService) ReplaceUser(_ context.Context, _ schemas.Actor, u *schemas.User, expect int64) (*schemas.User, error) {
	return s.users.update(u.ID, expect, func(c *schemas.User) (bool, error) {
		meta := c.Meta
		*c = *u
		c.Meta = meta
		return true, nil
	})
}

func (s *memService) PatchUser(_ context.Context, _ schemas.Actor, id string, expect int64, mutate func(*schemas.User) ([]string, error)) (*schemas.User, error) {
	return s.users.update(id, expect, func(c *schemas.User) (bool, error) {
		changed, err := mutate(c)
		return len(changed) > 0, err
	})
}

func (s *memService) DeleteUser(_ context.Context, _ schemas.Actor, id string, _ int64) error {
	s.users.remove(id)
	return nil
}

func (s *memService) GetGroup(_ context.Context, id string, _ bool) (*schemas.Group, error) {
	return s.groups.get(id)
}

func (s *memService) QueryGroups(context.Context, schemas.Query) (int, []*schemas.Group, error) {
	return 0, nil, nil
}

func (s *memService) CreateGroup(_ context.Context, _ schemas.Actor, g *schemas.Group) (*schemas.Group, error) {
	return s.groups.create(g)
}

func (s *memService) ReplaceGroup(_ context.Context, _ schemas.Actor, g *schemas.Group, expect int64) (*schemas.Group, error) {
	return s.groups.update(g.ID, expect, func(c *schemas.Group) (bool, error) {
		meta := c.Meta
		*c = *g
		c.Meta = meta
		return true, nil
	})
}

func (s *memService) PatchGroup(_ context.Context, _ schemas.Actor, id string, expect int64, mutate func(*schemas.Group) ([]string, error)) (*schemas.Group, error) {
	return s.groups.update(id, expect, func(c *schemas.Group) (bool, error) {
		changed, err := mutate(c)
		return len(changed) > 0, err
	})
}

func (s *memService) DeleteGroup(_ context.Context, _ schemas.Actor, id string, _ int64) error {
	s.groups.remove(id)
	return nil
}
