package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// RunPaging runs the suite's paging cases for deep lists read out of order:
// pages asked for at any startIndex, jumping back and forth, by several
// clients at once, across writes, filtered and sorted. Every page must be
// the slice of the full list RFC 7644 §3.4.2.4 makes it. It is separate
// from Run because it writes a few thousand users; drivers call it beside
// Run.
func RunPaging(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const n = 3000
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			title := []string{"Engineer", "Manager", "Clerk"}[i%3]
			if err := tx.CreateUser(&schemas.User{UserName: fmt.Sprintf("page%05d", (i*7919)%n), Title: title}); err != nil {
				return err
			}
		}
		return nil
	})
	// Gaps in creation order: every 7th user, and a run of 500.
	all := queryAll(t, s, schemas.Query{})
	update(t, s, func(tx store.Tx) error {
		for i, id := range all {
			if i%7 == 3 || (i >= 1200 && i < 1700) {
				if _, err := tx.DeleteUser(id); err != nil {
					return err
				}
			}
		}
		return nil
	})

	userName, err := schemas.MustLoad().Users.ResolvePath("userName")
	if err != nil {
		t.Fatal(err)
	}
	queries := []struct {
		name string
		q    schemas.Query
	}{
		{"all", schemas.Query{}},
		{"filtered", schemas.Query{Filter: parse(t, `title eq "engineer" or title eq "clerk"`, nil)}},
		{"sorted", schemas.Query{SortBy: &userName, Descending: true}},
		{"filtered sorted", schemas.Query{Filter: parse(t, `title eq "manager"`, nil), SortBy: &userName}},
	}
	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			want := queryAll(t, s, tc.q)
			if len(want) < 500 {
				t.Fatalf("only %d users listed", len(want))
			}
			r := rand.New(rand.NewPCG(1, uint64(len(want))))
			starts := []int{1, len(want), len(want) + 1, len(want) + 500, 0, 2, 1025, 1024, 1023, 2049}
			for range 60 {
				starts = append(starts, 1+r.IntN(len(want)+20))
			}
			// Forward, then backward, then jumping: cursors remembered by
			// one order must not mislead another.
			for _, start := range starts {
				for _, count := range []int{1, 37, 100} {
					checkPage(t, s, tc.q, want, start, count)
				}
			}
			for start := len(want); start >= 1; start -= 97 {
				checkPage(t, s, tc.q, want, start, 100)
			}
		})
	}

	t.Run("concurrent", func(t *testing.T) {
		for _, tc := range queries {
			want := queryAll(t, s, tc.q)
			const count = 50
			var next atomic.Int64
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for {
						start := int(next.Add(count)) - count + 1
						if start > len(want) {
							return
						}
						q := tc.q
						q.StartIndex, q.Count = start, count
						p, err := s.QueryUsers(context.Background(), q)
						if err != nil {
							t.Error(err)
							return
						}
						if p.Total != len(want) {
							t.Errorf("%s at %d: total %d, want %d", tc.name, start, p.Total, len(want))
						}
						mu.Lock()
						for i, u := range p.Users {
							seen[u.ID]++
							if start-1+i >= len(want) || want[start-1+i] != u.ID {
								t.Errorf("%s at %d: item %d is %s", tc.name, start, i, u.UserName)
							}
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != len(want) {
				t.Errorf("%s: %d distinct users seen, want %d", tc.name, len(seen), len(want))
			}
			for id, k := range seen {
				if k != 1 {
					t.Errorf("%s: %s seen %d times", tc.name, id, k)
				}
			}
		}
	})

	// Pages read before a write must not steer pages read after it.
	t.Run("across writes", func(t *testing.T) {
		for round := range 4 {
			for _, tc := range queries {
				want := queryAll(t, s, tc.q)
				for _, start := range []int{1, 101, 1101, len(want) - 50, 555} {
					checkPage(t, s, tc.q, want, start, 100)
				}
			}
			before := queryAll(t, s, schemas.Query{})
			update(t, s, func(tx store.Tx) error {
				// Remove users early in the list and add some at its end.
				for i := range 30 {
					if _, err := tx.DeleteUser(before[round*40+i]); err != nil {
						return err
					}
				}
				for i := range 20 {
					u := &schemas.User{UserName: fmt.Sprintf("late%d-%d", round, i), Title: "Engineer"}
					if err := tx.CreateUser(u); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
}

// queryAll lists every user q selects, in its order, in one request.
func queryAll(t *testing.T, s store.Store, q schemas.Query) []string {
	t.Helper()
	q.StartIndex, q.Count = 1, 1<<30
	p, err := s.QueryUsers(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(p.Users))
	for i, u := range p.Users {
		ids[i] = u.ID
	}
	if p.Total != len(ids) {
		t.Fatalf("total %d for %d users", p.Total, len(ids))
	}
	return ids
}

// checkPage reads one page and compares it with its slice of want.
func checkPage(t *testing.T, s store.Store, q schemas.Query, want []string, start, count int) {
	t.Helper()
	q.StartIndex, q.Count = start, count
	p, err := s.QueryUsers(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	from := min(max(start, 1)-1, len(want))
	exp := want[from:min(from+count, len(want))]
	got := make([]string, len(p.Users))
	for i, u := range p.Users {
		got[i] = u.ID
	}
	if !slices.Equal(got, exp) || p.Total != len(want) {
		t.Fatalf("startIndex %d count %d: %d users (total %d), want %d (total %d); first %v want %v",
			start, count, len(got), p.Total, len(exp), len(want), head(got), head(exp))
	}
}

func head(ids []string) []string { return ids[:min(len(ids), 3)] }
