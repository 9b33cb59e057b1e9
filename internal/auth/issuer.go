package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// Defaults filled by IssuerConfig.SetDefaults.
const (
	DefaultAudience = "scimbridge"
	DefaultTokenTTL = time.Hour
	DefaultMaxSkew  = 60 * time.Second
)

// Bounds checked by IssuerConfig.Validate.
const (
	minRotateEvery = time.Minute
	maxTokenTTL    = 24 * time.Hour
	maxSkew        = 5 * time.Minute
	maxClientIDLen = 128
	minSecretLen   = 16
	// accessTokenType is the typ header of the bridge's tokens (RFC 9068).
	accessTokenType = "at+jwt"
	// principalPrefix starts the principal name of the bridge's own tokens.
	principalPrefix = "oauth:"
)

// IssuerConfig configures the bridge's own OAuth2 authorization server:
// the client-credentials grant (RFC 6749 §4.4) at /oauth/token, issuing
// JWT access tokens (RFC 9068) that the bridge verifies itself, and the
// public keys at /oauth/jwks.
type IssuerConfig struct {
	// Issuer is the iss of the tokens, usually the bridge's public URL
	// (https://bridge.example.com). Required.
	Issuer string `yaml:"issuer"`
	// Audience is the aud of the tokens (default scimbridge).
	Audience string `yaml:"audience,omitempty"`
	// Algorithm signs the tokens: ES256 (default) or RS256.
	Algorithm string `yaml:"algorithm,omitempty"`
	// KeyFile is a PEM private key (PKCS #8, SEC 1 or PKCS #1; ECDSA P-256
	// for ES256, RSA of 2048 bits or more for RS256) to sign with. The
	// bridge never changes it: rotate by replacing the file and
	// restarting. Set KeyFile or KeyDir.
	KeyFile string `yaml:"key_file,omitempty"`
	// KeyDir holds generated keys: one is made on first start and kept as
	// PEM (mode 0600) in signing-<start>-<kid>.pem; rotation adds files and
	// removes those no token can still need. One bridge process per
	// directory.
	KeyDir string `yaml:"key_dir,omitempty"`
	// TokenTTL is the lifetime of an access token, the expires_in of the
	// token response (default 1h, at most 24h).
	TokenTTL time.Duration `yaml:"token_ttl,omitempty"`
	// RotateEvery generates a new signing key this long after the current
	// one started (0: never; at least 1m; only with KeyDir). The previous
	// public key stays in the JWKS, and its tokens stay valid, until the
	// last token it signed expires: TokenTTL (plus MaxSkew) after rotation.
	RotateEvery time.Duration `yaml:"rotate_every,omitempty"`
	// MaxSkew is the clock skew allowed on exp, nbf and iat (default 60s,
	// at most 5m).
	MaxSkew time.Duration `yaml:"max_skew,omitempty"`
	// Clients may ask for tokens. At least one.
	Clients []Client `yaml:"clients"`

	// Log receives a line per token issued or refused (never a secret or a
	// token) and per key generated or removed.
	Log zerolog.Logger `yaml:"-"`
	// Now replaces the clock (tests).
	Now func() time.Time `yaml:"-"`
}

// Client is an OAuth client allowed the client-credentials grant. It
// authenticates with client_secret_basic (HTTP Basic) or
// client_secret_post (client_id and client_secret form fields).
type Client struct {
	// ID is the client_id; it becomes the token's sub and the principal
	// oauth:<id> in logs and the audit trail.
	ID string `yaml:"id"`
	// SecretSHA256 is the lowercase hex SHA-256 of the secret: the form to
	// keep in configuration files (`printf %s "$SECRET" | sha256sum`).
	// Secrets are compared as hashes, not stretched: use long random ones
	// (openssl rand -base64 32).
	SecretSHA256 string `yaml:"secret_sha256,omitempty"`
	// Secret is the plain secret, for demos and secrets injected through
	// the environment (…_CLIENTS_0_SECRET or …_SECRET_FILE). It is hashed
	// on load and never logged. At least 16 characters.
	Secret string `yaml:"secret,omitempty" secret:"true"`
	// Scopes the client may ask for; empty means scim.read and scim.write.
	// A token request without scope gets all of them.
	Scopes []string `yaml:"scopes,omitempty"`
	// Networks are the CIDR prefixes (or single addresses) the client may
	// call from, both to get tokens and to use them; empty means anywhere.
	// The address is the TCP peer's (forwarding headers are not believed):
	// behind a reverse proxy, list the proxy's address or leave this empty.
	Networks []string `yaml:"networks,omitempty"`
}

