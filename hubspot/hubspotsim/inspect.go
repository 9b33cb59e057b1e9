package hubspotsim

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Inspection endpoints, unauthenticated and not rate limited:
//
//	GET  /_sim/state        State: users, roles, teams
//	GET  /_sim/stats        Stats
//	POST /_sim/reset-stats  zero the stats
//	GET  /_sim/faults       the current Faults
//	POST /_sim/faults       replace the Faults (JSON; {} clears them)
//	GET  /_sim/limits       the current Limits, defaults filled in
//	POST /_sim/limits       replace the Limits (JSON; {} restores defaults)
//	GET  /_sim/behaviour    the current Behaviour, defaults filled in
//	POST /_sim/behaviour    replace the Behaviour (JSON; {} restores the strict defaults)
//	POST /_sim/reset-daily  reset every app's daily budget
//	POST /_sim/logins       record a login {email, at?, succeeded?}
//	POST /_sim/accept       {email}: the user accepted the invitation
//	                        (/_sim/accept-invite is the same)
func (s *Sim) inspectRoutes() {
	s.mux.HandleFunc("GET /_sim/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.State()) })
	s.mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	s.mux.HandleFunc("POST /_sim/reset-stats", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.faults.get()) })
	s.mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if !readSimBody(w, r, &f) {
			return
		}
		if err := f.validate(); err != nil {
			writeError(w, newError(http.StatusBadRequest, catValidation, err.Error()), false)
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, s.faults.get())
	})
	s.mux.HandleFunc("GET /_sim/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.limits.get().resolved()) })
	s.mux.HandleFunc("POST /_sim/limits", func(w http.ResponseWriter, r *http.Request) {
		var l Limits
		if !readSimBody(w, r, &l) {
			return
		}
		if err := l.validate(); err != nil {
			writeError(w, newError(http.StatusBadRequest, catValidation, err.Error()), false)
			return
		}
		s.SetLimits(l)
		writeJSON(w, http.StatusOK, s.limits.get().resolved())
	})
	s.mux.HandleFunc("POST /_sim/reset-daily", func(w http.ResponseWriter, r *http.Request) {
		s.ResetDaily()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /_sim/logins", func(w http.ResponseWriter, r *http.Request) {
		var in SeedLogin
		if !readSimBody(w, r, &in) {
			return
		}
		at := in.At
		if at.IsZero() {
			at = s.now().Add(-in.Ago)
		}
		s.RecordLogin(in.Email, at, in.Succeeded == nil || *in.Succeeded)
		w.WriteHeader(http.StatusNoContent)
	})
	accept := func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email string `yaml:"email"`
		}
		if !readSimBody(w, r, &in) {
			return
		}
		if !s.AcceptInvite(in.Email) {
			writeError(w, notFound("No user with email "+in.Email), false)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	s.mux.HandleFunc("POST /_sim/accept", accept)
	s.mux.HandleFunc("POST /_sim/accept-invite", accept) // the older name
	s.mux.HandleFunc("GET /_sim/behaviour", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Behaviour()) })
	s.mux.HandleFunc("POST /_sim/behaviour", func(w http.ResponseWriter, r *http.Request) {
		var b Behaviour
		if !readSimBody(w, r, &b) {
			return
		}
		if err := b.validate(); err != nil {
			writeError(w, newError(http.StatusBadRequest, catValidation, err.Error()), false)
			return
		}
		s.SetBehaviour(b)
		writeJSON(w, http.StatusOK, s.Behaviour())
	})
}

// readSimBody decodes a JSON (or YAML) inspection body, strictly.
func readSimBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodyBytes))
	if err == nil {
		err = strictYAML(b, v)
	}
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, catValidation, "Invalid body: "+err.Error()), false)
		return false
	}
	return true
}

// SetFaults replaces the faults (a Storm starts now). Invalid rates are
// clamped to [0, 1] and negative durations to 0.
func (s *Sim) SetFaults(f Faults) {
	clamp := func(r *float64) { *r = min(max(*r, 0), 1) }
	clamp(&f.ErrorRate)
	clamp(&f.TimeoutRate)
	clamp(&f.LostAnswerRate)
	clamp(&f.NestedErrorRate)
	for _, d := range []*time.Duration{&f.Latency, &f.LatencyJitter, &f.TimeoutHold, &f.Storm, &f.DeletedReadableFor, &f.DeletedListedFor} {
		*d = max(*d, 0)
	}
	f.ErrorStatuses = slices.DeleteFunc(slices.Clone(f.ErrorStatuses), func(st int) bool { return st < 500 || st > 599 })
	s.faults.set(f, s.now())
	s.log.Info().Interface("faults", f).Msg("hubspotsim: faults set")
}

// Faults returns the current faults.
func (s *Sim) Faults() Faults { return s.faults.get() }

// SetLimits replaces the rate limits; the counts so far are kept. An
// unknown time zone falls back to UTC.
func (s *Sim) SetLimits(l Limits) {
	s.limits.setLimits(l)
	s.log.Info().Interface("limits", l).Msg("hubspotsim: limits set")
}

// Limits returns the current limits as set (zero fields mean defaults).
func (s *Sim) Limits() Limits { return s.limits.get() }

