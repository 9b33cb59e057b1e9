package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/schemas"
)

func TestDirectoryError(t *testing.T) {
	dirErr := func(c directory.Cause) error {
		return fmt.Errorf("reconcile: reading directory users: %w (nothing was changed)", &directory.Error{Cause: c, Err: errors.New("ldap: users: boom")})
	}
	tests := []struct {
		name     string
		err      error
		wantCode string
	}{
		{"unreachable", dirErr(directory.CauseUnreachable), schemas.EUNAVAILABLE},
		{"timeout", dirErr(directory.CauseTimeout), schemas.ETIMEOUT},
		{"base_dn_missing", dirErr(directory.CauseBaseMissing), schemas.EUPSTREAM},
		{"bind_refused", dirErr(directory.CauseBindRefused), schemas.EUPSTREAM},
		{"other", dirErr(directory.CauseOther), schemas.EUPSTREAM},
		{"not the directory's", errors.New("reconcile: reading the bridge's users: disk I/O error"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := directoryError(tt.err)
			if code := schemas.ErrorCode(got); code != tt.wantCode {
				t.Fatalf("code %q, want %q (%v)", code, tt.wantCode, got)
			}
			if tt.wantCode == "" {
				if got != tt.err {
					t.Fatalf("changed: %v", got)
				}
				return
			}
			if msg := got.Error(); !strings.Contains(msg, "(cause "+tt.name+")") || !strings.Contains(msg, "boom") {
				t.Fatalf("message %q names no cause or detail", msg)
			}
		})
	}
	if directoryError(nil) != nil {
		t.Fatal("directoryError(nil) is not nil")
	}
}

// sourceRead classifies the directory's errors and leaves the caller's.
func TestSourceRead(t *testing.T) {
	mine := errors.New("mapping failed")
	read := func(err error) func(context.Context, func(directory.Entry) error) error {
		return func(_ context.Context, fn func(directory.Entry) error) error {
			if err := fn(directory.Entry{Ref: "cn=a"}); err != nil {
				return fmt.Errorf("ldap: %w", err)
			}
			return err
		}
	}
	ok := func(directory.Entry) error { return nil }
	var de *directory.Error
	if err := sourceRead(context.Background(), read(nil), func(directory.Entry) error { return mine }); !errors.Is(err, mine) || errors.As(err, &de) {
		t.Fatalf("the caller's error: %v", err)
	}
	if err := sourceRead(context.Background(), read(mine), ok); !errors.As(err, &de) {
		t.Fatalf("the directory's error is not classified: %v", err)
	}
	if err := sourceRead(context.Background(), read(context.Canceled), ok); errors.As(err, &de) {
		t.Fatalf("a cancellation was classified: %v", err)
	}
	if err := sourceRead(context.Background(), read(nil), ok); err != nil {
		t.Fatal(err)
	}
}
