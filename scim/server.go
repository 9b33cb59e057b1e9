package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// Config is the HTTP front's configuration. The YAML-tagged fields sit in
// the server section of scimbridge's configuration file.
type Config struct {
	// BaseURL is the public URL of the SCIM root, e.g.
	// https://bridge.example.com/scim/v2; meta.location and Location
	// headers are built from it. Required.
	BaseURL string `yaml:"-"`
	// BodyLimit caps request bodies in bytes (default 1 MiB, at least
	// 1024); larger ones are refused with 413.
	BodyLimit int64 `yaml:"body_limit"`
	// MaxResults caps the page size a client may ask for (default 1000).
	MaxResults int `yaml:"max_results"`
	// DefaultCount is the page size when a client names none (default 100).
	DefaultCount int `yaml:"-"`
	// RateLimit caps each client (credential) at this many requests per
	// RateWindow (default 1s); over it, 429 with Retry-After. 0 or less
	// means no limit.
	RateLimit  int           `yaml:"rate_limit"`
	RateWindow time.Duration `yaml:"rate_window"`
	// TokenRateLimit caps token requests per caller address per minute
	// (default 60), against secret guessing.
	TokenRateLimit int `yaml:"token_rate_limit"`
}

// SetDefaults fills the settings left at zero.
func (c *Config) SetDefaults() {
	if c.BodyLimit == 0 {
		c.BodyLimit = 1 << 20
	}
	if c.MaxResults == 0 {
		c.MaxResults = 1000
	}
	if c.RateWindow <= 0 {
		c.RateWindow = time.Second
	}
	if c.TokenRateLimit <= 0 {
		c.TokenRateLimit = 60
	}
	if c.DefaultCount <= 0 || c.DefaultCount > c.MaxResults {
		c.DefaultCount = min(100, max(c.MaxResults, 1))
	}
}

// Validate reports the settings SetDefaults leaves wrong, each starting
// with its YAML key. BaseURL is New's to check.
func (c *Config) Validate() []error {
	var errs []error
	if c.BodyLimit < 1024 {
		errs = append(errs, errors.New("body_limit: must be at least 1024 bytes"))
	}
	if c.MaxResults < 1 {
		errs = append(errs, errors.New("max_results: must be positive"))
	}
	return errs
}

