package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scimbridge/scimbridge/internal/auth"
)

// Config is the whole configuration file.
type Config struct {
	Server Server `yaml:"server"`
	Store  Store  `yaml:"store"`
	Auth   Auth   `yaml:"auth"`
	Log    Log    `yaml:"log"`
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
	Tokens []auth.Token `yaml:"tokens"`
}

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
	cfg.setDefaults()
	return cfg, nil
}

func (c *Config) setDefaults() {
	s := &c.Server
	if s.Listen == "" {
		s.Listen = "127.0.0.1:8080"
	}
	if s.PublicURL == "" {
		s.PublicURL = "http://" + s.Listen
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	if s.BodyLimit == 0 {
		s.BodyLimit = 1 << 20
	}
	if s.MaxResults == 0 {
		s.MaxResults = 1000
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
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.Path == "" {
		c.Store.Path = "scimbridge.db"
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
	for path, d := range map[string]time.Duration{
		"server.read_header_timeout": c.Server.ReadHeaderTimeout, "server.read_timeout": c.Server.ReadTimeout,
		"server.write_timeout": c.Server.WriteTimeout, "server.idle_timeout": c.Server.IdleTimeout,
		"server.shutdown_timeout": c.Server.ShutdownTimeout,
	} {
		if d < 0 {
			add(path, "must not be negative")
		}
	}
	if c.Store.Driver != "sqlite" {
		add("store.driver", "unknown driver %q (supported: sqlite)", c.Store.Driver)
	}
	if len(c.Auth.Tokens) == 0 {
		add("auth.tokens", "no client credentials configured: every request would be refused")
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
// their hash where the configuration allows it.
func (c *Config) Marshal() ([]byte, error) {
	out := *c
	out.Auth.Tokens = make([]auth.Token, len(c.Auth.Tokens))
	for i, t := range c.Auth.Tokens {
		if t.Token != "" {
			t.SHA256, t.Token = auth.HashToken(t.Token), ""
		}
		out.Auth.Tokens[i] = t
	}
	return yaml.Marshal(&out)
}
