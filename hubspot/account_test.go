package hubspot_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
)

// newAccountHub records requests (see recorder) and answers the account
// reads with the specs' shapes.
func newAccountHub(t *testing.T) *recorder {
	t.Helper()
	return newRecorderWith(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "/details"):
			_, _ = w.Write([]byte(`{"portalId":62515,"accountType":"STANDARD","timeZone":"Europe/Berlin","utcOffset":"+01:00",
				"utcOffsetMilliseconds":3600000,"companyCurrency":"EUR","additionalCurrencies":[],"dataHostingLocation":"eu1","uiDomain":"app-eu1.hubspot.com"}`))
		case strings.HasSuffix(p, "/api-usage/daily/private-apps"):
			_, _ = w.Write([]byte(`{"results":[{"name":"private-apps-api-calls-daily","usageLimit":250000,"currentUsage":1234,
				"fetchStatus":"SUCCESS","collectedAt":"2026-09-01T10:00:00Z","resetsAt":"2026-09-02T00:00:00+02:00"}]}`))
		case strings.HasPrefix(p, "/oauth/v1/access-tokens/"):
			if strings.HasPrefix(strings.TrimPrefix(p, "/oauth/v1/access-tokens/"), "pat-") {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"status":"error","message":"Token ` + strings.TrimPrefix(p, "/oauth/v1/access-tokens/") + ` not found","correlationId":"c1","category":"OBJECT_NOT_FOUND"}`))
				return
			}
			_, _ = w.Write([]byte(`{"token":"x","user":"ada@example.com","hub_domain":"demo.example.com","scopes":["settings.users.read","oauth"],
				"hub_id":62515,"app_id":456,"expires_in":1754,"user_id":123,"token_type":"access"}`))
		case strings.HasSuffix(p, "/seats"):
			_, _ = w.Write([]byte(`{"results":[{"name":"Sales Hub Professional","description":"Paid","remainingSeats":3},{"name":"Core"}]}`))
		case strings.HasPrefix(p, "/settings/teams/"):
			_, _ = w.Write([]byte(`{"results":[{"id":"5","name":"EMEA"}],"paging":{"next":{"after":"5"}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

func TestAccountPaths(t *testing.T) {
	ctx := context.Background()
	calls := []struct {
		name string
		call func(c *hubspot.Client) error
		want map[string]string // by users API version; "" means no request
	}{
		{"details", func(c *hubspot.Client) error { _, err := c.AccountDetails(ctx); return err }, map[string]string{
			"2026-03":      "GET /account-info/2026-03/details",
			"2026-09-beta": "GET /account-info/2026-03/details",
			"v3":           "GET /account-info/v3/details",
		}},
		{"usage", func(c *hubspot.Client) error { _, err := c.DailyAPIUsage(ctx); return err }, map[string]string{
			"2026-03":      "GET /account-info/2026-03/api-usage/daily/private-apps",
			"2026-09-beta": "GET /account-info/2026-03/api-usage/daily/private-apps",
			"v3":           "GET /account-info/v3/api-usage/daily/private-apps",
		}},
		{"token info, token escaped", func(c *hubspot.Client) error { _, err := c.TokenInfo(ctx); return err }, map[string]string{
			"2026-03":      "GET /oauth/v1/access-tokens/oauth%2Fa%2Bb",
			"2026-09-beta": "GET /oauth/v1/access-tokens/oauth%2Fa%2Bb",
			"v3":           "GET /oauth/v1/access-tokens/oauth%2Fa%2Bb",
		}},
		{"seats, beta only", func(c *hubspot.Client) error {
			_, err := c.Seats(ctx)
			if errors.Is(err, hubspot.ErrNoSeatsAPI) {
				return nil
			}
			return err
		}, map[string]string{
			"2026-03":      "",
			"2026-09-beta": "GET /settings/users/2026-09-beta/seats",
			"v3":           "",
		}},
		{"Teams API page", func(c *hubspot.Client) error { _, _, err := c.TeamsAPIPage(ctx, "", 1); return err }, map[string]string{
			"2026-03":      "GET /settings/teams/2026-09?limit=1",
			"2026-09-beta": "GET /settings/teams/2026-09?limit=1",
			"v3":           "GET /settings/teams/2026-09?limit=1",
		}},
	}
	for _, version := range []string{"2026-03", "2026-09-beta", "v3"} {
		for _, tt := range calls {
			t.Run(version+"/"+tt.name, func(t *testing.T) {
				h := newAccountHub(t)
				c := newClient(t, h.srv.URL, newFakeClock(), func(cfg *hubspot.Config) {
					cfg.APIVersion = version
					cfg.Token = "oauth/a+b" // escaped in the path
				})
				if err := tt.call(c); err != nil {
					t.Fatal(err)
				}
				got := h.take()
				if want := tt.want[version]; want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
					t.Errorf("requests %q, want %q", got, want)
				}
			})
		}
	}
}

func TestAccountDecoding(t *testing.T) {
	ctx := context.Background()
	h := newAccountHub(t)
	c := newClient(t, h.srv.URL, newFakeClock(), func(cfg *hubspot.Config) {
		cfg.APIVersion = hubspot.Version202609Beta
		cfg.Token = "oauth-token"
	})
	d, err := c.AccountDetails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.PortalID != 62515 || d.TimeZone != "Europe/Berlin" || d.AccountType != "STANDARD" || d.UTCOffsetMilliseconds != 3600000 || d.DataHostingLocation != "eu1" {
		t.Errorf("details %+v", d)
	}
	u, err := c.DailyAPIUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantReset := time.Date(2026, 9, 1, 22, 0, 0, 0, time.UTC)
	if len(u) != 1 || u[0].CurrentUsage != 1234 || u[0].UsageLimit != 250000 || u[0].FetchStatus != "SUCCESS" || !u[0].ResetsAt.Equal(wantReset) {
		t.Errorf("usage %+v", u)
	}
	ti, err := c.TokenInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ti.HubID != 62515 || ti.AppID != 456 || ti.User != "ada@example.com" || ti.ExpiresIn != 1754 || len(ti.Scopes) != 2 || ti.Scopes[0] != "settings.users.read" {
		t.Errorf("token info %+v", ti)
	}
	seats, err := c.Seats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(seats) != 2 || seats[0].Name != "Sales Hub Professional" || seats[0].RemainingSeats == nil || *seats[0].RemainingSeats != 3 || seats[1].RemainingSeats != nil {
		t.Errorf("seats %+v", seats)
	}
	teams, next, err := c.TeamsAPIPage(ctx, "", 1)
	if err != nil || len(teams) != 1 || teams[0].Name != "EMEA" || next != "5" {
		t.Errorf("teams %+v, next %q, err %v", teams, next, err)
	}
}

// The token-information call carries the token in its path: neither its
// errors nor the client's logs may show it, for an error answer (which
// here even echoes the token) or a transport failure.
func TestTokenInfoHidesTheToken(t *testing.T) {
	const secret = "pat-na1-SECRET-0000"
	ctx := context.Background()
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.DebugLevel)
	h := newAccountHub(t)
	c := newClient(t, h.srv.URL, newFakeClock(), func(cfg *hubspot.Config) { cfg.Token = secret; cfg.Log = log })
	_, err := c.TokenInfo(ctx)
	if !hubspot.IsNotFound(err) {
		t.Fatalf("err = %v, want a 404", err)
	}
	var herr *hubspot.Error
	if !errors.As(err, &herr) || herr.Path != "/oauth/v1/access-tokens/{token}" {
		t.Errorf("error path %q", herr.Path)
	}
	// A port nobody listens on: a transport error after retries.
	closed := newClient(t, "http://127.0.0.1:1", newFakeClock(), func(cfg *hubspot.Config) {
		cfg.Token = secret
		cfg.Log = log
		cfg.MaxRetries = 1
	})
	_, nerr := closed.TokenInfo(ctx)
	if nerr == nil {
		t.Fatal("no error from a closed port")
	}
	var ue *url.Error
	if errors.As(nerr, &ue) && strings.Contains(ue.URL, "SECRET") {
		t.Errorf("the transport error keeps the token in its URL: %v", ue.URL)
	}
	for _, e := range []error{err, nerr} {
		if strings.Contains(e.Error(), "SECRET") {
			t.Errorf("token in error: %v", e)
		}
		if !strings.Contains(e.Error(), "{token}") {
			t.Errorf("error does not name the call: %v", e)
		}
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("token in logs:\n%s", logs.String())
	}
}
