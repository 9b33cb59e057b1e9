package hubspotsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const loginPath = "/account-info/2026-03/activity/login"

type loginPage struct {
	Results []struct {
		ID             string          `json:"id"`
		UserID         json.RawMessage `json:"userId"`
		Email          string          `json:"email"`
		LoginAt        time.Time       `json:"loginAt"`
		LoginSucceeded bool            `json:"loginSucceeded"`
		IPAddress      string          `json:"ipAddress"`
		CountryCode    string          `json:"countryCode"`
		RegionCode     string          `json:"regionCode"`
		UserAgent      string          `json:"userAgent"`
	} `json:"results"`
	Paging *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func TestLoginActivity(t *testing.T) {
	seed := testSeed()
	seed.Users = append(seed.Users, SeedUser{Email: "old@example.com"})
	seed.Logins = []SeedLogin{
		{Email: adminEmail, Ago: 2 * time.Hour, IPAddress: "198.51.100.7", CountryCode: "gb", RegionCode: "eng", UserAgent: "UA"},
		{Email: "old@example.com", Ago: 100 * 24 * time.Hour}, // beyond 90 days
		{Email: "ghost@example.com", Ago: time.Hour, Succeeded: new(false)},
	}
	e := newEnv(t, Config{Seed: seed})
	e.sim.RecordLogin("ADMIN@example.com", e.clock.Now().Add(-30*time.Minute), true)

	var p loginPage
	r := e.do("GET", loginPath, tokRead, nil).wantStatus(t, 200)
	r.decode(t, &p)
	if len(p.Results) != 3 || p.Paging != nil {
		t.Fatalf("logins %s", r.body)
	}
	// Newest first; userId is a JSON number (the spec types it int32).
	if got := []string{p.Results[0].Email, p.Results[1].Email, p.Results[2].Email}; !slices.Equal(got, []string{adminEmail, "ghost@example.com", adminEmail}) {
		t.Errorf("order %v", got)
	}
	if string(p.Results[0].UserID) != adminID {
		t.Errorf("userId %s, want the number %s", p.Results[0].UserID, adminID)
	}
	if p.Results[1].UserID != nil || p.Results[1].LoginSucceeded {
		t.Errorf("unknown email's login: %+v", p.Results[1])
	}
	old := p.Results[2]
	if !old.LoginAt.Equal(e.clock.Now().Add(-2*time.Hour)) || old.IPAddress != "198.51.100.7" || old.CountryCode != "gb" || old.RegionCode != "eng" || old.UserAgent != "UA" || !old.LoginSucceeded {
		t.Errorf("seeded login %+v", old)
	}

	// Filter by user.
	e.do("GET", loginPath+"?userId="+adminID, tokRead, nil).wantStatus(t, 200).decode(t, &p)
	if len(p.Results) != 2 {
		t.Errorf("%d logins for the admin, want 2", len(p.Results))
	}
	// Logins age out after 90 days.
	e.clock.Advance(90 * 24 * time.Hour)
	p = loginPage{}
	e.do("GET", loginPath, tokRead, nil).wantStatus(t, 200).decode(t, &p)
	if len(p.Results) != 0 {
		t.Errorf("%d logins older than 90 days listed", len(p.Results))
	}
}

func TestLoginActivityPagingAndLimits(t *testing.T) {
	e := newEnv(t, Config{})
	base := e.clock.Now()
	for i := range 450 {
		email := "a@example.com"
		if i%3 == 0 {
			email = adminEmail
		}
		// Recorded out of time order on purpose.
		e.sim.RecordLogin(email, base.Add(-time.Duration((i*7919)%450)*time.Minute), true)
	}
	var all []time.Time
	path := loginPath + "?limit=200"
	pages := 0
	for {
		var p loginPage
		e.do("GET", path, tokFull, nil).wantStatus(t, 200).decode(t, &p)
		pages++
		for _, l := range p.Results {
			all = append(all, l.LoginAt)
		}
		if p.Paging == nil {
			break
		}
		// A login recorded between pages does not shift them.
		e.sim.RecordLogin(adminEmail, base.Add(time.Minute), true)
		path = loginPath + "?limit=200&after=" + p.Paging.Next.After
	}
	if len(all) != 450 || pages != 3 {
		t.Errorf("%d logins in %d pages, want 450 in 3", len(all), pages)
	}
	if !slices.IsSortedFunc(all, func(a, b time.Time) int { return b.Compare(a) }) {
		t.Errorf("not newest first")
	}
	for _, q := range []string{"limit=201", "limit=0", "userId=abc", "after=bm9wZQ"} {
		e.do("GET", loginPath+"?"+q, tokFull, nil).wantError(t, 400, catValidation, strings.Split(q, "=")[0])
	}
	// The filtered list pages too.
	var p loginPage
	e.do("GET", fmt.Sprintf("%s?userId=%s&limit=100", loginPath, adminID), tokFull, nil).wantStatus(t, 200).decode(t, &p)
	if len(p.Results) != 100 || p.Paging == nil {
		t.Fatalf("filtered page: %d results", len(p.Results))
	}
	n := len(p.Results)
	for p.Paging != nil {
		after := p.Paging.Next.After
		p = loginPage{}
		e.do("GET", fmt.Sprintf("%s?userId=%s&limit=100&after=%s", loginPath, adminID, after), tokFull, nil).wantStatus(t, 200).decode(t, &p)
		n += len(p.Results)
	}
	if n != 150+2 { // 150 seeded for the admin, 2 recorded between pages
		t.Errorf("%d admin logins, want 152", n)
	}
}
