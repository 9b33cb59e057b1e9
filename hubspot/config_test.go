package hubspot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

func TestUserAgent(t *testing.T) {
	tests := []struct {
		name      string
		userAgent string
		want      string
	}{
		{name: "default", want: hubspot.DefaultUserAgent},
		{name: "configured", userAgent: "scimbridge-prod-eu", want: "scimbridge-prod-eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("User-Agent")
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"results":[]}`))
			}))
			defer srv.Close()
			c, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: "t", UserAgent: tt.userAgent})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Roles(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("User-Agent = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := hubspot.Config{APIVersion: "v4", TimeZone: "Mars/Olympus", UserAgent: "a\r\nX-Injected: 1"}
	cfg.SetDefaults()
	var msgs []string
	for _, e := range cfg.Validate() {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{`api_version: "v4"`, `time_zone: unknown time zone "Mars/Olympus"`, "user_agent: "} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate() = %s\nwant a problem with %q", got, want)
		}
	}
	ok := hubspot.Config{}
	ok.SetDefaults()
	if errs := ok.Validate(); len(errs) != 0 {
		t.Errorf("defaults: Validate() = %v", errs)
	}
}
