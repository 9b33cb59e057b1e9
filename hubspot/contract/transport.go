package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Transport is an http.RoundTripper that checks every request against the
// contract before sending it and every answer before handing it back. It
// reports each violation to Report and otherwise leaves the traffic as it
// is: the request goes out and the answer comes back unchanged.
type Transport struct {
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper
	// Report receives every violation (a *Violation). It may be called
	// from the goroutines that use the transport.
	Report func(error)
	// SkipResponses checks requests only: for servers that answer canned
	// test fixtures rather than claiming to be HubSpot.
	SkipResponses bool

	c    *Contract
	mu   sync.Mutex
	seen map[string]int
}

// Transport returns a validating transport over base reporting to report.
func (c *Contract) Transport(base http.RoundTripper, report func(error)) *Transport {
	return &Transport{Base: base, Report: report, c: c, seen: map[string]int{}}
}

// Seen lists the contract operations ("METHOD path") the transport's
// requests matched, in order.
func (t *Transport) Seen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.seen))
	for op := range t.seen {
		out = append(out, op)
	}
	slices.Sort(out)
	return out
}

func (t *Transport) report(err error) {
	if t.Report != nil {
		t.Report(err)
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}

	in, op := t.checkRequest(req, body)

	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(out)
	if err != nil || in == nil || t.SkipResponses {
		return resp, err
	}
	data, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = &replay{r: bytes.NewReader(data), err: rerr}
	if rerr != nil {
		return resp, nil // a cut answer is the client's to notice, not a violation
	}
	if verr := t.c.checkResponse(req.Context(), in, resp.StatusCode, resp.Header, data); verr != nil {
		t.report(&Violation{Side: "response", Operation: op, Method: req.Method, Status: resp.StatusCode, Err: verr})
	}
	return resp, nil
}

// checkRequest validates req (whose body, already read, is body) and
// returns the input for the answer's check, nil when no operation matched.
func (t *Transport) checkRequest(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, string) {
	route, params, err := t.c.route(req)
	if err != nil {
		t.report(&Violation{Side: "request", Method: req.Method, Path: req.URL.EscapedPath(),
			Err: fmt.Errorf("%w (%v)", ErrUnknownCall, err)})
		return nil, ""
	}
	op := opName(route)
	t.mu.Lock()
	t.seen[op]++
	t.mu.Unlock()

	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		vreq.Body = http.NoBody
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: t.c.opts}
	var errs []error
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, undeclaredQuery(route, req)...)
	if err := errors.Join(errs...); err != nil {
		t.report(&Violation{Side: "request", Operation: op, Method: req.Method, Err: err})
	}
	return in, op
}

// undeclaredQuery reports query parameters the operation does not declare:
// kin-openapi ignores them, the contract does not.
func undeclaredQuery(route *routers.Route, req *http.Request) []error {
	declared := map[string]bool{}
	for _, list := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, ref := range list {
			if p := ref.Value; p != nil && p.In == openapi3.ParameterInQuery {
				declared[p.Name] = true
			}
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(req.URL.Query())) {
		if !declared[name] {
			errs = append(errs, fmt.Errorf("query parameter %q is not in the contract", name))
		}
	}
	return errs
}

// checkResponse validates one answer to the request described by in.
func (c *Contract) checkResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	if status >= 200 && status < 300 && in.Route.Operation.Responses.Value(strconv.Itoa(status)) == nil {
		return fmt.Errorf("status %d is not a success status of this operation", status)
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                c.opts,
	}
	rin.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, rin)
}

// replay is an answer body already read: its bytes, then the error that
// cut it short, if any.
type replay struct {
	r   *bytes.Reader
	err error
}

func (b *replay) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		return n, b.err
	}
	return n, err
}

func (b *replay) Close() error { return nil }
