package ldap

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/directory"
)

// Each way a directory fails reads as its cause, from a read and from a
// probe alike, against a real server.
func TestErrorCauses(t *testing.T) {
	read := func(s *Source) error {
		return s.Users(context.Background(), func(directory.Entry) error { return nil })
	}
	wantCause := func(t *testing.T, what string, err error, want directory.Cause) {
		t.Helper()
		var de *directory.Error
		if !errors.As(err, &de) || de.Cause != want || directory.CauseOf(err) != want {
			t.Fatalf("%s: %v (cause %q), want cause %q", what, err, directory.CauseOf(err), want)
		}
	}

	t.Run("ok", func(t *testing.T) {
		s := openSource(t, startFixture(t), nil)
		if err := s.Probe(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("base_dn_missing", func(t *testing.T) {
		s := openSource(t, startFixture(t), func(c *Config) { c.Bases = []string{"ou=Nowhere," + corpRoot} })
		wantCause(t, "read", read(s), directory.CauseBaseMissing)
		wantCause(t, "probe", s.Probe(context.Background()), directory.CauseBaseMissing)
	})
	t.Run("bind_refused", func(t *testing.T) {
		srv := startFixture(t)
		_, err := Open(context.Background(), Config{URLs: []string{srv.URL()}, BindDN: srv.BindDN(), BindPassword: "wrong-password", Timeout: 5 * time.Second}, nil)
		wantCause(t, "open", err, directory.CauseBindRefused)
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := startFixture(t)
		s := openSource(t, srv, nil)
		srv.Stop()
		wantCause(t, "read", read(s), directory.CauseUnreachable)
		wantCause(t, "probe", s.Probe(context.Background()), directory.CauseUnreachable)
	})
	t.Run("timeout", func(t *testing.T) {
		srv := startFixture(t)
		s := openSource(t, srv, func(c *Config) { c.Timeout = 300 * time.Millisecond })
		srv.Freeze()
		defer srv.Thaw()
		wantCause(t, "read", read(s), directory.CauseTimeout)
		wantCause(t, "probe", s.Probe(context.Background()), directory.CauseTimeout)
		// A probe bounded by its caller's deadline times out as well.
		s.cfg.Timeout = time.Minute
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		wantCause(t, "probe with a deadline", s.Probe(ctx), directory.CauseTimeout)
	})
	t.Run("cancelled", func(t *testing.T) {
		s := openSource(t, startFixture(t), nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Probe(ctx); err == nil || directory.CauseOf(err) != "" {
			t.Fatalf("a cancelled probe: %v (cause %q), want no cause", err, directory.CauseOf(err))
		}
	})
}

func TestDialCause(t *testing.T) {
	u, to, br, o := directory.CauseUnreachable, directory.CauseTimeout, directory.CauseBindRefused, directory.CauseOther
	tests := []struct {
		name   string
		causes []directory.Cause
		want   directory.Cause
	}{
		{"one unreachable", []directory.Cause{u}, u},
		{"all time out", []directory.Cause{to, to}, to},
		{"some time out", []directory.Cause{to, u}, u},
		{"a refused bind wins", []directory.Cause{u, br, to}, br},
		{"an answered error wins", []directory.Cause{to, o}, o},
		{"cancelled", []directory.Cause{u, ""}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialCause(tt.causes); got != tt.want {
				t.Fatalf("dialCause(%v) = %q, want %q", tt.causes, got, tt.want)
			}
		})
	}
}
