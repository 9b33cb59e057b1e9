package hubspot

import (
	"context"
	"fmt"
	"net/http"
)

// maxLoginPage is the documented maximum page size of the login log.
const maxLoginPage = 200

// Logins returns one page of the login log (last 90 days, scope
// account-info.security.read), for userID or for everyone when userID is
// "", and the next cursor ("" on the last page). limit ≤ 0 asks for the
// maximum, 200. HubSpot has no last-login field: derive it from here.
func (c *Client) Logins(ctx context.Context, userID, after string, limit int) ([]Login, string, error) {
	q := pageQuery(after, limit, maxLoginPage, maxLoginPage)
	if userID != "" {
		q.Set("userId", userID)
	}
	var page struct {
		Results []Login `json:"results"`
		Paging  *Paging `json:"paging,omitempty"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.logins, query: q, out: &page}); err != nil {
		return nil, "", fmt.Errorf("hubspot: list logins: %w", err)
	}
	return page.Results, nextCursor(page.Paging), nil
}

// AllLogins follows the cursors through the whole login log of userID
// ("" for everyone).
func (c *Client) AllLogins(ctx context.Context, userID string) ([]Login, error) {
	return collect(ctx, func(ctx context.Context, after string) ([]Login, string, error) {
		return c.Logins(ctx, userID, after, maxLoginPage)
	})
}
