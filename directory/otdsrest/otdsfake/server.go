package otdsfake

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Route names, as Count and Fault use them: the method and the path below
// /otdsws (or /otdstenant/<tenant>/otdsws).
const (
	RouteToken     = "POST /oauth2/token"
	RouteLogin     = "POST /rest/authentication/credentials"
	RouteUsers     = "GET /rest/users"
	RouteUser      = "GET /rest/users/{id}"
	RouteMemberOf  = "GET /rest/users/{id}/memberof"
	RouteGroups    = "GET /rest/groups"
	RouteGroup     = "GET /rest/groups/{id}"
	RouteNotFound  = "not found"
	maxRequestBody = 1 << 20
)

// Server is a fake OTDS. It is safe for concurrent use.
type Server struct {
	// URL is the server's root, e.g. "http://127.0.0.1:41234", once
	// started with Start; empty for a Server from New.
	URL string

	cfg    Config
	prefix string
	mux    *http.ServeMux

	mu      sync.Mutex
	st      *store
	tokens  map[string]time.Time // access token → expiry
	tickets map[string]time.Time // ticket → expiry
	cursors map[string]*cursor
	counts  map[string]int
	faults  []*faultState

	srv      *http.Server
	done     chan error
	once     sync.Once
	closeErr error
}

// New builds a fake from cfg; serve it with Handler (httptest.NewServer).
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st, err := newStore(cfg.Partitions)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		prefix:  "/otdsws",
		st:      st,
		tokens:  map[string]time.Time{},
		tickets: map[string]time.Time{},
		cursors: map[string]*cursor{},
		counts:  map[string]int{},
	}
	if cfg.Tenant != "" {
		s.prefix = "/otdstenant/" + cfg.Tenant + "/otdsws"
	}
	s.mux = http.NewServeMux()
	s.route(RouteToken, s.token)
	s.route(RouteLogin, s.login)
	s.route(RouteUsers, s.authed(s.list(kindUser)))
	s.route(RouteGroups, s.authed(s.list(kindGroup)))
	s.route(RouteUser, s.authed(s.one(kindUser)))
	s.route(RouteGroup, s.authed(s.one(kindGroup)))
	s.route(RouteMemberOf, s.authed(s.memberOf))
	s.mux.HandleFunc("/", s.counted(RouteNotFound, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 0, "Not found")
	}))
	return s, nil
}

// Start builds a fake from cfg and serves it on addr ("127.0.0.1:0" picks
// a free port) until Close.
func Start(cfg Config, addr string) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops a server from Start; it is harmless on one from New and when
// called twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.srv == nil {
			return
		}
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

// Handler serves the fake.
func (s *Server) Handler() http.Handler { return s.mux }

// Prefix is the path everything is served under: /otdsws, or
// /otdstenant/<tenant>/otdsws.
func (s *Server) Prefix() string { return s.prefix }

// RESTURL is the REST base URL below root (Server.URL or an httptest URL).
func (s *Server) RESTURL(root string) string {
	return strings.TrimRight(root, "/") + s.prefix + "/rest"
}

// route registers h for a route name ("GET /rest/users/{id}").
func (s *Server) route(name string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(name, " ")
	s.mux.HandleFunc(method+" "+s.prefix+path, s.counted(name, h))
}

// counted counts the request and applies faults before h.
func (s *Server) counted(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		s.mu.Lock()
		s.counts[name]++
		f := s.fault(name)
		s.mu.Unlock()
		if f != nil {
			if f.Drop {
				// Closes the connection without an answer.
				panic(http.ErrAbortHandler)
			}
			status := f.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			msg := f.Message
			if msg == "" {
				msg = http.StatusText(status)
			}
			writeError(w, status, f.Code, msg)
			return
		}
		h(w, r)
	}
}

// Count is how many requests a route (RouteUsers, …) has received.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Counts returns the request count of every route seen.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetCounts sets every count to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}

// PutUser adds or replaces a user in a partition.
func (s *Server) PutUser(partition string, u Object) error {
	return s.put(partition, kindUser, u)
}

// PutGroup adds or replaces a group in a partition.
func (s *Server) PutGroup(partition string, g Object) error {
	return s.put(partition, kindGroup, g)
}

func (s *Server) put(part, kind string, o Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.st.put(part, kind, o, true); err != nil {
		return err
	}
	return s.st.setMemberOf(part, kind, o)
}

// Delete removes a user or group by id, with its memberships.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.remove(id)
}

// otdsError is OTDS's error body: {"status":1034,"error":"Expired OTDS SSO
// ticket","errorDetails":null}.
type otdsError struct {
	Status       int    `json:"status,omitempty"`
	Error        string `json:"error"`
	ErrorDetails any    `json:"errorDetails"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, otdsError{Status: code, Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