// ResetDaily restores every app's daily budget, as midnight does.
func (s *Sim) ResetDaily() { s.limits.resetDaily() }

// State is a copy of the portal's content.
type State struct {
	Users []hubspot.User `json:"users"`
	Roles []hubspot.Role `json:"roles"`
	Teams []TeamState    `json:"teams"`
}

// TeamState is a team with its members and parent.
type TeamState struct {
	hubspot.Team
	ParentTeamID string `json:"parentTeamId,omitempty"`
}

// State returns a deep copy of the users (in id order), roles and teams.
func (s *Sim) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := State{Users: make([]hubspot.User, 0, len(s.db.users)), Roles: s.db.roleList()}
	for _, id := range s.db.order {
		if u := s.db.users[id]; u != nil {
			st.Users = append(st.Users, u.wire())
		}
	}
	teams, list := s.db.sortedTeams(), s.db.teamList()
	st.Teams = make([]TeamState, len(list))
	for i, t := range list {
		st.Teams[i].Team = t
		if p := teams[i].parent; p != 0 {
			st.Teams[i].ParentTeamID = idString(p)
		}
	}
	return st
}

// Stats counts the API calls since the simulator started or the last
// ResetStats. Statuses are keys like "200"; "aborted" counts connections
// closed without an answer (timeouts, lost answers).
type Stats struct {
	Since       time.Time                `json:"since"`
	Total       int64                    `json:"total"`
	RateLimited int64                    `json:"rateLimited"`
	Aborted     int64                    `json:"aborted"`
	ByStatus    map[string]int64         `json:"byStatus"`
	Endpoints   map[string]EndpointStats `json:"endpoints"`
	// PerSecond is the number of calls in each of the last seconds that
	// saw any (up to five minutes), oldest first.
	PerSecond []SecondCount `json:"perSecond"`
}

// EndpointStats counts the calls of one endpoint, keyed by method and
// path pattern ("GET /settings/users/{version}/{userId}").
type EndpointStats struct {
	Calls    int64            `json:"calls"`
	ByStatus map[string]int64 `json:"byStatus"`
}

// SecondCount is the number of calls in one second.
type SecondCount struct {
	At    time.Time `json:"at"`
	Count int64     `json:"count"`
}

// Calls returns the number of calls of an endpoint answered with status
// (0: any status).
func (st Stats) Calls(endpoint string, status int) int64 {
	e := st.Endpoints[endpoint]
	if status == 0 {
		return e.Calls
	}
	return e.ByStatus[strconv.Itoa(status)]
}

const statsSeconds = 300

type statsBox struct {
	mu        sync.Mutex
	since     time.Time
	total     int64
	limited   int64
	aborted   int64
	byStatus  map[int]int64
	endpoints map[string]map[int]int64
	seconds   [statsSeconds]struct{ sec, count int64 }
}

func newStatsBox(now time.Time) *statsBox {
	return &statsBox{since: now, byStatus: map[int]int64{}, endpoints: map[string]map[int]int64{}}
}

func (b *statsBox) record(endpoint string, status int, now time.Time) {
	sec := now.Unix()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total++
	switch status {
	case http.StatusTooManyRequests:
		b.limited++
	case statusAborted:
		b.aborted++
	}
	b.byStatus[status]++
	e := b.endpoints[endpoint]
	if e == nil {
		e = map[int]int64{}
		b.endpoints[endpoint] = e
	}
	e[status]++
	slot := &b.seconds[sec%statsSeconds]
	if slot.sec != sec {
		slot.sec, slot.count = sec, 0
	}
	slot.count++
}

func statusKey(status int) string {
	if status == statusAborted {
		return "aborted"
	}
	return strconv.Itoa(status)
}

// Stats returns a copy of the call statistics.
func (s *Sim) Stats() Stats {
	now := s.now().Unix()
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{Since: b.since, Total: b.total, RateLimited: b.limited, Aborted: b.aborted,
		ByStatus: map[string]int64{}, Endpoints: map[string]EndpointStats{}, PerSecond: []SecondCount{}}
	for k, v := range b.byStatus {
		st.ByStatus[statusKey(k)] = v
	}
	for _, ep := range slices.Sorted(maps.Keys(b.endpoints)) {
		es := EndpointStats{ByStatus: map[string]int64{}}
		for k, v := range b.endpoints[ep] {
			es.ByStatus[statusKey(k)] = v
			es.Calls += v
		}
		st.Endpoints[ep] = es
	}
	for sec := now - statsSeconds + 1; sec <= now; sec++ {
		if slot := b.seconds[((sec%statsSeconds)+statsSeconds)%statsSeconds]; slot.sec == sec && slot.count > 0 {
			st.PerSecond = append(st.PerSecond, SecondCount{At: time.Unix(sec, 0).UTC(), Count: slot.count})
		}
	}
	return st
}

// ResetStats zeroes the call statistics.
func (s *Sim) ResetStats() {
	b := s.stats
	b.mu.Lock()
	defer b.mu.Unlock()
	b.since, b.total, b.limited, b.aborted = s.now(), 0, 0, 0
	b.byStatus, b.endpoints = map[int]int64{}, map[string]map[int]int64{}
	b.seconds = [statsSeconds]struct{ sec, count int64 }{}
}