// SetDefaults fills unset fields.
func (c *IssuerConfig) SetDefaults() {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.Algorithm == "" {
		c.Algorithm = AlgES256
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	for i := range c.Clients {
		if len(c.Clients[i].Scopes) == 0 {
			c.Clients[i].Scopes = []string{schemas.ScopeRead, schemas.ScopeWrite}
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every configuration problem. Secrets are never quoted.
func (c *IssuerConfig) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Issuer == "" {
		add("issuer is required (the bridge's public URL, e.g. https://bridge.example.com)")
	} else if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		add("issuer %q: want an http(s) URL such as https://bridge.example.com", c.Issuer)
	}
	if strings.TrimSpace(c.Audience) == "" {
		add("audience is empty")
	}
	if c.Algorithm != AlgES256 && c.Algorithm != AlgRS256 {
		add("algorithm %q is not %s or %s", c.Algorithm, AlgES256, AlgRS256)
	}
	switch {
	case c.KeyFile == "" && c.KeyDir == "":
		add("set key_file (a PEM private key) or key_dir (where generated keys are kept)")
	case c.KeyFile != "" && c.KeyDir != "":
		add("set only one of key_file and key_dir")
	}
	switch {
	case c.RotateEvery < 0:
		add("rotate_every %v is negative", c.RotateEvery)
	case c.RotateEvery > 0 && c.RotateEvery < minRotateEvery:
		add("rotate_every %v is under %v", c.RotateEvery, minRotateEvery)
	case c.RotateEvery > 0 && c.KeyFile != "":
		add("rotate_every needs key_dir: a key_file is rotated by replacing it")
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > maxTokenTTL {
		add("token_ttl %v is not between 1m and %v", c.TokenTTL, maxTokenTTL)
	}
	if c.MaxSkew < 0 || c.MaxSkew > maxSkew {
		add("max_skew %v is not between 0 and %v", c.MaxSkew, maxSkew)
	}
	if len(c.Clients) == 0 {
		add("clients: at least one client is required")
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		for _, e := range cl.Validate() {
			add("clients[%d] (%q): %w", i, cl.ID, e)
		}
		if cl.ID != "" && seen[cl.ID] {
			add("clients[%d]: id %q used twice", i, cl.ID)
		}
		seen[cl.ID] = true
	}
	return errs
}

// Validate reports every problem with the client's configuration.
func (cl Client) Validate() []error {
	var errs []error
	switch {
	case cl.ID == "":
		errs = append(errs, errors.New("id is required"))
	case len(cl.ID) > maxClientIDLen:
		errs = append(errs, fmt.Errorf("id longer than %d bytes", maxClientIDLen))
	case strings.IndexFunc(cl.ID, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		errs = append(errs, errors.New("id must be printable, without spaces"))
	}
	switch {
	case cl.SecretSHA256 == "" && cl.Secret == "":
		errs = append(errs, errors.New("set secret_sha256 (preferred) or secret"))
	case cl.SecretSHA256 != "" && cl.Secret != "":
		errs = append(errs, errors.New("set only one of secret_sha256 and secret"))
	case cl.SecretSHA256 != "":
		if b, err := hex.DecodeString(cl.SecretSHA256); err != nil || len(b) != sha256.Size {
			errs = append(errs, errors.New("secret_sha256 must be 64 hex digits"))
		}
	case len(cl.Secret) < minSecretLen:
		errs = append(errs, fmt.Errorf("secret must be at least %d characters", minSecretLen))
	}
	for _, s := range cl.Scopes {
		if !slices.Contains(knownScopes, s) {
			errs = append(errs, fmt.Errorf("unknown scope %q (known: %s)", s, strings.Join(knownScopes, ", ")))
		}
	}
	_, netErrs := parseNetworks(cl.Networks)
	return append(errs, netErrs...)
}

// client is a loaded Client.
type client struct {
	id         string
	idHash     [sha256.Size]byte
	secretHash [sha256.Size]byte
	scopes     []string
	nets       []netip.Prefix
}

// Issuer is the bridge's OAuth2 authorization server for the
// client-credentials grant, and the verifier of the tokens it issues. It
// is safe for concurrent use.
type Issuer struct {
	cfg     IssuerConfig
	log     zerolog.Logger
	now     func() time.Time
	clients []*client
	byID    map[string]*client

	mu   sync.Mutex
	keys []*signingKey // oldest first; the last signs
	// retryRotate delays the next rotation attempt after one failed.
	retryRotate time.Time
}

// NewIssuer checks the configuration and loads (or, in KeyDir, creates)
// the signing key.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	cfg.Clients = slices.Clone(cfg.Clients) // SetDefaults must not write into the caller's slice
	cfg.SetDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("auth: oauth: %w", errors.Join(errs...))
	}
	iss := &Issuer{cfg: cfg, log: cfg.Log, now: cfg.Now, byID: map[string]*client{}}
	for _, cl := range cfg.Clients {
		c := &client{id: cl.ID, idHash: sha256.Sum256([]byte(cl.ID)), scopes: slices.Clone(cl.Scopes)}
		c.nets, _ = parseNetworks(cl.Networks) // validated
		if cl.SecretSHA256 != "" {
			b, _ := hex.DecodeString(strings.ToLower(cl.SecretSHA256))
			copy(c.secretHash[:], b)
		} else {
			c.secretHash = sha256.Sum256([]byte(cl.Secret))
		}
		iss.clients = append(iss.clients, c)
		iss.byID[c.id] = c
	}
	warn := func(path string) {
		iss.log.Warn().Str("file", path).Msg("oauth: signing key file is readable by group or others; chmod 600 it")
	}
	if cfg.KeyFile != "" {
		k, err := loadKeyFile(cfg.KeyFile, iss.now(), warn)
		if err != nil {
			return nil, fmt.Errorf("auth: oauth: key_file: %w", err)
		}
		if k.alg != cfg.Algorithm {
			return nil, fmt.Errorf("auth: oauth: key_file holds a key for %s, not %s", k.alg, cfg.Algorithm)
		}
		iss.keys = []*signingKey{k}
		iss.log.Info().Str("kid", k.kid).Str("alg", k.alg).Msg("oauth: signing key loaded from key_file")
		return iss, nil
	}
	keys, err := loadKeyDir(cfg.KeyDir, warn)
	if err != nil {
		return nil, fmt.Errorf("auth: oauth: key_dir: %w", err)
	}
	iss.keys = keys
	if _, err := iss.maintain(iss.now(), true); err != nil {
		return nil, fmt.Errorf("auth: oauth: key_dir: %w", err)
	}
	return iss, nil
}

// retention is how long a key stays published and accepted after it stopped
// signing: until the last token it signed has expired.
func (iss *Issuer) retention() time.Duration { return iss.cfg.TokenTTL + iss.cfg.MaxSkew }

// liveKeys are the keys tokens may carry at now: the current one and those
// retired less than retention ago. Callers hold mu.
func (iss *Issuer) liveKeys(now time.Time) []*signingKey {
	n := len(iss.keys)
	if n == 0 {
		return nil
	}
	live := make([]*signingKey, 0, 2)
	for i, k := range iss.keys[:n-1] {
		retired := iss.keys[i+1].created
		if now.Before(retired.Add(iss.retention())) {
			live = append(live, k)
		}
	}
	return append(live, iss.keys[n-1])
}

// maintain makes sure a key of the configured algorithm signs, rotates it
// when due, and forgets (and deletes) keys no token can need any more. It
// returns the current key. strict makes a failure to create a key an
// error (at start); later, the current key goes on signing and the
// rotation is tried again a minute later.
func (iss *Issuer) maintain(now time.Time, strict bool) (*signingKey, error) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if iss.cfg.KeyFile != "" {
		return iss.keys[0], nil
	}
	var cur *signingKey
	if n := len(iss.keys); n > 0 {
		cur = iss.keys[n-1]
	}
	reason := ""
	switch {
	case cur == nil:
		reason = "first start"
	case cur.alg != iss.cfg.Algorithm:
		reason = "algorithm changed to " + iss.cfg.Algorithm
	case iss.cfg.RotateEvery > 0 && !now.Before(cur.created.Add(iss.cfg.RotateEvery)):
		reason = "rotation"
	}
	if reason != "" && (strict || cur == nil || !now.Before(iss.retryRotate)) {
		k, err := iss.newKey(now)
		switch {
		case err == nil:
			iss.keys = append(iss.keys, k)
			cur = k
			iss.log.Info().Str("kid", k.kid).Str("alg", k.alg).Str("reason", reason).Str("file", k.path).Msg("oauth: new signing key")
		case strict || cur == nil:
			return nil, err
		default:
			iss.retryRotate = now.Add(time.Minute)
			iss.log.Error().Err(err).Str("kid", cur.kid).Msg("oauth: signing key rotation failed; the current key goes on signing")
		}
	}
	// Forget the keys retired longer than retention ago.
	live := iss.liveKeys(now)
	for _, k := range iss.keys {
		if slices.Contains(live, k) {
			continue
		}
		if err := removeKeyFile(k.path); err != nil {
			iss.log.Warn().Err(err).Str("kid", k.kid).Msg("oauth: could not delete a retired signing key")
		} else {
			iss.log.Info().Str("kid", k.kid).Msg("oauth: retired signing key removed")
		}
	}
	iss.keys = live
	return cur, nil
}

func (iss *Issuer) newKey(now time.Time) (*signingKey, error) {
	priv, err := generateKey(iss.cfg.Algorithm)
	if err != nil {
		return nil, err
	}
	k, err := newSigningKey(priv, now)
	if err != nil {
		return nil, err
	}
	// A key never starts before the current one: file names order keys.
	if n := len(iss.keys); n > 0 && !k.created.After(iss.keys[n-1].created) {
		k.created = iss.keys[n-1].created.Add(time.Second)
	}
	if err := saveKey(iss.cfg.KeyDir, k); err != nil {
		return nil, fmt.Errorf("saving the signing key: %w", err)
	}
	return k, nil
}

// accessClaims are the claims of the bridge's access tokens (RFC 9068).
type accessClaims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

// issue signs an access token for c with scopes.
func (iss *Issuer) issue(c *client, scopes []string) (token string, claims accessClaims, err error) {
	now := iss.now()
	k, err := iss.maintain(now, false)
	if err != nil {
		return "", claims, err
	}
	now = now.Truncate(time.Second)
	claims = accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    iss.cfg.Issuer,
			Subject:   c.id,
			Audience:  jwt.ClaimStrings{iss.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(iss.cfg.TokenTTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        rand.Text(),
		},
		Scope:    strings.Join(scopes, " "),
		ClientID: c.id,
	}
	t := jwt.NewWithClaims(k.method(), claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = accessTokenType
	token, err = t.SignedString(k.priv)
	return token, claims, err
}

// Verify checks one of the bridge's own access tokens presented from an
// unknown address: tokens of clients restricted to networks are refused
// (ErrNetworkNotAllowed). The Chain calls VerifyFrom with the address.
func (iss *Issuer) Verify(token string) (*schemas.Principal, error) {
	return iss.VerifyFrom(token, netip.Addr{})
}

// VerifyFrom checks one of the bridge's own access tokens presented from
// addr (the zero Addr: unknown): typ at+jwt, the configured algorithm, a
// known kid, the signature, iss, aud, exp, nbf and iat (with MaxSkew), and
// that the client still exists, still has the token's scopes and may call
// from addr. The principal is oauth:<client_id>.
func (iss *Issuer) VerifyFrom(token string, addr netip.Addr) (*schemas.Principal, error) {
	h, err := peekJWT(token)
	if err != nil {
		return nil, err
	}
	if h.iss != iss.cfg.Issuer {
		return nil, ErrUnknownIssuer
	}
	if err := checkAlg(h.alg, []string{AlgES256, AlgRS256}); err != nil {
		return nil, err
	}
	if typ := strings.ToLower(h.typ); typ != accessTokenType && typ != "application/"+accessTokenType {
		return nil, ErrNotAccessToken
	}
	now := iss.now()
	var key *signingKey
	iss.mu.Lock()
	for _, k := range iss.liveKeys(now) {
		if h.hasKid && k.kid == h.kid {
			key = k
		}
	}
	iss.mu.Unlock()
	switch {
	case key == nil:
		return nil, ErrUnknownKey
	case key.alg != h.alg:
		return nil, ErrAlgNotAllowed
	}
	var claims accessClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{key.alg}),
		jwt.WithIssuer(iss.cfg.Issuer),
		jwt.WithAudience(iss.cfg.Audience),
		jwt.WithLeeway(iss.cfg.MaxSkew),
		jwt.WithTimeFunc(iss.now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
	)
	if _, err := p.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key.priv.Public(), nil }); err != nil {
		return nil, mapJWTError(err)
	}
	if claims.Subject == "" || claims.IssuedAt == nil || claims.ClientID != claims.Subject {
		return nil, ErrMissingClaim
	}
	c := iss.byID[claims.Subject]
	if c == nil {
		return nil, ErrClientRevoked
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		return nil, ErrNoBridgeScope
	}
	for _, s := range scopes {
		if !slices.Contains(c.scopes, s) {
			return nil, ErrClientRevoked
		}
	}
	if !allowedFrom(c.nets, addr) {
		return nil, &deniedFrom{credential: "oauth client " + c.id}
	}
	return &schemas.Principal{Name: principalPrefix + c.id, Scopes: orderScopes(scopes)}, nil
}

// authenticateClient finds the client whose id and secret match. Every
// client is compared, in constant time, whatever matches.
func (iss *Issuer) authenticateClient(id, secret string) *client {
	idSum := sha256.Sum256([]byte(id))
	secretSum := sha256.Sum256([]byte(secret))
	var found *client
	for _, c := range iss.clients {
		ok := subtle.ConstantTimeCompare(idSum[:], c.idHash[:]) & subtle.ConstantTimeCompare(secretSum[:], c.secretHash[:])
		if ok == 1 {
			found = c
		}
	}
	return found
}

// orderScopes returns the known scopes among scopes, once each, in the
// order of knownScopes.
func orderScopes(scopes []string) []string {
	out := make([]string, 0, len(knownScopes))
	for _, s := range knownScopes {
		if slices.Contains(scopes, s) {
			out = append(out, s)
		}
	}
	return out
}
