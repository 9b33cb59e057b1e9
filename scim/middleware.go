package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxPrincipal
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

// requestInfo is filled in as a request passes the middleware, for the
// access log written when it completes.
type requestInfo struct {
	principal *schemas.Principal
}

// principal returns the authenticated caller of a request.
func principal(ctx context.Context) *schemas.Principal {
	if info, ok := ctx.Value(ctxPrincipal).(*requestInfo); ok {
		return info.principal
	}
	return nil
}

// validRequestID accepts a caller's X-Request-Id only if it is short and
// plain, so it can go into logs and headers unescaped.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe assigns the request id, recovers panics into SCIM 500s, and writes
// one access-log line and the HTTP metrics per request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.log.With().Str("request_id", id).Logger()
		ctx := context.WithValue(log.WithContext(r.Context()), ctxRequestID, id)
		ctx = context.WithValue(ctx, ctxPrincipal, &requestInfo{})
		r = r.WithContext(ctx)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error().Interface("panic", v).Bytes("stack", debug.Stack()).Msg("handler panicked")
				if ww.Status() == 0 {
					writeError(ww, r, errors.New("panic"))
				}
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			s.metrics.observe(r.Method, route, status, elapsed)
			ev := log.Info()
			if status >= 500 {
				ev = log.Error()
			} else if s.quietRoutes[route] {
				ev = log.Debug()
			}
			if ev.Enabled() {
				if p := principal(r.Context()); p != nil {
					ev = ev.Str("client", p.Name)
				}
				ev.Str("method", r.Method).
					Str("path", r.URL.Path).
					Str("route", route).
					Int("status", status).
					Int("bytes", ww.BytesWritten()).
					Float64("duration_ms", float64(elapsed.Microseconds())/1000).
					Str("remote", r.RemoteAddr).
					Msg("request")
			}
		}()
		next.ServeHTTP(ww, r)
	})
}

// canonicalPath makes /Users/ and /Users the same resource (GET
// /Users/?filter=… is a list, not a read of an empty id), and spells SCIM
// endpoint names canonically, so /scim/v2/users works as clients that
// lower-case paths expect.
func canonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r.URL.Path = strings.TrimRight(p, "/")
			if r.URL.RawPath != "" {
				r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
			}
		}
		if rest, ok := strings.CutPrefix(r.URL.Path, scimRoot); ok {
			seg, tail, _ := strings.Cut(rest, "/")
			for _, e := range endpoints {
				if seg != e && strings.EqualFold(seg, e) {
					r.URL.Path = scimRoot + e
					if tail != "" || strings.HasSuffix(rest, "/") {
						r.URL.Path += "/" + tail
					}
					r.URL.RawPath = ""
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

const scimRoot = "/scim/v2/"

var endpoints = [...]string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "Me", "Bulk"}

// authenticate requires a credential granting scope (or, for scope "",
// scim.read on safe methods and scim.write on the others).
func (s *Server) authenticate(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := s.auth.Authenticate(r)
			if err != nil {
				detail := "Authentication required: send Authorization: Bearer <token>."
				if !errors.Is(err, schemas.ErrNoCredentials) {
					detail = "Invalid credentials: " + err.Error()
					// RFC 6750 §3.1: a presented token that failed says so.
					w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge", error="invalid_token"`)
				}
				writeError(w, r, newError(http.StatusUnauthorized, "", detail))
				return
			}
			need := scope
			if need == "" {
				need = schemas.ScopeWrite
				if r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasSuffix(r.URL.Path, "/.search") {
					need = schemas.ScopeRead
				}
			}
			if info, ok := r.Context().Value(ctxPrincipal).(*requestInfo); ok {
				info.principal = p
			}
			if !p.HasScope(need) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge", error="insufficient_scope", scope="`+need+`"`)
				writeError(w, r, newError(http.StatusForbidden, "", "The credential "+strconv.Quote(p.Name)+" lacks the "+need+" scope."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// readBody reads a request body up to the configured limit into memory.
// An oversized body is a 413 (RFC 7644 §3.12), never a truncated parse.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.cfg.BodyLimit {
		return nil, tooLarge(s.cfg.BodyLimit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.BodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(s.cfg.BodyLimit)
		}
		return nil, newError(http.StatusBadRequest, "invalidSyntax", "Could not read the request body.")
	}
	// JSON is UTF-8 (RFC 8259 §8.1): a decoder would silently turn other
	// bytes into U+FFFD, and a changed name would reach HubSpot.
	if !utf8.Valid(data) {
		return nil, newError(http.StatusBadRequest, "invalidSyntax", "The request body is not valid UTF-8.")
	}
	return data, nil
}

func tooLarge(limit int64) *apiError {
	return newError(http.StatusRequestEntityTooLarge, "", "The request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes.")
}

// actor names the caller of a request for the audit trail.
func actor(r *http.Request) (a schemas.Actor) {
	a.RequestID = requestID(r.Context())
	if p := principal(r.Context()); p != nil {
		a.Name = p.Name
	}
	return a
}

// zlog is the request's logger.
func zlog(r *http.Request) *zerolog.Logger { return zerolog.Ctx(r.Context()) }
