package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// request is one logical call; do may send it several times.
type request struct {
	method string
	path   string // escaped path below the base URL
	// shownPath replaces path in errors and logs when path holds a
	// secret (the token-information call carries the token in its path);
	// secrets are blanked out of transport errors and HubSpot's answers.
	shownPath string
	// endpoint is the path as a template, its variable parts named as in
	// the contract ("/settings/users/2026-03/{userId}"): the metrics'
	// endpoint label and the health report's. Empty when path has no
	// variable part (then shownPath, else path, is the template).
	endpoint string
	secrets  []string
	query    url.Values
	body     any // JSON-encoded when not nil
	out      any // decoded from a 2xx answer when not nil
	// resolve answers, after an ambiguous outcome of a POST (network
	// error, timeout, 5xx), whether that attempt was committed anyway. It
	// fills out and returns true when it was; false retries the POST. A
	// POST without resolve is never retried after an ambiguous outcome.
	resolve func(ctx context.Context) (bool, error)
	// search marks a CRM search: it also waits for the search limiter,
	// and a 429 without a policy pauses searches only.
	search bool
}

// shown is the path as errors and logs may show it.
func (r *request) shown() string {
	if r.shownPath != "" {
		return r.shownPath
	}
	return r.path
}

// endpointLabel is the path template of r: no id, no query, no secret.
func (r *request) endpointLabel() string {
	switch {
	case r.endpoint != "":
		return r.endpoint
	case r.shownPath != "":
		return r.shownPath
	}
	return r.path
}

// hide blanks the request's secrets out of HubSpot's error answer, which
// may quote what it did not find.
func (r *request) hide(e *Error) {
	if len(r.secrets) == 0 {
		return
	}
	var pairs []string
	for _, s := range r.secrets {
		pairs = append(pairs, s, "{redacted}")
	}
	blank := strings.NewReplacer(pairs...).Replace
	e.Message = blank(e.Message)
	for i := range e.Errors {
		e.Errors[i].Message = blank(e.Errors[i].Message)
	}
	for _, vs := range e.Context {
		for i := range vs {
			vs[i] = blank(vs[i])
		}
	}
}

// answer is a fully read HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

const (
	maxAnswerBytes = 32 << 20
	maxErrorText   = 300
)

