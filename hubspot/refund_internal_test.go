package hubspot

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
	"syscall"
	"testing"
	"time"
)

func TestUnsentError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, true},
		{"refused, bare", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{"DNS", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "h"}}, true},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, true},
		{"proxy", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: io.EOF}, true},
		{"unknown authority", &url.Error{Err: x509.UnknownAuthorityError{}}, true},
		{"certificate verification", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{}}, true},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, true},
		{"TLS alert (may follow the request in TLS 1.3)", tls.AlertError(42), false},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"write broken", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, false},
		{"timeout awaiting headers", &url.Error{Err: context.DeadlineExceeded}, false},
		{"cut answer", io.ErrUnexpectedEOF, false},
		{"server closed", errors.New("http: server closed idle connection"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unsentError(tt.err); got != tt.want {
				t.Errorf("unsentError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	// The trace wins over the error: a connection handed over means bytes
	// may have left, whatever the error says.
	tr := &connTrace{}
	tr.looked.Store(true)
	if !unsent(context.DeadlineExceeded, tr) {
		t.Error("looked for a connection, never got one: not unsent")
	}
	tr.got.Store(true)
	if unsent(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, tr) {
		t.Error("got a connection: unsent")
	}
}

// A refund gives back only what HubSpot's own numbers have not replaced
// since the token was taken.
func TestRefundAfterHubSpotRecounts(t *testing.T) {
	ctx := context.Background()
	t.Run("daily header", func(t *testing.T) {
		l := NewLimiter(10, time.Second, 1000)
		r, err := l.Reserve(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		// Another request's answer: HubSpot's count, without r.
		l.observe(header(headerDaily, "1000", headerDailyRemaining, "990"))
		r.Refund()
		if st := l.State(); st.DailyRemaining != 990 || st.DailyUsed != 10 || st.Used != 0 {
			t.Errorf("state %+v, want HubSpot's 990 left and the window slot back", st)
		}
	})
	t.Run("window header", func(t *testing.T) {
		l := NewLimiter(10, time.Second, 0)
		r, err := l.Reserve(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		// HubSpot has 5 left (others spent 5, r not among them): the
		// window now counts HubSpot's 5 and r would make one too few.
		l.observe(header(headerRemaining, "5"))
		r.Refund()
		if st := l.State(); st.Used != 5 || st.DailyUsed != 0 {
			t.Errorf("state %+v, want 5 used in the window", st)
		}
	})
	t.Run("DAILY 429", func(t *testing.T) {
		l := NewLimiter(10, time.Second, 1000)
		r, err := l.Reserve(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		l.pauseDaily()
		r.Refund()
		st := l.State()
		if st.DailyRemaining != 0 || st.PausedUntil.IsZero() {
			t.Errorf("state %+v, want the budget spent and writes paused", st)
		}
		if _, err := l.Reserve(ctx, true); !errors.Is(err, ErrDailyLimit) {
			t.Errorf("write after the refund: %v, want ErrDailyLimit", err)
		}
	})
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
