package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

func testConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("IsolatedFailures", func(t *testing.T) { testConcurrencyIsolatedFailures(t, open) })
	t.Run("ConflictingCreates", func(t *testing.T) { testConcurrencyConflictingCreates(t, open) })
	t.Run("ConcurrentReplaces", func(t *testing.T) { testConcurrencyConcurrentReplaces(t, open) })
	t.Run("ReadersAndWriters", func(t *testing.T) { testConcurrencyReadersAndWriters(t, open) })
	t.Run("Provisioning", func(t *testing.T) { testConcurrencyProvisioning(t, open) })
}

// Many concurrent transactions, some failing after several writes:
// a driver that commits them together must roll back only the failing
// ones (RFC 7644 §3.7 asks the same of a bulk request's operations).
func testConcurrencyIsolatedFailures(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	const n = 200
	var wg sync.WaitGroup
	var after atomic.Int64
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx store.Tx) error { return isolatedJob(tx, i, &after) })
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case i%3 == 0 && !errors.Is(err, errTest):
			t.Errorf("job %d: err %v, want its own failure", i, err)
		case i%3 != 0 && err != nil:
			t.Errorf("job %d: %v", i, err)
		case i%3 != 0:
			ok++
		}
	}
	if after.Load() != int64(ok) {
		t.Errorf("AfterCommit ran %d times, want %d", after.Load(), ok)
	}
	users, err := s.QueryUsers(ctx, schemas.Query{Count: 1000, Related: true})
	if err != nil {
		t.Fatal(err)
	}
	if users.Total != ok || len(users.Users) != ok {
		t.Errorf("users: total %d, %d listed, want %d", users.Total, len(users.Users), ok)
	}
	for _, u := range users.Users {
		var i int
		fmt.Sscanf(u.UserName, "user%d", &i)
		if i%3 == 0 {
			t.Errorf("user of failed job %d committed", i)
		}
		if len(u.Groups) != 1 || u.Groups[0].Display != fmt.Sprintf("group%03d", i) {
			t.Errorf("%s: groups %+v", u.UserName, u.Groups)
		}
	}
	groups, err := s.QueryGroups(ctx, schemas.Query{Count: 0})
	if err != nil {
		t.Fatal(err)
	}
	if groups.Total != ok {
		t.Errorf("groups: total %d, want %d", groups.Total, ok)
	}
	recs, err := s.Audit(ctx, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != ok {
		t.Errorf("audit: %d records, want %d", len(recs), ok)
	}
	p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, `emails.value eq "u3@x"`, nil), Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 0 {
		t.Error("email of a failed job is indexed")
	}
}

// isolatedJob writes user i, its group and an audit record, counting its
// commit in after; every third job then fails.
func isolatedJob(tx store.Tx, i int, after *atomic.Int64) error {
	u := &schemas.User{UserName: fmt.Sprintf("user%03d", i), Emails: []schemas.MultiValue{{Value: fmt.Sprintf("u%d@x", i)}}}
	if err := tx.CreateUser(u); err != nil {
		return err
	}
	if err := tx.CreateGroup(&schemas.Group{DisplayName: fmt.Sprintf("group%03d", i), Members: []schemas.Member{{Value: u.ID}}}); err != nil {
		return err
	}
	if err := tx.AddAudit(&store.AuditRecord{Actor: "t", Action: "create", ResourceType: "User", ResourceID: u.ID}); err != nil {
		return err
	}
	tx.AfterCommit(func() { after.Add(1) })
	if i%3 == 0 {
		return fmt.Errorf("job %d: %w", i, errTest)
	}
	return nil
}

