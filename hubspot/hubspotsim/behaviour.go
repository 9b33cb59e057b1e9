package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// Behaviour is how closely the simulator follows a real portal where a
// real portal is stricter, slower or lags behind its own writes. The zero
// value is strict: every knob at what a real portal does (or, where
// HubSpot documents nothing, at the stricter reading, marked
// "Assumption:"). Loose returns the permissive preset the simulator
// used to have, for demos and tests that are not about these behaviours.
//
// Unlike Faults, which inject trouble at random, these are how the portal
// always behaves; they change only through Config.Behaviour, SetBehaviour
// or POST /_sim/behaviour.
//
// In JSON and YAML, durations are strings ("3s"); a negative duration
// means "at once" ("-1ns").
type Behaviour struct {
	// InvitesAcceptedAtOnce makes users created through the API count as
	// having accepted their invitation (loose).
	//
	// Strict (false): a user created through the API is pending until it
	// accepts (POST /_sim/accept, Sim.AcceptInvite) or logs in
	// successfully (POST /_sim/logins, Sim.RecordLogin). A PUT carrying
	// firstName or lastName for a pending user, even unchanged values,
	// answers 400 with USER_NOT_ON_ANY_HUBS nested in the message.
	// Source: jackemcpherson/terraform-provider-hubspot,
	// .scratch/account-membership-v0-5-0/research/live-lifecycle.md ("An
	// exact name no-op returned 400 USER_NOT_ON_ANY_HUBS"), and
	// shared/reference/hubspot-api.md ("Pending invitations"). Seeded
	// users are pending only when the seed says so (SeedUser.Pending).
	// The setting applies when a user is created: switching it later does
	// not change users already made.
	InvitesAcceptedAtOnce bool `json:"invitesAcceptedAtOnce" yaml:"invitesAcceptedAtOnce"`

	// CRMRecordDelay is how long after a Settings user is created its CRM
	// users-object record appears: until then GET by record id, PATCH,
	// batch read, list and search do not see it. 0 means
	// DefaultCRMRecordDelay; negative, at once (loose). Source:
	// jackemcpherson/terraform-provider-hubspot,
	// .scratch/crm-user-profile-v0-6-0/research/live-probe.md (the
	// hs_internal_user_id join was found "within the bounded 20-second
	// materialization window"), and shared/reference/hubspot-api.md
	// ("CRM users-object records … appear some time after the Settings
	// user is created"). Assumption: the 3-second default; live it took
	// a bounded wait of unknown length, so a client must poll. Records of
	// the seed are there from the start.
	CRMRecordDelay time.Duration `json:"crmRecordDelay" yaml:"crmRecordDelay"`

	// CRMSearchLag is how far CRM search results lag writes: a search
	// sees each record as it was CRMSearchLag ago. A record becomes
	// searchable CRMSearchLag after it appears, a PATCH (or a name change
	// through the Settings API, or an archive) shows in search
	// CRMSearchLag after it was made. GET by id and batch read see writes
	// at once. 0 means DefaultCRMSearchLag; negative, no lag (loose).
	// Sources: shared/reference/hubspot-api.md ("CRM search results lag
	// writes"); Okta Workflows' HubSpot CRM connector documents that
	// "search results may exclude newly created and updated HubSpot CRM
	// objects" (help.okta.com, Search Contacts). Assumption: the 1-second
	// default; HubSpot publishes no figure.
	CRMSearchLag time.Duration `json:"crmSearchLag" yaml:"crmSearchLag"`

	// CRMSearchPerSecond is the CRM search limit: requests to any …/search
	// endpoint per rolling second per token. More answer 429 with HubSpot's
	// rate-limit body without policyName
	// ({"status":"error","message":"You have reached your secondly
	// limit.","errorType":"RATE_LIMIT","correlationId":…}). 0 means
	// DefaultCRMSearchPerSecond; negative, unlimited (loose). Sources:
	// HubSpot's changelog, "CRM Search API Rate Limit Increase" (four
	// requests per second per authentication token; also HubSpot's API
	// usage guidelines), and third-party reports, collected in
	// shared/reference/hubspot-api.md, that the search 429 carries no
	// policyName. Searches still count toward the app's rolling and daily
	// limits (Limits) as well.
	CRMSearchPerSecond int `json:"crmSearchPerSecond" yaml:"crmSearchPerSecond"`

	// DuplicateEmailStatus is the status of a Settings user create whose
	// email exists in the portal: 0 means DefaultDuplicateEmailStatus
	// (400, category VALIDATION_ERROR, naming email); 409 answers category
	// CONFLICT (loose: what the simulator used to send). Any other value
	// is refused. Source: HubSpot documents no status for this on the
	// Settings users API (PublicApiSpecs/Settings/User Provisioning lists
	// only a default error response); HubSpot's error-handling guide uses
	// 400 for validation failures, and 409 CONFLICT is evidenced only for
	// CRM contacts (shared/reference/hubspot-api.md, "Duplicate email on
	// create"). Assumption: 400 is the stricter default, since a client
	// that only handles 409 would mistake it for a bad request.
	DuplicateEmailStatus int `json:"duplicateEmailStatus" yaml:"duplicateEmailStatus"`
}

