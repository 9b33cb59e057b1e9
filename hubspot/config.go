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

// Defaults that SetDefaults fills.
const (
	DefaultBaseURL      = "https://api.hubapi.com"
	DefaultRateLimit    = 100
	DefaultRateInterval = 10 * time.Second
	DefaultDailyLimit   = 250000
	DefaultTimeZone     = "UTC"
	DefaultMaxRetries   = 5
	DefaultTimeout      = 15 * time.Second
	DefaultSearchRate   = 4
	DefaultUserAgent    = "scimbridge-hubspot/1"
)

// Config configures a Client. The zero value plus a Token is a working
// configuration for a Free/Starter private app. The YAML-tagged fields are
// the hubspot section of scimbridge's configuration file; the others are
// set by the program.
type Config struct {
	// BaseURL is HubSpot's API host (default https://api.hubapi.com); tests
	// and the demo point it at the simulator.
	BaseURL string `yaml:"base_url"`
	// Token is a private-app token, service key or OAuth access token, sent
	// as "Authorization: Bearer". It is never logged nor put in errors.
	// Scopes: settings.users.read/write, settings.users.teams.read, and
	// settings.billing.write for paid-seat roles.
	Token string `yaml:"token,omitempty" secret:"true"`
	// APIVersion is the users API version: "2026-03" (default), "v3" or
	// "2026-09-beta" (adds seats); see paths.
	APIVersion string `yaml:"api_version"`
	// TeamsAPIVersion is the Teams API version: "2026-09" (GA, default) or
	// "2026-09-beta".
	TeamsAPIVersion string `yaml:"teams_api_version"`

	// RateLimit requests per RateInterval (default 100 per 10 s) and
	// DailyLimit requests per day (0: default 250,000; negative: unknown or
	// unlimited, as for OAuth apps) size the Limiter New creates when
	// Limiter is nil. The limiter then adapts to the X-HubSpot-RateLimit-*
	// headers of every answer.
	RateLimit    int           `yaml:"rate_limit"`
	RateInterval time.Duration `yaml:"rate_interval"`
	DailyLimit   int           `yaml:"daily_limit"`
	// TimeZone is the portal's time zone (an IANA name, default UTC):
	// HubSpot resets the daily budget at midnight there.
	TimeZone string `yaml:"time_zone"`
	// DailyResetZone, when set, is used instead of TimeZone.
	DailyResetZone *time.Location `yaml:"-"`
	// Limiter is shared by every client of one portal (one app's budget is
	// per portal). New creates one from the fields above when nil; a shared
	// limiter keeps its own sizes, clock and reset zone.
	Limiter *Limiter `yaml:"-"`
	// SearchRate is the CRM search limit in requests per second per token
	// (default 4: HubSpot changelog, "CRM Search API Rate Limit
	// Increase"). Searches wait for it besides Limiter, and a search's 429,
	// which carries no policyName, pauses only searches, never the other
	// calls. SearchLimiter, when set, is used instead (share it between
	// clients of one token).
	SearchRate    int      `yaml:"-"`
	SearchLimiter *Limiter `yaml:"-"`

	// MaxRetries bounds the retries of one call (default 5; negative: none).
	// Backoff is exponential with full jitter, base 250 ms, cap 10 s, and
	// Retry-After wins when HubSpot sends it.
	MaxRetries int `yaml:"max_retries"`
	// Timeout bounds each attempt (default 15 s).
	Timeout time.Duration `yaml:"timeout"`
	// UserAgent is sent with every request (default scimbridge-hubspot/1),
	// to tell bridges apart in proxy and egress logs (e.g. scimbridge-prod).
	UserAgent string `yaml:"user_agent"`
	// HTTPClient sends the requests (default: a client on a clone of
	// http.DefaultTransport). Its own Timeout, if any, also applies.
	HTTPClient *http.Client `yaml:"-"`

	// Now and Sleep replace the clock in tests. Sleep returns ctx.Err()
	// when ctx ends first.
	Now   func() time.Time                                 `yaml:"-"`
	Sleep func(ctx context.Context, d time.Duration) error `yaml:"-"`

	// Log receives debug lines for retries and one line per error answer
	// with HubSpot's correlation id. The token is never logged.
	Log zerolog.Logger `yaml:"-"`

	// Metrics, when set, receives the client's Prometheus series: every
	// request (attempt) by endpoint path template, method and status
	// class, its duration, the 429s by policy, and gauges of the limiters
	// read at scrape time (see metrics.go). Clients sharing a registry
	// count into the same series; give them the same Limiter too.
	Metrics prometheus.Registerer `yaml:"-"`
}

// SetDefaults fills the settings left at zero. It is idempotent; New
// calls it.
func (c *Config) SetDefaults() {
	setZero(&c.BaseURL, DefaultBaseURL)
	setZero(&c.APIVersion, Version202603)
	setZero(&c.TeamsAPIVersion, TeamsVersion202609)
	setZero(&c.RateLimit, DefaultRateLimit)
	setZero(&c.RateInterval, DefaultRateInterval)
	setZero(&c.DailyLimit, DefaultDailyLimit)
	setZero(&c.TimeZone, DefaultTimeZone)
	setZero(&c.SearchRate, DefaultSearchRate)
	setZero(&c.MaxRetries, DefaultMaxRetries)
	setZero(&c.Timeout, DefaultTimeout)
	setZero(&c.UserAgent, DefaultUserAgent)
}

func setZero[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Validate reports every problem of the file's settings, after
// SetDefaults, each starting with its YAML key. The token is not checked:
// without one the bridge stores changes but provisions nothing. New checks
// the rest.
func (c *Config) Validate() []error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base_url: %q is not an http(s) URL", c.BaseURL))
	}
	switch c.APIVersion {
	case Version202603, Version202609Beta, VersionV3:
	default:
		errs = append(errs, fmt.Errorf("api_version: %q is not %s, %s or %s", c.APIVersion, Version202603, Version202609Beta, VersionV3))
	}
	switch c.TeamsAPIVersion {
	case TeamsVersion202609, TeamsVersion202609Beta:
	default:
		errs = append(errs, fmt.Errorf("teams_api_version: %q is not %s or %s", c.TeamsAPIVersion, TeamsVersion202609, TeamsVersion202609Beta))
	}
	if c.RateLimit < 1 || c.RateInterval <= 0 {
		errs = append(errs, errors.New("rate_limit: rate_limit and rate_interval must be positive"))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: unknown time zone %q", c.TimeZone))
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		errs = append(errs, errors.New("user_agent: must be one line"))
	}
	return errs
}
