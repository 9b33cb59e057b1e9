package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// What the directory reconcile needs from a store: the origin of each
// resource, full scans, the record of its runs and its named state.

func testOrigin(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Users", func(t *testing.T) { testOriginUsers(t, open) })
	t.Run("Groups", func(t *testing.T) { testOriginGroups(t, open) })
	t.Run("OtherWritesKeepIt", func(t *testing.T) { testOriginOtherWritesKeepIt(t, open) })
}

// originCase creates a resource with origin create and replaces it with
// origin replace; a SCIM PUT or PATCH replaces without an origin.
type originCase struct {
	name                    string
	create, replace         string
	wantCreate, wantReplace string
	createErr, replaceErr   string // error codes
}

func originCases() []originCase {
	const scim, dir = schemas.OriginSCIM, schemas.OriginDirectory
	return []originCase{
		{name: "default is scim", wantCreate: scim, wantReplace: scim},
		{name: "scim", create: scim, wantCreate: scim, wantReplace: scim},
		{name: "directory kept by a SCIM write", create: dir, wantCreate: dir, wantReplace: dir},
		{name: "adopted by the directory", create: scim, replace: dir, wantCreate: scim, wantReplace: dir},
		{name: "handed back to scim", create: dir, replace: scim, wantCreate: dir, wantReplace: scim},
		{name: "directory rewritten by the directory", create: dir, replace: dir, wantCreate: dir, wantReplace: dir},
		{name: "unknown on create", create: "ldap", createErr: store.EINVALID},
		{name: "unknown on replace", create: dir, replace: "Directory", wantCreate: dir, wantReplace: dir,
			replaceErr: store.EINVALID},
	}
}

func testOriginUsers(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	for i, tc := range originCases() {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("origin%d", i)
			u := &schemas.User{UserName: name, Origin: tc.create}
			err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateUser(u) })
			if tc.createErr != "" {
				wantCode(t, err, tc.createErr, tc.create)
				p, err := s.QueryUsers(context.Background(), schemas.Query{Filter: parse(t, `userName eq "`+name+`"`, nil), Count: 1})
				if err != nil || p.Total != 0 {
					t.Errorf("refused create stored a user: %+v %v", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Origin != tc.wantCreate {
				t.Errorf("created user reports origin %q, want %q", u.Origin, tc.wantCreate)
			}
			checkOrigins(t, "after create", userOrigins(t, s, u.ID), tc.wantCreate)

			r := &schemas.User{ID: u.ID, UserName: name, Title: "replaced", Origin: tc.replace}
			err = s.Update(context.Background(), func(tx store.Tx) error { return tx.ReplaceUser(r) })
			if tc.replaceErr != "" {
				wantCode(t, err, tc.replaceErr, tc.replace)
				if got := getUser(t, s, u.ID, false); got.Meta.Version != 1 || got.Title != "" {
					t.Errorf("refused replace changed the user: %+v", got)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if r.Origin != tc.wantReplace {
					t.Errorf("replaced user reports origin %q, want %q", r.Origin, tc.wantReplace)
				}
			}
			checkOrigins(t, "after replace", userOrigins(t, s, u.ID), tc.wantReplace)
		})
	}
}

func testOriginGroups(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	member := createUser(t, s, &schemas.User{UserName: "member"})
	for i, tc := range originCases() {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("origin%d", i)
			g := &schemas.Group{DisplayName: name, Origin: tc.create, Members: []schemas.Member{{Value: member.ID}}}
			err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateGroup(g) })
			if tc.createErr != "" {
				wantCode(t, err, tc.createErr, tc.create)
				p, err := s.QueryGroups(context.Background(), schemas.Query{Filter: parse(t, `displayName eq "`+name+`"`, nil), Count: 1})
				if err != nil || p.Total != 0 {
					t.Errorf("refused create stored a group: %+v %v", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.Origin != tc.wantCreate {
				t.Errorf("created group reports origin %q, want %q", g.Origin, tc.wantCreate)
			}
			checkOrigins(t, "after create", groupOrigins(t, s, g.ID), tc.wantCreate)

			r := &schemas.Group{ID: g.ID, DisplayName: name + "-renamed", Origin: tc.replace}
			err = s.Update(context.Background(), func(tx store.Tx) error { _, err := tx.ReplaceGroup(r); return err })
			if tc.replaceErr != "" {
				wantCode(t, err, tc.replaceErr, tc.replace)
				if got := getGroup(t, s, g.ID, true); got.Meta.Version != 1 || got.DisplayName != name || len(got.Members) != 1 {
					t.Errorf("refused replace changed the group: %+v", got)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if r.Origin != tc.wantReplace {
					t.Errorf("replaced group reports origin %q, want %q", r.Origin, tc.wantReplace)
				}
			}
			checkOrigins(t, "after replace", groupOrigins(t, s, g.ID), tc.wantReplace)
		})
	}
}

