package preflight

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
)

// fakeHub answers every read with success, or with errs[method]; it
// records the methods called.
type fakeHub struct {
	calls []string
	errs  map[string]error
	oauth bool
}

func (h *fakeHub) call(name string) error {
	h.calls = append(h.calls, name)
	return h.errs[name]
}

func (h *fakeHub) TokenInfo(context.Context) (*hubspot.TokenInfo, error) {
	if err := h.call("TokenInfo"); err != nil {
		return nil, err
	}
	if !h.oauth {
		return nil, hsErr(404, "OBJECT_NOT_FOUND")
	}
	return &hubspot.TokenInfo{Scopes: allScopes()}, nil
}
func (h *fakeHub) AllUsers(context.Context) ([]hubspot.User, error) { return nil, h.call("AllUsers") }
func (h *fakeHub) Roles(context.Context) ([]hubspot.Role, error)    { return nil, h.call("Roles") }
func (h *fakeHub) Teams(context.Context) ([]hubspot.Team, error)    { return nil, h.call("Teams") }
func (h *fakeHub) Logins(_ context.Context, userID, after string, limit int) ([]hubspot.Login, string, error) {
	if limit != 1 || userID != "" || after != "" {
		return nil, "", errors.New("the login probe reads one entry")
	}
	return nil, "", h.call("Logins")
}
func (h *fakeHub) CRMUserProperties(context.Context) ([]hubspot.Property, error) {
	return nil, h.call("CRMUserProperties")
}
func (h *fakeHub) TeamsAPIPage(_ context.Context, _ string, limit int) ([]hubspot.Team, string, error) {
	return nil, "", h.call("TeamsAPIPage")
}
func (h *fakeHub) Seats(context.Context) ([]hubspot.Seat, error) { return nil, h.call("Seats") }
func (h *fakeHub) AccountDetails(context.Context) (*hubspot.AccountDetails, error) {
	return &hubspot.AccountDetails{}, h.call("AccountDetails")
}
func (h *fakeHub) DailyAPIUsage(context.Context) ([]hubspot.APIUsage, error) {
	return nil, h.call("DailyAPIUsage")
}

func TestCollect(t *testing.T) {
	common := []string{"TokenInfo", "AllUsers", "AccountDetails", "Roles", "Teams", "Logins"}
	tests := []struct {
		name        string
		settings    func(*Settings)
		hub         fakeHub
		wantCalls   []string
		wantStopped string
	}{
		{name: "private-app token", wantCalls: append(common, "DailyAPIUsage")},
		{name: "OAuth token: no usage read", hub: fakeHub{oauth: true}, wantCalls: common},
		{
			name: "profile, managed teams, beta",
			settings: func(s *Settings) {
				s.ProfileProperties, s.ManageTeams, s.APIVersion = []string{"department"}, true, hubspot.Version202609Beta
			},
			wantCalls: append(common, "CRMUserProperties", "TeamsAPIPage", "Seats", "DailyAPIUsage"),
		},
		{
			name:        "token refused: stop",
			hub:         fakeHub{errs: map[string]error{"AllUsers": hsErr(401, "INVALID_AUTHENTICATION")}},
			wantCalls:   []string{"TokenInfo", "AllUsers"},
			wantStopped: StoppedUnauthorized,
		},
		{
			name:        "unreachable: stop at once",
			hub:         fakeHub{errs: map[string]error{"TokenInfo": errors.New("dial tcp: connection refused")}},
			wantCalls:   []string{"TokenInfo"},
			wantStopped: StoppedUnreachable,
		},
		{
			name:      "missing scopes do not stop",
			hub:       fakeHub{errs: map[string]error{"AllUsers": hsErr(403, "MISSING_SCOPES"), "Teams": hsErr(403, "MISSING_SCOPES")}},
			wantCalls: append(common, "DailyAPIUsage"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSettings()
			if tt.settings != nil {
				tt.settings(&s)
			}
			rec := NewHeaderRecorder(nil)
			rec.h = RateLimitHeaders{Seen: true, Max: 100}
			f := Collect(context.Background(), &tt.hub, s, rec)
			if !slices.Equal(tt.hub.calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", tt.hub.calls, tt.wantCalls)
			}
			if f.Stopped != tt.wantStopped {
				t.Errorf("stopped %q, want %q", f.Stopped, tt.wantStopped)
			}
			if f.Headers.Max != 100 {
				t.Errorf("headers not collected: %+v", f.Headers)
			}
		})
	}
}
