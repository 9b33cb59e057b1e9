package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Account information, API usage, token information and seats: the reads
// a preflight check makes (scimbridge hubspot check). None of them
// changes anything.

// AccountDetails is the portal's description (PortalInformationResponse
// of GET /account-info/2026-03/details, PublicApiSpecs/Account/Account
// Info/…/2026-03/accountInfo.json).
type AccountDetails struct {
	PortalID int64 `json:"portalId"`
	// AccountType is APP_DEVELOPER, DEVELOPER_TEST, SANDBOX or STANDARD.
	AccountType string `json:"accountType"`
	// TimeZone is the portal's time zone (an IANA name): the daily API
	// budget resets at midnight there.
	TimeZone              string   `json:"timeZone"`
	UTCOffset             string   `json:"utcOffset"`
	UTCOffsetMilliseconds int64    `json:"utcOffsetMilliseconds"`
	CompanyCurrency       string   `json:"companyCurrency"`
	AdditionalCurrencies  []string `json:"additionalCurrencies"`
	DataHostingLocation   string   `json:"dataHostingLocation"`
	UIDomain              string   `json:"uiDomain"`
}

// APIUsage is one daily limit and how much of it is spent (ApiUsage of
// GET /account-info/2026-03/api-usage/daily/private-apps).
type APIUsage struct {
	// Name is the limit's name.
	Name         string `json:"name"`
	UsageLimit   int    `json:"usageLimit"`
	CurrentUsage int    `json:"currentUsage"`
	// FetchStatus is CACHED, FAILURE, NOTFOUND, SUCCESS or TIMEOUT:
	// HubSpot may answer from a cache (CollectedAt says when).
	FetchStatus string    `json:"fetchStatus"`
	CollectedAt time.Time `json:"collectedAt"`
	// ResetsAt is when the limit resets (zero when HubSpot leaves it out).
	ResetsAt time.Time `json:"resetsAt,omitzero"`
}

// TokenInfo is what HubSpot says about an OAuth access token
// (AccessTokenInfoResponse of GET /oauth/v1/access-tokens/{token},
// PublicApiSpecs/Auth/Oauth/…/v1/oauth.json). The token itself, which the
// answer repeats, is deliberately not kept.
type TokenInfo struct {
	// User is the email of the HubSpot user who installed the app.
	User      string   `json:"user"`
	UserID    int64    `json:"user_id"`
	HubDomain string   `json:"hub_domain"`
	HubID     int64    `json:"hub_id"`
	AppID     int64    `json:"app_id"`
	Scopes    []string `json:"scopes"`
	// ExpiresIn is the token's remaining lifetime in seconds.
	ExpiresIn             int64  `json:"expires_in"`
	TokenType             string `json:"token_type"`
	IsPrivateDistribution bool   `json:"is_private_distribution,omitempty"`
}

// Seat is a kind of paid seat and how many are left (PublicSeat of GET
// /settings/users/2026-09-beta/seats).
type Seat struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// RemainingSeats is nil when HubSpot does not say (the field is
	// optional in the spec).
	RemainingSeats *int `json:"remainingSeats,omitempty"`
}

// ErrNoSeatsAPI is returned by Seats, without calling HubSpot, when the
// client's API version has no seats endpoint (only 2026-09-beta has).
var ErrNoSeatsAPI = errors.New("hubspot: this users API version reports no seats (2026-09-beta does)")

// accountInfoBase is the account-info root for the client's API version:
// v3 for v3, 2026-03 otherwise.
func (c *Client) accountInfoBase() string {
	if c.paths.version == VersionV3 {
		return "/account-info/v3"
	}
	return "/account-info/2026-03"
}

// AccountDetails reads the portal's id, time zone and account type.
func (c *Client) AccountDetails(ctx context.Context) (*AccountDetails, error) {
	var d AccountDetails
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.accountInfoBase() + "/details", out: &d}); err != nil {
		return nil, fmt.Errorf("hubspot: account details: %w", err)
	}
	return &d, nil
}

// DailyAPIUsage reads today's API usage of the portal's private apps
// against their daily limit. OAuth apps have no daily limit.
func (c *Client) DailyAPIUsage(ctx context.Context) ([]APIUsage, error) {
	var out struct {
		Results []APIUsage `json:"results"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.accountInfoBase() + "/api-usage/daily/private-apps", out: &out}); err != nil {
		return nil, fmt.Errorf("hubspot: daily API usage: %w", err)
	}
	return out.Results, nil
}

// tokenInfoShown is the token-information path as errors and logs show it.
const tokenInfoShown = "/oauth/v1/access-tokens/{token}"

// TokenInfo asks HubSpot about the client's own token. It answers for
// OAuth access tokens only: private-app tokens and service keys get an
// error (HubSpot documents no status for them; expect 4xx), so callers
// fall back to other means of learning the scopes.
//
// The token travels in the path, so the request hides it: errors and logs
// show the path as tokenInfoShown, and HubSpot's error text has the token
// blanked out.
func (c *Client) TokenInfo(ctx context.Context) (*TokenInfo, error) {
	escaped := strings.ReplaceAll(url.PathEscape(c.token), "+", "%2B")
	var ti TokenInfo
	err := c.do(ctx, &request{method: http.MethodGet, path: "/oauth/v1/access-tokens/" + escaped,
		shownPath: tokenInfoShown, secrets: []string{c.token, escaped}, out: &ti})
	if err != nil {
		return nil, fmt.Errorf("hubspot: token information: %w", err)
	}
	return &ti, nil
}

// Seats lists the portal's kinds of paid seats with the number left
// (scope settings.billing.write). Only the 2026-09-beta users API has
// them; other versions get ErrNoSeatsAPI without a call.
func (c *Client) Seats(ctx context.Context) ([]Seat, error) {
	if c.paths.version != Version202609Beta {
		return nil, fmt.Errorf("hubspot: seats (API version %s): %w", c.paths.version, ErrNoSeatsAPI)
	}
	var out struct {
		Results []Seat `json:"results"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.users + "/seats", out: &out}); err != nil {
		return nil, fmt.Errorf("hubspot: list seats: %w", err)
	}
	return out.Results, nil
}

// TeamsAPIPage reads one page of teams through the Teams API
// (Config.TeamsAPIVersion) and the cursor of the next page ("" on the
// last). limit ≤ 0 asks for DefaultPageSize. A preflight reads one team to
// learn that the configured Teams API version answers.
func (c *Client) TeamsAPIPage(ctx context.Context, after string, limit int) ([]Team, string, error) {
	var page struct {
		Results []Team  `json:"results"`
		Paging  *Paging `json:"paging,omitempty"`
	}
	err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.teams,
		query: pageQuery(after, limit, DefaultPageSize, 0), out: &page})
	if err != nil {
		return nil, "", fmt.Errorf("hubspot: list teams (Teams API): %w", err)
	}
	return page.Results, nextCursor(page.Paging), nil
}
