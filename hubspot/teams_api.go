package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The Teams API (PublicApiSpecs/Settings/Teams: /settings/teams/2026-09,
// published GA, and /settings/teams/2026-09-beta; scopes
// settings.users.teams.read and .write) creates, renames and deletes teams
// and manages their members. Config.TeamsAPIVersion picks the version.
// Teams it returns carry ID, Name and ParentTeamID only; use TeamMembers
// for members.

func (c *Client) teamPath(id string) string {
	return c.paths.teams + "/" + url.PathEscape(id)
}

// teamEndpoint is teamPath's template.
func (c *Client) teamEndpoint() string { return c.paths.teams + "/{teamId}" }

type teamPage struct {
	Results []Team  `json:"results"`
	Paging  *Paging `json:"paging,omitempty"`
}

// listTeams lists every team through the Teams API.
func (c *Client) listTeams(ctx context.Context) ([]Team, error) {
	return collect(ctx, func(ctx context.Context, after string) ([]Team, string, error) {
		var page teamPage
		err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.teams,
			query: pageQuery(after, DefaultPageSize, DefaultPageSize, 0), out: &page})
		return page.Results, nextCursor(page.Paging), err
	})
}

// teamByName finds a team by exact name, else by name in any letter case.
func (c *Client) teamByName(ctx context.Context, name string) (*Team, error) {
	teams, err := c.listTeams(ctx)
	if err != nil {
		return nil, err
	}
	var fold *Team
	for i := range teams {
		if teams[i].Name == name {
			return &teams[i], nil
		}
		if fold == nil && strings.EqualFold(teams[i].Name, name) {
			fold = &teams[i]
		}
	}
	return fold, nil
}

// CreateTeam creates a team with members (nil: none). Like CreateUser it
// never blindly repeats the POST: after an ambiguous outcome it looks the
// team up by name first. A 409 returns an error wrapping ErrExists and the
// existing team of that name, when found.
func (c *Client) CreateTeam(ctx context.Context, name string, members []TeamMember) (*Team, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("hubspot: create team: name is required")
	}
	if members == nil {
		members = []TeamMember{} // required by the API, even empty
	}
	body := struct {
		Name    string       `json:"name"`
		Members []TeamMember `json:"members"`
	}{name, members}
	var t Team
	err := c.do(ctx, &request{method: http.MethodPost, path: c.paths.teams, body: body, out: &t,
		resolve: func(ctx context.Context) (bool, error) {
			found, err := c.teamByName(ctx, name)
			if err != nil || found == nil || found.Name != name {
				return false, err
			}
			t = *found
			return true, nil
		}})
	switch {
	case err == nil:
		return &t, nil
	case IsConflict(err):
		found, gerr := c.teamByName(ctx, name)
		if gerr != nil || found == nil {
			return nil, fmt.Errorf("hubspot: create team %s: %w: %w", name, ErrExists, err)
		}
		return found, fmt.Errorf("hubspot: create team %s: %w: %w", name, ErrExists, err)
	}
	return nil, fmt.Errorf("hubspot: create team %s: %w", name, err)
}

// GetTeam reads one team through the Teams API.
func (c *Client) GetTeam(ctx context.Context, id string) (*Team, error) {
	var t Team
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.teamPath(id), endpoint: c.teamEndpoint(), out: &t}); err != nil {
		return nil, fmt.Errorf("hubspot: get team %s: %w", id, err)
	}
	return &t, nil
}

// RenameTeam renames a team. The PATCH body requires both name and
// parentTeamId, so the team is read first and its parent sent back
// unchanged.
func (c *Client) RenameTeam(ctx context.Context, id, name string) (*Team, error) {
	cur, err := c.GetTeam(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("hubspot: rename team %s: %w", id, err)
	}
	body := struct {
		Name         string  `json:"name"`
		ParentTeamID *string `json:"parentTeamId"`
	}{Name: name}
	if cur.ParentTeamID != "" {
		body.ParentTeamID = &cur.ParentTeamID
	}
	var t Team
	if err := c.do(ctx, &request{method: http.MethodPatch, path: c.teamPath(id), endpoint: c.teamEndpoint(), body: body, out: &t}); err != nil {
		return nil, fmt.Errorf("hubspot: rename team %s: %w", id, err)
	}
	return &t, nil
}

// DeleteTeam deletes a team.
func (c *Client) DeleteTeam(ctx context.Context, id string) error {
	if err := c.do(ctx, &request{method: http.MethodDelete, path: c.teamPath(id), endpoint: c.teamEndpoint()}); err != nil {
		return fmt.Errorf("hubspot: delete team %s: %w", id, err)
	}
	return nil
}

// TeamMembers lists a team's members.
func (c *Client) TeamMembers(ctx context.Context, teamID string) ([]TeamMember, error) {
	members, err := collect(ctx, func(ctx context.Context, after string) ([]TeamMember, string, error) {
		var page struct {
			Results []TeamMember `json:"results"`
			Paging  *Paging      `json:"paging,omitempty"`
		}
		err := c.do(ctx, &request{method: http.MethodGet, path: c.teamPath(teamID) + "/members",
			endpoint: c.teamEndpoint() + "/members", query: pageQuery(after, DefaultPageSize, DefaultPageSize, 0), out: &page})
		return page.Results, nextCursor(page.Paging), err
	})
	if err != nil {
		return nil, fmt.Errorf("hubspot: list members of team %s: %w", teamID, err)
	}
	return members, nil
}

func (c *Client) isMember(ctx context.Context, teamID string, m TeamMember) (bool, error) {
	members, err := c.TeamMembers(ctx, teamID)
	if err != nil {
		return false, err
	}
	for _, x := range members {
		if x.UserID == m.UserID && (m.Type == "" || x.Type == m.Type) {
			return true, nil
		}
	}
	return false, nil
}

// AddTeamMember adds a user to a team as its main (MemberDefault) or an
// additional (MemberExtra) team. Adding an existing membership succeeds:
// after an ambiguous outcome or a 409 the membership is checked instead of
// repeating the POST.
func (c *Client) AddTeamMember(ctx context.Context, teamID string, m TeamMember) error {
	resolve := func(ctx context.Context) (bool, error) { return c.isMember(ctx, teamID, m) }
	err := c.do(ctx, &request{method: http.MethodPost, path: c.teamPath(teamID) + "/members",
		endpoint: c.teamEndpoint() + "/members", body: m, resolve: resolve})
	if IsConflict(err) {
		if ok, _ := c.isMember(ctx, teamID, m); ok {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("hubspot: add %s to team %s: %w", m.UserID, teamID, err)
	}
	return nil
}

// RemoveTeamMember removes a membership of type typ (MemberDefault,
// MemberExtra, or "" to let HubSpot decide). IsNotFound(err) when there
// was none.
func (c *Client) RemoveTeamMember(ctx context.Context, teamID, userID, typ string) error {
	var q url.Values
	if typ != "" {
		q = url.Values{"type": {typ}}
	}
	err := c.do(ctx, &request{method: http.MethodDelete,
		path: c.teamPath(teamID) + "/members/" + url.PathEscape(userID), query: q,
		endpoint: c.teamEndpoint() + "/members/{userId}"})
	if err != nil {
		return fmt.Errorf("hubspot: remove %s from team %s: %w", userID, teamID, err)
	}
	return nil
}