// Strict defaults of Behaviour (see its fields for the sources).
const (
	DefaultCRMRecordDelay       = 3 * time.Second
	DefaultCRMSearchLag         = time.Second
	DefaultCRMSearchPerSecond   = 4
	DefaultDuplicateEmailStatus = http.StatusBadRequest
)

// Loose is the permissive preset: invitations accepted at once, CRM
// records there and searchable at once, no search limit, 409 for an
// email that exists. It is what the simulator did before it was strict.
func Loose() Behaviour {
	return Behaviour{
		InvitesAcceptedAtOnce: true,
		CRMRecordDelay:        -1,
		CRMSearchLag:          -1,
		CRMSearchPerSecond:    -1,
		DuplicateEmailStatus:  http.StatusConflict,
	}
}

func (b Behaviour) validate() error {
	switch b.DuplicateEmailStatus {
	case 0, http.StatusBadRequest, http.StatusConflict:
		return nil
	}
	return fmt.Errorf("hubspotsim: behaviour: duplicateEmailStatus %d is not 400 or 409 (or 0 for the default)", b.DuplicateEmailStatus)
}

// resolved fills the defaults. Negative values stay negative: they mean
// "at once" or "unlimited". An invalid DuplicateEmailStatus (SetBehaviour
// does not refuse) falls back to the default.
func (b Behaviour) resolved() Behaviour {
	if b.CRMRecordDelay == 0 {
		b.CRMRecordDelay = DefaultCRMRecordDelay
	}
	if b.CRMSearchLag == 0 {
		b.CRMSearchLag = DefaultCRMSearchLag
	}
	if b.CRMSearchPerSecond == 0 {
		b.CRMSearchPerSecond = DefaultCRMSearchPerSecond
	}
	if b.validate() != nil || b.DuplicateEmailStatus == 0 {
		b.DuplicateEmailStatus = DefaultDuplicateEmailStatus
	}
	return b
}

// MarshalJSON writes durations as strings, so GET /_sim/behaviour can be
// posted back.
func (b Behaviour) MarshalJSON() ([]byte, error) {
	type plain Behaviour
	return json.Marshal(struct {
		plain
		CRMRecordDelay string `json:"crmRecordDelay"`
		CRMSearchLag   string `json:"crmSearchLag"`
	}{plain(b), b.CRMRecordDelay.String(), b.CRMSearchLag.String()})
}

// UnmarshalJSON reads the JSON form (durations as strings), rejecting
// unknown fields.
func (b *Behaviour) UnmarshalJSON(data []byte) error {
	type plain Behaviour
	return strictYAML(data, (*plain)(b))
}

// SetBehaviour replaces the behaviour; zero fields take the strict
// defaults, so SetBehaviour(Behaviour{}) restores them. An invalid
// DuplicateEmailStatus falls back to the default (New and POST
// /_sim/behaviour refuse it instead).
func (s *Sim) SetBehaviour(b Behaviour) {
	r := b.resolved()
	s.behaviour.Store(&r)
	s.log.Info().Interface("behaviour", r).Msg("hubspotsim: behaviour set")
}

// Behaviour returns the current behaviour with the defaults filled in.
func (s *Sim) Behaviour() Behaviour { return *s.behaviour.Load() }

// searchCutoff is the instant a CRM search made at now sees the records
// as of (CRMSearchLag before now).
func (b Behaviour) searchCutoff(now time.Time) time.Time {
	if b.CRMSearchLag > 0 {
		return now.Add(-b.CRMSearchLag)
	}
	return now
}

// writeSearchLimited answers a search over the CRM search limit: HubSpot's
// rate-limit body without policyName (and without requestId), which tells
// a client it is not the app's rolling or daily limit.
func writeSearchLimited(w http.ResponseWriter) {
	writeJSON(w, http.StatusTooManyRequests, searchLimitBody{
		Status: "error", Message: "You have reached your secondly limit.", ErrorType: errorTypeLimits,
		CorrelationID: uuid.NewString(),
	})
}

// searchLimitBody is the search limit's 429 body.
type searchLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
}