// Writes that are not a replace of the resource leave its origin alone.
func testOriginOtherWritesKeepIt(t *testing.T, open func(t *testing.T) store.Store) {
	const scim, dir = schemas.OriginSCIM, schemas.OriginDirectory
	s := open(t)
	u := createUser(t, s, &schemas.User{UserName: "dir", Origin: dir})
	g := createGroup(t, s, &schemas.Group{DisplayName: "dirgroup", Origin: dir, Members: []schemas.Member{{Value: u.ID}}})
	outer := createGroup(t, s, &schemas.Group{DisplayName: "outer", Members: []schemas.Member{{Value: g.ID}}})
	update(t, s, func(tx store.Tx) error {
		// Renaming g rewrites u's groups attribute and outer's members.
		if _, err := tx.ReplaceGroup(&schemas.Group{ID: g.ID, DisplayName: "renamed",
			Members: []schemas.Member{{Value: u.ID}}}); err != nil {
			return err
		}
		if _, _, err := tx.SetDesired(u.ID, []byte(`{}`)); err != nil {
			return err
		}
		return tx.RecordOutcome(u.ID, store.Outcome{Version: 1, Done: true, State: "synced",
			Ext: &schemas.HubSpotExt{HubSpotUserID: "h1"}})
	})
	checkOrigins(t, "user", userOrigins(t, s, u.ID), dir)
	checkOrigins(t, "group", groupOrigins(t, s, g.ID), dir)
	checkOrigins(t, "outer group", groupOrigins(t, s, outer.ID), scim)
}

