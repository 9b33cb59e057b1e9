package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

func TestLimiterWindow(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		interval time.Duration
		requests int
		wantWait time.Duration // total slept
	}{
		{"burst within the limit", 5, time.Second, 5, 0},
		{"one over waits a window (+100ms margin)", 5, time.Second, 6, time.Second + 100*time.Millisecond},
		{"three windows", 2, 100 * time.Millisecond, 6, 2 * (200 * time.Millisecond)},
		{"HubSpot's window: 10 s + 2.5%", 100, 10 * time.Second, 101, 10*time.Second + 250*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			start := clk.Now()
			l := hubspot.NewLimiter(tt.n, tt.interval, 0, hubspot.WithClock(clk.Now, clk.Sleep))
			for i := range tt.requests {
				if err := l.Wait(context.Background(), i%2 == 0); err != nil {
					t.Fatal(err)
				}
			}
			if got := clk.Now().Sub(start); got != tt.wantWait {
				t.Errorf("waited %s, want %s", got, tt.wantWait)
			}
		})
	}
}

func TestLimiterWaitCancelled(t *testing.T) {
	l := hubspot.NewLimiter(1, time.Hour, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Wait(ctx, false); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Millisecond {
		t.Errorf("Wait = %v after %s, want DeadlineExceeded at once", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want Canceled", err)
	}
}

// TestLimiterAdaptsToHeaders: HubSpot's headers resize the bucket and
// account for requests spent by other processes of the same app.
func TestLimiterAdaptsToHeaders(t *testing.T) {
	f := newFakeHub(t, 1)
	f.headers.Set("X-HubSpot-RateLimit-Max", "4")
	f.headers.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "2000")
	f.headers.Set("X-HubSpot-RateLimit-Daily", "500000")
	f.headers.Set("X-HubSpot-RateLimit-Daily-Remaining", "499000")
	clk := newFakeClock()
	c := newClient(t, f.srv.URL, clk, nil) // configured 100 per 10 s
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "101"); err != nil {
		t.Fatal(err)
	}
	st := c.Limiter().State()
	if st.Limit != 4 || st.Interval != 2*time.Second || st.Tokens != 3 || st.DailyLimit != 500000 || st.DailyRemaining != 499000 {
		t.Fatalf("state %+v, want limit 4 per 2s, 3 tokens, daily 500000/499000", st)
	}
	// Someone else spent the window: HubSpot says one left.
	f.mu.Lock()
	f.headers.Set("X-HubSpot-RateLimit-Remaining", "1")
	f.mu.Unlock()
	if _, err := c.GetUser(ctx, "101"); err != nil {
		t.Fatal(err)
	}
	if st := c.Limiter().State(); st.Tokens != 1 {
		t.Fatalf("tokens %d after Remaining: 1, want 1", st.Tokens)
	}
	start := clk.Now()
	for range 2 {
		if _, err := c.GetUser(ctx, "101"); err != nil {
			t.Fatal(err)
		}
	}
	if waited := clk.Now().Sub(start); waited != 2*time.Second+100*time.Millisecond {
		t.Errorf("waited %s for the second request, want one 2s window (+100ms)", waited)
	}
}

// TestLimiterSharedNeverExceeds: goroutines of two clients sharing one
// limiter never put more than N requests into any window at the server,
// which answers 429 like HubSpot when they do.
func TestLimiterSharedNeverExceeds(t *testing.T) {
	const (
		n        = 5
		interval = 500 * time.Millisecond
		workers  = 6
		each     = 5
	)
	var (
		mu       sync.Mutex
		arrivals []time.Time
		rejected int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		inWindow := 0
		for _, a := range arrivals {
			// HubSpot's rolling window, exactly.
			if now.Sub(a) < interval {
				inWindow++
			}
		}
		arrivals = append(arrivals, now)
		if inWindow >= n {
			rejected++
			mu.Unlock()
			rateLimited(w, hubspot.PolicyTenSecondly)
			return
		}
		mu.Unlock()
		writeJSON(w, 200, hubspot.User{ID: "1", Email: "a@example.com", RoleIDs: []string{}})
	}))
	defer srv.Close()

	shared := hubspot.NewLimiter(n, interval, 0)
	clients := make([]*hubspot.Client, 2)
	for i := range clients {
		c, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: testToken, Limiter: shared, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for range each {
				if _, err := clients[w%2].GetUser(context.Background(), "1"); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if rejected > 0 || len(arrivals) != workers*each {
		t.Fatalf("%d of %d requests rejected", rejected, len(arrivals))
	}
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	for i := n; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-n]); gap < interval {
			t.Errorf("requests %d and %d only %s apart: more than %d in a window", i-n, i, gap, n)
		}
	}
	// And it is not needlessly slow: 30 requests at 5 per 500 ms ≈ 5 windows.
	if total := arrivals[len(arrivals)-1].Sub(arrivals[0]); total > 4*time.Second {
		t.Errorf("took %s", total)
	}
}

func TestLimiterStateDaily(t *testing.T) {
	clk := newFakeClock()
	l := hubspot.NewLimiter(10, time.Second, 100, hubspot.WithClock(clk.Now, clk.Sleep))
	for range 3 {
		if err := l.Wait(context.Background(), true); err != nil {
			t.Fatal(err)
		}
	}
	st := l.State()
	want := hubspot.LimiterState{Tokens: 7, Used: 3, Limit: 10, Interval: time.Second, DailyLimit: 100, DailyUsed: 3,
		DailyRemaining: 97, DailyResetAt: time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)}
	if st != want {
		t.Errorf("state\n %+v, want\n %+v", st, want)
	}
	clk.Advance(12 * time.Hour)
	if st := l.State(); st.DailyUsed != 0 || st.DailyRemaining != 100 || st.Tokens != 10 {
		t.Errorf("after midnight: %+v", st)
	}
}
