package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// API versions of the Settings user-provisioning API (reference/hubspot-api.md, "Versions").
const (
	// Version202603 is the current GA date-versioned API, the default.
	Version202603 = "2026-03"
	// VersionV3 is the legacy API (/settings/v3/users), supported until September 2027.
	VersionV3 = "v3"
	// Version202609Beta adds seats; the user shapes this client reads are unchanged.
	Version202609Beta = "2026-09-beta"
)

// Versions of the Teams API (PublicApiSpecs/Settings/Teams).
const (
	// TeamsVersion202609 is the GA Teams API, the default.
	TeamsVersion202609 = "2026-09"
	// TeamsVersion202609Beta is the beta it grew out of, same shapes.
	TeamsVersion202609Beta = "2026-09-beta"
)

// Defaults applied by New.
const (
	DefaultBaseURL      = "https://api.hubapi.com"
	DefaultRateLimit    = 100
	DefaultRateInterval = 10 * time.Second
	DefaultDailyLimit   = 250000
	DefaultMaxRetries   = 5
	DefaultTimeout      = 15 * time.Second
	DefaultSearchRate   = 4
)

// Config configures a Client. The zero value plus a Token is a working
// configuration for a Free/Starter private app.
type Config struct {
	// BaseURL is HubSpot's API host (default https://api.hubapi.com); tests
	// and the demo point it at the simulator.
	BaseURL string
	// Token is a private-app token, service key or OAuth access token, sent
	// as "Authorization: Bearer". It is never logged nor put in errors.
	Token string
	// APIVersion is "2026-03" (default), "v3" or "2026-09-beta"; see paths.
	APIVersion string
	// TeamsAPIVersion is the Teams API version: "2026-09" (GA, default) or
	// "2026-09-beta".
	TeamsAPIVersion string

	// RateLimit requests per RateInterval (default 100 per 10 s) and
	// DailyLimit requests per day (0: default 250,000; negative: unknown or
	// unlimited, as for OAuth apps) size the Limiter New creates when
	// Limiter is nil. The limiter then adapts to the X-HubSpot-RateLimit-*
	// headers of every answer.
	RateLimit    int
	RateInterval time.Duration
	DailyLimit   int
	// DailyResetZone is the portal's time zone: HubSpot resets the daily
	// budget at midnight there (default UTC).
	DailyResetZone *time.Location
	// Limiter is shared by every client of one portal (one app's budget is
	// per portal). New creates one from the fields above when nil; a shared
	// limiter keeps its own sizes, clock and reset zone.
	Limiter *Limiter
	// SearchRate is the CRM search limit in requests per second per token
	// (default 4: HubSpot changelog, "CRM Search API Rate Limit
	// Increase"). Searches wait for it besides Limiter, and a search's 429,
	// which carries no policyName, pauses only searches, never the other
	// calls. SearchLimiter, when set, is used instead (share it between
	// clients of one token).
	SearchRate    int
	SearchLimiter *Limiter

	// MaxRetries bounds the retries of one call (default 5; negative: none).
	// Backoff is exponential with full jitter, base 250 ms, cap 10 s, and
	// Retry-After wins when HubSpot sends it.
	MaxRetries int
	// Timeout bounds each attempt (default 15 s).
	Timeout time.Duration
	// HTTPClient sends the requests (default: a client on a clone of
	// http.DefaultTransport). Its own Timeout, if any, also applies.
	HTTPClient *http.Client

	// Now and Sleep replace the clock in tests. Sleep returns ctx.Err()
	// when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// Log receives debug lines for retries and one line per error answer
	// with HubSpot's correlation id. The token is never logged.
	Log zerolog.Logger

	// Metrics, when set, receives the client's Prometheus series: every
	// request (attempt) by endpoint path template, method and status
	// class, its duration, the 429s by policy, and gauges of the limiters
	// read at scrape time (see metrics.go). Clients sharing a registry
	// count into the same series; give them the same Limiter too.
	Metrics prometheus.Registerer
}

// Client calls HubSpot. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	token      string
	paths      paths
	http       *http.Client
	limiter    *Limiter
	search     *Limiter
	maxRetries int
	timeout    time.Duration
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	log        zerolog.Logger
	metrics    *metrics
	health     healthState
}

