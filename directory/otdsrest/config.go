package otdsrest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Auth methods.
const (
	// AuthOAuth2 obtains bearer tokens with the OAuth2 client-credentials
	// grant (RFC 6749 §4.4) from TokenURL.
	AuthOAuth2 = "oauth2"
	// AuthTicket logs in with a user name and password at
	// /authentication/credentials and sends the ticket as OTDSTicket.
	AuthTicket = "ticket"
)

// Where users' group memberships come from.
const (
	// MembershipsAuto reads the user's oTMemberOf attribute when the user
	// carries it, and asks GET /users/{id}/memberof otherwise.
	MembershipsAuto = "auto"
	// MembershipsAttribute only reads oTMemberOf: a user without it is in
	// no group. No extra requests.
	MembershipsAttribute = "attribute"
	// MembershipsMemberOf always asks GET /users/{id}/memberof: one
	// request per user.
	MembershipsMemberOf = "memberof"
)

// Defaults filled by SetDefaults.
const (
	DefaultPageSize            = 250
	DefaultTimeout             = 30 * time.Second
	DefaultMemberOfConcurrency = 4
)

// Config configures the OTDS REST driver. Secrets (ClientSecret, Password)
// and the tokens and tickets obtained with them are never logged nor put in
// errors.
type Config struct {
	// BaseURL is the REST API root: https://otds.example.com/otdsws/rest,
	// or for a tenant https://otds.example.com/otdstenant/<tenant>/otdsws/rest.
	BaseURL string `yaml:"base_url"`

	// Auth is oauth2 or ticket. Empty: oauth2 when ClientID is set, ticket
	// when UserName is set.
	Auth string `yaml:"auth"`
	// ClientID and ClientSecret are an OAuth client of OTDS allowed the
	// client-credentials grant; they are sent as form fields (as OpenText's
	// own client does).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// TokenURL defaults to BaseURL with its trailing /rest replaced by
	// /oauth2/token (https://host/otdsws/oauth2/token, or the tenant's).
	TokenURL string `yaml:"token_url"`
	// Scope is sent with the token request when set.
	Scope string `yaml:"scope"`
	// UserName and Password log in for a ticket (Auth ticket).
	UserName string `yaml:"user_name"`
	Password string `yaml:"password"`

	// Partitions limits the read to these partitions (where_partition_name,
	// one paged scan each). Empty reads every partition in one scan.
	Partitions []string `yaml:"partitions"`
	// Filter is sent as where_filter when listing users, GroupFilter when
	// listing groups. Their syntax is OTDS's. Groups filtered out are out
	// of scope: memberships in them are dropped.
	Filter      string `yaml:"filter"`
	GroupFilter string `yaml:"group_filter"`
	// PageSize is the page_size of list requests (default 250).
	PageSize int `yaml:"page_size"`

	// Memberships is where users' groups come from: auto (default),
	// attribute or memberof; see the constants. In auto, every user
	// without oTMemberOf costs one GET /users/{id}/memberof.
	Memberships string `yaml:"memberships"`
	// MemberOfConcurrency bounds the /memberof requests in flight
	// (default 4).
	MemberOfConcurrency int `yaml:"memberof_concurrency"`

	// Timeout bounds each HTTP request (default 30 s).
	Timeout time.Duration `yaml:"timeout"`
	// CAFile is a PEM bundle of CAs to trust instead of the system's; it
	// cannot be combined with HTTPClient.
	CAFile string `yaml:"ca_file"`
	// HTTPClient sends the requests (default: a client on a clone of
	// http.DefaultTransport). The driver never follows redirects, so
	// credentials are not sent to another host.
	HTTPClient *http.Client `yaml:"-"`

	// Log receives a line per re-login and debug lines per scan.
	Log zerolog.Logger `yaml:"-"`
	// Now replaces the clock for token expiry (tests).
	Now func() time.Time `yaml:"-"`
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.Auth == "" {
		switch {
		case c.ClientID != "":
			c.Auth = AuthOAuth2
		case c.UserName != "":
			c.Auth = AuthTicket
		default:
			c.Auth = AuthOAuth2
		}
	}
	if c.Auth == AuthOAuth2 && c.TokenURL == "" {
		c.TokenURL = tokenURLFor(c.BaseURL)
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Memberships == "" {
		c.Memberships = MembershipsAuto
	}
	if c.MemberOfConcurrency == 0 {
		c.MemberOfConcurrency = DefaultMemberOfConcurrency
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// tokenURLFor derives OTDS's token endpoint from the REST base URL:
// …/otdsws/rest → …/otdsws/oauth2/token. It returns "" when base does not
// end in /rest.
func tokenURLFor(base string) string {
	u, err := url.Parse(base)
	if err != nil || !strings.HasSuffix(u.Path, "/rest") {
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/rest") + "/oauth2/token"
	u.RawPath = ""
	return u.String()
}

// Validate reports every configuration problem. Secrets are never quoted.
func (c *Config) Validate() []error {
	var errs []error
	if err := checkURL("base_url", c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	switch c.Auth {
	case AuthOAuth2:
		if c.ClientID == "" || c.ClientSecret == "" {
			errs = append(errs, errors.New("auth oauth2: client_id and client_secret are required"))
		}
		if c.TokenURL == "" {
			errs = append(errs, errors.New("auth oauth2: token_url is required when base_url does not end in /rest"))
		} else if c.TokenURL != tokenURLFor(c.BaseURL) { // a derived one shares base_url's problems
			if err := checkURL("token_url", c.TokenURL); err != nil {
				errs = append(errs, err)
			}
		}
		if c.UserName != "" || c.Password != "" {
			errs = append(errs, errors.New("auth oauth2: user_name and password belong to auth ticket"))
		}
	case AuthTicket:
		if c.UserName == "" || c.Password == "" {
			errs = append(errs, errors.New("auth ticket: user_name and password are required"))
		}
		if c.ClientID != "" || c.ClientSecret != "" {
			errs = append(errs, errors.New("auth ticket: client_id and client_secret belong to auth oauth2"))
		}
	default:
		errs = append(errs, fmt.Errorf("auth: %q is not %s or %s", c.Auth, AuthOAuth2, AuthTicket))
	}
	seen := map[string]bool{}
	for i, p := range c.Partitions {
		switch {
		case strings.TrimSpace(p) == "":
			errs = append(errs, fmt.Errorf("partitions[%d]: empty name", i))
		case seen[p]:
			errs = append(errs, fmt.Errorf("partitions[%d]: %q twice", i, p))
		}
		seen[p] = true
	}
	if c.PageSize <= 0 {
		errs = append(errs, fmt.Errorf("page_size: %d is not positive", c.PageSize))
	}
	switch c.Memberships {
	case MembershipsAuto, MembershipsAttribute, MembershipsMemberOf:
	default:
		errs = append(errs, fmt.Errorf("memberships: %q is not %s, %s or %s", c.Memberships,
			MembershipsAuto, MembershipsAttribute, MembershipsMemberOf))
	}
	if c.MemberOfConcurrency <= 0 {
		errs = append(errs, fmt.Errorf("memberof_concurrency: %d is not positive", c.MemberOfConcurrency))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
	}
	if c.CAFile != "" && c.HTTPClient != nil {
		errs = append(errs, errors.New("ca_file cannot be combined with a custom HTTP client"))
	}
	return errs
}

func checkURL(field, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%s: not a URL", field) // err may quote userinfo
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("%s %q: want http(s)://host/…", field, u.Redacted())
	case u.User != nil:
		return fmt.Errorf("%s %q: credentials belong in their own fields", field, u.Redacted())
	case u.RawQuery != "", u.Fragment != "":
		return fmt.Errorf("%s %q: no query or fragment allowed", field, u.Redacted())
	}
	return nil
}
