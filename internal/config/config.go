package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/ldap"
	"github.com/scimbridge/scimbridge/directory/otdsrest"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/reconcile"
)

// Config is the whole configuration file.
type Config struct {
	Server       Server           `yaml:"server"`
	Store        Store            `yaml:"store"`
	Auth         Auth             `yaml:"auth"`
	HubSpot      HubSpot          `yaml:"hubspot"`
	Provisioning Provisioning     `yaml:"provisioning"`
	Mapping      Mapping          `yaml:"mapping"`
	Profile      Profile          `yaml:"profile"`
	Directory    Directory        `yaml:"directory"`
	Reconcile    reconcile.Config `yaml:"reconcile"`
	Review       Review           `yaml:"review"`
	Log          Log              `yaml:"log"`
}

// Review tunes access reviews (scimbridge review, GET /admin/v1/review).
type Review struct {
	// DormantDays without a successful login make a user dormant
	// (default 60; HubSpot keeps 90 days of login activity).
	DormantDays int `yaml:"dormant_days"`
	// VerifiedDomains are the portal's SSO domains: a HubSpot email outside
	// them is reported as not SSO-ready. Empty skips the check.
	VerifiedDomains []string `yaml:"verified_domains"`
	// Interval runs a review on a schedule inside serve, keeping the
	// latest report and what is new and resolved since the one before
	// (GET /admin/v1/review/latest). 0: off.
	Interval time.Duration `yaml:"interval"`
}

// Directory configures the identity source the bridge reconciles from.
type Directory struct {
	// Type is ldap (OTDS up to the OpenDJ era, OpenLDAP, Active Directory),
	// otds-rest (current OTDS) or empty (no directory: SCIM push only).
	Type string `yaml:"type"`
	// LDAP configures the LDAP driver (bind_password: prefer
	// SCIMBRIDGE_DIRECTORY_LDAP_BIND_PASSWORD_FILE).
	LDAP ldap.Config `yaml:"ldap"`
	// OTDSRest configures the OTDS REST driver (client_secret, password:
	// prefer the _FILE environment variables).
	OTDSRest otdsrest.Config `yaml:"otds_rest"`
	// Mapping names the directory attributes behind each SCIM attribute.
	Mapping directory.Mapping `yaml:"mapping"`
}

// Directory types.
const (
	DirectoryLDAP     = "ldap"
	DirectoryOTDSRest = "otds-rest"
)

// HubSpot configures the HubSpot portal the bridge provisions.
type HubSpot struct {
	// BaseURL is the API host (default https://api.hubapi.com).
	BaseURL string `yaml:"base_url"`
	// Token is the private app token or service key (scopes:
	// settings.users.read/write, settings.users.teams.read, and
	// settings.billing.write for paid-seat roles). Prefer
	// SCIMBRIDGE_HUBSPOT_TOKEN_FILE. Without a token, provisioning is off.
	Token string `yaml:"token,omitempty" secret:"true"`
	// APIVersion is the users API version: 2026-03 (default), 2026-09-beta
	// (adds seats) or v3.
	APIVersion string `yaml:"api_version"`
	// TeamsAPIVersion is the Teams API version used when SCIM groups are
	// managed as teams (provisioning.manage_teams): 2026-09 (GA, default)
	// or 2026-09-beta.
	TeamsAPIVersion string `yaml:"teams_api_version"`
	// BetaTeams is the former switch for the beta Teams API: true means
	// teams_api_version 2026-09-beta. Deprecated.
	BetaTeams bool `yaml:"beta_teams"`
	// RateLimit requests per RateInterval (default 100 per 10s); the bridge
	// adapts to HubSpot's rate-limit headers as they arrive.
	RateLimit    int           `yaml:"rate_limit"`
	RateInterval time.Duration `yaml:"rate_interval"`
	// DailyLimit is the daily request budget (default 250000; -1: none).
	DailyLimit int `yaml:"daily_limit"`
	// TimeZone is the portal's time zone, where the daily budget resets at
	// midnight (default UTC).
	TimeZone string `yaml:"time_zone"`
	// MaxRetries and Timeout bound each call (defaults 5 and 15s).
	MaxRetries int           `yaml:"max_retries"`
	Timeout    time.Duration `yaml:"timeout"`
}