// paths is the one place that maps an API version to URL paths.
type paths struct {
	version string
	users   string // list, create; + "/{id}", "/roles", "/teams"
	logins  string
	teams   string // the Teams API
}

func pathsFor(version, teamsVersion string) (paths, error) {
	switch teamsVersion {
	case TeamsVersion202609, TeamsVersion202609Beta:
	default:
		return paths{}, fmt.Errorf("hubspot: unknown Teams API version %q (want %q or %q)", teamsVersion, TeamsVersion202609, TeamsVersion202609Beta)
	}
	teams := "/settings/teams/" + teamsVersion
	switch version {
	case Version202603, Version202609Beta:
		return paths{
			version: version,
			users:   "/settings/users/" + version,
			logins:  "/account-info/2026-03/activity/login",
			teams:   teams,
		}, nil
	case VersionV3:
		// The v3 OpenAPI file lists list/create under /settings/users/v3,
		// but HubSpot's v3 docs, Postman collection and every other v3
		// operation use /settings/v3/users.
		return paths{
			version: version,
			users:   "/settings/v3/users",
			logins:  "/account-info/v3/activity/login",
			teams:   teams,
		}, nil
	}
	return paths{}, fmt.Errorf("hubspot: unknown API version %q (want %q, %q or %q)", version, Version202603, VersionV3, Version202609Beta)
}

// New returns a Client for cfg after filling defaults and validating it.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("hubspot: base URL: %w", err))
	case base.Scheme != "http" && base.Scheme != "https", base.Host == "":
		errs = append(errs, fmt.Errorf("hubspot: base URL %q: want http(s)://host", base.Redacted()))
	case base.User != nil, base.RawQuery != "", base.Fragment != "":
		errs = append(errs, fmt.Errorf("hubspot: base URL %q: no credentials, query or fragment allowed", base.Redacted()))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("hubspot: token is required"))
	} else if strings.ContainsAny(cfg.Token, " \t\r\n") {
		// Never echo the token, not even in this error.
		errs = append(errs, errors.New("hubspot: token contains white space"))
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = Version202603
	}
	if cfg.TeamsAPIVersion == "" {
		cfg.TeamsAPIVersion = TeamsVersion202609
	}
	p, err := pathsFor(cfg.APIVersion, cfg.TeamsAPIVersion)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.RateLimit < 0 || cfg.RateInterval < 0 || cfg.Timeout < 0 || cfg.SearchRate < 0 {
		errs = append(errs, errors.New("hubspot: rate limit, rate interval, search rate and timeout must not be negative"))
	}
	if cfg.SearchRate == 0 {
		cfg.SearchRate = DefaultSearchRate
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateInterval == 0 {
		cfg.RateInterval = DefaultRateInterval
	}
	switch {
	case cfg.DailyLimit == 0:
		cfg.DailyLimit = DefaultDailyLimit
	case cfg.DailyLimit < 0:
		cfg.DailyLimit = 0
	}
	if cfg.DailyResetZone == nil {
		cfg.DailyResetZone = time.UTC
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepContext
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(cfg.RateLimit, cfg.RateInterval, cfg.DailyLimit,
			WithClock(cfg.Now, cfg.Sleep), WithResetZone(cfg.DailyResetZone))
	}
	if cfg.SearchLimiter == nil {
		cfg.SearchLimiter = NewLimiter(cfg.SearchRate, time.Second, 0, WithClock(cfg.Now, cfg.Sleep))
	}
	return &Client{
		base:       base,
		token:      cfg.Token,
		paths:      p,
		http:       cfg.HTTPClient,
		limiter:    cfg.Limiter,
		search:     cfg.SearchLimiter,
		maxRetries: cfg.MaxRetries,
		timeout:    cfg.Timeout,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		log:        cfg.Log,
		metrics:    newMetrics(cfg.Metrics, cfg.Limiter, cfg.SearchLimiter),
	}, nil
}

// APIVersion is the user-provisioning API version the client speaks.
func (c *Client) APIVersion() string { return c.paths.version }

// Limiter is the client's (possibly shared) rate limiter.
func (c *Client) Limiter() *Limiter { return c.limiter }

// SearchLimiter is the client's CRM search limiter.
func (c *Client) SearchLimiter() *Limiter { return c.search }

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
