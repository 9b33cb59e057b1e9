package otdsrest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// credential is what a request carries: a bearer token or a ticket, with
// the generation it belongs to, so that a refusal discards only that one.
type credential struct {
	header string // "Authorization" or "OTDSTicket"
	value  string
	gen    uint64
}

func (c credential) set(h http.Header) { h.Set(c.header, c.value) }

// loginFunc obtains a new credential value and when it expires (zero:
// unknown).
type loginFunc func(ctx context.Context) (value string, expires time.Time, err error)

// authenticator holds the current credential and logs in when there is
// none, one login at a time.
type authenticator struct {
	header  string
	prefix  string // "Bearer " for tokens
	login   loginFunc
	now     func() time.Time
	secrets []string // configured secrets, for redaction

	gate chan struct{} // one login at a time; a channel so waiting honours ctx

	mu      sync.Mutex
	value   string
	expires time.Time
	gen     uint64
}

func newAuthenticator(header, prefix string, login loginFunc, now func() time.Time, secrets ...string) *authenticator {
	return &authenticator{header: header, prefix: prefix, login: login, now: now,
		secrets: secrets, gate: make(chan struct{}, 1)}
}

// current returns the credential when there is a valid one.
func (a *authenticator) current() (credential, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.value == "" || !a.expires.IsZero() && !a.now().Before(a.expires) {
		return credential{}, false
	}
	return credential{header: a.header, value: a.prefix + a.value, gen: a.gen}, true
}

// credential returns a valid credential, logging in when needed.
func (a *authenticator) credential(ctx context.Context) (credential, error) {
	if c, ok := a.current(); ok {
		return c, nil
	}
	select {
	case a.gate <- struct{}{}:
	case <-ctx.Done():
		return credential{}, fmt.Errorf("otdsrest: logging in: %w", ctx.Err())
	}
	defer func() { <-a.gate }()
	if c, ok := a.current(); ok { // another request logged in meanwhile
		return c, nil
	}
	value, expires, err := a.login(ctx)
	if err != nil {
		return credential{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.value, a.expires = value, expires
	a.gen++
	return credential{header: a.header, value: a.prefix + a.value, gen: a.gen}, nil
}

// invalidate drops c after OTDS refused it, unless a newer credential
// already replaced it.
func (a *authenticator) invalidate(c credential) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen == c.gen {
		a.value = ""
	}
}

// redact replaces every secret the driver knows (configured secrets, the
// current token or ticket) in s.
func (a *authenticator) redact(s string) string {
	a.mu.Lock()
	cur := a.value
	a.mu.Unlock()
	for _, sec := range a.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	if cur != "" {
		s = strings.ReplaceAll(s, cur, "[redacted]")
	}
	return s
}

// expirySkew is how long before its announced expiry a token is renewed:
// a tenth of its lifetime, at most 30 s, so one sent just in time is not
// refused on arrival.
func expirySkew(lifetime time.Duration) time.Duration { return min(lifetime/10, 30*time.Second) }

// oauth2Login obtains a token with the client-credentials grant (RFC 6749
// §4.4), the client authenticated by form fields as pyxecm does.
func (s *Source) oauth2Login(ctx context.Context) (string, time.Time, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.cfg.ClientID},
		"client_secret": {s.cfg.ClientSecret}}
	if s.cfg.Scope != "" {
		form.Set("scope", s.cfg.Scope)
	}
	op := "POST " + s.tokenPath
	issued := s.cfg.Now()
	ans, err := s.send(ctx, http.MethodPost, s.cfg.TokenURL, []byte(form.Encode()), "application/x-www-form-urlencoded", nil)
	if err != nil {
		return "", time.Time{}, s.transportError(ctx, op, err)
	}
	if ans.status < 200 || ans.status > 299 {
		e := s.answerError(op, ans)
		e.login = true
		return "", time.Time{}, e
	}
	var tok struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := s.decode(op, ans, &tok); err != nil {
		return "", time.Time{}, err
	}
	if tok.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("otdsrest: %s: the answer has no access_token", op)
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer") {
		return "", time.Time{}, fmt.Errorf("otdsrest: %s: token type %q is not Bearer", op, tok.TokenType)
	}
	var expires time.Time
	if secs, ok := seconds(tok.ExpiresIn); ok && secs > 0 {
		life := time.Duration(secs) * time.Second
		expires = issued.Add(life - expirySkew(life))
	}
	s.log.Debug().Str("op", op).Time("expires", expires).Msg("otdsrest: obtained an access token")
	return tok.AccessToken, expires, nil
}

// seconds reads expires_in, a number or (some servers) a numeric string.
func seconds(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, false
		}
		n = json.Number(str)
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	return int64(f), err == nil
}

// ticketLogin logs in at /authentication/credentials for an OTDS ticket.
// OTDS does not say when a ticket expires: it is renewed when refused.
func (s *Source) ticketLogin(ctx context.Context) (string, time.Time, error) {
	const path = "/authentication/credentials"
	op := "POST " + path
	body, err := json.Marshal(map[string]string{"userName": s.cfg.UserName, "password": s.cfg.Password})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("otdsrest: %s: %w", op, err)
	}
	ans, err := s.send(ctx, http.MethodPost, s.base+path, body, "application/json", nil)
	if err != nil {
		return "", time.Time{}, s.transportError(ctx, op, err)
	}
	if ans.status < 200 || ans.status > 299 {
		e := s.answerError(op, ans)
		e.login = true
		return "", time.Time{}, e
	}
	var out struct {
		Ticket        string `json:"ticket"`
		FailureReason string `json:"failureReason"`
	}
	if err := s.decode(op, ans, &out); err != nil {
		return "", time.Time{}, err
	}
	if out.Ticket == "" {
		msg := "the answer has no ticket"
		if out.FailureReason != "" {
			msg += " (" + shorten(s.auth.redact(out.FailureReason)) + ")"
		}
		return "", time.Time{}, fmt.Errorf("otdsrest: %s: %s: %w", op, msg, ErrAuth)
	}
	s.log.Debug().Str("op", op).Msg("otdsrest: obtained a ticket")
	return out.Ticket, time.Time{}, nil
}

// transportError describes a request that got no answer. The error chain
// is kept (timeouts stay recognisable) unless its text holds a secret.
func (s *Source) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("otdsrest: %s: %w", op, ctx.Err())
	}
	if msg := err.Error(); s.auth.redact(msg) != msg {
		return fmt.Errorf("otdsrest: %s: %s", op, s.auth.redact(msg))
	}
	return fmt.Errorf("otdsrest: %s: %w", op, err)
}