// Provisioning configures how SCIM changes reach HubSpot.
type Provisioning struct {
	// Workers is how many users are worked on at once (default 4).
	Workers int `yaml:"workers"`
	// Wait bounds how long a SCIM request waits for HubSpot before
	// answering (default 10s; transient trouble stays queued and retried).
	Wait time.Duration `yaml:"wait"`
	// RetryFailedAfter is when a refused user is tried again unchanged
	// (default 1h).
	RetryFailedAfter time.Duration `yaml:"retry_failed_after"`
	// RetryDeferredAfter is when HubSpot work that waits on HubSpot is
	// tried again (default 30m): a name change of a user who has not
	// accepted the invitation, profile attributes whose CRM record HubSpot
	// has not made yet.
	RetryDeferredAfter time.Duration `yaml:"retry_deferred_after"`
	// CatalogRefresh is how often HubSpot's roles and teams are re-read
	// (default 10m).
	CatalogRefresh time.Duration `yaml:"catalog_refresh"`
	// SweepInterval is how often the drift sweep reads every HubSpot user
	// (100 per call) and re-queues each one that differs from the desired
	// state: a leaver back in HubSpot, a wrong role or team, an account
	// made by hand for a bridge user (default 10m; a negative value turns
	// the periodic sweep off, POST /admin/v1/sweep still runs one).
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// VerifyRemovalAfter is when HubSpot is read again after a removal,
	// in case a call that timed out earlier commits late and brings the
	// leaver back (default: hubspot.timeout plus 1m).
	VerifyRemovalAfter time.Duration `yaml:"verify_removal_after"`
	// LeaverPolicy is delete (default: remove the HubSpot user) or
	// restrict (keep it with RestrictedRole and no teams).
	LeaverPolicy   string `yaml:"leaver_policy"`
	RestrictedRole string `yaml:"restricted_role"`
	// EmailChange is what a SCIM change of a provisioned user's email does,
	// as HubSpot cannot change a user's email: keep (default: store it,
	// keep the HubSpot user linked by id and show the difference), reject
	// (400 mutability) or recreate (replace the HubSpot user).
	EmailChange string `yaml:"email_change"`
	// SendWelcomeEmail asks HubSpot to invite new users by email.
	SendWelcomeEmail bool `yaml:"send_welcome_email"`
	// ManageTeams makes SCIM groups HubSpot teams: creating, renaming and
	// deleting a group creates, renames and deletes the team of the same
	// name (HubSpot's Teams API, hubspot.teams_api_version, and the settings.users.teams.write
	// scope). Off, groups drive teams only through the mapping rules.
	ManageTeams bool `yaml:"manage_teams"`
}

// Mapping maps groups to HubSpot roles (permission sets) and teams. Roles
// and teams are named by name or id.
type Mapping struct {
	// DefaultRole applies when no role rule matches.
	DefaultRole string `yaml:"default_role"`
	// Roles: ordered; the first rule whose group the user is in wins.
	Roles []RoleRule `yaml:"roles"`
	// Teams: ordered; the first matching rule gives the main team, the
	// others additional teams.
	Teams []TeamRule `yaml:"teams"`
	// TeamsByGroupName maps a group named like a HubSpot team to that team
	// (default true).
	TeamsByGroupName *bool `yaml:"teams_by_group_name"`
}

// Profile writes profile attributes to HubSpot's CRM users object.
type Profile struct {
	// Properties maps attributes (title, department, location, manager,
	// business_unit, cost_center, organization, employee_number) to
	// users-object properties; HubSpot has none for department, location,
	// manager or business unit by default: create them as user properties.
	// Empty: no profile attributes are written.
	Properties map[string]string `yaml:"properties"`
	// LinkProperty is the users-object property holding the Settings user
	// id (default hs_internal_user_id).
	LinkProperty string `yaml:"link_property"`
}

