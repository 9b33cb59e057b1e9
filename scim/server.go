package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	lib "github.com/elimity-com/scim"
	libschema "github.com/elimity-com/scim/schema"
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
	lib         http.Handler
	router      http.Handler
	spc         []byte
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
	libServer, err := s.newLibServer()
	if err != nil {
		return nil, err
	}
	// The library routes on paths relative to the SCIM root ("/v2" is
	// stripped by the library itself).
	s.lib = http.StripPrefix("/scim", libServer)
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
		// Discovery (RFC 7644 §4). The library serves /Schemas and
		// /ResourceTypes; its ServiceProviderConfig hard-codes sort and
		// etag as unsupported, so the truthful one is served here.
		r.Get("/ServiceProviderConfig", s.handleServiceProviderConfig)
		r.Get("/Schemas", s.discoveryList)
		r.Get("/Schemas/{id}", s.lib.ServeHTTP)
		r.Get("/ResourceTypes", s.discoveryList)
		r.Get("/ResourceTypes/{id}", s.lib.ServeHTTP)
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
			r.Post(rt.endpoint, s.write(rt.rt, normalizeResource))
			r.Put(rt.endpoint+"/{id}", s.write(rt.rt, normalizeResource))
			r.Patch(rt.endpoint+"/{id}", s.write(rt.rt, normalizePatch))
			r.Delete(rt.endpoint+"/{id}", s.serveLib)
		}
	})
	for _, m := range d.Mounts {
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

// write reads and normalises a write request's body, then hands it to the
// library, which validates it against the schema and calls our handlers.
func (s *Server) write(rt *schemas.ResourceType, normalize func([]byte, *schemas.ResourceType) ([]byte, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := s.readBody(w, r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		fixed, err := normalize(body, rt)
		if err != nil {
			writeError(w, r, err)
			return
		}
		r.Body = nopCloser(fixed)
		r.ContentLength = int64(len(fixed))
		s.serveLib(w, r)
	}
}

// serveLib hands a request to the elimity library, with handler errors
// rendered by libWriter.
func (s *Server) serveLib(w http.ResponseWriter, r *http.Request) {
	hold := &errHolder{}
	r = r.WithContext(context.WithValue(r.Context(), ctxLibError, hold))
	s.lib.ServeHTTP(&libWriter{ResponseWriter: w, r: r, hold: hold}, r)
}

func (s *Server) newLibServer() (lib.Server, error) {
	load := func(sc *schemas.Schema) (libschema.Schema, error) {
		doc, _ := s.cat.Document(sc.ID)
		var out libschema.Schema
		if err := json.Unmarshal(doc, &out); err != nil {
			return out, fmt.Errorf("scim: schema %s: %w", sc.ID, err)
		}
		return out, nil
	}
	user, err := load(s.cat.User)
	if err != nil {
		return lib.Server{}, err
	}
	group, err := load(s.cat.Group)
	if err != nil {
		return lib.Server{}, err
	}
	ent, err := load(s.cat.Enterprise)
	if err != nil {
		return lib.Server{}, err
	}
	hs, err := load(s.cat.HubSpot)
	if err != nil {
		return lib.Server{}, err
	}
	return lib.NewServer(&lib.ServerArgs{
		ServiceProviderConfig: &lib.ServiceProviderConfig{
			MaxResults:       s.cfg.MaxResults,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []lib.ResourceType{
			{
				ID: optString("User"), Name: "User", Endpoint: "/Users",
				Description: optString("User Account"),
				Schema:      user,
				SchemaExtensions: []lib.SchemaExtension{
					{Schema: ent}, {Schema: hs},
				},
				Handler: &userHandler{s: s},
			},
			{
				ID: optString("Group"), Name: "Group", Endpoint: "/Groups",
				Description: optString("Group"),
				Schema:      group,
				Handler:     &groupHandler{s: s},
			},
		},
	}, lib.WithBaseURL(s.cfg.BaseURL), lib.WithLogger(libLogger{s.log}))
}

// libLogger forwards the library's error logs to zerolog.
type libLogger struct{ log zerolog.Logger }

// The library passes a message and an error ("failed writing response",
// err): joined with spaces, as fmt.Sprint would not between strings.
func (l libLogger) Error(args ...any) {
	l.log.Error().Msg(strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
}

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
