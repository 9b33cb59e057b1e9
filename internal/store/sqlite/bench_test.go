package sqlite

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Benchmarks against a database of benchUsers users, each in one of
// benchUsers/100 groups. Each benchmark populates its own database once
// (the parent runs once; the sub-benchmarks are timed).
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/store/sqlite

const benchUsers = 100_000

func populate(b *testing.B, n int) *Store {
	b.Helper()
	start := time.Now()
	s := openTest(b, Config{})
	ctx := context.Background()
	const perTx = 2000
	for i := 0; i < n; i += perTx {
		if err := s.Update(ctx, func(tx store.Tx) error {
			var members []schemas.Member
			for j := i; j < min(i+perTx, n); j++ {
				u := benchUser(j)
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				members = append(members, schemas.Member{Value: u.ID})
				if len(members) == 100 {
					if err := tx.CreateGroup(&schemas.Group{DisplayName: fmt.Sprintf("group%06d", j/100), Members: members}); err != nil {
						return err
					}
					members = nil
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("populated %d users in %v", n, time.Since(start).Round(time.Millisecond))
	return s
}

func benchUser(i int) *schemas.User {
	active := i%10 != 0
	return &schemas.User{
		UserName:    fmt.Sprintf("user%06d@example.com", i),
		ExternalID:  fmt.Sprintf("ext-%06d", i),
		DisplayName: fmt.Sprintf("User %06d", i),
		Name:        &schemas.Name{GivenName: "User", FamilyName: fmt.Sprintf("N%06d", i)},
		Title:       "Engineer",
		Active:      &active,
		Emails:      []schemas.MultiValue{{Value: fmt.Sprintf("user%06d@example.com", i), Type: "work", Primary: true}},
		Enterprise:  &schemas.EnterpriseExt{Department: fmt.Sprintf("dept%02d", i%50)},
	}
}

// BenchmarkQueryUserName is the lookup identity providers make before every
// create: userName eq, with the groups attribute.
func BenchmarkQueryUserName(b *testing.B) {
	s := populate(b, benchUsers)
	ctx := context.Background()
	filters := make([]filter.Expression, 1024)
	for i := range filters {
		filters[i] = mustParse(b, fmt.Sprintf(`userName eq "USER%06d@example.com"`, (i*7919)%benchUsers))
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p, err := s.QueryUsers(ctx, schemas.Query{Filter: filters[i%len(filters)], StartIndex: 1, Count: 100, Related: true})
			if err != nil || p.Total != 1 || len(p.Users[0].Groups) != 1 {
				b.Fatalf("%+v %v", p, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				p, err := s.QueryUsers(ctx, schemas.Query{Filter: filters[i%int64(len(filters))], StartIndex: 1, Count: 100, Related: true})
				if err != nil || p.Total != 1 {
					b.Errorf("%+v %v", p, err)
					return
				}
			}
		})
	})
	b.Run("GetUser", func(b *testing.B) {
		p, err := s.QueryUsers(ctx, schemas.Query{Count: 1})
		if err != nil {
			b.Fatal(err)
		}
		id := p.Users[0].ID
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetUser(ctx, id, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateUserParallel measures durable creates (synchronous=FULL,
// one fsync per group commit) from 32 concurrent callers.
func BenchmarkCreateUserParallel(b *testing.B) {
	big := populate(b, benchUsers)
	for _, tc := range []struct {
		name  string
		store func(b *testing.B) *Store
		audit bool
	}{
		{"empty", func(b *testing.B) *Store { return openTest(b, Config{}) }, false},
		{"empty+audit", func(b *testing.B) *Store { return openTest(b, Config{}) }, true},
		{"100k", func(*testing.B) *Store { return big }, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.store(b)
			ctx := context.Background()
			const callers = 32
			var seq, todo atomic.Int64
			todo.Store(int64(b.N))
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for todo.Add(-1) >= 0 {
						n := seq.Add(1)
						err := s.Update(ctx, func(tx store.Tx) error {
							u := benchUser(10*benchUsers + int(n))
							u.UserName = fmt.Sprintf("%s-%d", u.UserName, time.Now().UnixNano())
							if err := tx.CreateUser(u); err != nil {
								return err
							}
							if tc.audit {
								return tx.AddAudit(&store.AuditRecord{Actor: "bench", Action: "create", ResourceType: "User",
									ResourceID: u.ID, Changed: []string{"userName", "emails"}})
							}
							return nil
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
		})
	}
}

// BenchmarkCreateUserSerial measures the write path of a batch of one job,
// the case of a server that is not busy: a create, begin to commit. It runs
// the batch directly (as the writer goroutine would; the writer is idle)
// and turns the commit's fsync off on this test database, so that the time
// is the CPU of the write path rather than the disk's latency or the
// writer's wait for company (gather).
func BenchmarkCreateUserSerial(b *testing.B) {
	s := openTest(b, Config{})
	if _, err := s.wconn.ExecContext(wctx(), "PRAGMA synchronous = OFF"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		u := benchUser(n)
		j := newJob(context.Background(), func(tx store.Tx) error { return tx.CreateUser(u) })
		if res := runJobs(s, j); res[0].err != nil {
			b.Fatal(res[0].err)
		}
	}
}

// BenchmarkGroupWrites measures the membership writes, which also maintain
// each member's groups attribute (users.groups_json) and version: creating
// a group of 100 users, adding a user to a group of 10,000, and renaming a
// group of 1,000 (every member's groups attribute changes). As in
// BenchmarkCreateUserSerial, the commit's fsync is off.
func BenchmarkGroupWrites(b *testing.B) {
	s := openTest(b, Config{})
	if _, err := s.wconn.ExecContext(wctx(), "PRAGMA synchronous = OFF"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var ids []string
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 20_000 {
			u := benchUser(i)
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	members := func(ids []string) []schemas.Member {
		out := make([]schemas.Member, len(ids))
		for i, id := range ids {
			out[i] = schemas.Member{Value: id}
		}
		return out
	}
	write := func(b *testing.B, fn func(tx store.Tx) error) {
		if res := runJobs(s, newJob(ctx, fn)); res[0].err != nil {
			b.Fatal(res[0].err)
		}
	}
	b.Run("create100", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			g := &schemas.Group{DisplayName: fmt.Sprint("c", n), Members: members(ids[(n*100)%19_900:][:100])}
			write(b, func(tx store.Tx) error { return tx.CreateGroup(g) })
		}
	})
	big := &schemas.Group{DisplayName: "big", Members: members(ids[:10_000])}
	write(b, func(tx store.Tx) error { return tx.CreateGroup(big) })
	b.Run("add1to10k", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			g := &schemas.Group{ID: big.ID, DisplayName: "big", Members: members(append(ids[:10_000:10_000], ids[10_000+n%10_000]))}
			write(b, func(tx store.Tx) error { _, err := tx.ReplaceGroup(g); return err })
		}
	})
	mid := &schemas.Group{DisplayName: "mid", Members: members(ids[5_000:6_000])}
	write(b, func(tx store.Tx) error { return tx.CreateGroup(mid) })
	b.Run("rename1k", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			g := &schemas.Group{ID: mid.ID, DisplayName: fmt.Sprint("mid", n), Members: mid.Members}
			write(b, func(tx store.Tx) error { _, err := tx.ReplaceGroup(g); return err })
		}
	})
}

// BenchmarkPageAll walks all users, 100 per page, as a full
// synchronisation does; one op is the whole walk (1,000 queries).
func BenchmarkPageAll(b *testing.B) {
	s := populate(b, benchUsers)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		filter  string
		related bool
		total   int
	}{
		{"all", "", false, benchUsers},
		{"all+groups", "", true, benchUsers},
		{"active", `active eq true`, false, benchUsers * 9 / 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var f filter.Expression
			if tc.filter != "" {
				f = mustParse(b, tc.filter)
			}
			for b.Loop() {
				seen := 0
				for start := 1; ; start += 100 {
					p, err := s.QueryUsers(ctx, schemas.Query{Filter: f, StartIndex: start, Count: 100, Related: tc.related})
					if err != nil {
						b.Fatal(err)
					}
					if p.Total != tc.total {
						b.Fatalf("total %d, want %d", p.Total, tc.total)
					}
					seen += len(p.Users)
					if len(p.Users) < 100 {
						break
					}
				}
				if seen != tc.total {
					b.Fatalf("saw %d users, want %d", seen, tc.total)
				}
			}
		})
	}
}

// BenchmarkScanUsers is the store's part of a full directory reconcile:
// ScanUsers over every user (with groups and origin), and ScanGroups with
// members. One op is the whole scan. peak-RSS-MB is the process's peak
// resident memory during the scans (Linux: VmHWM, reset after populating),
// SQLite's page caches included.
func BenchmarkScanUsers(b *testing.B) {
	s := populate(b, benchUsers)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		scan func() (int, error)
		want int
	}{
		{"users", func() (n int, err error) {
			err = s.ScanUsers(ctx, func(u *schemas.User) error {
				if len(u.Groups) != 1 || u.Origin != schemas.OriginSCIM {
					return fmt.Errorf("user %s: groups %v, origin %q", u.UserName, u.Groups, u.Origin)
				}
				n++
				return nil
			})
			return n, err
		}, benchUsers},
		// fn doing some work per user, as the reconcile does (it compares
		// each user with its directory entry): a scan that reads ahead
		// overlaps its reads with fn.
		{"users+work", func() (n int, err error) {
			err = s.ScanUsers(ctx, func(u *schemas.User) error {
				if _, err := json.Marshal(u); err != nil {
					return err
				}
				n++
				return nil
			})
			return n, err
		}, benchUsers},
		{"groups+members", func() (n int, err error) {
			err = s.ScanGroups(ctx, true, func(g *schemas.Group) error {
				n += len(g.Members)
				return nil
			})
			return n, err
		}, benchUsers},
	} {
		b.Run(tc.name, func(b *testing.B) {
			runtime.GC()
			debug.FreeOSMemory()
			peak := resetPeakRSS()
			b.ReportAllocs()
			for b.Loop() {
				n, err := tc.scan()
				if err != nil || n != tc.want {
					b.Fatalf("scanned %d, want %d: %v", n, tc.want, err)
				}
			}
			if mb, ok := peak(); ok {
				b.ReportMetric(mb, "peak-RSS-MB")
			}
		})
	}
}

// resetPeakRSS resets the process's peak resident set size (Linux) and
// returns a function reading it, in MB.
func resetPeakRSS() func() (float64, bool) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return func() (float64, bool) { return 0, false }
	}
	return func() (float64, bool) {
		data, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return 0, false
		}
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				return float64(kb) / 1024, err == nil
			}
		}
		return 0, false
	}
}

