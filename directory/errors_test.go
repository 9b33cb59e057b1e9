package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestCauseOf(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want Cause
	}{
		{"nil", nil, ""},
		{"cancelled", fmt.Errorf("ldap: users: %w", context.Canceled), ""},
		{"deadline", fmt.Errorf("ldap: users: %w", context.DeadlineExceeded), CauseTimeout},
		{"socket deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), CauseTimeout},
		{"connection refused", fmt.Errorf("ldap: %w", refused), CauseUnreachable},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), CauseUnreachable},
		{"closed by the server", fmt.Errorf("read: %w", io.EOF), CauseUnreachable},
		{"dns", &net.DNSError{Err: "no such host", Name: "otds.invalid", IsNotFound: true}, CauseUnreachable},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "otds.example.com", IsTimeout: true}, CauseTimeout},
		{"classified", fmt.Errorf("reconcile: %w", &Error{Cause: CauseBaseMissing, Err: errors.New("no such object")}), CauseBaseMissing},
		{"classified wins over its cause", &Error{Cause: CauseBindRefused, Err: io.EOF}, CauseBindRefused},
		{"anything else", errors.New("size limit exceeded"), CauseOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CauseOf(tt.err); got != tt.want {
				t.Fatalf("CauseOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
			got := Classify(tt.err)
			var de *Error
			switch {
			case tt.err == nil && got != nil:
				t.Fatalf("Classify(nil) = %v", got)
			case tt.want == "" && got != tt.err:
				t.Fatalf("Classify changed an error without a cause: %v", got)
			case tt.want != "" && (!errors.As(got, &de) || de.Cause != tt.want || got.Error() != tt.err.Error() || !errors.Is(got, tt.err)):
				t.Fatalf("Classify(%v) = %#v", tt.err, got)
			}
		})
	}
}
