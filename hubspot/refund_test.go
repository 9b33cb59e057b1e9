package hubspot_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// TestUnreachableSpendsNoBudget: requests that never reach HubSpot
// (connection refused, a TLS handshake that fails) give their tokens back,
// so an outage cannot spend the daily budget and pause writes.
func TestUnreachableSpendsNoBudget(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request got through an untrusted TLS handshake")
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	for _, tt := range []struct {
		name, url string
	}{
		{"connection refused", closedURL(t)},
		{"TLS handshake fails", tlsSrv.URL}, // certificate not trusted
	} {
		t.Run(tt.name, func(t *testing.T) {
			// 100 a day keeps 1 for reads: 160 attempts would pause writes.
			c := newClient(t, tt.url, newFakeClock(), func(cfg *hubspot.Config) { cfg.DailyLimit = 100; cfg.MaxRetries = 3 })
			ctx := context.Background()
			first := "Ada"
			for i := range 40 {
				_, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first})
				if err == nil || errors.Is(err, hubspot.ErrDailyLimit) {
					t.Fatalf("update %d: %v, want a transport error", i, err)
				}
			}
			st := c.Limiter().State()
			if st.DailyRemaining != 100 || st.DailyUsed != 0 || st.Used != 0 || !st.PausedUntil.IsZero() {
				t.Errorf("after 160 unsent attempts: %+v, want the budget and window untouched", st)
			}
		})
	}
}

// TestSentRequestsCount: whatever may have reached HubSpot spends its
// budget: an answer (2xx, 5xx), a timeout after the request was written,
// a connection dropped after a write was committed.
func TestSentRequestsCount(t *testing.T) {
	tests := []struct {
		name     string
		faults   hubspotsim.Faults
		write    bool
		attempts int
	}{
		{"answered", hubspotsim.Faults{}, false, 1},
		{"5xx", hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}}, false, 2},
		{"timeout", hubspotsim.Faults{TimeoutRate: 1, TimeoutHold: 2 * time.Second}, false, 2},
		{"answer lost", hubspotsim.Faults{LostAnswerRate: 1}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			srv := startSim(t, clk, hubspotsim.Faults{})
			c := simClient(t, srv, clk, func(cfg *hubspot.Config) {
				cfg.MaxRetries = tt.attempts - 1
				cfg.Timeout = 200 * time.Millisecond
			})
			ctx := context.Background()
			before := c.Limiter().State()
			srv.Sim.SetFaults(tt.faults)
			var err error
			if tt.write {
				_, err = c.UpdateUser(ctx, "10000001", hubspot.UserUpdate{SecondaryTeamIDs: []string{}})
			} else {
				_, err = c.GetUser(ctx, "10000001")
			}
			if (err != nil) != (tt.attempts > 1) {
				t.Fatalf("call: %v", err)
			}
			st := c.Limiter().State()
			if used := before.DailyRemaining - st.DailyRemaining; used != tt.attempts || st.Used != tt.attempts {
				t.Errorf("daily budget spent %d, window holds %d; want %d each (%+v)", used, st.Used, tt.attempts, st)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUnsentByErrorAlone: a transport that reports no connection events
// is judged by its error.
func TestUnsentByErrorAlone(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantSpent int
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, 0},
		{"DNS failure", &net.DNSError{Err: "no such host", Name: "api.hubapi.com", IsNotFound: true}, 0},
		{"proxy CONNECT failed", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: errors.New("502 Bad Gateway")}, 0},
		{"reset while reading", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, 2},
		{"timeout", context.DeadlineExceeded, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, tt.err })
			c := newClient(t, "https://api.hubapi.com", newFakeClock(), func(cfg *hubspot.Config) {
				cfg.HTTPClient = &http.Client{Transport: rt}
				cfg.MaxRetries = 1
			})
			if _, err := c.GetUser(context.Background(), "101"); err == nil {
				t.Fatal("no error")
			}
			if st := c.Limiter().State(); st.DailyUsed != tt.wantSpent || st.Used != tt.wantSpent {
				t.Errorf("spent %d daily, %d in the window; want %d", st.DailyUsed, st.Used, tt.wantSpent)
			}
		})
	}
}

func TestReservationRefund(t *testing.T) {
	ctx := context.Background()
	t.Run("gives back the window slot and the daily count once", func(t *testing.T) {
		clk := newFakeClock()
		l := hubspot.NewLimiter(10, time.Second, 100, hubspot.WithClock(clk.Now, clk.Sleep))
		var rs []*hubspot.Reservation
		for range 3 {
			r, err := l.Reserve(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		rs[1].Refund()
		rs[1].Refund()
		(*hubspot.Reservation)(nil).Refund()
		if st := l.State(); st.Used != 2 || st.Tokens != 8 || st.DailyUsed != 2 || st.DailyRemaining != 98 {
			t.Errorf("after one refund: %+v", st)
		}
	})
	t.Run("not into the next day", func(t *testing.T) {
		clk := newFakeClock()
		l := hubspot.NewLimiter(10, time.Second, 100, hubspot.WithClock(clk.Now, clk.Sleep))
		r, err := l.Reserve(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(12 * time.Hour) // past midnight UTC
		if _, err := l.Reserve(ctx, true); err != nil {
			t.Fatal(err)
		}
		r.Refund()
		if st := l.State(); st.DailyUsed != 1 || st.DailyRemaining != 99 || st.Used != 1 {
			t.Errorf("yesterday's refund changed today: %+v", st)
		}
	})
	t.Run("lifts the read reserve's write pause", func(t *testing.T) {
		clk := newFakeClock()
		l := hubspot.NewLimiter(1000, time.Second, 100, hubspot.WithClock(clk.Now, clk.Sleep)) // 1 kept for reads
		var last *hubspot.Reservation
		for i := range 99 {
			r, err := l.Reserve(ctx, true)
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			last = r
		}
		if _, err := l.Reserve(ctx, true); !errors.Is(err, hubspot.ErrDailyLimit) {
			t.Fatalf("write at the reserve: %v", err)
		}
		if st := l.State(); st.PausedUntil.IsZero() {
			t.Fatalf("not paused: %+v", st)
		}
		last.Refund()
		if st := l.State(); !st.PausedUntil.IsZero() || st.DailyRemaining != 2 {
			t.Errorf("after the refund: %+v, want writes resumed with 2 left", st)
		}
		if _, err := l.Reserve(ctx, true); err != nil {
			t.Errorf("write after the refund: %v", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		l := hubspot.NewLimiter(10000, time.Hour, 100000)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := range 50 {
					r, err := l.Reserve(ctx, i%3 == 0)
					if err != nil {
						t.Error(err)
						return
					}
					if i%2 == 0 {
						r.Refund()
					}
					_ = l.State()
				}
			})
		}
		wg.Wait()
		if st := l.State(); st.Used != 200 || st.DailyUsed != 200 || st.DailyRemaining != 100000-200 {
			t.Errorf("after 400 reservations, half refunded: %+v", st)
		}
	})
}
