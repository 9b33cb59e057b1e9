package review

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// gatedReader is the real HubSpot client, counting the reads of the user
// list and holding each until the gate opens.
type gatedReader struct {
	*hubspot.Client
	reads   atomic.Int32
	started chan struct{}
	gate    chan struct{}
}

func (g *gatedReader) AllUsers(ctx context.Context) ([]hubspot.User, error) {
	if g.reads.Add(1) == 1 {
		close(g.started)
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Client.AllUsers(ctx)
}

// newService is a review service over a real SQLite store and the HubSpot
// simulator behind a real socket.
func newService(t *testing.T) (*Service, *gatedReader, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "bridge.db")}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sim, err := hubspotsim.New(hubspotsim.Config{Seed: hubspotsim.DefaultSeed(), Behaviour: hubspotsim.Loose()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	client, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: hubspotsim.DemoToken, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := &gatedReader{Client: client, started: make(chan struct{}), gate: make(chan struct{})}
	close(hs.gate)
	svc := NewService(ServiceConfig{Sources: Sources{Store: st, HubSpot: hs, Rules: testRules()}, Log: zerolog.Nop()})
	return svc, hs, st
}

func subjectsOf(fs []Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.Subject] = f.Category
	}
	return out
}

// TestServiceScheduledKeepsLatest: each scheduled review is stored with
// what is new and resolved since the one before.
func TestServiceScheduledKeepsLatest(t *testing.T) {
	ctx := context.Background()
	svc, hs, _ := newService(t)
	if latest, err := svc.LatestReview(ctx); err != nil || latest != nil {
		t.Fatalf("before any review: %v %v", latest, err)
	}
	first, err := svc.Scheduled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Previous.IsZero() || len(first.New) != first.Report.Summary.Findings || len(first.Resolved) != 0 || len(first.New) == 0 {
		t.Fatalf("first review: previous %v, %d new, %d resolved of %d findings", first.Previous, len(first.New), len(first.Resolved), first.Report.Summary.Findings)
	}
	stray, err := hs.CreateUser(ctx, hubspot.UserCreate{Email: "stray@example.com", RoleID: "3000001"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Scheduled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Previous.Equal(first.Report.Generated) || len(second.Resolved) != 0 || len(second.New) == 0 || len(subjectsOf(second.New)) != 1 || second.New[0].Subject != "stray@example.com" {
		t.Fatalf("second review: previous %v (want %v), new %v, resolved %v", second.Previous, first.Report.Generated, subjectsOf(second.New), subjectsOf(second.Resolved))
	}
	if err := hs.DeleteUser(ctx, stray.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Scheduled(ctx); err != nil {
		t.Fatal(err)
	}
	latest, err := svc.LatestReview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest.New) != 0 || len(latest.Resolved) != len(second.New) || latest.Resolved[0].Subject != "stray@example.com" || latest.Resolved[0].HubSpotID != stray.ID {
		t.Fatalf("third review, read back: new %v, resolved %v", subjectsOf(latest.New), subjectsOf(latest.Resolved))
	}
}

// TestServiceUnreadableLatest: a stored review that does not decode is an
// error when read, and the next scheduled review starts afresh.
func TestServiceUnreadableLatest(t *testing.T) {
	ctx := context.Background()
	svc, _, st := newService(t)
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.SetState(LatestKey, "{not json") }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LatestReview(ctx); err == nil {
		t.Fatal("an unreadable stored review read without error")
	}
	s, err := svc.Scheduled(ctx)
	if err != nil || !s.Previous.IsZero() || len(s.New) != s.Report.Summary.Findings {
		t.Fatalf("after an unreadable review: %v %v", s, err)
	}
}

// TestServiceSharesOneRun: callers arriving while a review runs share it;
// one caller hanging up neither fails the others nor stops the run.
func TestServiceSharesOneRun(t *testing.T) {
	svc, hs, _ := newService(t)
	hs.gate = make(chan struct{})
	quitter, quit := context.WithCancel(context.Background())
	quitErr := make(chan error, 1)
	go func() {
		_, err := svc.Review(quitter)
		quitErr <- err
	}()
	<-hs.started
	quit()
	if err := <-quitErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that hung up: %v", err)
	}
	var wg sync.WaitGroup
	reports := make([]*Report, 4)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := svc.Review(context.Background())
			if err != nil {
				t.Error(err)
			}
			reports[i] = rep
		}()
	}
	time.Sleep(100 * time.Millisecond) // the callers join the run under way
	close(hs.gate)
	wg.Wait()
	if n := hs.reads.Load(); n != 1 {
		t.Fatalf("%d reads of HubSpot's users for one shared run", n)
	}
	for _, r := range reports {
		if r == nil || r != reports[0] {
			t.Fatalf("callers got different reports: %p %p", r, reports[0])
		}
	}
}
