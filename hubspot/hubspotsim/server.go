package hubspotsim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a simulator listening on a port.
type Server struct {
	// URL is the base URL to point a HubSpot client at, e.g.
	// "http://127.0.0.1:41234".
	URL string
	// Sim is the simulator behind it, for in-process inspection.
	Sim *Sim

	srv      *http.Server
	done     chan error
	once     sync.Once
	closeErr error
}

// Start builds a simulator from cfg and serves it on addr
// ("127.0.0.1:0" picks a free port) until Close.
func Start(cfg Config, addr string) (*Server, error) {
	sim, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:  "http://" + ln.Addr().String(),
		Sim:  sim,
		srv:  &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.URL[len("http://"):] }

// Close stops the server: it waits a moment for answers under way, then
// drops the connections left (held requests among them). Closing twice is
// harmless.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = s.srv.Close()
		}
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = err
		}
	})
	return s.closeErr
}
