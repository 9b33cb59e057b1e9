package hubspot

import (
	"context"
	"fmt"
	"net/http"
)

// Roles lists the portal's roles (permission sets; created in the UI only).
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	var out struct {
		Results []Role `json:"results"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.users + "/roles", out: &out}); err != nil {
		return nil, fmt.Errorf("hubspot: list roles: %w", err)
	}
	return out.Results, nil
}

// Teams lists the portal's teams with their main (UserIDs) and additional
// (SecondaryUserIDs) members. The GA API cannot change teams: membership
// is set through a user's primaryTeamId and secondaryTeamIds.
func (c *Client) Teams(ctx context.Context) ([]Team, error) {
	var out struct {
		Results []Team `json:"results"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.users + "/teams", out: &out}); err != nil {
		return nil, fmt.Errorf("hubspot: list teams: %w", err)
	}
	return out.Results, nil
}
