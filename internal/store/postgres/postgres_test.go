package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/schemas"
)

// pg is this test binary's PostgreSQL server; its template database is
// migrated once, so every test's database starts with the schema.
var pg = pgtest.Harness{Prepare: func(ctx context.Context, dsn string) error {
	s, err := Open(ctx, Config{DSN: dsn, MaxConns: 1}, schemas.MustLoad())
	if err != nil {
		return err
	}
	return s.Close()
}}

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// openTest opens the store on a fresh database.
func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	cfg.DSN = pg.Database(t)
	s, err := Open(context.Background(), cfg, schemas.MustLoad())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // registered after the database's drop: runs first
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

func TestPaging(t *testing.T) {
	storetest.RunPaging(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

// Scans cross many page boundaries when the pages are tiny.
func TestScanSmallPages(t *testing.T) {
	storetest.RunScans(t, func(t *testing.T) store.Store {
		s := openTest(t, Config{})
		s.scanPage, s.scanBudget = 7, 10
		return s
	})
}

// A NUL character, which PostgreSQL cannot keep, is refused as invalid
// input; the text "\u0000" is kept as it is.
func TestRefusesNUL(t *testing.T) {
	s := openTest(t, Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		u    *schemas.User
		code string
	}{
		{"nul", &schemas.User{UserName: "nul@example.com", DisplayName: "Ada\x00Lovelace"}, store.EINVALID},
		{"nul in a title", &schemas.User{UserName: "nul2@example.com", Title: "x\x00"}, store.EINVALID},
		{"escaped text", &schemas.User{UserName: "text@example.com", DisplayName: `Ada \u0000 \\u0000`}, ""},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(tc.u) })
		if got := store.ErrorCode(err); got != tc.code {
			t.Errorf("%s: err = %v (code %q), want code %q", tc.name, err, got, tc.code)
		}
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateGroup(&schemas.Group{DisplayName: "Sales", ExternalID: "a\x00b"})
	})
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("group: %v", err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateGroup(&schemas.Group{DisplayName: "Support", Members: []schemas.Member{{Value: "a\x00b"}}})
	})
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("member: %v", err)
	}
	// Reads with a NUL in a client's value: invalid input, not a failure.
	if _, err := s.GetUser(ctx, "a\x00b", false); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("GetUser: %v", err)
	}
	if _, err := s.GetGroup(ctx, "a\x00b", false); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("GetGroup: %v", err)
	}
	if _, err := s.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("userName", "a\x00b"), StartIndex: 1, Count: 1}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("QueryUsers: %v", err)
	}
	got, err := s.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("userName", "text@example.com"), StartIndex: 1, Count: 1})
	if err != nil || len(got.Users) != 1 || got.Users[0].DisplayName != `Ada \u0000 \\u0000` {
		t.Fatalf("stored text: %+v, %v", got, err)
	}
}

// Groups of hundreds of members created side by side: PostgreSQL coarsens
// their predicate locks to whole relations, so they conflict with one
// another; each must still commit, on its second attempt at the latest
// (the retry runs alone among writers).
func TestBigGroupsSideBySide(t *testing.T) {
	s := openTest(t, Config{MaxConns: 24})
	s.maxAttempts = 2
	ctx := context.Background()
	const groups, members = 12, 100
	ids := make([]string, groups*members)
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range ids {
			u := &schemas.User{UserName: fmt.Sprintf("big%05d", i)}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, groups)
	for g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grp := &schemas.Group{DisplayName: fmt.Sprint("big group ", g)}
			for _, id := range ids[g*members : (g+1)*members] {
				grp.Members = append(grp.Members, schemas.Member{Value: id})
			}
			errs <- s.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(grp) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	page, err := s.QueryGroups(ctx, schemas.Query{StartIndex: 1, Count: 100})
	if err != nil || page.Total != groups {
		t.Fatalf("groups: %+v, %v", page, err)
	}
}

// Values PostgreSQL cannot take from a client — a NUL in the audit trail's
// or the provisioning queue's lookups, an indexed value too long for its
// index — are invalid input, never a database failure.
func TestRefusesValuesPostgresCannotIndex(t *testing.T) {
	s := openTest(t, Config{})
	ctx := context.Background()
	if _, err := s.Audit(ctx, store.AuditQuery{ResourceID: "a\x00b", Limit: 10}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("Audit: %v", err)
	}
	if _, err := s.GetProvisioning(ctx, "a\x00b"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("GetProvisioning: %v", err)
	}
	// Random letters: a repeated one would compress below the limit.
	rng := rand.New(rand.NewPCG(1, 2))
	letters := make([]byte, 3000)
	for i := range letters {
		letters[i] = byte('a' + rng.IntN(26))
	}
	long := string(letters)
	for _, u := range []*schemas.User{
		{UserName: long + "@example.com"},
		{UserName: "ext@example.com", ExternalID: long},
		{UserName: "mail@example.com", Emails: []schemas.MultiValue{{Value: long + "@example.com"}}},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(u) })
		if store.ErrorCode(err) != store.EINVALID || !strings.Contains(err.Error(), "too long") {
			t.Errorf("user %.20s…: %v", u.UserName, err)
		}
	}
	err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(&schemas.Group{DisplayName: long}) })
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("group: %v", err)
	}
}
