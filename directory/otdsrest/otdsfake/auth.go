package otdsfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// token serves the OAuth2 client-credentials grant (RFC 6749 §4.4): the
// client authenticates with form fields (as pyxecm does) or HTTP Basic
// (§2.3.1).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type",
			"error_description": "grant type " + gt + " is not supported"})
		return
	}
	known := false
	for _, c := range s.cfg.Clients {
		if c.ID == id && c.Secret == secret && id != "" {
			known = true
		}
	}
	if !known {
		// RFC 6749 §5.2: invalid_client answers 401.
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client",
			"error_description": "client authentication failed"})
		return
	}
	tok := randomString(32)
	s.mu.Lock()
	s.tokens[tok] = s.cfg.Now().Add(s.cfg.TokenLifetime)
	s.mu.Unlock()
	ans := map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(s.cfg.TokenLifetime / time.Second),
	}
	if sc := r.PostForm.Get("scope"); sc != "" {
		ans["scope"] = sc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, ans)
}

// login serves POST /rest/authentication/credentials.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserName string `json:"userName"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, 0, "Invalid request body")
		return
	}
	known := false
	for _, a := range s.cfg.Accounts {
		if a.UserName == in.UserName && a.Password == in.Password && in.UserName != "" {
			known = true
		}
	}
	if !known {
		// Assumption: a refused login answers 401 with an OTDS error body.
		writeError(w, http.StatusUnauthorized, 0, "Invalid username or password")
		return
	}
	ticket := "*OTDSSSO*" + randomString(48)
	s.mu.Lock()
	s.tickets[ticket] = s.cfg.Now().Add(s.cfg.TicketLifetime)
	s.mu.Unlock()
	// The fields around "ticket" follow OTDS's credentials answer.
	writeJSON(w, http.StatusOK, map[string]any{
		"token": nil, "userId": in.UserName, "ticket": ticket, "resourceID": nil,
		"failureReason": nil, "passwordExpirationTime": 0, "continuation": false,
		"continuationContext": nil, "continuationData": nil,
	})
}

// authed lets a request through with a valid bearer token or ticket.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.cfg.Now()
		if auth := r.Header.Get("Authorization"); auth != "" {
			scheme, tok, _ := strings.Cut(auth, " ")
			s.mu.Lock()
			exp, ok := s.tokens[tok]
			s.mu.Unlock()
			if !strings.EqualFold(scheme, "Bearer") || !ok || !now.Before(exp) {
				// RFC 6750 §3.1.
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, 0, "Invalid or expired access token")
				return
			}
			h(w, r)
			return
		}
		if ticket := r.Header.Get("OTDSTicket"); ticket != "" {
			s.mu.Lock()
			exp, ok := s.tickets[ticket]
			s.mu.Unlock()
			switch {
			case !ok:
				// Assumption: a ticket OTDS never issued answers 401.
				writeError(w, http.StatusUnauthorized, 0, "Invalid OTDS SSO ticket")
			case !now.Before(exp):
				if s.cfg.ExpiredTicketStatus == http.StatusUnauthorized {
					writeError(w, http.StatusUnauthorized, 0, "Expired OTDS SSO ticket")
				} else {
					writeError(w, http.StatusBadRequest, 1034, "Expired OTDS SSO ticket")
				}
			default:
				h(w, r)
			}
			return
		}
		writeError(w, http.StatusUnauthorized, 0, "Authentication required")
	}
}

// ExpireCredentials makes every access token and ticket issued so far
// expired, as if their lifetime had passed.
func (s *Server) ExpireCredentials() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.cfg.Now().Add(-time.Second)
	for k := range s.tokens {
		s.tokens[k] = past
	}
	for k := range s.tickets {
		s.tickets[k] = past
	}
}

// Tokens returns the access tokens and tickets issued so far (to check
// that a client never leaks them).
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens)+len(s.tickets))
	for k := range s.tokens {
		out = append(out, k)
	}
	for k := range s.tickets {
		out = append(out, k)
	}
	return out
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