func (c *Config) setDefaults() error {
	// New takes any size: a negative one means the default.
	c.BodyLimit, c.MaxResults = max(c.BodyLimit, 0), max(c.MaxResults, 0)
	c.SetDefaults()
	if c.BaseURL == "" {
		return fmt.Errorf("scim: BaseURL is required")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return nil
}

// Deps are the services the front calls.
type Deps struct {
	Users  Users
	Groups Groups
	Auth   Authenticator
	Ready  Pinger
	// Health, when set, answers /readyz instead of Ready.
	Health Health
	// OAuth, when set, serves /oauth/token and /oauth/jwks.
	OAuth TokenService
	// Mounts are further APIs served beside SCIM (the admin API).
	Mounts  []Mount
	Catalog *schemas.Catalog
	Log     zerolog.Logger
	// Metrics receives the HTTP metrics; Gatherer serves /metrics. Both may
	// be nil (no metrics).
	Metrics  prometheus.Registerer
	Gatherer prometheus.Gatherer
}

// Server is the HTTP front. It is an http.Handler.
type Server struct {
	cfg         Config
	users       Users
	groups      Groups
	auth        Authenticator
	ready       Pinger
	health      Health
	cat         *schemas.Catalog
	log         zerolog.Logger
	metrics     *httpMetrics
	quietRoutes map[string]bool
	router      http.Handler
	spc         []byte
	// libUsers and libGroups validate writes with the elimity library;
	// disco holds the discovery documents.
	libUsers, libGroups *libType
	disco               *discovery
}

// New builds the HTTP front.
func New(cfg Config, d Deps) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if d.Users == nil || d.Groups == nil || d.Auth == nil || d.Catalog == nil {
		return nil, fmt.Errorf("scim: Users, Groups, Auth and Catalog are required")
	}
	s := &Server{
		cfg: cfg, users: d.Users, groups: d.Groups, auth: d.Auth, ready: d.Ready, health: d.Health,
		cat: d.Catalog, log: d.Log, metrics: newHTTPMetrics(d.Metrics),
		quietRoutes: map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true},
	}
	var err error
	if s.libUsers, err = newLibType(s.cat, s.cat.Users); err != nil {
		return nil, err
	}
	if s.libGroups, err = newLibType(s.cat, s.cat.Groups); err != nil {
		return nil, err
	}
	if s.disco, err = newDiscovery(s.cat, s.libUsers, s.libGroups); err != nil {
		return nil, err
	}
	if s.spc, err = s.serviceProviderConfig(); err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(s.observe)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusNotFound, "", "No such endpoint: "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusMethodNotAllowed, "", r.Method+" is not allowed on "+r.URL.Path))
	})
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.readyz)
	if d.Gatherer != nil {
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
	}
	if d.OAuth != nil {
		limited := httprate.LimitBy(s.cfg.TokenRateLimit, time.Minute, httprate.KeyByIP, httprate.WithLimitHandler(s.tooManyTokenRequests))
		r.With(limited).Method(http.MethodPost, "/oauth/token", d.OAuth.TokenHandler())
		r.Method(http.MethodGet, "/oauth/jwks", d.OAuth.JWKSHandler())
	}
	r.Route("/scim/v2", func(r chi.Router) {
		r.Use(s.authenticate(""))
		if s.cfg.RateLimit > 0 {
			r.Use(httprate.LimitBy(s.cfg.RateLimit, s.cfg.RateWindow, clientKey, httprate.WithLimitHandler(s.tooManyRequests)))
		}
		// Discovery (RFC 7644 §4), from the catalog.
		r.Get("/ServiceProviderConfig", s.handleServiceProviderConfig)
		r.Get("/Schemas", s.discoveryList(s.disco.schemas))
		r.Get("/Schemas/{id}", s.discoveryItem(s.disco.schemas))
		r.Get("/ResourceTypes", s.discoveryList(s.disco.resourceTypes))
		r.Get("/ResourceTypes/{id}", s.discoveryItem(s.disco.resourceTypes))
		r.HandleFunc("/Me", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, newError(http.StatusNotImplemented, "", "/Me is not supported: credentials here belong to clients, not users."))
		})
		r.Post("/Bulk", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, newError(http.StatusNotImplemented, "", "Bulk operations are not supported (see /ServiceProviderConfig)."))
		})
		for _, rt := range []*resourceRoutes{s.userRoutes(), s.groupRoutes()} {
			r.Get(rt.endpoint, rt.list)
			r.Post(rt.endpoint+"/.search", rt.search)
			r.Get(rt.endpoint+"/{id}", rt.get)
			r.Post(rt.endpoint, rt.create)
			r.Put(rt.endpoint+"/{id}", rt.replace)
			r.Patch(rt.endpoint+"/{id}", rt.patch)
			r.Delete(rt.endpoint+"/{id}", rt.remove)
		}
	})
	for _, m := range d.Mounts {
		if m.Scope == "" || m.Handler == nil {
			return nil, fmt.Errorf("scim: the mount at %q needs a scope and a handler", m.Pattern)
		}
		r.Route(m.Pattern, func(r chi.Router) {
			r.Use(s.authenticate(m.Scope))
			if s.cfg.RateLimit > 0 {
				r.Use(httprate.LimitBy(s.cfg.RateLimit, s.cfg.RateWindow, clientKey, httprate.WithLimitHandler(s.tooManyRequests)))
			}
			r.Mount("/", m.Handler)
		})
	}
	s.router = canonicalPath(r)
	return s, nil
}

// TokenService issues OAuth2 access tokens (RFC 6749 §4.4) and publishes
// the keys that verify them.
type TokenService interface {
	TokenHandler() http.Handler
	JWKSHandler() http.Handler
}

// clientKey rate-limits by credential: each client gets its own budget.
func clientKey(r *http.Request) (string, error) {
	if p := principal(r.Context()); p != nil {
		return "client:" + p.Name, nil
	}
	return httprate.KeyByIP(r)
}

func (s *Server) tooManyRequests(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, newError(http.StatusTooManyRequests, "", "Too many requests from this client; retry after the time in Retry-After."))
}

// tooManyTokenRequests answers in RFC 6749's error format, with the one
// registered code that means "later" (temporarily_unavailable) and, like
// every token endpoint answer, not to be cached.
func (s *Server) tooManyTokenRequests(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusTooManyRequests, "application/json", map[string]string{
		"error": "temporarily_unavailable", "error_description": "Too many token requests from this address; retry after the time in Retry-After.",
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// readyz answers 503 only when this replica cannot take SCIM writes (its
// store is unusable), and 200 "degraded" with the reasons while HubSpot or
// the directory is in trouble: writes are still stored and queued
// durably, so a load balancer must keep sending them.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.health != nil {
		status, reasons := s.health.Ready(r.Context())
		code := http.StatusOK
		if status == healthUnavailable {
			code = http.StatusServiceUnavailable
			zlog(r).Warn().Strs("reasons", reasons).Msg("not ready")
		}
		writeJSON(w, code, "application/json", readiness{Status: status, Reasons: reasons})
		return
	}
	if s.ready != nil {
		if err := s.ready.Ping(r.Context()); err != nil {
			zlog(r).Warn().Err(err).Msg("not ready")
			writeJSON(w, http.StatusServiceUnavailable, "application/json", map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ready"})
}
