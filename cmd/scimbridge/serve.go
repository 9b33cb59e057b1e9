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
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
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
	hc, err := hubspotConfig(cfg)
	if err != nil {
		return nil, err
	}
	hc.Log = log.With().Str("component", "hubspot").Logger()
	hc.Metrics = reg
	return hubspot.New(hc)
}

// hubspotConfig is the HubSpot client's configuration from cfg.
func hubspotConfig(cfg *config.Config) (hubspot.Config, error) {
	h := cfg.HubSpot
	zone, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return hubspot.Config{}, err
	}
	return hubspot.Config{
		BaseURL: h.BaseURL, Token: h.Token, APIVersion: h.APIVersion, TeamsAPIVersion: h.TeamsAPIVersion,
		RateLimit: h.RateLimit, RateInterval: h.RateInterval, DailyLimit: h.DailyLimit, DailyResetZone: zone,
		MaxRetries: h.MaxRetries, Timeout: h.Timeout,
	}, nil
}

// rulesOf is the mapping and leaver rules of a configuration.
func rulesOf(cfg *config.Config) *provision.Rules {
	p, m := cfg.Provisioning, cfg.Mapping
	rules := &provision.Rules{
		DefaultRole: m.DefaultRole, TeamsByGroupName: m.TeamsByGroupName,
		LeaverPolicy: p.LeaverPolicy, RestrictedRole: p.RestrictedRole, EmailChange: p.EmailChange,
		SendWelcomeEmail: p.SendWelcomeEmail,
	}
	for _, r := range m.Roles {
		rules.Roles = append(rules.Roles, provision.RoleRule{Group: r.Group, Role: r.Role})
	}
	for _, t := range m.Teams {
		rules.Teams = append(rules.Teams, provision.TeamRule{Group: t.Group, Team: t.Team})
	}
	return rules
}

