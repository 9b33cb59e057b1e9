package contract

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// maxChecked bounds the answer bytes the middleware keeps for checking;
// a longer answer is reported as too long to check.
const maxChecked = 32 << 20

// Middleware checks every answer next gives to a request the contract
// knows, reporting each violation to report (from the serving goroutine,
// before the handler returns). Requests are not checked: servers are
// tested with malformed requests on purpose. Requests no operation matches
// are passed through unchecked: they are the server's own business (the
// simulator's /_sim/ inspection endpoints, paths of versions the client
// does not speak). The answer goes to the client unchanged.
func (c *Contract) Middleware(next http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") {
			next.ServeHTTP(w, r)
			return
		}
		route, params, err := c.route(r)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		tw := &teeWriter{ResponseWriter: w}
		// A handler that panics (the simulator drops connections with
		// http.ErrAbortHandler) gave no answer to check.
		next.ServeHTTP(tw, r)
		status := tw.status
		if status == 0 {
			status = http.StatusOK
		}
		v := &Violation{Side: "response", Operation: opName(route), Method: r.Method, Status: status}
		if tw.overflow {
			v.Err = errTooLong
			report(v)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: c.opts}
		if v.Err = c.checkResponse(r.Context(), in, status, tw.header(), tw.body.Bytes()); v.Err != nil {
			report(v)
		}
	})
}

type tooLong struct{}

func (tooLong) Error() string { return "answer too long to check" }

var errTooLong error = tooLong{}

// teeWriter passes an answer through and keeps a copy of it.
type teeWriter struct {
	http.ResponseWriter
	status   int
	sent     http.Header // the header as sent with the status
	body     bytes.Buffer
	overflow bool
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.sent = w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.body.Len()+len(b) > maxChecked {
		w.overflow = true
	} else {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// header is the answer's header as sent (as it stands, when the handler
// wrote nothing).
func (w *teeWriter) header() http.Header {
	if w.sent != nil {
		return w.sent
	}
	return w.ResponseWriter.Header()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