// BenchmarkPageAt reads single pages of 100 users at random startIndexes,
// as clients paging concurrently or resuming an import do; one op is one
// page. The 1M sizes populate 1,000,000 users (minutes), so they run only
// when -bench names them:
//
//	go test -run '^$' -bench 'PageAt/1M' -benchtime 2000x ./internal/store/sqlite
func BenchmarkPageAt(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"100k", benchUsers}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			if size.n > benchUsers && !benchNamed(size.name) {
				b.Skip("1M users: run with -bench 'PageAt/1M'")
			}
			s := populate(b, size.n)
			ctx := context.Background()
			for _, tc := range []struct {
				name   string
				filter string
				total  int
			}{
				{"all", "", size.n},
				{"active", `active eq true`, size.n * 9 / 10},
			} {
				var f filter.Expression
				if tc.filter != "" {
					f = mustParse(b, tc.filter)
				}
				page := func(start int) {
					p, err := s.QueryUsers(ctx, schemas.Query{Filter: f, StartIndex: start, Count: 100, Related: true})
					if err != nil {
						b.Fatal(err)
					}
					if p.Total != tc.total || len(p.Users) != min(100, tc.total-start+1) {
						b.Fatalf("at %d: total %d, %d users", start, p.Total, len(p.Users))
					}
				}
				b.Run(tc.name, func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					var worst time.Duration
					for b.Loop() {
						t0 := time.Now()
						page(1 + r.IntN(tc.total))
						worst = max(worst, time.Since(t0))
					}
					b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
				})
				// Eight clients taking the next page from a shared counter;
				// one op is one page.
				b.Run(tc.name+"/concurrent", func(b *testing.B) {
					var next atomic.Int64
					b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							i := int(next.Add(1)-1) % (tc.total / 100)
							page(1 + i*100)
						}
					})
				})
			}
		})
	}
}

// benchNamed reports whether the -bench pattern names s outright.
func benchNamed(s string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), s)
}