// RoleRule gives Role to members of Group.
type RoleRule struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// TeamRule gives Team to members of Group.
type TeamRule struct {
	Group string `yaml:"group"`
	Team  string `yaml:"team"`
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the address to serve on (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// PublicURL is how clients reach the server, used for meta.location
	// (default http://<listen>). The SCIM root is <public_url>/scim/v2.
	PublicURL string `yaml:"public_url"`
	// BodyLimit caps request bodies in bytes (default 1048576).
	BodyLimit int64 `yaml:"body_limit"`
	// MaxResults caps the SCIM page size (default 1000).
	MaxResults int `yaml:"max_results"`
	// Timeouts of the HTTP server.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Profiling serves pprof profiles under /admin/v1/debug/pprof/ (admin scope).
	Profiling bool `yaml:"profiling"`
	// TLSCertFile and TLSKeyFile serve HTTPS (TLS 1.2 and later); send
	// SIGHUP to reload them after renewal. Without them the server speaks
	// plain HTTP and warns when that is not on a loopback address.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// RateLimit caps each client at this many requests per RateWindow
	// (default 1000 per 1s; -1 turns the limit off). Over it: 429 with
	// Retry-After.
	RateLimit  int           `yaml:"rate_limit"`
	RateWindow time.Duration `yaml:"rate_window"`
	// TokenRateLimit caps /oauth/token requests per caller address per
	// minute (default 60).
	TokenRateLimit int `yaml:"token_rate_limit"`
	// HealthInterval is how often the checks that use the network run
	// (the directory's bind and base read); /readyz and
	// /admin/v1/status read their last result (default 30s).
	HealthInterval time.Duration `yaml:"health_interval"`
}

// Store configures persistence.
type Store struct {
	// Driver is the store driver; "sqlite" (embedded, the default).
	Driver string `yaml:"driver"`
	// Path is the SQLite database file (default scimbridge.db).
	Path string `yaml:"path"`
}

// Auth configures client credentials.
type Auth struct {
	// Tokens are static bearer tokens.
	Tokens []auth.Token `yaml:"tokens"`
	// OAuth issues short-lived JWT access tokens to clients through the
	// client-credentials grant (POST /oauth/token), as OTDS's SCIM push
	// connector and most IdPs expect; on when it has clients.
	OAuth auth.IssuerConfig `yaml:"oauth"`
	// TrustedIssuers are external issuers (e.g. OTDS) whose JWTs are
	// accepted, verified against their JWKS.
	TrustedIssuers []auth.TrustedIssuer `yaml:"trusted_issuers"`
}

// OAuthEnabled reports whether the token endpoint is on.
func (a *Auth) OAuthEnabled() bool { return len(a.OAuth.Clients) > 0 }

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json, console or auto (default: console on a terminal,
	// json otherwise).
	Format string `yaml:"format"`
}

// EnvPrefix starts every environment override.
const EnvPrefix = "SCIMBRIDGE"

// Load reads a configuration file (path "" means defaults only), applies
// environment overrides from env (os.Environ form), and fills defaults.
// It does not validate: call Validate.
func Load(path string, env []string) (*Config, error) {
	cfg := &Config{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: empty file
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(cfg, envMap(env)); err != nil {
		return nil, err
	}
	cfg.SetDefaults()
	return cfg, nil
}

// SetDefaults fills every unset setting; it is idempotent, so callers that
// change a loaded configuration (the demo) call it again.
func (c *Config) SetDefaults() {
	s := &c.Server
	if s.Listen == "" {
		s.Listen = "127.0.0.1:8080"
	}
	if s.PublicURL == "" {
		scheme := "http://"
		if s.TLSCertFile != "" {
			scheme = "https://"
		}
		s.PublicURL = scheme + s.Listen
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	if s.BodyLimit == 0 {
		s.BodyLimit = 1 << 20
	}
	if s.MaxResults == 0 {
		s.MaxResults = 1000
	}
	if s.RateLimit == 0 {
		s.RateLimit = 1000
	}
	if s.TokenRateLimit == 0 {
		s.TokenRateLimit = 60
	}
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defDur(&s.ReadHeaderTimeout, 10*time.Second)
	defDur(&s.ReadTimeout, 30*time.Second)
	defDur(&s.WriteTimeout, 60*time.Second)
	defDur(&s.IdleTimeout, 120*time.Second)
	defDur(&s.ShutdownTimeout, 20*time.Second)
	defDur(&s.RateWindow, time.Second)
	defDur(&s.HealthInterval, 30*time.Second)
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.Path == "" {
		c.Store.Path = "scimbridge.db"
	}
	h := &c.HubSpot
	if h.BaseURL == "" {
		h.BaseURL = "https://api.hubapi.com"
	}
	if h.APIVersion == "" {
		h.APIVersion = "2026-03"
	}
	if h.TeamsAPIVersion == "" {
		h.TeamsAPIVersion = "2026-09"
		if h.BetaTeams {
			h.TeamsAPIVersion = "2026-09-beta"
		}
	}
	if h.RateLimit == 0 {
		h.RateLimit = 100
	}
	defDur(&h.RateInterval, 10*time.Second)
	if h.DailyLimit == 0 {
		h.DailyLimit = 250000
	}
	if h.TimeZone == "" {
		h.TimeZone = "UTC"
	}
	if h.MaxRetries == 0 {
		h.MaxRetries = 5
	}
	defDur(&h.Timeout, 15*time.Second)
	p := &c.Provisioning
	if p.Workers == 0 {
		p.Workers = 4
	}
	defDur(&p.Wait, 10*time.Second)
	defDur(&p.RetryFailedAfter, time.Hour)
	defDur(&p.RetryDeferredAfter, 30*time.Minute)
	defDur(&p.CatalogRefresh, 10*time.Minute)
	if p.LeaverPolicy == "" {
		p.LeaverPolicy = "delete"
	}
	if p.EmailChange == "" {
		p.EmailChange = "keep"
	}
	c.Directory.Mapping.SetDefaults()
	switch c.Directory.Type {
	case DirectoryLDAP:
		if c.Directory.LDAP.Preset == "" && c.Directory.Mapping.Preset == directory.PresetAD {
			c.Directory.LDAP.Preset = directory.PresetAD
		}
		c.Directory.LDAP.SetDefaults()
	case DirectoryOTDSRest:
		c.Directory.OTDSRest.SetDefaults()
	}
	c.Reconcile.SetDefaults()
	if c.Auth.OAuthEnabled() {
		if c.Auth.OAuth.Issuer == "" {
			c.Auth.OAuth.Issuer = s.PublicURL
		}
		if c.Auth.OAuth.KeyDir == "" && c.Auth.OAuth.KeyFile == "" {
			c.Auth.OAuth.KeyDir = filepath.Join(filepath.Dir(c.Store.Path), "oauth-keys")
		}
		c.Auth.OAuth.SetDefaults()
	}
	for i := range c.Auth.TrustedIssuers {
		c.Auth.TrustedIssuers[i].SetDefaults()
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "auto"
	}
}

// Validate reports every problem in the configuration, each prefixed with
// the setting's path.
func (c *Config) Validate() []error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		add("server.listen", "%q is not host:port", c.Server.Listen)
	}
	if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("server.public_url", "%q is not an http(s) URL", c.Server.PublicURL)
	}
	if c.Server.BodyLimit < 1024 {
		add("server.body_limit", "must be at least 1024 bytes")
	}
	if c.Server.MaxResults < 1 {
		add("server.max_results", "must be positive")
	}
	if (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == "") {
		add("server.tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	for _, f := range []struct{ path, file string }{{"server.tls_cert_file", c.Server.TLSCertFile}, {"server.tls_key_file", c.Server.TLSKeyFile}} {
		if f.file != "" {
			if _, err := os.Stat(f.file); err != nil {
				add(f.path, "%v", err)
			}
		}
	}

	for path, d := range map[string]time.Duration{
		"server.read_header_timeout": c.Server.ReadHeaderTimeout, "server.read_timeout": c.Server.ReadTimeout,
		"server.write_timeout": c.Server.WriteTimeout, "server.idle_timeout": c.Server.IdleTimeout,
		"server.shutdown_timeout": c.Server.ShutdownTimeout, "server.health_interval": c.Server.HealthInterval,
	} {
		if d < 0 {
			add(path, "must not be negative")
		}
	}
	if c.Store.Driver != "sqlite" {
		add("store.driver", "unknown driver %q (supported: sqlite)", c.Store.Driver)
	}
	if len(c.Auth.Tokens) == 0 && !c.Auth.OAuthEnabled() && len(c.Auth.TrustedIssuers) == 0 {
		add("auth", "no client credentials configured (tokens, oauth.clients or trusted_issuers): every request would be refused")
	}
	if c.Auth.OAuthEnabled() {
		for _, e := range c.Auth.OAuth.Validate() {
			add("auth.oauth", "%s", e)
		}
	}
	for i := range c.Auth.TrustedIssuers {
		for _, e := range c.Auth.TrustedIssuers[i].Validate() {
			add(fmt.Sprintf("auth.trusted_issuers[%d]", i), "%s", e)
		}
	}
	names := map[string]bool{}
	for i, t := range c.Auth.Tokens {
		for _, e := range t.Validate() {
			add(fmt.Sprintf("auth.tokens[%d]", i), "%s", e)
		}
		if t.Name != "" && names[t.Name] {
			add(fmt.Sprintf("auth.tokens[%d].name", i), "%q is used twice", t.Name)
		}
		names[t.Name] = true
	}
	if u, err := url.Parse(c.HubSpot.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("hubspot.base_url", "%q is not an http(s) URL", c.HubSpot.BaseURL)
	}
	switch c.HubSpot.APIVersion {
	case "2026-03", "2026-09-beta", "v3":
	default:
		add("hubspot.api_version", "%q is not 2026-03, 2026-09-beta or v3", c.HubSpot.APIVersion)
	}
	if c.HubSpot.RateLimit < 1 || c.HubSpot.RateInterval <= 0 {
		add("hubspot.rate_limit", "rate_limit and rate_interval must be positive")
	}
	if _, err := time.LoadLocation(c.HubSpot.TimeZone); err != nil {
		add("hubspot.time_zone", "unknown time zone %q", c.HubSpot.TimeZone)
	}
	if c.Review.DormantDays < 0 || c.Review.DormantDays > 90 {
		add("review.dormant_days", "must be between 0 (default 60) and 90 (HubSpot keeps 90 days of login activity)")
	}
	if c.Review.Interval != 0 && c.Review.Interval < time.Minute {
		add("review.interval", "must be 0 (off) or at least 1m")
	}
	for i, d := range c.Review.VerifiedDomains {
		if d = strings.TrimPrefix(strings.TrimSpace(d), "@"); d == "" || strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			add(fmt.Sprintf("review.verified_domains[%d]", i), "%q is not a domain", c.Review.VerifiedDomains[i])
		}
	}
	if c.Provisioning.Workers < 1 || c.Provisioning.Workers > 64 {
		add("provisioning.workers", "must be between 1 and 64")
	}
	switch c.Provisioning.LeaverPolicy {
	case "delete", "restrict":
	default:
		add("provisioning.leaver_policy", "%q is not delete or restrict", c.Provisioning.LeaverPolicy)
	}
	if c.Provisioning.LeaverPolicy == "restrict" && c.Provisioning.RestrictedRole == "" {
		add("provisioning.restricted_role", "required by leaver_policy restrict")
	}
	switch c.HubSpot.TeamsAPIVersion {
	case "2026-09", "2026-09-beta":
	default:
		add("hubspot.teams_api_version", "%q is not 2026-09 or 2026-09-beta", c.HubSpot.TeamsAPIVersion)
	}
	switch c.Provisioning.EmailChange {
	case "keep", "reject", "recreate":
	default:
		add("provisioning.email_change", "%q is not keep, reject or recreate", c.Provisioning.EmailChange)
	}
	for i, r := range c.Mapping.Roles {
		if r.Group == "" || r.Role == "" {
			add(fmt.Sprintf("mapping.roles[%d]", i), "group and role are required")
		}
	}
	for i, r := range c.Mapping.Teams {
		if r.Group == "" || r.Team == "" {
			add(fmt.Sprintf("mapping.teams[%d]", i), "group and team are required")
		}
	}
	switch c.Directory.Type {
	case "":
	case DirectoryLDAP:
		for _, e := range c.Directory.LDAP.Validate() {
			add("directory.ldap", "%s", e)
		}
	case DirectoryOTDSRest:
		for _, e := range c.Directory.OTDSRest.Validate() {
			add("directory.otds_rest", "%s", e)
		}
	default:
		add("directory.type", "%q is not ldap or otds-rest", c.Directory.Type)
	}
	if c.Directory.Type != "" {
		for _, e := range c.Directory.Mapping.Validate() {
			add("directory.mapping", "%s", e)
		}
		for _, e := range c.Reconcile.Validate() {
			add("reconcile", "%s", e)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "unknown level %q (debug, info, warn, error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "json", "console":
	default:
		add("log.format", "unknown format %q (auto, json, console)", c.Log.Format)
	}
	return errs
}

// Marshal renders the configuration as YAML. Plain secrets are replaced by
// their hash where the configuration allows it, and left out otherwise,
// unless demo: the demo's simulator token and sample directory password are
// public, and other subcommands pointed at the demo need them.
func (c *Config) Marshal(demo bool) ([]byte, error) {
	out := *c
	out.Auth.Tokens = make([]auth.Token, len(c.Auth.Tokens))
	for i, t := range c.Auth.Tokens {
		if t.Token != "" {
			t.SHA256, t.Token = auth.HashToken(t.Token), ""
		}
		out.Auth.Tokens[i] = t
	}
	out.Auth.OAuth.Clients = make([]auth.Client, len(c.Auth.OAuth.Clients))
	for i, cl := range c.Auth.OAuth.Clients {
		if cl.Secret != "" {
			cl.SecretSHA256, cl.Secret = auth.HashToken(cl.Secret), ""
		}
		out.Auth.OAuth.Clients[i] = cl
	}
	if !demo {
		out.Directory.LDAP.BindPassword = ""
		out.Directory.OTDSRest.ClientSecret, out.Directory.OTDSRest.Password = "", ""
	}
	if out.HubSpot.Token != "" && !demo {
		out.HubSpot.Token = ""
		header := "# hubspot.token is not written here: pass it as SCIMBRIDGE_HUBSPOT_TOKEN(_FILE).\n"
		data, err := yaml.Marshal(&out)
		return append([]byte(header), data...), err
	}
	return yaml.Marshal(&out)
}
