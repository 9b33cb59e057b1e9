package provision

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Service implements the user and group services of the SCIM front on top
// of a store. With an Engine, every write also stores the users' desired
// HubSpot state in the same transaction and waits (bounded) for the
// outcome.
type Service struct {
	store  store.Store
	engine *Engine
	log    zerolog.Logger
	noWait bool
}

// NoWait returns a Service that does not wait for HubSpot work: the
// directory reconcile writes in bulk and leaves HubSpot to the workers.
func (s *Service) NoWait() *Service {
	c := *s
	c.noWait = true
	return &c
}

// New returns a Service writing to st; engine may be nil (no HubSpot).
func New(st store.Store, engine *Engine, log zerolog.Logger) *Service {
	return &Service{store: st, engine: engine, log: log}
}

// Audit actions.
const (
	ActionCreate  = "create"
	ActionReplace = "replace"
	ActionPatch   = "patch"
	ActionDelete  = "delete"
)

func checkVersion(kind, id string, have, expect int64) error {
	if expect > 0 && have != expect {
		return schemas.Errorf(schemas.EPRECONDITION, "%s %s is at version %s, not %s: read it again before changing it", kind, id, schemas.ETag(have), schemas.ETag(expect))
	}
	return nil
}

func audit(tx store.Tx, actor schemas.Actor, action, kind, id string, changed []string) error {
	return tx.AddAudit(&store.AuditRecord{
		Actor: actor.Name, RequestID: actor.RequestID, Action: action,
		ResourceType: kind, ResourceID: id, Changed: changed,
	})
}

// changedAttributes lists the top-level attributes whose JSON differs
// between two versions of a resource (nil for "absent"). Values are never
// recorded, only names.
func changedAttributes(before, after any) []string {
	a, b := jsonObject(before), jsonObject(after)
	var out []string
	for k, v := range b {
		if !reflect.DeepEqual(a[k], v) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func jsonObject(v any) map[string]any {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	// id is fixed; groups and the HubSpot extension are derived, not set.
	delete(m, "id")
	delete(m, "groups")
	delete(m, schemas.HubSpotURI)
	return m
}

// Audit pages through the audit trail.
func (s *Service) Audit(ctx context.Context, after int64, limit int, resourceID string) ([]store.AuditRecord, int64, error) {
	recs, err := s.store.Audit(ctx, store.AuditQuery{After: after, Limit: limit, ResourceID: resourceID})
	if err != nil {
		return nil, 0, err
	}
	next := after
	if len(recs) > 0 {
		next = recs[len(recs)-1].Seq
	}
	if recs == nil {
		recs = []store.AuditRecord{}
	}
	return recs, next, nil
}

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }
