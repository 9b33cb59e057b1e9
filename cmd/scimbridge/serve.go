package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/admin"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// debugWriter writes lines as zerolog debug messages.
type debugWriter struct{ log zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

func tokenServiceOrNil(i *auth.Issuer) scim.TokenService {
	if i == nil {
		return nil
	}
	return i
}

// newHubSpotClient builds the HubSpot client, or nil when no HubSpot token
// is configured.
func newHubSpotClient(cfg *config.Config, log zerolog.Logger) (*hubspot.Client, error) {
	return newMeteredHubSpotClient(cfg, log, nil)
}

// newMeteredHubSpotClient is newHubSpotClient with the client's traffic
// and rate limiters in reg (nil: none).
func newMeteredHubSpotClient(cfg *config.Config, log zerolog.Logger, reg prometheus.Registerer) (*hubspot.Client, error) {
	if cfg.HubSpot.Token == "" {
		return nil, nil
	}
	hc := cfg.HubSpot.Config
	hc.Log = log.With().Str("component", "hubspot").Logger()
	hc.Metrics = reg
	return hubspot.New(hc)
}

// newEngine builds the provisioning engine on client, or nil when client
// is nil (no HubSpot token configured). reg, when set, receives its
// metrics.
func newEngine(cfg *config.Config, st bridgeStore, client *hubspot.Client, log zerolog.Logger, reg prometheus.Registerer) (*provision.Engine, error) {
	if client == nil {
		return nil, nil
	}
	ec := cfg.Provisioning.EngineConfig
	ec.Profile = cfg.Profile
	ec.SweepGuard = provision.SweepGuard{MaxPercent: cfg.Reconcile.MaxDeprovisionPercent, MaxCount: cfg.Reconcile.MaxDeprovisionCount}
	ec.Metrics = reg
	return provision.NewEngine(ec, st, client, cfg.Rules(), log.With().Str("component", "provision").Logger())
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	// One process reconciles and provisions a store: wait for a sync or
	// review --apply working on it before opening the port, so that no
	// client or health check is left hanging meanwhile.
	owner, err := lockStore(ctx, cfg.Store, serveHolder, newLogger(cfg.Log, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge: %v\n", err)
		return 1
	}
	defer owner.Release()
	ctx, lost := stopWhenLost(ctx, owner, stderr)
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge: listen: %v\n", err)
		return 1
	}
	code = serve(ctx, cfg, ln, stderr, nil)
	if lost() {
		return 1 // a supervisor restarts it, and it waits for the lock again
	}
	return code
}

// stopWhenLost ends ctx when the owner lock may have passed to another
// process (PostgreSQL ended the session holding it): two processes must
// never run HubSpot workers on one database. lost reports whether that
// happened.
func stopWhenLost(ctx context.Context, owner *storeLock, stderr io.Writer) (_ context.Context, lost func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	var gone atomic.Bool
	go func() {
		select {
		case <-owner.Lost():
			gone.Store(true)
			fmt.Fprintln(stderr, "scimbridge: the store's owner lock was lost (its database session ended): stopping, so that no other process works beside this one")
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, gone.Load
}

// loadConfig loads and validates a configuration, printing every problem.
func loadConfig(path string, stderr io.Writer) (*config.Config, int) {
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge: %v\n", err)
		return nil, 2
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		fmt.Fprintf(stderr, "scimbridge: the configuration has %d problem(s):\n", len(errs))
		for _, e := range errs {
			fmt.Fprintf(stderr, "  - %v\n", e)
		}
		return nil, 2
	}
	return cfg, 0
}

func newLogger(cfg config.Log, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	out := w
	pretty := cfg.Format == "console"
	if cfg.Format == "auto" {
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			pretty = true
		}
	}
	if pretty {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// serve runs the bridge on ln until ctx ends; ready, if set, is called once
// the server accepts requests. The caller holds the store's owner lock.
func serve(ctx context.Context, cfg *config.Config, ln net.Listener, stderr io.Writer, ready func()) int {
	log := newLogger(cfg.Log, stderr)
	fail := func(what string, err error) int {
		log.Error().Err(err).Msg(what)
		_ = ln.Close()
		return 1
	}
	cat, err := schemas.Load()
	if err != nil {
		return fail("loading schemas", err)
	}
	st, err := openStore(ctx, cfg.Store, 0, cat)
	if err != nil {
		return fail("opening the store", err)
	}
	defer st.Close()
	namesChecked := checkNamesBeside(ctx, st, log)
	defer func() { <-namesChecked }() // the store closes after the check
	chain, issuer, err := newAuthChain(ctx, cfg, log)
	if err != nil {
		return fail("setting up client credentials", err)
	}
	reg := prometheus.NewRegistry()
	client, err := newMeteredHubSpotClient(cfg, log, reg)
	if err != nil {
		return fail("setting up the HubSpot client", err)
	}
	engine, err := newEngine(cfg, st, client, log, reg)
	if err != nil {
		return fail("setting up HubSpot provisioning", err)
	}
	svc := provision.New(st, engine, log.With().Str("component", "provision").Logger())
	runCtx, stopEngine := context.WithCancel(ctx)
	engineDone := startEngine(runCtx, engine, log)
	defer func() {
		stopEngine()
		<-engineDone
	}()

	dir, err := openDirectorySide(ctx, cfg, st, svc.NoWait(), reg, log)
	if err != nil {
		return fail("opening the directory", err)
	}
	defer dir.Close()
	src, runner := dir.src, dir.runner
	var rv *review.Service
	if client != nil {
		rv = newReviewService(cfg, st, client, src, log.With().Str("component", "review").Logger(), runCtx)
	}
	checks := newServeHealth(cfg, st, dir, engine, client, reg)
	front, err := scim.New(frontConfig(cfg), scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Health: checks, Auth: chain, Catalog: cat, OAuth: tokenServiceOrNil(issuer),
		Mounts: []scim.Mount{adminMount(admin.Deps{
			Auditor: svc, Health: checks, Reconciler: reconcilerOrNil(runner), Provisioning: provisioningOrNil(engine),
			Reviewer: reviewerOrNil(rv), Config: cfg.Server.Admin,
		})},
		Log:     log.With().Str("component", "http").Logger(),
		Metrics: reg, Gatherer: reg,
	})
	if err != nil {
		return fail("building the HTTP front", err)
	}
	srv, err := newHTTPServer(cfg, front, ln, log)
	if err != nil {
		return fail("loading the TLS certificate", err)
	}
	defer srv.stopReloading()
	if runner != nil {
		go runner.Loop(runCtx)
	}
	go checks.Run(runCtx)
	if rv != nil && cfg.Review.Interval > 0 {
		go rv.Loop(runCtx, cfg.Review.Interval)
	}
	log.Info().Str("listen", ln.Addr().String()).Str("scim", cfg.Server.PublicURL+"/scim/v2").Str("store", storeName(cfg.Store)).Msg("scimbridge serving")
	if ready != nil {
		ready()
	}
	return srv.runUntil(ctx, cfg.Server.ShutdownTimeout, log)
}

// checkNamesBeside checks the names stored before the RFC 8265 rules
// beside start-up, not before it (a scan of every user); the channel
// closes when it is done.
func checkNamesBeside(ctx context.Context, st bridgeStore, log zerolog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		warnNameProblems(ctx, st, log)
	}()
	return done
}

// newAuthChain builds the credential checks: static tokens, the OAuth
// token endpoint's issuer (nil when off) and trusted external issuers.
func newAuthChain(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*auth.Chain, *auth.Issuer, error) {
	tokens, err := auth.NewStaticTokens(cfg.Auth.Tokens)
	if err != nil {
		return nil, nil, fmt.Errorf("loading credentials: %w", err)
	}
	var issuer *auth.Issuer
	if cfg.Auth.OAuthEnabled() {
		oc := cfg.Auth.OAuth
		oc.Log = log.With().Str("component", "oauth").Logger()
		if issuer, err = auth.NewIssuer(oc); err != nil {
			return nil, nil, fmt.Errorf("setting up the OAuth token endpoint: %w", err)
		}
	}
	var trusted *auth.Trusted
	if len(cfg.Auth.TrustedIssuers) > 0 {
		tis := make([]auth.TrustedIssuer, len(cfg.Auth.TrustedIssuers))
		for i, ti := range cfg.Auth.TrustedIssuers {
			ti.Log = log.With().Str("component", "jwt").Str("issuer", ti.Issuer).Logger()
			tis[i] = ti
		}
		if trusted, err = auth.NewTrusted(ctx, tis); err != nil {
			return nil, nil, fmt.Errorf("setting up trusted token issuers: %w", err)
		}
	}
	chain := auth.NewChain(tokens, issuer, trusted)
	chain.Log = log.With().Str("component", "auth").Logger()
	return chain, issuer, nil
}

// startEngine runs the HubSpot workers until ctx ends; the channel closes
// when they have stopped. Without an engine there is nothing to run.
func startEngine(ctx context.Context, engine *provision.Engine, log zerolog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if engine == nil {
		close(done)
		log.Warn().Msg("no hubspot.token configured: SCIM changes are stored but not provisioned to HubSpot")
		return done
	}
	go func() {
		defer close(done)
		_ = engine.Run(ctx)
	}()
	return done
}

// directorySide is serve's directory: the driver (nil without a
// directory), the same instrumented, and the reconcile runner on it.
type directorySide struct {
	driver  directory.Source // what the health check probes
	src     directory.Source
	runner  *reconcile.Runner
	metrics *directory.Metrics
}

// openDirectorySide opens the configured directory and its reconcile
// runner, which writes through svc.
func openDirectorySide(ctx context.Context, cfg *config.Config, st bridgeStore, svc reconcile.Writer, reg *prometheus.Registry, log zerolog.Logger) (*directorySide, error) {
	src, err := openDirectory(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	d := &directorySide{driver: src, metrics: directory.NewMetrics(reg)}
	if src != nil {
		d.src = d.metrics.Instrument(src)
		d.runner = reconcile.NewRunner(cfg.Reconcile, d.src, &cfg.Directory.Mapping, st, svc,
			log.With().Str("component", "reconcile").Logger(), reg)
	}
	return d, nil
}

// Close closes the directory driver.
func (d *directorySide) Close() {
	if d.driver != nil {
		_ = d.driver.Close()
	}
}

// newServeHealth is serve's health checks, registered in reg with the Go
// and process collectors.
func newServeHealth(cfg *config.Config, st bridgeStore, dir *directorySide, engine *provision.Engine, client *hubspot.Client, reg *prometheus.Registry) *health.Registry {
	hd := healthDeps{
		store: st, directory: dir.driver, dirType: cfg.Directory.Type, dirMetrics: dir.metrics, runner: dir.runner,
		provisioning: engine != nil, engine: engine, interval: cfg.Server.HealthInterval,
	}
	if client != nil {
		hd.hubspot = hubspotClientCheck(client)
	}
	checks := newHealth(hd)
	reg.MustRegister(checks.Collector())
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return checks
}

// frontConfig is the SCIM front's configuration: the server section's
// settings under the SCIM root.
func frontConfig(cfg *config.Config) scim.Config {
	fc := cfg.Server.Config
	fc.BaseURL = cfg.Server.PublicURL + "/scim/v2"
	return fc
}

// httpServer serves the front on a listener, over TLS when configured.
type httpServer struct {
	*http.Server
	ln    net.Listener
	certs *certReloader // nil: plain HTTP
}

// newHTTPServer prepares the HTTP server of the front on ln; plain HTTP
// on an address other than loopback is warned about.
func newHTTPServer(cfg *config.Config, front http.Handler, ln net.Listener, log zerolog.Logger) (*httpServer, error) {
	s := &httpServer{ln: ln, Server: &http.Server{
		Handler:           front,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		// net/http's own messages (TLS handshakes cut short, …) are noise
		// at info level: keep them at debug.
		ErrorLog: stdlog.New(debugWriter{log.With().Str("component", "http-server").Logger()}, "", 0),
	}}
	if cfg.Server.TLSCertFile != "" {
		certs, err := newCertReloader(cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile, log)
		if err != nil {
			return nil, err
		}
		s.certs = certs
		s.TLSConfig = certs.tlsConfig()
	} else if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		log.Warn().Str("listen", ln.Addr().String()).Msg("SERVING PLAIN HTTP ON A NON-LOOPBACK ADDRESS: bearer tokens and client secrets cross the network in clear. Set server.tls_cert_file and server.tls_key_file, or put a TLS proxy in front and listen on loopback.")
	}
	return s, nil
}

// stopReloading stops the certificate reloader; the server itself stops
// in runUntil.
func (s *httpServer) stopReloading() {
	if s.certs != nil {
		s.certs.Close()
	}
}

// runUntil serves until ctx ends, then shuts down gracefully within
// timeout.
func (s *httpServer) runUntil(ctx context.Context, timeout time.Duration, log zerolog.Logger) int {
	errc := make(chan error, 1)
	go func() {
		if s.certs != nil {
			errc <- s.ServeTLS(s.ln, "", "")
		} else {
			errc <- s.Serve(s.ln)
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("serving")
			return 1
		}
		return 0
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		log.Error().Err(err).Msg("graceful shutdown incomplete")
		return 1
	}
	return 0
}
