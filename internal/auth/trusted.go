package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/schemas"
)

// Defaults filled by TrustedIssuer.SetDefaults.
const (
	DefaultScopeClaim        = "scope"
	DefaultSubjectClaim      = "sub"
	DefaultRefreshUnknownKID = 5 * time.Minute
	DefaultJWKSRefresh       = time.Hour
	DefaultJWKSTimeout       = 10 * time.Second
	// AnyAudience as Audience skips the aud check.
	AnyAudience = "*"
)

// maxJWKSBody caps a JWKS response.
const maxJWKSBody = 1 << 20

// maxSubjectLen bounds the subject that becomes the principal name.
const maxSubjectLen = 256

// trustableAlgs are the algorithms an external issuer may be trusted for:
// public-key signatures only.
var trustableAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// TrustedIssuer is an external OAuth2/OIDC issuer, such as OTDS, whose
// JWT access tokens the bridge accepts. Its public keys come from its
// JWKS, refetched every RefreshInterval and when a token names an unknown
// kid (at most once per RefreshUnknownKID).
type TrustedIssuer struct {
	// Name prefixes the principal names of its tokens (<name>:<subject>);
	// default: the host of Issuer. For OTDS: otds.
	Name string `yaml:"name,omitempty"`
	// Issuer is the exact iss of its tokens, e.g.
	// https://otds.example.com/otdsws. Required.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where its public keys are, e.g.
	// https://otds.example.com/otdsws/oauth2/jwks. Required; https, or http
	// on a loopback address or with AllowHTTP.
	JWKSURL string `yaml:"jwks_url"`
	// AllowHTTP permits a plain-http JWKSURL on a non-loopback host. Anyone
	// on the path could then substitute keys and mint tokens: only for
	// test rigs and trusted private networks.
	AllowHTTP bool `yaml:"allow_http,omitempty"`
	// Audience must be among the token's aud. Required; "*" accepts any
	// audience (only when the issuer mints tokens for the bridge alone).
	Audience string `yaml:"audience"`
	// Algorithms allowed (default [RS256]); public-key algorithms only:
	// RS*, PS*, ES*, EdDSA.
	Algorithms []string `yaml:"algorithms,omitempty"`
	// ScopeClaim is the claim granting scopes or roles (default scope): a
	// space-separated string or an array of strings; scp and roles are
	// common. A dotted path (realm_access.roles) reaches into objects.
	ScopeClaim string `yaml:"scope_claim,omitempty"`
	// ScopeMap maps claim values (such as OTDS role or group names) to
	// bridge scopes. Values that are already bridge scopes (scim.read,
	// scim.write, admin) pass through unmapped; others are dropped. A token
	// left with no bridge scope is refused.
	ScopeMap map[string][]string `yaml:"scope_map,omitempty"`
	// SubjectClaim names the caller (default sub).
	SubjectClaim string `yaml:"subject_claim,omitempty"`
	// MaxSkew is the clock skew allowed on exp, nbf and iat (default 60s,
	// at most 5m).
	MaxSkew time.Duration `yaml:"max_skew,omitempty"`
	// RefreshUnknownKID is the least time between two JWKS fetches
	// triggered by tokens naming an unknown kid (default 5m).
	RefreshUnknownKID time.Duration `yaml:"refresh_unknown_kid,omitempty"`
	// RefreshInterval is how often the JWKS is refetched (default 1h).
	RefreshInterval time.Duration `yaml:"refresh_interval,omitempty"`
	// Timeout bounds a JWKS fetch (default 10s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// CAFile is a PEM bundle of CAs to trust for JWKSURL instead of the
	// system's; it cannot be combined with HTTPClient.
	CAFile string `yaml:"ca_file,omitempty"`
	// HTTPClient fetches the JWKS (default: a client on a clone of
	// http.DefaultTransport). Responses are capped at 1 MiB.
	HTTPClient *http.Client `yaml:"-"`

	// Log receives JWKS fetch failures and refreshes.
	Log zerolog.Logger `yaml:"-"`
	// Now replaces the clock (tests): token times and the refresh rate
	// limit.
	Now func() time.Time `yaml:"-"`
}

// SetDefaults fills unset fields.
func (t *TrustedIssuer) SetDefaults() {
	t.Issuer = strings.TrimSpace(t.Issuer)
	t.JWKSURL = strings.TrimSpace(t.JWKSURL)
	if t.Name == "" {
		if u, err := url.Parse(t.Issuer); err == nil && u.Hostname() != "" {
			t.Name = u.Hostname()
		} else {
			t.Name = t.Issuer
		}
	}
	if len(t.Algorithms) == 0 {
		t.Algorithms = []string{"RS256"}
	}
	if t.ScopeClaim == "" {
		t.ScopeClaim = DefaultScopeClaim
	}
	if t.SubjectClaim == "" {
		t.SubjectClaim = DefaultSubjectClaim
	}
	if t.MaxSkew == 0 {
		t.MaxSkew = DefaultMaxSkew
	}
	if t.RefreshUnknownKID == 0 {
		t.RefreshUnknownKID = DefaultRefreshUnknownKID
	}
	if t.RefreshInterval == 0 {
		t.RefreshInterval = DefaultJWKSRefresh
	}
	if t.Timeout == 0 {
		t.Timeout = DefaultJWKSTimeout
	}
	if t.Now == nil {
		t.Now = time.Now
	}
}