// userOrigins reads the origin of user id through every read.
func userOrigins(t *testing.T, s store.Store, id string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{
		"GetUser":        getUser(t, s, id, false).Origin,
		"GetUser+groups": getUser(t, s, id, true).Origin,
	}
	byID := parse(t, `id eq "{id}"`, map[string]string{"id": id})
	for _, q := range []schemas.Query{{Filter: byID, Count: 1}, {Filter: byID, Count: 1, Related: true}, {Count: 1000}} {
		p, err := s.QueryUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Users {
			if u.ID == id {
				out[fmt.Sprintf("QueryUsers(filter=%v, related=%v)", q.Filter != nil, q.Related)] = u.Origin
			}
		}
	}
	update(t, s, func(tx store.Tx) error {
		u, err := tx.GetUser(id, true)
		if err == nil {
			out["tx.GetUser"] = u.Origin
		}
		return err
	})
	if err := s.ScanUsers(ctx, func(u *schemas.User) error {
		if u.ID == id {
			out["ScanUsers"] = u.Origin
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// groupOrigins reads the origin of group id through every read.
func groupOrigins(t *testing.T, s store.Store, id string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{
		"GetGroup":         getGroup(t, s, id, false).Origin,
		"GetGroup+members": getGroup(t, s, id, true).Origin,
	}
	byID := parse(t, `id eq "{id}"`, map[string]string{"id": id})
	for _, q := range []schemas.Query{{Filter: byID, Count: 1}, {Filter: byID, Count: 1, Related: true}, {Count: 1000}} {
		p, err := s.QueryGroups(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.Groups {
			if g.ID == id {
				out[fmt.Sprintf("QueryGroups(filter=%v, related=%v)", q.Filter != nil, q.Related)] = g.Origin
			}
		}
	}
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGroup(id, true)
		if err == nil {
			out["tx.GetGroup"] = g.Origin
		}
		return err
	})
	for _, withMembers := range []bool{false, true} {
		if err := s.ScanGroups(ctx, withMembers, func(g *schemas.Group) error {
			if g.ID == id {
				out[fmt.Sprintf("ScanGroups(withMembers=%v)", withMembers)] = g.Origin
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func checkOrigins(t *testing.T, when string, got map[string]string, want string) {
	t.Helper()
	// GetX, GetX+related, 3 QueryX, tx.GetX, and 1 or 2 scans.
	if len(got) < 7 {
		t.Errorf("%s: the resource is missing from some reads: %v", when, got)
	}
	for read, o := range got {
		if o != want {
			t.Errorf("%s: %s reports origin %q, want %q", when, read, o, want)
		}
	}
}

// scanUsers collects a full ScanUsers.
func scanUsers(t *testing.T, s store.Store) []*schemas.User {
	t.Helper()
	var out []*schemas.User
	if err := s.ScanUsers(context.Background(), func(u *schemas.User) error {
		out = append(out, u)
		return nil
	}); err != nil {
		t.Fatalf("ScanUsers: %v", err)
	}
	return out
}

func scanGroups(t *testing.T, s store.Store, withMembers bool) []*schemas.Group {
	t.Helper()
	var out []*schemas.Group
	if err := s.ScanGroups(context.Background(), withMembers, func(g *schemas.Group) error {
		out = append(out, g)
		return nil
	}); err != nil {
		t.Fatalf("ScanGroups: %v", err)
	}
	return out
}

func userIDs(us []*schemas.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func groupIDs(gs []*schemas.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

// sameGroup compares groups with their members as sets.
func sameGroup(a, b *schemas.Group) bool {
	x, y := *a, *b
	sortMembers := func(ms []schemas.Member) []schemas.Member {
		ms = slices.Clone(ms)
		slices.SortFunc(ms, func(a, b schemas.Member) int { return strings.Compare(a.Value, b.Value) })
		return ms
	}
	x.Members, y.Members = sortMembers(x.Members), sortMembers(y.Members)
	return reflect.DeepEqual(x, y)
}

func testScan(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Users", func(t *testing.T) { testScanUsers(t, open) })
	t.Run("Groups", func(t *testing.T) { testScanGroups(t, open) })
	t.Run("EmptyStore", func(t *testing.T) { testScanEmptyStore(t, open) })
	t.Run("StopsOnError", func(t *testing.T) { testScanStopsOnError(t, open) })
	t.Run("CallbackUsesStore", func(t *testing.T) { testScanCallbackUsesStore(t, open) })
	t.Run("WhileWriting", func(t *testing.T) { testScanWhileWriting(t, open) })
}

// Every user, in creation order, exactly as a listing with groups
// reads it, at sizes around common page sizes.
func testScanUsers(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	var ids []string
	for _, total := range []int{0, 1, 2, 99, 100, 101, 999, 1000, 1001} {
		t.Run(fmt.Sprint(total), func(t *testing.T) {
			update(t, s, func(tx store.Tx) error {
				var thirds, fifths []schemas.Member
				for i := len(ids); i < total; i++ {
					u := &schemas.User{UserName: fmt.Sprintf("scan%05d", i), DisplayName: fmt.Sprint("Scan ", i),
						Emails: []schemas.MultiValue{{Value: fmt.Sprintf("scan%05d@example.com", i), Primary: true}}}
					if i%4 == 0 {
						u.Origin = schemas.OriginDirectory
					}
					if err := tx.CreateUser(u); err != nil {
						return err
					}
					ids = append(ids, u.ID)
					if i%3 == 0 {
						thirds = append(thirds, schemas.Member{Value: u.ID})
					}
					if i%5 == 0 {
						fifths = append(fifths, schemas.Member{Value: u.ID})
					}
				}
				for name, ms := range map[string][]schemas.Member{"thirds": thirds, "fifths": fifths} {
					if len(ms) > 0 {
						if err := tx.CreateGroup(&schemas.Group{DisplayName: fmt.Sprint(name, total), Members: ms}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			got := scanUsers(t, s)
			if !slices.Equal(userIDs(got), ids) {
				t.Fatalf("ScanUsers saw %d users, want the %d created, in creation order", len(got), len(ids))
			}
			for i, want := range listUsers(t, s) {
				if !reflect.DeepEqual(got[i], want) {
					t.Fatalf("ScanUsers:\n got %+v\nwant %+v (QueryUsers with groups)", got[i], want)
				}
			}
			if len(got) > 0 {
				if want := getUser(t, s, got[0].ID, true); !reflect.DeepEqual(got[0], want) {
					t.Errorf("ScanUsers:\n got %+v\nwant %+v (GetUser with groups)", got[0], want)
				}
			}
			if total > 20 && (len(got[15].Groups) != 2 || got[4].Origin != schemas.OriginDirectory) {
				t.Errorf("groups or origin missing: %+v %+v", got[15], got[4])
			}
		})
	}
	t.Run("AfterDeletes", func(t *testing.T) {
		gone := []int{0, 1, 99, 100, 500, 998, len(ids) - 1}
		update(t, s, func(tx store.Tx) error {
			for _, i := range gone {
				if _, err := tx.DeleteUser(ids[i]); err != nil {
					return err
				}
			}
			return nil
		})
		var want []string
		for i, id := range ids {
			if !slices.Contains(gone, i) {
				want = append(want, id)
			}
		}
		if got := userIDs(scanUsers(t, s)); !slices.Equal(got, want) {
			t.Errorf("after deletes, ScanUsers saw %d users, want %d in creation order", len(got), len(want))
		}
	})
}

func testScanGroups(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	var users []string
	update(t, s, func(tx store.Tx) error {
		for i := range 300 {
			u := &schemas.User{UserName: fmt.Sprint("m", i)}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			users = append(users, u.ID)
		}
		return nil
	})
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range 1010 {
			g := &schemas.Group{DisplayName: fmt.Sprintf("g%04d", i)}
			switch {
			case i%100 == 7: // many
				for _, id := range users[i%200:][:30] {
					g.Members = append(g.Members, schemas.Member{Value: id})
				}
			case i%3 == 0: // none
			default:
				g.Members = []schemas.Member{{Value: users[i%300]}, {Value: users[(i*7)%300]}}
			}
			if i%50 == 49 {
				g.Members = append(g.Members, schemas.Member{Value: ids[i-1]}) // nested
				g.Origin = schemas.OriginDirectory
			}
			if err := tx.CreateGroup(g); err != nil {
				return err
			}
			ids = append(ids, g.ID)
		}
		return nil
	})
	for _, withMembers := range []bool{false, true} {
		t.Run(fmt.Sprint("withMembers=", withMembers), func(t *testing.T) {
			got := scanGroups(t, s, withMembers)
			if !slices.Equal(groupIDs(got), ids) {
				t.Fatalf("ScanGroups saw %d groups, want the %d created, in creation order", len(got), len(ids))
			}
			for i, want := range listGroups(t, s, withMembers) {
				if !sameGroup(got[i], want) {
					t.Fatalf("ScanGroups:\n got %+v\nwant %+v (QueryGroups)", got[i], want)
				}
			}
			for _, i := range []int{0, 7, 49} {
				if want := getGroup(t, s, got[i].ID, withMembers); !sameGroup(got[i], want) {
					t.Errorf("ScanGroups:\n got %+v\nwant %+v (GetGroup)", got[i], want)
				}
			}
			if withMembers && (len(got[7].Members) != 30 || len(got[49].Members) != 3 || got[49].Origin != schemas.OriginDirectory) {
				t.Errorf("members or origin missing: %+v %+v", got[7], got[49])
			}
		})
	}
}

func testScanEmptyStore(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got := scanUsers(t, s); len(got) != 0 {
		t.Errorf("ScanUsers of an empty store: %d users", len(got))
	}
	if got := scanGroups(t, s, true); len(got) != 0 {
		t.Errorf("ScanGroups of an empty store: %d groups", len(got))
	}
}

// fn's error stops the scan and comes back unchanged; so does the
// context's.
func testScanStopsOnError(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	update(t, s, func(tx store.Tx) error {
		for i := range 1100 {
			if err := tx.CreateUser(&schemas.User{UserName: fmt.Sprint("u", i)}); err != nil {
				return err
			}
			if err := tx.CreateGroup(&schemas.Group{DisplayName: fmt.Sprint("g", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	scans := map[string]func(ctx context.Context, fn func() error) error{
		"ScanUsers": func(ctx context.Context, fn func() error) error {
			return s.ScanUsers(ctx, func(*schemas.User) error { return fn() })
		},
		"ScanGroups": func(ctx context.Context, fn func() error) error {
			return s.ScanGroups(ctx, false, func(*schemas.Group) error { return fn() })
		},
		"ScanGroups+members": func(ctx context.Context, fn func() error) error {
			return s.ScanGroups(ctx, true, func(*schemas.Group) error { return fn() })
		},
	}
	for name, scan := range scans {
		for _, tc := range []struct {
			name    string
			ctx     context.Context
			stopAt  int // fn fails on this call (1-based); 0: never
			want    error
			maxSeen int
		}{
			{"first", ctx, 1, errTest, 1},
			{"middle", ctx, 1050, errTest, 1050},
			{"canceled", canceled, 0, context.Canceled, 0},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				calls := 0
				err := scan(tc.ctx, func() error {
					calls++
					if calls == tc.stopAt {
						return errTest
					}
					return nil
				})
				if !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
				if calls != tc.maxSeen {
					t.Errorf("fn called %d times, want %d", calls, tc.maxSeen)
				}
			})
		}
	}
}

// fn may use the store: read it and write to it, including the rows the
// scan is walking. Every user that exists throughout is seen once.
func testScanCallbackUsesStore(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range 1200 {
			u := &schemas.User{UserName: fmt.Sprint("r", i)}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return tx.CreateGroup(&schemas.Group{DisplayName: "all"})
	})
	done := make(chan []string)
	go func() {
		var seen []string
		n := 0
		err := s.ScanUsers(ctx, func(u *schemas.User) error {
			seen = append(seen, u.ID)
			if n++; n%100 != 1 {
				return nil
			}
			if _, err := s.GetUser(ctx, u.ID, true); err != nil {
				return err
			}
			if _, err := s.QueryUsers(ctx, schemas.Query{Count: 5}); err != nil {
				return err
			}
			return s.Update(ctx, func(tx store.Tx) error {
				u.Title = "seen"
				u.Origin = schemas.OriginDirectory
				if err := tx.ReplaceUser(u); err != nil {
					return err
				}
				return tx.CreateUser(&schemas.User{UserName: fmt.Sprint("new", n)})
			})
		})
		if err != nil {
			t.Error(err)
		}
		var gerr error
		if err := s.ScanGroups(ctx, true, func(g *schemas.Group) error {
			if _, err := s.GetGroup(ctx, g.ID, true); err != nil {
				return err
			}
			return s.Update(ctx, func(tx store.Tx) error {
				g.Members = []schemas.Member{{Value: ids[0]}}
				_, err := tx.ReplaceGroup(g)
				return err
			})
		}); err != nil {
			gerr = err
		}
		if gerr != nil {
			t.Error(gerr)
		}
		done <- seen
	}()
	var seen []string
	select {
	case seen = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("a scan whose fn uses the store did not finish: deadlock?")
	}
	checkSeenOnce(t, seen, ids)
	if got := getUser(t, s, ids[100], false); got.Title != "seen" || got.Origin != schemas.OriginDirectory {
		t.Errorf("write from fn lost: %+v", got)
	}
}

// Scans run while writers change, create and delete users.
func testScanWhileWriting(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range 1500 {
			u := &schemas.User{UserName: fmt.Sprint("w", i)}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return nil
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []string
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// fn may run more than once (a driver retries a
				// transaction that lost a conflict): it changes mine
				// only through next, kept once committed.
				var next []string
				id := ids[rng.IntN(len(ids))]
				err := s.Update(ctx, func(tx store.Tx) error {
					next = slices.Clone(mine)
					u, err := tx.GetUser(id, false)
					if err != nil {
						return err
					}
					u.Title = fmt.Sprint(i)
					if err := tx.ReplaceUser(u); err != nil {
						return err
					}
					g := &schemas.Group{DisplayName: fmt.Sprintf("w%d-%d", w, i), Members: []schemas.Member{{Value: id}}}
					if err := tx.CreateGroup(g); err != nil {
						return err
					}
					nu := &schemas.User{UserName: fmt.Sprintf("new%d-%d", w, i)}
					if err := tx.CreateUser(nu); err != nil {
						return err
					}
					next = append(next, nu.ID)
					if len(next) > 3 {
						_, err := tx.DeleteUser(next[0])
						next = next[1:]
						return err
					}
					return nil
				})
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				mine = next
			}
		}()
	}
	for range 3 {
		checkSeenOnce(t, userIDs(scanUsers(t, s)), ids)
		scanGroups(t, s, true)
	}
	close(stop)
	wg.Wait()
}

// listUsers lists every user with groups, in creation order.
func listUsers(t *testing.T, s store.Store) []*schemas.User {
	t.Helper()
	var out []*schemas.User
	for start := 1; ; start += 500 {
		p, err := s.QueryUsers(context.Background(), schemas.Query{StartIndex: start, Count: 500, Related: true})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Users...)
		if len(p.Users) < 500 {
			return out
		}
	}
}

// listGroups lists every group, in creation order.
func listGroups(t *testing.T, s store.Store, withMembers bool) []*schemas.Group {
	t.Helper()
	var out []*schemas.Group
	for start := 1; ; start += 500 {
		p, err := s.QueryGroups(context.Background(), schemas.Query{StartIndex: start, Count: 500, Related: withMembers})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Groups...)
		if len(p.Groups) < 500 {
			return out
		}
	}
}

// checkSeenOnce checks that a scan saw no id twice and saw each of want
// once, in want's order.
func checkSeenOnce(t *testing.T, seen, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range seen {
		if count[id]++; count[id] == 2 {
			t.Errorf("scan saw %s twice", id)
		}
	}
	var got []string
	for _, id := range seen {
		if slices.Contains(want, id) {
			got = append(got, id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("scan saw %d of the %d users that existed throughout (in creation order: %v)",
			len(got), len(want), slices.IsSorted(indexes(got, want)))
	}
}

func indexes(ids, in []string) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = slices.Index(in, id)
	}
	return out
}

// wantRun is what a store returns for r: times in UTC at microsecond
// precision.
func wantRun(r store.Run) *store.Run {
	r.Started = r.Started.UTC().Truncate(time.Microsecond)
	if !r.Finished.IsZero() {
		r.Finished = r.Finished.UTC().Truncate(time.Microsecond)
	}
	if len(r.Counts) == 0 {
		r.Counts = nil
	}
	return &r
}

func sameRun(got, want *store.Run) bool {
	x := *got
	if len(x.Counts) == 0 {
		x.Counts = nil
	}
	for _, tm := range []time.Time{x.Started, x.Finished} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			return false
		}
	}
	return x.Started.Equal(want.Started) && x.Finished.Equal(want.Finished) &&
		reflect.DeepEqual(withoutTimes(x), withoutTimes(*want))
}

func withoutTimes(r store.Run) store.Run {
	r.Started, r.Finished = time.Time{}, time.Time{}
	return r
}

func runs(t *testing.T, s store.Store, limit int) []*store.Run {
	t.Helper()
	rs, err := s.Runs(context.Background(), limit)
	if err != nil {
		t.Fatalf("Runs(%d): %v", limit, err)
	}
	return rs
}

func testRuns(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("SaveAndList", func(t *testing.T) { testRunsSaveAndList(t, open) })
	t.Run("ListLimit", func(t *testing.T) { testRunsListLimit(t, open) })
}

func testRunsSaveAndList(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	if got := runs(t, s, 0); len(got) != 0 {
		t.Fatalf("Runs of an empty store: %+v", got)
	}
	started := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	full := &store.Run{Kind: "full", Started: started, Outcome: "running"}
	incr := &store.Run{Kind: "incremental", Started: started.Add(time.Minute), Finished: started.Add(2 * time.Minute),
		Outcome: "dry-run", Counts: map[string]int{"create": 3, "update": 0, "delete.guarded": 12}, Error: "boom", Forced: true}
	update(t, s, func(tx store.Tx) error { return tx.SaveRun(full) })
	update(t, s, func(tx store.Tx) error { return tx.SaveRun(incr) })
	if full.ID == 0 || incr.ID == 0 || full.ID == incr.ID {
		t.Fatalf("ids %d, %d: want distinct, non-zero", full.ID, incr.ID)
	}
	check := func(when string, want ...*store.Run) {
		t.Helper()
		got := runs(t, s, 10)
		if len(got) != len(want) {
			t.Fatalf("%s: %d runs, want %d", when, len(got), len(want))
		}
		for i := range got {
			if w := wantRun(*want[i]); !sameRun(got[i], w) {
				t.Errorf("%s: run %d:\n got %+v\nwant %+v", when, i, got[i], w)
			}
		}
	}
	check("after inserts", incr, full) // newest first

	// An update overwrites every field.
	full.Outcome, full.Finished, full.Counts = "ok", started.Add(time.Hour), map[string]int{"create": 1}
	id := full.ID
	update(t, s, func(tx store.Tx) error { return tx.SaveRun(full) })
	if full.ID != id {
		t.Errorf("update changed the id to %d", full.ID)
	}
	incr.Counts, incr.Error, incr.Forced, incr.Finished = nil, "", false, time.Time{}
	update(t, s, func(tx store.Tx) error { return tx.SaveRun(incr) })
	check("after updates", incr, full)

	err := s.Update(ctx, func(tx store.Tx) error { return tx.SaveRun(&store.Run{ID: incr.ID + 100, Kind: "full"}) })
	wantCode(t, err, store.ENOTFOUND)
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.SaveRun(&store.Run{Kind: "full", Outcome: "running"}); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatal(err)
	}
	check("after a rollback", incr, full)
}

func testRunsListLimit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const n = 1005
	var ids []int64
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			r := &store.Run{Kind: "incremental", Started: start.Add(time.Duration(i) * time.Minute), Outcome: "ok"}
			if err := tx.SaveRun(r); err != nil {
				return err
			}
			ids = append(ids, r.ID)
		}
		return nil
	})
	slices.Reverse(ids) // newest first
	for _, tc := range []struct{ limit, want int }{
		{-1, 20}, {0, 20}, {1, 1}, {20, 20}, {21, 21}, {500, 500}, {1000, 1000}, {1001, 1000}, {1 << 30, 1000},
	} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			got := runs(t, s, tc.limit)
			gotIDs := make([]int64, len(got))
			for i, r := range got {
				gotIDs[i] = r.ID
			}
			if !slices.Equal(gotIDs, ids[:tc.want]) {
				t.Errorf("Runs(%d) = %d runs, want the newest %d, newest first", tc.limit, len(got), tc.want)
			}
		})
	}
}

func testState(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	big := strings.Repeat("x", 64<<10)
	// Each step sets one value (or fails to) and then every key of want is
	// read back.
	for _, tc := range []struct {
		name, key, value string
		fail             bool   // the transaction fails after the write
		code             string // the write's error code
		want             map[string]string
	}{
		{name: "unset", want: map[string]string{"hwm": "", "other": ""}},
		{name: "set", key: "hwm", value: "42", want: map[string]string{"hwm": "42", "other": ""}},
		{name: "other key", key: "other", value: "x", want: map[string]string{"hwm": "42", "other": "x"}},
		{name: "overwrite", key: "hwm", value: "20260301120000.0Z", want: map[string]string{"hwm": "20260301120000.0Z", "other": "x"}},
		{name: "rolled back", key: "hwm", value: "lost", fail: true, want: map[string]string{"hwm": "20260301120000.0Z"}},
		{name: "empty value", key: "other", value: "", want: map[string]string{"hwm": "20260301120000.0Z", "other": ""}},
		{name: "empty key", key: "", value: "v", code: store.EINVALID, want: map[string]string{"": ""}},
		{name: "unicode and case", key: "Directory/HWM ✓", value: "välue\n\x00", want: map[string]string{
			"Directory/HWM ✓": "välue\n\x00", "directory/hwm ✓": "", "hwm": "20260301120000.0Z"}},
		{name: "large", key: "big", value: big, want: map[string]string{"big": big}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "unset" {
				err := s.Update(ctx, func(tx store.Tx) error {
					if err := tx.SetState(tc.key, tc.value); err != nil {
						return err
					}
					if tc.fail {
						return errTest
					}
					return nil
				})
				switch {
				case tc.code != "":
					wantCode(t, err, tc.code)
				case tc.fail && !errors.Is(err, errTest), !tc.fail && err != nil:
					t.Fatalf("Update: %v", err)
				}
			}
			for k, want := range tc.want {
				got, err := s.State(ctx, k)
				if err != nil {
					t.Fatalf("State(%q): %v", k, err)
				}
				if got != want {
					t.Errorf("State(%q) = %.40q, want %.40q", k, got, want)
				}
			}
		})
	}
}
