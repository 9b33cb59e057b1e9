package hubspotsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

const (
	acctPrivate = "pat-account-private"
	acctOAuth   = "oauth-account-token"
	acctNoBill  = "pat-account-nobilling"
)

// accountSim is a portal in Europe/Berlin with a paid-seat role held by
// one user, a private app, an OAuth app and a token without billing.
func accountSim(t *testing.T, limits Limits) *Sim {
	t.Helper()
	s, err := New(Config{
		Seed: &Seed{
			Roles: []SeedRole{{Name: "Sales Manager"}, {Name: "Pro Seat", RequiresBillingWrite: true}},
			Users: []SeedUser{
				{Email: "boss@example.com", SuperAdmin: true},
				{Email: "pro@example.com", Role: "Pro Seat"},
			},
			Tokens: []SeedToken{
				{Token: acctPrivate, Scopes: []string{ScopeUsersRead, ScopeBillingWrite}},
				{Token: acctOAuth, Scopes: []string{ScopeUsersRead, ScopeTeamsRead}, OAuth: true},
				{Token: acctNoBill, Scopes: []string{ScopeUsersRead}},
			},
			Limits: limits,
		},
		Now: func() time.Time { return time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func acctGet(t *testing.T, s *Sim, token, path string, out any) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, rec.Body)
		}
	}
	return rec.Code
}

func TestAccountDetails(t *testing.T) {
	s := accountSim(t, Limits{TimeZone: "Europe/Berlin"})
	for _, v := range []string{"2026-03", "v3"} {
		var d struct {
			PortalID              int64  `json:"portalId"`
			TimeZone              string `json:"timeZone"`
			UTCOffset             string `json:"utcOffset"`
			UTCOffsetMilliseconds int64  `json:"utcOffsetMilliseconds"`
			AccountType           string `json:"accountType"`
		}
		if code := acctGet(t, s, acctNoBill, "/account-info/"+v+"/details", &d); code != http.StatusOK {
			t.Fatalf("%s: status %d", v, code)
		}
		// 1 September: summer time in Berlin.
		if d.PortalID != PortalID || d.TimeZone != "Europe/Berlin" || d.UTCOffset != "+02:00" || d.UTCOffsetMilliseconds != 7_200_000 || d.AccountType != "STANDARD" {
			t.Errorf("%s: %+v", v, d)
		}
	}
	if code := acctGet(t, s, "", "/account-info/2026-03/details", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	if code := acctGet(t, s, acctNoBill, "/account-info/2099-01/details", nil); code != http.StatusNotFound {
		t.Errorf("unknown version: %d", code)
	}
}

type usageAnswer struct {
	Results []struct {
		Name         string    `json:"name"`
		UsageLimit   int       `json:"usageLimit"`
		CurrentUsage int       `json:"currentUsage"`
		FetchStatus  string    `json:"fetchStatus"`
		ResetsAt     time.Time `json:"resetsAt"`
	} `json:"results"`
}

func TestDailyUsageCountsPrivateApps(t *testing.T) {
	s := accountSim(t, Limits{Daily: 5000, TimeZone: "Europe/Berlin"})
	for range 3 {
		acctGet(t, s, acctPrivate, "/settings/users/2026-03", nil)
	}
	acctGet(t, s, acctOAuth, "/settings/users/2026-03", nil) // OAuth: not a private app
	var u usageAnswer
	if code := acctGet(t, s, acctPrivate, "/account-info/2026-03/api-usage/daily/private-apps", &u); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	// 3 reads + this call by the private app; none of the OAuth app's.
	wantReset := time.Date(2026, 9, 1, 22, 0, 0, 0, time.UTC) // Berlin midnight
	if len(u.Results) != 1 || u.Results[0].CurrentUsage != 4 || u.Results[0].UsageLimit != 5000 ||
		u.Results[0].Name != dailyUsageName || u.Results[0].FetchStatus != "SUCCESS" || !u.Results[0].ResetsAt.Equal(wantReset) {
		t.Errorf("usage %+v", u)
	}

	unlimited := accountSim(t, Limits{Daily: -1})
	u = usageAnswer{}
	if code := acctGet(t, unlimited, acctPrivate, "/account-info/v3/api-usage/daily/private-apps", &u); code != http.StatusOK || len(u.Results) != 0 {
		t.Errorf("no daily limit: %d %+v", code, u)
	}
}

func TestTokenInfo(t *testing.T) {
	s := accountSim(t, Limits{})
	var ti struct {
		Token     string   `json:"token"`
		User      string   `json:"user"`
		HubID     int64    `json:"hub_id"`
		AppID     int64    `json:"app_id"`
		Scopes    []string `json:"scopes"`
		ExpiresIn int64    `json:"expires_in"`
		TokenType string   `json:"token_type"`
	}
	// No Authorization header: the token is the path's.
	if code := acctGet(t, s, "", "/oauth/v1/access-tokens/"+acctOAuth, &ti); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if ti.Token != acctOAuth || ti.User != "boss@example.com" || ti.HubID != PortalID || ti.ExpiresIn != 1800 ||
		!slices.Equal(ti.Scopes, []string{ScopeUsersRead, ScopeTeamsRead}) || ti.TokenType != "access" {
		t.Errorf("token info %+v", ti)
	}
	for _, tok := range []string{acctPrivate, "no-such-token"} {
		if code := acctGet(t, s, "", "/oauth/v1/access-tokens/"+tok, nil); code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", tok, code)
		}
	}
	if got := s.Stats().Calls("GET /oauth/v1/access-tokens/{token}", 0); got != 3 {
		t.Errorf("stats count %d token-information calls, want 3", got)
	}
}

func TestSeats(t *testing.T) {
	s := accountSim(t, Limits{})
	var seats struct {
		Results []struct {
			Name           string `json:"name"`
			RemainingSeats *int   `json:"remainingSeats"`
		} `json:"results"`
	}
	for _, v := range []string{"2026-09-beta", "2026-09"} {
		if code := acctGet(t, s, acctPrivate, "/settings/users/"+v+"/seats", &seats); code != http.StatusOK {
			t.Fatalf("%s: status %d", v, code)
		}
		if len(seats.Results) != 1 || seats.Results[0].Name != "Pro Seat" || seats.Results[0].RemainingSeats == nil || *seats.Results[0].RemainingSeats != seatsPerPaidRole-1 {
			t.Errorf("%s: seats %+v", v, seats)
		}
	}
	if code := acctGet(t, s, acctNoBill, "/settings/users/2026-09-beta/seats", nil); code != http.StatusForbidden {
		t.Errorf("without settings.billing.write: %d, want 403", code)
	}
}