func testConcurrencyConflictingCreates(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	const n = 32
	var wg sync.WaitGroup
	var okCount, conflicts atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx store.Tx) error {
				return tx.CreateUser(&schemas.User{UserName: fmt.Sprintf("SAME-%d", i%2)})
			})
			switch store.ErrorCode(err) {
			case "":
				if err != nil {
					t.Errorf("create: %v", err)
				}
				okCount.Add(1)
			case store.ECONFLICT:
				conflicts.Add(1)
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if okCount.Load() != 2 || conflicts.Load() != n-2 {
		t.Errorf("%d created, %d conflicts; want 2 and %d", okCount.Load(), conflicts.Load(), n-2)
	}
}

func testConcurrencyConcurrentReplaces(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	u := createUser(t, s, &schemas.User{UserName: "shared"})
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx store.Tx) error {
				cur, err := tx.GetUser(u.ID, false)
				if err != nil {
					return err
				}
				cur.Title = fmt.Sprint(i)
				return tx.ReplaceUser(cur)
			})
			if err != nil {
				t.Errorf("replace: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := getUser(t, s, u.ID, false).Meta.Version; got != n+1 {
		t.Errorf("version %d after %d replaces, want %d", got, n, n+1)
	}
}

// Readers run while writers commit; under -race this also checks the
// driver's own synchronisation.
func testConcurrencyReadersAndWriters(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	g := createGroup(t, s, &schemas.Group{DisplayName: "G"})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr atomic.Value
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := parse(t, `userName sw "w"`, nil)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				p, err := s.QueryUsers(ctx, schemas.Query{Filter: f, StartIndex: 1 + n%7, Count: 3, Related: true})
				if err != nil {
					readErr.Store(err)
					return
				}
				if len(p.Users) > 3 || p.Total < len(p.Users) {
					readErr.Store(fmt.Errorf("reader %d: page of %d, total %d", r, len(p.Users), p.Total))
					return
				}
				if _, err := s.GetGroup(ctx, g.ID, true); err != nil {
					readErr.Store(err)
					return
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 15 {
				err := s.Update(ctx, func(tx store.Tx) error {
					u := &schemas.User{UserName: fmt.Sprintf("w%d-%d", w, i)}
					if err := tx.CreateUser(u); err != nil {
						return err
					}
					cur, err := tx.GetGroup(g.ID, true)
					if err != nil {
						return err
					}
					cur.Members = append(cur.Members, schemas.Member{Value: u.ID})
					_, err = tx.ReplaceGroup(cur)
					return err
				})
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if err, _ := readErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	got := getGroup(t, s, g.ID, true)
	if len(got.Members) != 8*15 {
		t.Errorf("group has %d members, want %d", len(got.Members), 8*15)
	}
}

// The provisioning queue under load: writers change users' desired
// states while workers record outcomes (some failing) for what they
// find due, often for a version that moved on meanwhile, and a reader
// watches the queue. Once the writers stop and the workers drain the
// queue, every row holds one version per real change, all applied.
func testConcurrencyProvisioning(t *testing.T, open func(t *testing.T) store.Store) {
	l := &provLoad{s: open(t), stop: make(chan struct{})}
	var writing sync.WaitGroup
	for w := range provWriters {
		writing.Go(func() { l.write(w) })
	}
	var working sync.WaitGroup
	for k := range provWorkers {
		working.Go(func() { l.work(k) })
	}
	working.Go(l.watch)
	writing.Wait()
	l.drain()
	close(l.stop)
	working.Wait()
	if err, _ := l.failure.Load().(error); err != nil {
		t.Fatal(err)
	}
	l.check(t)
}

const provUsers, provWriters, provWorkers, provRounds = 16, 4, 3, 30

// provLoad is the shared state of testConcurrencyProvisioning.
type provLoad struct {
	s        store.Store
	versions [provUsers]atomic.Int64 // committed SetDesired changes per user
	failure  atomic.Value            // the first error of any goroutine
	stop     chan struct{}           // closed when the workers and the reader stop
}

func (l *provLoad) fail(err error) { l.failure.CompareAndSwap(nil, err) }

func (l *provLoad) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// write is writer w: it sets desired states, some of them unchanged.
func (l *provLoad) write(w int) {
	for r := range provRounds {
		i := (w*5 + r*3) % provUsers
		doc := fmt.Sprintf(`{"w":%d,"r":%d}`, w, r%3) // repeats: some writes change nothing
		err := l.s.Update(context.Background(), func(tx store.Tx) error {
			p, changed, err := tx.SetDesired(fmt.Sprintf("u%02d", i), []byte(doc))
			if err != nil {
				return err
			}
			if p.AppliedVersion > p.DesiredVersion || p.AttemptedVersion > p.DesiredVersion {
				return fmt.Errorf("versions out of order: %+v", p)
			}
			if changed {
				tx.AfterCommit(func() { l.versions[i].Add(1) })
			}
			return nil
		})
		if err != nil {
			l.fail(err)
			return
		}
	}
}

// work is worker k: it records outcomes, every third a failure, for the
// due rows of its users until stopped.
func (l *provLoad) work(k int) {
	ctx := context.Background()
	for n := k; !l.stopped(); n++ {
		due, err := l.s.DueProvisioning(ctx, time.Now(), 100)
		if err != nil {
			l.fail(err)
			return
		}
		for _, p := range due {
			// One worker per user, as the engine has it.
			var i int
			fmt.Sscanf(p.UserID, "u%d", &i)
			if i%provWorkers != k {
				continue
			}
			o := store.Outcome{Version: p.DesiredVersion, Done: n%3 != 0, HubSpotID: "h-" + p.UserID, State: "synced"}
			if !o.Done {
				o.State, o.LastError = "pending", "try again" // due again at once
			}
			if err := l.s.Update(ctx, func(tx store.Tx) error { return tx.RecordOutcome(p.UserID, o) }); err != nil {
				l.fail(err)
				return
			}
		}
	}
}

// watch reads the queue until stopped, checking that its counts add up.
func (l *provLoad) watch() {
	ctx := context.Background()
	for !l.stopped() {
		counts, err := l.s.ProvisioningCounts(ctx)
		if err != nil {
			l.fail(err)
			return
		}
		rows := 0
		for k, n := range counts {
			if k != "_pending" {
				rows += n
			}
		}
		if counts["_pending"] > rows || rows > provUsers {
			l.fail(fmt.Errorf("counts %v", counts))
			return
		}
		if _, _, err := l.s.NextProvisioningDue(ctx); err != nil {
			l.fail(err)
			return
		}
		if _, err := l.s.ListProvisioning(ctx, "", 5); err != nil {
			l.fail(err)
			return
		}
	}
}

// drain waits, after the writers stopped, until nothing is due.
func (l *provLoad) drain() {
	deadline := time.Now().Add(20 * time.Second)
	for l.failure.Load() == nil {
		due, err := l.s.DueProvisioning(context.Background(), time.Now(), 10)
		if err != nil {
			l.fail(err)
		}
		if len(due) == 0 {
			break
		}
		if time.Now().After(deadline) {
			l.fail(fmt.Errorf("queue not drained: %v still due", provIDs(due)))
		}
		time.Sleep(time.Millisecond)
	}
}

// check wants every changed user's row to hold all its versions, applied.
func (l *provLoad) check(t *testing.T) {
	rows := 0
	for i := range provUsers {
		want := l.versions[i].Load()
		if want == 0 {
			continue
		}
		rows++
		p := getProvisioning(t, l.s, fmt.Sprintf("u%02d", i))
		if p.DesiredVersion != want || p.AppliedVersion != want || p.AttemptedVersion != want || p.State != "synced" || p.Attempts != 0 {
			t.Errorf("u%02d: %d changes, row %+v", i, want, p)
		}
	}
	counts, err := l.s.ProvisioningCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts["_pending"] != 0 || counts["synced"] != rows {
		t.Errorf("counts %v, want %d synced and nothing pending", counts, rows)
	}
}