// newEngine builds the provisioning engine on client, or nil when client
// is nil (no HubSpot token configured). reg, when set, receives its
// metrics.
func newEngine(cfg *config.Config, st *sqlite.Store, client *hubspot.Client, log zerolog.Logger, reg prometheus.Registerer) (*provision.Engine, error) {
	if client == nil {
		return nil, nil
	}
	p := cfg.Provisioning
	verify := p.VerifyRemovalAfter
	if verify == 0 {
		// The window in which a call the client gave up on may still
		// commit: its timeout, and a minute's margin.
		verify = cfg.HubSpot.Timeout + time.Minute
	}
	return provision.NewEngine(provision.EngineConfig{
		Workers: p.Workers, Wait: p.Wait, RetryFailedAfter: p.RetryFailedAfter, RetryDeferredAfter: p.RetryDeferredAfter,
		CatalogRefresh:     p.CatalogRefresh,
		ManageTeams:        p.ManageTeams,
		VerifyRemovalAfter: verify,
		SweepInterval:      p.SweepInterval,
		SweepGuard:         provision.SweepGuard{MaxPercent: cfg.Reconcile.MaxDeprovisionPercent, MaxCount: cfg.Reconcile.MaxDeprovisionCount},
		Metrics:            reg,
		Profile:            provision.ProfileConfig{Properties: cfg.Profile.Properties, LinkProperty: cfg.Profile.LinkProperty},
	}, st, client, rulesOf(cfg), log.With().Str("component", "provision").Logger())
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
	owner, err := lockStore(ctx, cfg.Store.Path, serveHolder, newLogger(cfg.Log, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge: %v\n", err)
		return 1
	}
	defer owner.Release()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge: listen: %v\n", err)
		return 1
	}
	return serve(ctx, cfg, ln, stderr, nil)
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
	st, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.Store.Path}, cat)
	if err != nil {
		return fail("opening the store", err)
	}
	defer st.Close()
	// Names stored before the RFC 8265 rules are checked beside start-up,
	// not before it (a scan of every user); the store closes after it.
	namesChecked := make(chan struct{})
	go func() {
		defer close(namesChecked)
		warnNameProblems(ctx, st, log)
	}()
	defer func() { <-namesChecked }()
	tokens, err := auth.NewStaticTokens(cfg.Auth.Tokens)
	if err != nil {
		return fail("loading credentials", err)
	}
	var issuer *auth.Issuer
	if cfg.Auth.OAuthEnabled() {
		oc := cfg.Auth.OAuth
		oc.Log = log.With().Str("component", "oauth").Logger()
		if issuer, err = auth.NewIssuer(oc); err != nil {
			return fail("setting up the OAuth token endpoint", err)
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
			return fail("setting up trusted token issuers", err)
		}
	}
	chain := auth.NewChain(tokens, issuer, trusted)
	chain.Log = log.With().Str("component", "auth").Logger()
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
	engineDone := make(chan struct{})
	if engine != nil {
		go func() {
			defer close(engineDone)
			_ = engine.Run(runCtx)
		}()
	} else {
		close(engineDone)
		log.Warn().Msg("no hubspot.token configured: SCIM changes are stored but not provisioned to HubSpot")
	}
	defer func() {
		stopEngine()
		<-engineDone
	}()

	src, err := openDirectory(ctx, cfg, log)
	if err != nil {
		return fail("opening the directory", err)
	}
	var runner *reconcile.Runner
	dirMetrics := directory.NewMetrics(reg)
	probed := src // the health check probes the driver itself
	if src != nil {
		defer src.Close()
		src = dirMetrics.Instrument(src)
		runner = reconcile.NewRunner(cfg.Reconcile, src, &cfg.Directory.Mapping, st, svc.NoWait(),
			log.With().Str("component", "reconcile").Logger(), reg)
	}
	var rv *review.Service
	if client != nil {
		rv = newReviewService(cfg, st, client, src, log.With().Str("component", "review").Logger(), runCtx)
	}
	hd := healthDeps{
		store: st, directory: probed, dirType: cfg.Directory.Type, dirMetrics: dirMetrics, runner: runner,
		provisioning: engine != nil, engine: engine, interval: cfg.Server.HealthInterval,
	}
	if client != nil {
		hd.hubspot = hubspotClientCheck(client)
	}
	checks := newHealth(hd)
	reg.MustRegister(checks.Collector())
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	front, err := scim.New(scim.Config{
		BaseURL:    cfg.Server.PublicURL + "/scim/v2",
		BodyLimit:  cfg.Server.BodyLimit,
		MaxResults: cfg.Server.MaxResults,
		RateLimit:  max(cfg.Server.RateLimit, 0), RateWindow: cfg.Server.RateWindow,
		TokenRateLimit: cfg.Server.TokenRateLimit,
	}, scim.Deps{
		Users: svc, Groups: svc, Ready: svc, Health: checks, Auth: chain, Catalog: cat, OAuth: tokenServiceOrNil(issuer),
		Mounts: []scim.Mount{adminMount(admin.Deps{
			Auditor: svc, Health: checks, Reconciler: reconcilerOrNil(runner), Provisioning: provisioningOrNil(engine),
			Reviewer: reviewerOrNil(rv), Profiling: cfg.Server.Profiling,
		})},
		Log:     log.With().Str("component", "http").Logger(),
		Metrics: reg, Gatherer: reg,
	})
	if err != nil {
		return fail("building the HTTP front", err)
	}
	srv := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		// net/http's own messages (TLS handshakes cut short, …) are noise
		// at info level: keep them at debug.
		ErrorLog: stdlog.New(debugWriter{log.With().Str("component", "http-server").Logger()}, "", 0),
	}
	serveFn := func() error { return srv.Serve(ln) }
	if cfg.Server.TLSCertFile != "" {
		certs, err := newCertReloader(cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile, log)
		if err != nil {
			return fail("loading the TLS certificate", err)
		}
		defer certs.Close()
		srv.TLSConfig = certs.tlsConfig()
		serveFn = func() error { return srv.ServeTLS(ln, "", "") }
	} else if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		log.Warn().Str("listen", ln.Addr().String()).Msg("SERVING PLAIN HTTP ON A NON-LOOPBACK ADDRESS: bearer tokens and client secrets cross the network in clear. Set server.tls_cert_file and server.tls_key_file, or put a TLS proxy in front and listen on loopback.")
	}
	errc := make(chan error, 1)
	go func() { errc <- serveFn() }()
	if runner != nil {
		go runner.Loop(runCtx)
	}
	go checks.Run(runCtx)
	if rv != nil && cfg.Review.Interval > 0 {
		go rv.Loop(runCtx, cfg.Review.Interval)
	}
	log.Info().Str("listen", ln.Addr().String()).Str("scim", cfg.Server.PublicURL+"/scim/v2").Str("store", cfg.Store.Path).Msg("scimbridge serving")
	if ready != nil {
		ready()
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fail("serving", err)
		}
		return 0
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error().Err(err).Msg("graceful shutdown incomplete")
		return 1
	}
	return 0
}