// do sends r through the limiter with bounded retries and decodes the
// answer into r.out or a typed error (*Error, *RateLimitError).
//
// Retries: 429 TEN_SECONDLY (any method: HubSpot refused the request, so
// nothing was applied) after the window or Retry-After, shared with every
// client of the limiter; 5xx and network errors or timeouts for GET, PUT,
// PATCH and DELETE; for POST only through r.resolve. A DELETE whose retry
// after an ambiguous failure answers 404 has succeeded. A DAILY 429 is
// returned at once and pauses the limiter until the daily reset.
func (c *Client) do(ctx context.Context, r *request) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("hubspot: %s %s: encoding body: %w", r.method, r.shown(), err)
		}
	}
	idempotent := r.method != http.MethodPost
	write := r.method != http.MethodGet && r.method != http.MethodHead
	ambiguous := false // an earlier attempt may have been applied
	for attempt := 0; ; attempt++ {
		var searchToken *Reservation
		if r.search {
			var err error
			if searchToken, err = c.search.Reserve(ctx, false); err != nil {
				return fmt.Errorf("hubspot: %s %s: %w", r.method, r.shown(), err)
			}
		}
		token, err := c.limiter.Reserve(ctx, write)
		if err != nil {
			searchToken.Refund() // nothing was sent
			return fmt.Errorf("hubspot: %s %s: %w", r.method, r.shown(), err)
		}
		ans, notSent, err := c.send(ctx, r, body)
		if notSent {
			// HubSpot never saw it, so it spent none of HubSpot's budget.
			searchToken.Refund()
			token.Refund()
		}
		var (
			unsure     bool          // this attempt's outcome is unknown
			retryAfter time.Duration // minimum wait before the next attempt
		)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("hubspot: %s %s: %w", r.method, r.shown(), err)
			}
			err, unsure = fmt.Errorf("hubspot: %s %s: %w", r.method, r.shown(), err), true
		case ans.status < 300:
			c.limiter.observe(ans.header)
			if r.out != nil && len(bytes.TrimSpace(ans.body)) > 0 {
				if err := json.Unmarshal(ans.body, r.out); err != nil {
					return fmt.Errorf("hubspot: %s %s: decoding answer: %w", r.method, r.shown(), err)
				}
			}
			return nil
		default:
			c.limiter.observe(ans.header)
			herr := decodeError(ans, r.method, r.shown())
			r.hide(herr)
			if r.method == http.MethodDelete && ambiguous && herr.StatusCode == http.StatusNotFound {
				return nil // the earlier attempt deleted it
			}
			switch {
			case herr.StatusCode == http.StatusTooManyRequests:
				rle := &RateLimitError{Err: herr, PolicyName: policyOf(ans.body)}
				c.metrics.rateLimited(rle.PolicyName)
				if rle.PolicyName == PolicyDaily {
					rle.RetryAfter = c.limiter.pauseDaily()
					c.logError(herr, rle)
					return rle
				}
				// A search's 429 carries no policy: it is the search
				// limit (per second), which pauses searches only.
				lim := c.limiter
				if r.search && rle.PolicyName == "" {
					lim = c.search
				}
				rle.RetryAfter = retryAfterOf(ans.header, c.now())
				if rle.RetryAfter <= 0 {
					rle.RetryAfter = lim.windowLength()
				}
				// Every client of this limiter waits for the window.
				lim.block(rle.RetryAfter)
				err, retryAfter = rle, rle.RetryAfter
			case herr.StatusCode >= 500:
				err, unsure, retryAfter = herr, true, retryAfterOf(ans.header, c.now())
			default:
				c.logError(herr, nil)
				return herr
			}
		}

		_, limited := IsRateLimited(err)
		wait := retryAfter // a 429 waits in the limiter, shared with other clients
		if !limited {
			wait = max(backoff(attempt), retryAfter)
		}
		last := attempt >= c.maxRetries
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			last = true // deadlines are wall-clock, whatever c.now is
		}
		resolve := unsure && !idempotent
		if resolve && r.resolve == nil || last && !resolve {
			c.logFinal(r, err, attempt)
			return err
		}
		if !last {
			c.log.Debug().Str("method", r.method).Str("path", r.shown()).Int("attempt", attempt+1).
				Dur("wait", wait).Str("correlation_id", correlationOf(err)).Err(err).Msg("hubspot: retrying")
			if !limited {
				if serr := c.sleep(ctx, wait); serr != nil {
					return fmt.Errorf("%w (gave up retrying: %w)", err, serr)
				}
			}
		}
		if unsure {
			ambiguous = true
		}
		if resolve {
			// The POST may have been applied: look before sending it again.
			done, rerr := r.resolve(ctx)
			if rerr != nil {
				return fmt.Errorf("%w; checking whether it was applied: %w", err, rerr)
			}
			if done {
				c.log.Debug().Str("method", r.method).Str("path", r.shown()).
					Msg("hubspot: ambiguous attempt had been applied")
				return nil
			}
		}
		if last {
			c.logFinal(r, err, attempt)
			return err
		}
	}
}

// send makes one attempt, bounded by the per-attempt timeout, and reads
// the whole answer. notSent reports a failure that provably never reached
// HubSpot (see unsent). It counts the attempt in the metrics and the
// health record.
func (c *Client) send(ctx context.Context, r *request, body []byte) (ans *answer, notSent bool, err error) {
	start := time.Now() // durations are wall-clock, whatever c.now is
	trace := &connTrace{}
	ans, err = c.attempt(trace.with(ctx), r, body)
	status := 0
	if ans != nil {
		status = ans.status
	}
	c.metrics.request(r.endpointLabel(), r.method, status, time.Since(start))
	c.observeHealth(r, status, err, ctx.Err() != nil)
	return ans, unsent(err, trace), err
}

// attempt sends r once and reads the whole answer.
func (c *Client) attempt(ctx context.Context, r *request, body []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base.String() + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if r.shownPath != "" && errors.As(err, &ue) {
			ue.URL = c.base.String() + r.shownPath // the URL holds a secret
		}
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		// Status received but the body was cut: the outcome is unknown.
		return nil, fmt.Errorf("reading answer (status %d): %w", resp.StatusCode, err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

func (c *Client) logError(e *Error, rle *RateLimitError) {
	lvl := zerolog.WarnLevel
	switch e.StatusCode {
	case http.StatusNotFound:
		lvl = zerolog.DebugLevel // lookups miss by design
	case http.StatusConflict:
		lvl = zerolog.InfoLevel // an existing user to adopt
	}
	ev := c.log.WithLevel(lvl).Str("method", e.Method).Str("path", e.Path).Int("status", e.StatusCode).
		Str("category", e.Category).Str("correlation_id", e.CorrelationID)
	if rle != nil {
		ev = ev.Str("policy", rle.PolicyName).Dur("retry_after", rle.RetryAfter)
	}
	ev.Msg("hubspot: error answer: " + e.Message)
}

func (c *Client) logFinal(r *request, err error, attempt int) {
	var e *Error
	if errors.As(err, &e) {
		c.logError(e, nil)
		return
	}
	c.log.Warn().Str("method", r.method).Str("path", r.shown()).Int("attempts", attempt+1).Err(err).
		Msg("hubspot: request failed")
}

func correlationOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.CorrelationID
	}
	return ""
}

