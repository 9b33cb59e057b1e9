package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultPageSize is the page size used when a caller passes limit ≤ 0.
// HubSpot documents no maximum for users; its own clients use 100.
const DefaultPageSize = 100

// userPath is the path of one user. '+' is escaped too: it is legal in a
// path segment but some servers read it as a space, and it is common in
// email addresses.
func (c *Client) userPath(id string) string {
	return c.paths.users + "/" + strings.ReplaceAll(url.PathEscape(id), "+", "%2B")
}

// userEndpoint is userPath's template.
func (c *Client) userEndpoint() string { return c.paths.users + "/{userId}" }

type userPage struct {
	Results []User  `json:"results"`
	Paging  *Paging `json:"paging,omitempty"`
}

// nextCursor returns paging.next.after, "" on the last page.
func nextCursor(p *Paging) string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}

func pageQuery(after string, limit, def, maxLimit int) url.Values {
	if limit <= 0 {
		limit = def
	}
	if maxLimit > 0 && limit > maxLimit {
		limit = maxLimit
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	return q
}

// ListUsers returns one page of users and the cursor of the next page (""
// on the last one). limit ≤ 0 asks for DefaultPageSize.
func (c *Client) ListUsers(ctx context.Context, after string, limit int) ([]User, string, error) {
	var page userPage
	err := c.do(ctx, &request{method: http.MethodGet, path: c.paths.users,
		query: pageQuery(after, limit, DefaultPageSize, 0), out: &page})
	if err != nil {
		return nil, "", fmt.Errorf("hubspot: list users: %w", err)
	}
	return page.Results, nextCursor(page.Paging), nil
}

// AllUsers follows the cursors through every page.
func (c *Client) AllUsers(ctx context.Context) ([]User, error) {
	return collect(ctx, func(ctx context.Context, after string) ([]User, string, error) {
		return c.ListUsers(ctx, after, DefaultPageSize)
	})
}

// collect follows cursors, refusing a cursor that repeats (a server bug
// that would otherwise loop forever).
func collect[T any](ctx context.Context, page func(context.Context, string) ([]T, string, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	after := ""
	for {
		items, next, err := page(ctx, after)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("hubspot: paging cursor %q repeats", next)
		}
		seen[next] = true
		after = next
	}
}

// GetUser reads a user by id; IsNotFound(err) when there is none.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	if err := c.do(ctx, &request{method: http.MethodGet, path: c.userPath(id), endpoint: c.userEndpoint(), out: &u}); err != nil {
		return nil, fmt.Errorf("hubspot: get user %s: %w", id, err)
	}
	return &u, nil
}

// GetUserByEmail reads a user by email (idProperty=EMAIL); IsNotFound(err)
// when there is none.
func (c *Client) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := c.do(ctx, &request{method: http.MethodGet, path: c.userPath(email), endpoint: c.userEndpoint(),
		query: url.Values{"idProperty": {"EMAIL"}}, out: &u})
	if err != nil {
		return nil, fmt.Errorf("hubspot: get user %s: %w", email, err)
	}
	return &u, nil
}

// CreateUser creates a user (HubSpot sends the invitation when
// in.SendWelcomeEmail is set).
//
// A create is never blindly sent twice: after an ambiguous outcome
// (network error, timeout, 5xx) the user is looked up by email first; if
// found, the earlier attempt was applied and that user is returned.
//
// HubSpot documents no status for an email that already exists in the
// portal (reference/hubspot-api.md: 409 CONFLICT is evidenced only for CRM
// contacts; a validation 400 is as likely). So after a 400 or a 409 the
// user is read by email: when one exists, the error wraps ErrExists and
// HubSpot's answer, and the existing user is returned with it so the
// caller can adopt it. A 400 for an address no user holds is returned as
// it is (a real validation error); a 409 whose user cannot be read back
// still wraps ErrExists, with a nil user. Check SuperAdmin before
// adopting: the bridge never writes to super admins.
func (c *Client) CreateUser(ctx context.Context, in UserCreate) (*User, error) {
	if strings.TrimSpace(in.Email) == "" {
		return nil, errors.New("hubspot: create user: email is required")
	}
	var u User
	err := c.do(ctx, &request{method: http.MethodPost, path: c.paths.users, body: in, out: &u,
		resolve: func(ctx context.Context) (bool, error) {
			found, err := c.GetUserByEmail(ctx, in.Email)
			if IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			u = *found
			return true, nil
		}})
	switch {
	case err == nil:
		return &u, nil
	case IsConflict(err), IsValidation(err):
		existing, gerr := c.GetUserByEmail(ctx, in.Email)
		switch {
		case gerr == nil:
			return existing, fmt.Errorf("hubspot: create %s: %w: %w", in.Email, ErrExists, err)
		case IsValidation(err) && IsNotFound(gerr):
			// Nobody has the address: HubSpot refused the create itself.
		case IsConflict(err):
			return nil, fmt.Errorf("hubspot: create %s: %w: %w (reading it back: %v)", in.Email, ErrExists, err, gerr)
		default:
			return nil, fmt.Errorf("hubspot: create %s: %w (checking whether the address exists: %v)", in.Email, err, gerr)
		}
	}
	return nil, fmt.Errorf("hubspot: create %s: %w", in.Email, err)
}

// UpdateUser changes a user and returns HubSpot's view of it. Send only
// the fields that change (see UserUpdate) and compare the answer. A user
// who has not accepted HubSpot's invitation refuses names: see
// IsInvitationPending.
func (c *Client) UpdateUser(ctx context.Context, id string, in UserUpdate) (*User, error) {
	var u User
	if err := c.do(ctx, &request{method: http.MethodPut, path: c.userPath(id), endpoint: c.userEndpoint(), body: in, out: &u}); err != nil {
		return nil, fmt.Errorf("hubspot: update user %s: %w", id, err)
	}
	return &u, nil
}

// DeleteUser removes the user from the portal (not their global HubSpot
// login). It only deletes: HubSpot may keep serving the user for a while;
// use WaitDeleted to wait until reads agree. IsNotFound(err) when there
// was no such user; a retry after an ambiguous failure that finds the user
// gone counts as success.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if err := c.do(ctx, &request{method: http.MethodDelete, path: c.userPath(id), endpoint: c.userEndpoint()}); err != nil {
		return fmt.Errorf("hubspot: delete user %s: %w", id, err)
	}
	return nil
}

// WaitDeleted polls GetUser until HubSpot answers 404, for at most timeout
// (then an error wrapping ErrDeletePending).
func (c *Client) WaitDeleted(ctx context.Context, id string, timeout time.Duration) error {
	deadline := c.now().Add(timeout)
	wait := 250 * time.Millisecond
	for {
		_, err := c.GetUser(ctx, id)
		switch {
		case IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("hubspot: wait for deletion of %s: %w", id, err)
		}
		left := deadline.Sub(c.now())
		if left <= 0 {
			return fmt.Errorf("hubspot: user %s after %s: %w", id, timeout, ErrDeletePending)
		}
		if err := c.sleep(ctx, min(wait, left)); err != nil {
			return fmt.Errorf("hubspot: wait for deletion of %s: %w", id, err)
		}
		wait = min(2*wait, 2*time.Second)
	}
}