// Validate reports every configuration problem.
func (t *TrustedIssuer) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.Issuer == "" {
		add("issuer is required (the exact iss of the tokens)")
	}
	if t.Name == "" || strings.IndexFunc(t.Name, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
		add("name %q must be printable, without spaces", t.Name)
	}
	if t.JWKSURL == "" {
		add("jwks_url is required")
	} else if u, err := url.Parse(t.JWKSURL); err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		add("jwks_url: want https://host/… (no credentials in the URL)")
	} else if u.Scheme == "http" && !t.AllowHTTP && !isLoopback(u.Hostname()) {
		add("jwks_url %q: plain http is only allowed on a loopback address or with allow_http", u.Redacted())
	}
	if strings.TrimSpace(t.Audience) == "" {
		add(`audience is required (or "*" to accept any)`)
	}
	for _, a := range t.Algorithms {
		if !slices.Contains(trustableAlgs, a) {
			add("algorithms: %q is not one of %s", a, strings.Join(trustableAlgs, ", "))
		}
	}
	if strings.TrimSpace(t.ScopeClaim) == "" {
		add("scope_claim is empty")
	}
	if strings.TrimSpace(t.SubjectClaim) == "" {
		add("subject_claim is empty")
	}
	for k, scopes := range t.ScopeMap {
		for _, s := range scopes {
			if !slices.Contains(knownScopes, s) {
				add("scope_map[%q]: unknown scope %q (known: %s)", k, s, strings.Join(knownScopes, ", "))
			}
		}
	}
	if t.MaxSkew < 0 || t.MaxSkew > maxSkew {
		add("max_skew %v is not between 0 and %v", t.MaxSkew, maxSkew)
	}
	if t.RefreshUnknownKID < 0 {
		add("refresh_unknown_kid %v is negative", t.RefreshUnknownKID)
	}
	if t.RefreshInterval < time.Minute {
		add("refresh_interval %v is under 1m", t.RefreshInterval)
	}
	if t.Timeout <= 0 {
		add("timeout %v is not positive", t.Timeout)
	}
	if t.CAFile != "" && t.HTTPClient != nil {
		add("ca_file cannot be combined with a custom HTTP client")
	}
	return errs
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// trustedIssuer is a loaded TrustedIssuer.
type trustedIssuer struct {
	cfg TrustedIssuer
	kf  keyfunc.Keyfunc
}

// Trusted verifies JWT access tokens of external issuers. It is safe for
// concurrent use.
type Trusted struct {
	ctx   context.Context
	byIss map[string]*trustedIssuer
}

// NewTrusted checks the issuers and starts fetching their JWKS; ctx ends
// the background refreshes. An issuer whose JWKS cannot be fetched now is
// logged, not an error: its keys are fetched again on the first token.
func NewTrusted(ctx context.Context, issuers []TrustedIssuer) (*Trusted, error) {
	t := &Trusted{ctx: ctx, byIss: map[string]*trustedIssuer{}}
	var errs []error
	names := map[string]bool{}
	cfgs := make([]TrustedIssuer, len(issuers))
	for i, ti := range issuers {
		ti.Algorithms = slices.Clone(ti.Algorithms)
		ti.SetDefaults()
		for _, e := range ti.Validate() {
			errs = append(errs, fmt.Errorf("trusted_issuers[%d] (%q): %w", i, ti.Issuer, e))
		}
		if t.byIss[ti.Issuer] != nil || names[ti.Name] {
			errs = append(errs, fmt.Errorf("trusted_issuers[%d]: issuer %q or name %q used twice", i, ti.Issuer, ti.Name))
		}
		t.byIss[ti.Issuer] = &trustedIssuer{}
		names[ti.Name] = true
		cfgs[i] = ti
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("auth: %w", errors.Join(errs...))
	}
	for i, ti := range cfgs {
		loaded, err := loadTrusted(ctx, ti)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted_issuers[%d] (%q): %w", i, ti.Issuer, err)
		}
		t.byIss[ti.Issuer] = loaded
	}
	return t, nil
}