// envelope is HubSpot's error body, tolerant of the shapes seen across
// APIs (subCategory as string or object, context values as lists or not).
type envelope struct {
	Status        string          `json:"status"`
	Message       string          `json:"message"`
	CorrelationID string          `json:"correlationId"`
	Category      string          `json:"category"`
	SubCategory   json.RawMessage `json:"subCategory"`
	Errors        json.RawMessage `json:"errors"`
	Context       json.RawMessage `json:"context"`
	ErrorType     string          `json:"errorType"`
	PolicyName    string          `json:"policyName"`
}

// parseEnvelope reads an error envelope; ok is false when data is not one.
func parseEnvelope(data []byte) (env envelope, e *Error, ok bool) {
	if err := json.Unmarshal(data, &env); err != nil {
		return env, nil, false
	}
	if env.Message == "" && env.Category == "" && env.Status == "" && env.ErrorType == "" {
		return env, nil, false
	}
	e = &Error{
		Status: env.Status, Message: env.Message, CorrelationID: env.CorrelationID,
		Category: env.Category, SubCategory: rawString(env.SubCategory),
		Context: stringLists(env.Context),
	}
	if e.Category == "" {
		e.Category = env.ErrorType // 429 bodies: errorType RATE_LIMIT
	}
	if len(env.Errors) > 0 {
		var details []struct {
			Message     string          `json:"message"`
			Code        string          `json:"code"`
			In          string          `json:"in"`
			SubCategory json.RawMessage `json:"subCategory"`
			Context     json.RawMessage `json:"context"`
		}
		if json.Unmarshal(env.Errors, &details) == nil {
			for _, d := range details {
				e.Errors = append(e.Errors, ErrorDetail{
					Message: d.Message, Code: d.Code, In: d.In,
					SubCategory: rawString(d.SubCategory), Context: stringLists(d.Context),
				})
			}
		}
	}
	return env, e, true
}

// decodeError turns a non-2xx answer into *Error, unwrapping an error
// envelope nested in message and coping with non-JSON bodies (proxies,
// load balancers).
func decodeError(a *answer, method, path string) *Error {
	_, e, ok := parseEnvelope(a.body)
	if !ok {
		e = &Error{Message: plainText(a.body, a.status)}
	}
	for range 3 { // an envelope in message, possibly after a prefix
		i := strings.IndexByte(e.Message, '{')
		if i < 0 {
			break
		}
		_, inner, ok := parseEnvelope([]byte(e.Message[i:]))
		if !ok {
			break
		}
		e.Message = inner.Message
		if inner.Category != "" {
			e.Category, e.SubCategory = inner.Category, inner.SubCategory
		}
		if e.CorrelationID == "" {
			e.CorrelationID = inner.CorrelationID
		}
		e.Errors = append(e.Errors, inner.Errors...)
		for k, v := range inner.Context {
			if e.Context == nil {
				e.Context = map[string][]string{}
			}
			e.Context[k] = append(e.Context[k], v...)
		}
	}
	if e.CorrelationID == "" {
		e.CorrelationID = a.header.Get("X-HubSpot-Correlation-Id")
	}
	e.StatusCode, e.Method, e.Path = a.status, method, path
	return e
}

// policyOf reads policyName from a 429 body, also from a nested envelope.
func policyOf(body []byte) string {
	env, _, ok := parseEnvelope(body)
	if !ok {
		return ""
	}
	if env.PolicyName != "" {
		return env.PolicyName
	}
	if i := strings.IndexByte(env.Message, '{'); i >= 0 {
		return policyOf([]byte(env.Message[i:]))
	}
	return ""
}

func plainText(body []byte, status int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" || strings.HasPrefix(s, "<") { // empty or an HTML error page
		return http.StatusText(status)
	}
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "…"
	}
	return s
}

func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return ""
	}
	return buf.String()
}

func stringLists(raw json.RawMessage) map[string][]string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string][]string
	if json.Unmarshal(raw, &m) == nil {
		return m
	}
	var loose map[string]json.RawMessage
	if json.Unmarshal(raw, &loose) != nil {
		return nil
	}
	m = make(map[string][]string, len(loose))
	for k, v := range loose {
		m[k] = []string{rawString(v)}
	}
	return m
}
