package otdsrest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

const (
	maxAnswerBytes = 64 << 20
	maxMessage     = 300
	userAgent      = "scimbridge-otdsrest/1"
)

// answer is a fully read HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send makes one HTTP request, bounded by the per-request timeout, and
// reads the whole answer. setAuth, when not nil, adds the credential.
// Transport errors are returned without the URL (it is in Op already).
func (s *Source) send(ctx context.Context, method, rawURL string, body []byte, contentType string, setAuth func(http.Header)) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if setAuth != nil {
		setAuth(req.Header)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(b) > maxAnswerBytes {
		return nil, fmt.Errorf("answer larger than %d bytes", maxAnswerBytes)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// get sends an authenticated GET of path (escaped, below the base URL) and
// decodes the JSON answer into out; detail, when set, is added to the
// operation in errors ("partition \"P\", page 3"). When OTDS refuses the credential (401,
// or 400 with status 1034 for an expired ticket) it logs in again and
// retries once; a second refusal is returned.
func (s *Source) get(ctx context.Context, path, detail string, query url.Values, out any) error {
	if s.closed.Load() {
		return ErrClosed
	}
	op := "GET " + path
	if detail != "" {
		op += " (" + detail + ")"
	}
	rawURL := s.base + path
	if len(query) > 0 {
		rawURL += "?" + query.Encode()
	}
	for retried := false; ; retried = true {
		cred, err := s.auth.credential(ctx)
		if err != nil {
			return err
		}
		ans, err := s.send(ctx, http.MethodGet, rawURL, nil, "", cred.set)
		if err != nil {
			return s.transportError(ctx, op, err)
		}
		if ans.status >= 200 && ans.status < 300 {
			return s.decode(op, ans, out)
		}
		e := s.answerError(op, ans)
		if !retried && e.credentialRefused() {
			s.log.Info().Str("op", op).Int("status", e.StatusCode).Int("otds_status", e.Code).
				Msg("otdsrest: credential refused, logging in again")
			s.auth.invalidate(cred)
			continue
		}
		return e
	}
}

// decode reads a 2xx JSON answer.
func (s *Source) decode(op string, ans *answer, out any) error {
	if ct := ans.header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			// A login page or a proxy's answer is not an empty directory.
			return fmt.Errorf("otdsrest: %s: answer is %s, not JSON", op, mt)
		}
	}
	if err := json.Unmarshal(ans.body, out); err != nil {
		return fmt.Errorf("otdsrest: %s: decoding the answer: %w", op, err)
	}
	return nil
}

// answerError decodes an error answer: OTDS's {"status","error"} or
// OAuth2's {"error","error_description"}.
func (s *Source) answerError(op string, ans *answer) *Error {
	e := &Error{Op: op, StatusCode: ans.status}
	var body struct {
		Status      json.RawMessage `json:"status"`
		Error       json.RawMessage `json:"error"`
		Description string          `json:"error_description"`
	}
	if json.Unmarshal(ans.body, &body) == nil {
		_ = json.Unmarshal(body.Status, &e.Code)
		var msg string
		if json.Unmarshal(body.Error, &msg) != nil {
			msg = string(body.Error) // an object or something else: keep it as text
		}
		if body.Description != "" {
			msg = strings.TrimSpace(msg + ": " + body.Description)
		}
		e.Message = msg
	} else if !bytes.HasPrefix(bytes.TrimSpace(ans.body), []byte("<")) {
		e.Message = string(ans.body) // plain text; HTML pages are left out
	}
	if loc := ans.header.Get("Location"); ans.status >= 300 && ans.status < 400 && loc != "" {
		e.Message = "redirected to " + loc + " (redirects are not followed)"
	}
	e.Message = shorten(s.auth.redact(strings.TrimSpace(e.Message)))
	return e
}

func shorten(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
