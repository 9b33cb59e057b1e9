package hubspotsim

import (
	"hash/fnv"
	"net/http"
	"slices"
	"time"
)

// PortalID is the simulated portal's id (hub_id, portalId).
const PortalID = 62515

// seatsPerPaidRole is the size of each simulated seat pool (see listSeats).
const seatsPerPaidRole = 10

// oauthTokenLifetime is the expires_in of the simulated OAuth tokens.
const oauthTokenLifetime = 30 * time.Minute

// accountRoutes registers the account information, API usage, token
// information and seats endpoints: the reads of a preflight check.
func (s *Sim) accountRoutes() {
	versions := []string{"v3", "2026-03"}
	// Account details and private-app API usage
	// (PublicApiSpecs/Account/Account Info/…/2026-03/accountInfo.json).
	// Assumption: any valid token may read them. The spec's only scope
	// is "external-settings-access" for OAuth, which no app can be
	// granted by name, and the API usage guide reads them with private
	// app tokens that have no particular scope.
	s.route("GET /account-info/{version}/details", versions, nil, s.accountDetails)
	s.route("GET /account-info/{version}/api-usage/daily/private-apps", versions, nil, s.dailyUsage)
	// Seats (PublicApiSpecs/Settings/User Provisioning/…/2026-09-beta and
	// …/2026-09 userProvisioning.json; scope settings.billing.write).
	s.route("GET /settings/users/{version}/seats", []string{"2026-09", "2026-09-beta"}, []string{ScopeBillingWrite}, s.listSeats)
	// OAuth token information (PublicApiSpecs/Auth/Oauth/…/v1/oauth.json).
	const tokenInfo = "GET /oauth/v1/access-tokens/{token}"
	s.mux.HandleFunc(tokenInfo, func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		s.tokenInfo(sw, r)
		s.stats.record(tokenInfo, sw.status, s.now())
	})
}

// portalZone is the portal's time zone: the one the daily budget resets
// in (Limits.TimeZone, default UTC).
func (s *Sim) portalZone() (string, *time.Location) {
	name := s.limits.get().resolved().TimeZone
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "UTC", time.UTC
	}
	return name, loc
}

// accountDetails answers PortalInformationResponse. The time zone is the
// one the simulator's daily budget resets in; the rest is fixed.
func (s *Sim) accountDetails(c *call) {
	name, loc := s.portalZone()
	_, offset := s.now().In(loc).Zone()
	c.json(http.StatusOK, map[string]any{
		"portalId":              PortalID,
		"accountType":           "STANDARD",
		"timeZone":              name,
		"utcOffset":             s.now().In(loc).Format("-07:00"),
		"utcOffsetMilliseconds": int64(offset) * 1000,
		"companyCurrency":       "USD",
		"additionalCurrencies":  []string{},
		"dataHostingLocation":   "na1",
		"uiDomain":              "app.hubspot.com",
	})
}

// dailyUsageName names the daily limit of private apps.
//
// Assumption: the spec gives no example of ApiUsage.name.
const dailyUsageName = "private-apps-api-calls-daily"

// dailyUsage answers CollectionResponseApiUsageNoPaging with one ApiUsage:
// the requests counted today by the rate limiter for the portal's private
// apps (every token that is not OAuth), against the daily limit.
//
// Assumption: HubSpot's answer covers the account's private apps together
// ("daily API usage for private apps in the account"); the simulator
// limits each app on its own, so with one private app the two agree. No
// daily limit (Limits.Daily < 0): no results.
func (s *Sim) dailyUsage(c *call) {
	lim := s.limits.get().resolved()
	results := []map[string]any{}
	if lim.Daily > 0 {
		var apps []string
		for _, t := range s.tokens {
			if !t.oauth && !slices.Contains(apps, t.app) {
				apps = append(apps, t.app)
			}
		}
		now := s.now()
		used, resets := s.limits.dailyUsed(apps, now)
		results = append(results, map[string]any{
			"name":         dailyUsageName,
			"usageLimit":   lim.Daily,
			"currentUsage": used,
			"fetchStatus":  "SUCCESS",
			"collectedAt":  now.UTC().Format(time.RFC3339Nano),
			"resetsAt":     resets.Format(time.RFC3339),
		})
	}
	c.json(http.StatusOK, map[string]any{"results": results})
}

// dailyUsed sums today's counted requests of apps and says when the
// daily budget resets (the next midnight in the portal's time zone).
func (lm *limiter) dailyUsed(apps []string, now time.Time) (int, time.Time) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	used := 0
	for _, app := range apps {
		used += lm.usage(app, now).daily
	}
	return used, nextMidnight(now, lm.loc)
}

// listSeats answers CollectionResponsePublicSeatNoPaging.
//
// Assumption: the simulator has no seat inventory. Each paid-seat role
// (requiresBillingWrite) stands for a seat named like it, with a pool of
// seatsPerPaidRole seats less the users holding that role.
func (s *Sim) listSeats(c *call) {
	st := s.State()
	results := []map[string]any{}
	for _, r := range st.Roles {
		if !r.RequiresBillingWrite {
			continue
		}
		held := 0
		for _, u := range st.Users {
			if u.RoleID == r.ID {
				held++
			}
		}
		results = append(results, map[string]any{
			"name":           r.Name,
			"description":    "Paid seat of the " + r.Name + " role (simulated)",
			"remainingSeats": max(seatsPerPaidRole-held, 0),
		})
	}
	c.json(http.StatusOK, map[string]any{"results": results})
}

// tokenInfo answers AccessTokenInfoResponse for an OAuth token of the
// seed. The token is the path's; no Authorization header is needed (the
// endpoint is how an app learns about a token) and the call counts toward
// no rate limit.
//
// Assumption: private-app tokens, service keys and unknown tokens get 404
// OBJECT_NOT_FOUND; HubSpot documents only the 200. The answer's user is
// the portal's first super admin, app_id a stable number derived from the
// app's name, and expires_in a fresh token's 30 minutes.
func (s *Sim) tokenInfo(w http.ResponseWriter, r *http.Request) {
	value := r.PathValue("token")
	t := s.tokens[value]
	if t == nil || !t.oauth {
		writeError(w, notFound("Token not found"), false)
		return
	}
	scopes := make([]string, 0, len(t.scopes))
	for sc, ok := range t.scopes {
		if ok {
			scopes = append(scopes, sc)
		}
	}
	slices.Sort(scopes)
	var user string
	var userID int64
	for _, u := range s.State().Users {
		if u.SuperAdmin {
			user = u.Email
			userID, _ = parseID(u.ID)
			break
		}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(t.app))
	writeJSON(w, http.StatusOK, map[string]any{
		"token":      value,
		"user":       user,
		"user_id":    userID,
		"hub_domain": "hubspotsim.example.com",
		"hub_id":     PortalID,
		"app_id":     int64(h.Sum32() % 1_000_000),
		"scopes":     scopes,
		"expires_in": int64(oauthTokenLifetime / time.Second),
		"token_type": "access",
	})
}
