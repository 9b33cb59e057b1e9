package hubspot_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/contract"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// The contract (package contract, openapi.yaml) is checked on both sides of
// every test that talks to the simulator:
//
//   - newClient gives every client the contract's validating transport:
//     every request the client sends is checked against the contract, and
//     when the client talks to a simulator served by serveSim, every answer
//     too. Any violation fails the test.
//   - serveSim (behind startSim and startCRMSim) serves the simulator
//     behind the contract's middleware, which checks every answer the
//     simulator gives, whoever the client is.
//
// The one exemption: answers from servers other than the simulator
// (cannedServer, the recorder, the fake, a test's own httptest server) are
// not checked, because they are test fixtures, often wrong on purpose,
// not HubSpot. The requests sent to them are checked all the same.

// simURLs holds the base URLs of the simulators serveSim serves.
var simURLs sync.Map

func isSimulator(baseURL string) bool {
	_, ok := simURLs.Load(strings.TrimRight(baseURL, "/"))
	return ok
}

func mustContract(t testing.TB) *contract.Contract {
	t.Helper()
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contractTransport is the transport newClient gives a client of baseURL:
// requests always checked, answers checked when baseURL is a simulator.
func contractTransport(t testing.TB, baseURL string) *contract.Transport {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	tr := mustContract(t).Transport(base, contract.TestReporter(t))
	tr.SkipResponses = !isSimulator(baseURL)
	return tr
}

// simServer is a simulator served on a loopback port behind the
// contract's middleware. It closes like hubspotsim.Server: a moment for
// answers under way, then the connections left are dropped.
type simServer struct {
	// URL is the base URL to point a client at.
	URL string
	// Sim is the simulator, for inspection.
	Sim *hubspotsim.Sim

	srv  *http.Server
	done chan error
	once sync.Once
}

// serveSim builds a simulator from cfg and serves it for the test behind
// the contract's middleware: an answer the contract does not allow fails
// the test.
func serveSim(t testing.TB, cfg hubspotsim.Config) *simServer {
	t.Helper()
	report := contract.TestReporter(t) // before the server: its cleanup runs after Close
	sim, err := hubspotsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &simServer{
		URL:  "http://" + ln.Addr().String(),
		Sim:  sim,
		srv:  &http.Server{Handler: mustContract(t).Middleware(sim.Handler(), report), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	simURLs.Store(s.URL, true)
	t.Cleanup(func() {
		simURLs.Delete(s.URL)
		if err := s.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	return s
}

// Close stops the server; closing twice is harmless.
func (s *simServer) Close() error {
	var err error
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.srv.Shutdown(ctx) != nil {
			_ = s.srv.Close()
		}
		if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
			err = serr
		}
	})
	return err
}
