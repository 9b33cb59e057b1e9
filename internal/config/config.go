package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/scimbridge/scimbridge/internal/admin"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
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
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/scim"
)

// Config is the whole configuration file.
type Config struct {
	Server       Server       `yaml:"server"`
	Store        Store        `yaml:"store"`
	Auth         Auth         `yaml:"auth"`
	HubSpot      HubSpot      `yaml:"hubspot"`
	Provisioning Provisioning `yaml:"provisioning"`
	// Mapping maps groups to HubSpot roles (permission sets) and teams,
	// named by name or id. Its Policy is the provisioning section's: see
	// Rules.
	Mapping provision.Rules `yaml:"mapping"`
	// Profile writes profile attributes to HubSpot's CRM users object.
	Profile   provision.ProfileConfig `yaml:"profile"`
	Directory Directory               `yaml:"directory"`
	Reconcile reconcile.Config        `yaml:"reconcile"`
	Review    review.Config           `yaml:"review"`
	Log       Log                     `yaml:"log"`
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

// HubSpot configures the HubSpot portal the bridge provisions. Without a
// token, changes are stored but not provisioned.
type HubSpot struct {
	hubspot.Config `yaml:",inline"`
	// BetaTeams is the former switch for the beta Teams API: true means
	// teams_api_version 2026-09-beta. Deprecated.
	BetaTeams bool `yaml:"beta_teams"`
}

// Provisioning configures how changes reach HubSpot: the engine's settings
// and the leaver, email-change and invitation policies.
type Provisioning struct {
	provision.EngineConfig `yaml:",inline"`
	provision.Policy       `yaml:",inline"`
}

// Rules are the mapping rules with the provisioning section's policies.
func (c *Config) Rules() *provision.Rules {
	r := c.Mapping
	r.Policy = c.Provisioning.Policy
	return &r
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the address to serve on (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// PublicURL is how clients reach the server, used for meta.location
	// (default http://<listen>). The SCIM root is <public_url>/scim/v2.
	PublicURL string `yaml:"public_url"`
	// The SCIM front's settings: body_limit, max_results, rate_limit
	// (default 1000 here; -1 turns the limit off), rate_window,
	// token_rate_limit.
	scim.Config `yaml:",inline"`
	// The admin API's settings: profiling.
	Admin admin.Config `yaml:",inline"`
	// Timeouts of the HTTP server.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TLSCertFile and TLSKeyFile serve HTTPS (TLS 1.2 and later); send
	// SIGHUP to reload them after renewal. Without them the server speaks
	// plain HTTP and warns when that is not on a loopback address.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// HealthInterval is how often the checks that use the network run
	// (the directory's bind and base read); /readyz and
	// /admin/v1/status read their last result (default 30s).
	HealthInterval time.Duration `yaml:"health_interval"`
}

// Store configures persistence.
type Store struct {
	// Driver is the store driver: "sqlite" (embedded, the default) or
	// "postgres".
	Driver string `yaml:"driver"`
	// The SQLite store's settings: path, the database file (default
	// scimbridge.db).
	sqlite.Config `yaml:",inline"`
	// The PostgreSQL store's settings: dsn, the connection string (pass a
	// password as SCIMBRIDGE_STORE_DSN_FILE rather than in the file).
	Postgres postgres.Config `yaml:",inline"`
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
	if s.RateLimit == 0 {
		s.RateLimit = 1000
	}
	s.Config.SetDefaults()
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
	defDur(&s.HealthInterval, 30*time.Second)
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.Path == "" {
		c.Store.Path = "scimbridge.db"
	}
	if c.HubSpot.BetaTeams && c.HubSpot.TeamsAPIVersion == "" {
		c.HubSpot.TeamsAPIVersion = hubspot.TeamsVersion202609Beta
	}
	c.HubSpot.SetDefaults()
	c.Provisioning.EngineConfig.SetDefaults(c.HubSpot.Timeout)
	c.Provisioning.Policy.SetDefaults()
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
	// nest adds a section's problems, each starting with its key.
	nest := func(section string, problems []error) {
		for _, e := range problems {
			errs = append(errs, fmt.Errorf("%s.%w", section, e))
		}
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		add("server.listen", "%q is not host:port", c.Server.Listen)
	}
	if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("server.public_url", "%q is not an http(s) URL", c.Server.PublicURL)
	}
	nest("server", c.Server.Config.Validate())
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
	switch c.Store.Driver {
	case "sqlite":
	case "postgres":
		if c.Store.Postgres.DSN == "" {
			add("store.dsn", "the postgres driver needs a connection string (store.dsn or SCIMBRIDGE_STORE_DSN_FILE)")
		}
	default:
		add("store.driver", "unknown driver %q (supported: sqlite, postgres)", c.Store.Driver)
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
	nest("hubspot", c.HubSpot.Validate())
	nest("review", c.Review.Validate())
	nest("provisioning", c.Provisioning.EngineConfig.Validate())
	nest("provisioning", c.Provisioning.Policy.Validate())
	nest("mapping", c.Mapping.Validate())
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
		out.Store.Postgres.DSN = postgres.Redact(out.Store.Postgres.DSN)
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