func loadTrusted(ctx context.Context, ti TrustedIssuer) (*trustedIssuer, error) {
	hc, err := jwksHTTPClient(ti)
	if err != nil {
		return nil, err
	}
	log := ti.Log.With().Str("issuer", ti.Issuer).Str("jwks_url", ti.JWKSURL).Logger()
	cached, err := jwkset.NewStorageFromHTTP(ti.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    hc,
		Ctx:                       ctx,
		HTTPTimeout:               ti.Timeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler: func(_ context.Context, err error) {
			log.Warn().Err(err).Msg("trusted issuer: JWKS fetch failed")
		},
		RefreshInterval: ti.RefreshInterval,
	})
	if err != nil {
		return nil, err
	}
	// The HTTP client storage refetches on an unknown kid; its own limiter
	// never blocks: the gate below decides, without making callers wait.
	refetching, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{ti.JWKSURL: cached},
		RateLimitWaitMax:  ti.Timeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, err
	}
	limit := rate.Inf
	if ti.RefreshUnknownKID > 0 {
		limit = rate.Every(ti.RefreshUnknownKID)
	}
	store := &unknownKIDStorage{
		Storage: refetching,
		cached:  cached,
		gate:    rate.NewLimiter(limit, 1),
		now:     ti.Now,
		log:     log,
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		return nil, err
	}
	return &trustedIssuer{cfg: ti, kf: kf}, nil
}

func jwksHTTPClient(ti TrustedIssuer) (*http.Client, error) {
	var hc http.Client
	if ti.HTTPClient != nil {
		hc = *ti.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if ti.CAFile != "" {
			pem, err := os.ReadFile(ti.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s: no PEM certificate found", ti.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		hc.Transport = tr
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = capBody{rt}
	return &hc, nil
}

// capBody cuts response bodies at maxJWKSBody.
type capBody struct{ next http.RoundTripper }

func (c capBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxJWKSBody), resp.Body}
	return resp, nil
}

// unknownKIDStorage reads keys from the cached JWKS; a kid it lacks sends
// it to refetch the JWKS, at most once per gate interval. Callers never
// wait for the gate: when it is closed, the kid is unknown.
type unknownKIDStorage struct {
	jwkset.Storage // refetches the JWKS on a miss
	cached         jwkset.Storage
	gate           *rate.Limiter
	now            func() time.Time
	log            zerolog.Logger
}

func (s *unknownKIDStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	k, err := s.cached.KeyRead(ctx, kid)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return k, err
	}
	if !s.gate.AllowN(s.now(), 1) {
		return k, err
	}
	s.log.Info().Msg("trusted issuer: token names an unknown key; refetching the JWKS")
	return s.Storage.KeyRead(ctx, kid)
}

// Verify checks a JWT access token of a trusted issuer, picked by its
// (unverified) iss: only that issuer's keys and algorithms are tried. It
// checks the signature, aud, exp, nbf and iat (with MaxSkew), then maps
// the scope claim to bridge scopes. The principal is <name>:<subject>.
func (t *Trusted) Verify(token string) (*schemas.Principal, error) {
	h, err := peekJWT(token)
	if err != nil {
		return nil, err
	}
	if !t.has(h.iss) {
		return nil, ErrUnknownIssuer
	}
	return t.byIss[h.iss].verify(t.ctx, token, h)
}

// has reports whether iss names a trusted issuer.
func (t *Trusted) has(iss string) bool { return t != nil && iss != "" && t.byIss[iss] != nil }

func (ti *trustedIssuer) verify(ctx context.Context, token string, h jwsHeader) (*schemas.Principal, error) {
	cfg := &ti.cfg
	if err := checkAlg(h.alg, cfg.Algorithms); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	lookup := ti.kf.KeyfuncCtx(ctx)
	claims := jwt.MapClaims{}
	p := jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithLeeway(cfg.MaxSkew),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
	)
	_, err := p.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		key, err := lookup(tok)
		if err != nil {
			return nil, ErrUnknownKey
		}
		return key, nil
	})
	if err != nil {
		return nil, mapJWTError(err)
	}
	if cfg.Audience != AnyAudience {
		aud, err := claims.GetAudience()
		if err != nil {
			return nil, ErrMalformedToken
		}
		if !slices.Contains(aud, cfg.Audience) {
			return nil, ErrWrongAudience
		}
	}
	sub, ok := claimAt(claims, cfg.SubjectClaim).(string)
	if !ok || sub == "" || len(sub) > maxSubjectLen ||
		strings.IndexFunc(sub, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return nil, ErrMissingClaim
	}
	scopes := mapScopes(claimValues(claimAt(claims, cfg.ScopeClaim)), cfg.ScopeMap)
	if len(scopes) == 0 {
		return nil, ErrNoBridgeScope
	}
	return &schemas.Principal{Name: cfg.Name + ":" + sub, Scopes: scopes}, nil
}

// claimAt finds a claim by name, or by a dotted path into objects when no
// claim has that name.
func claimAt(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = map[string]any(claims)
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// claimValues reads a scope-like claim: a space-separated string or an
// array of strings (other elements ignored).
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mapScopes turns claim values into bridge scopes: through m when it
// names the value, as is when the value is a bridge scope, dropped
// otherwise.
func mapScopes(values []string, m map[string][]string) []string {
	var got []string
	for _, v := range values {
		if mapped, ok := m[v]; ok {
			got = append(got, mapped...)
		} else if slices.Contains(knownScopes, v) {
			got = append(got, v)
		}
	}
	return orderScopes(got)
}
