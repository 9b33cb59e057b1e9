package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxTokenRequest caps the body of a token request.
const maxTokenRequest = 16 << 10

// jwksMaxAge is how long clients may cache /oauth/jwks. A key is
// published when it starts signing, so verifiers other than the bridge
// must refetch on an unknown kid (as keyfunc does).
const jwksMaxAge = 5 * 60

// OAuth 2.0 error codes (RFC 6749 §5.2).
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errInvalidScope         = "invalid_scope"
	errServerError          = "server_error"
)

// clientAuthFailed is the only thing a refused client is told.
const clientAuthFailed = "client authentication failed"

// tokenResponse is a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// TokenHandler serves POST /oauth/token: the client-credentials grant
// (RFC 6749 §4.4) with client_secret_basic or client_secret_post, answering
// RFC 6749 §5.1 tokens and §5.2 errors.
func (iss *Issuer) TokenHandler() http.Handler { return http.HandlerFunc(iss.serveToken) }

// JWKSHandler serves GET /oauth/jwks: the public keys that verify the
// bridge's tokens (the signing key and those retired less than TokenTTL
// ago), as a JWK Set.
func (iss *Issuer) JWKSHandler() http.Handler { return http.HandlerFunc(iss.serveJWKS) }

func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError answers an RFC 6749 §5.2 error. invalid_client always comes
// with 401 and a Basic challenge.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	if code == errInvalidClient {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="scimbridge"`)
	}
	writeOAuthJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// tokenParams are the parameters of the token request that may appear at
// most once (RFC 6749 §3.2).
var tokenParams = []string{"grant_type", "scope", "client_id", "client_secret"}

func (iss *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	ip := remoteIP(r)
	log := iss.log.With().Str("remote", ip.String()).Logger()
	refuse := func(reason, clientID string) {
		ev := log.Warn().Str("reason", reason)
		if clientID != "" {
			ev = ev.Str("client_id", clientID)
		}
		ev.Msg("oauth: token request refused")
		oauthError(w, http.StatusUnauthorized, errInvalidClient, clientAuthFailed)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "use POST")
		return
	}
	if q := r.URL.Query(); q.Has("client_secret") || q.Has("client_id") || q.Has("grant_type") {
		log.Warn().Msg("oauth: token request with parameters in the URL refused")
		oauthError(w, http.StatusBadRequest, errInvalidRequest, "send the parameters in the form-encoded body, not the URL")
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, errInvalidRequest, "the body must be application/x-www-form-urlencoded")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequest))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			oauthError(w, http.StatusRequestEntityTooLarge, errInvalidRequest, "request body larger than "+strconv.Itoa(maxTokenRequest)+" bytes")
			return
		}
		oauthError(w, http.StatusBadRequest, errInvalidRequest, "could not read the request body")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, errInvalidRequest, "malformed form body")
		return
	}
	for _, p := range tokenParams {
		if len(form[p]) > 1 {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, p+" given more than once")
			return
		}
	}
	switch grant := form.Get("grant_type"); grant {
	case "":
		oauthError(w, http.StatusBadRequest, errInvalidRequest, "grant_type is required")
		return
	case "client_credentials":
	default:
		oauthError(w, http.StatusBadRequest, errUnsupportedGrantType, "only grant_type client_credentials is supported")
		return
	}

	// Client authentication: exactly one of client_secret_basic and
	// client_secret_post (RFC 6749 §2.3.1).
	var id, secret, altID, altSecret string
	_, postSecret := form["client_secret"]
	postID := form.Get("client_id")
	switch authz := r.Header.Get("Authorization"); {
	case authz != "":
		scheme, _, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Basic") {
			refuse("Authorization header with a scheme other than Basic", "")
			return
		}
		if postSecret {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, "use one client authentication method: HTTP Basic or client_secret in the body, not both")
			return
		}
		rawID, rawSecret, ok := r.BasicAuth()
		if !ok {
			refuse("malformed Basic credentials", "")
			return
		}
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic
		// encoding. Clients that skip that (curl -u) are tried as sent too.
		var err1, err2 error
		id, err1 = url.QueryUnescape(rawID)
		secret, err2 = url.QueryUnescape(rawSecret)
		if err1 != nil || err2 != nil {
			id, secret = rawID, rawSecret
		} else if id != rawID || secret != rawSecret {
			altID, altSecret = rawID, rawSecret
		}
		if postID != "" && postID != id && postID != rawID {
			oauthError(w, http.StatusBadRequest, errInvalidRequest, "client_id in the body differs from the Basic credentials")
			return
		}
	case postSecret:
		id, secret = postID, form.Get("client_secret")
	default:
		refuse("no client credentials", "")
		return
	}
	c := iss.authenticateClient(id, secret)
	if c == nil && altID != "" {
		c = iss.authenticateClient(altID, altSecret)
	}
	if c == nil {
		if known := iss.byID[id]; known != nil {
			refuse("wrong client secret", known.id)
		} else if known := iss.byID[altID]; altID != "" && known != nil {
			refuse("wrong client secret", known.id)
		} else {
			refuse("unknown client_id", "") // the id is not logged: it may be a mistyped secret
		}
		return
	}
	if !allowedFrom(c.nets, ip) {
		refuse("caller address outside the client's networks", c.id)
		return
	}

	scopes := c.scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		for _, s := range requested {
			if !slices.Contains(c.scopes, s) {
				desc := "scope not granted to this client"
				if slices.Contains(knownScopes, s) {
					desc = "scope " + s + " not granted to this client"
				}
				log.Warn().Str("client_id", c.id).Msg("oauth: token request for a scope the client lacks")
				oauthError(w, http.StatusBadRequest, errInvalidScope, desc)
				return
			}
		}
		scopes = orderScopes(requested)
	}
	token, claims, err := iss.issue(c, scopes)
	if err != nil {
		log.Error().Err(err).Str("client_id", c.id).Msg("oauth: could not sign a token")
		oauthError(w, http.StatusInternalServerError, errServerError, "could not issue a token")
		return
	}
	log.Info().Str("client_id", c.id).Str("scope", claims.Scope).Str("jti", claims.ID).
		Time("exp", claims.ExpiresAt.Time).Msg("oauth: token issued")
	writeOAuthJSON(w, http.StatusOK, tokenResponse{
		AccessToken: token,
		TokenType:   "Bearer",
		ExpiresIn:   int64(iss.cfg.TokenTTL.Seconds()),
		Scope:       claims.Scope,
	})
}

func (iss *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	now := iss.now()
	if _, err := iss.maintain(now, false); err != nil {
		iss.log.Error().Err(err).Msg("oauth: no signing key")
		http.Error(w, "no signing key", http.StatusInternalServerError)
		return
	}
	iss.mu.Lock()
	keys := iss.liveKeys(now)
	iss.mu.Unlock()
	data, err := jwksJSON(keys)
	if err != nil {
		iss.log.Error().Err(err).Msg("oauth: could not render the JWKS")
		http.Error(w, "could not render the keys", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(jwksMaxAge))
	w.Write(data)
}
