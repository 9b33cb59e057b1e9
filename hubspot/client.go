package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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
	userAgent  string
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
	cfg.SetDefaults()
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
	p, err := pathsFor(cfg.APIVersion, cfg.TeamsAPIVersion)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.RateLimit < 0 || cfg.RateInterval < 0 || cfg.Timeout < 0 || cfg.SearchRate < 0 {
		errs = append(errs, errors.New("hubspot: rate limit, rate interval, search rate and timeout must not be negative"))
	}
	// Negative: no daily budget, no retries.
	cfg.DailyLimit, cfg.MaxRetries = max(cfg.DailyLimit, 0), max(cfg.MaxRetries, 0)
	if cfg.DailyResetZone == nil {
		zone, err := time.LoadLocation(cfg.TimeZone)
		if err != nil {
			errs = append(errs, fmt.Errorf("hubspot: time zone %q: %w", cfg.TimeZone, err))
		}
		cfg.DailyResetZone = zone
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
		userAgent:  cfg.UserAgent,
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
