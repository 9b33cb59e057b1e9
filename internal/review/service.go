package review

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/scimbridge/scimbridge/internal/store"
)

// LatestKey is the store state under which the last scheduled review is
// kept.
const LatestKey = "review.latest"

// ServiceConfig configures a Service.
type ServiceConfig struct {
	// Sources are what each review reads; Sources.Store also keeps the
	// latest scheduled review.
	Sources Sources
	Log     zerolog.Logger
	// Life bounds shared runs (a server's lifetime): a run goes on when
	// the caller that started it hangs up. Nil: the caller's context
	// without its cancellation.
	Life context.Context
	// Timeout caps one run (default 30 minutes).
	Timeout time.Duration
}

// Service runs the access reviews of one bridge: on demand, callers
// arriving during a run sharing it (a review reads the whole portal, the
// store and the directory), and on a schedule, keeping the latest with
// what is new and resolved since the one before.
type Service struct {
	cfg  ServiceConfig
	runs singleflight.Group
}

// NewService returns a Service.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	return &Service{cfg: cfg}
}

// Review runs a review now; callers arriving while one runs share it.
func (s *Service) Review(ctx context.Context) (*Report, error) {
	ch := s.runs.DoChan("review", func() (any, error) {
		// Not the first caller's context: a client hanging up must not
		// fail the others.
		base := s.cfg.Life
		if base == nil {
			base = context.WithoutCancel(ctx)
		}
		ctx, cancel := context.WithTimeout(base, s.cfg.Timeout)
		defer cancel()
		in, err := Collect(ctx, s.cfg.Sources)
		if err != nil {
			return nil, err
		}
		return Run(in), nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Report), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// LatestReview is the last scheduled review, or nil when none has run.
func (s *Service) LatestReview(ctx context.Context) (*Stored, error) {
	raw, err := s.cfg.Sources.Store.State(ctx, LatestKey)
	if err != nil || raw == "" {
		return nil, err
	}
	var st Stored
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil, fmt.Errorf("review: the stored review is unreadable: %w", err)
	}
	return &st, nil
}

// Scheduled runs a review, compares it with the latest stored one (an
// unreadable one is logged and counts as none) and stores it as the
// latest.
func (s *Service) Scheduled(ctx context.Context) (*Stored, error) {
	rep, err := s.Review(ctx)
	if err != nil {
		return nil, err
	}
	prev, err := s.LatestReview(ctx)
	if err != nil {
		s.cfg.Log.Warn().Err(err).Msg("comparing with no previous review")
		prev = nil
	}
	st := NewStored(prev, rep)
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Sources.Store.Update(ctx, func(tx store.Tx) error { return tx.SetState(LatestKey, string(raw)) }); err != nil {
		return nil, err
	}
	ev := s.cfg.Log.Info()
	if len(st.New) > 0 {
		ev = s.cfg.Log.Warn()
	}
	ev.Int("findings", rep.Summary.Findings).Int("new", len(st.New)).Int("resolved", len(st.Resolved)).
		Int("critical", rep.BySeverity[SevCritical]).Int("high", rep.BySeverity[SevHigh]).
		Msg("scheduled access review")
	return st, nil
}

// Loop runs a scheduled review at once and then every interval until ctx
// ends.
func (s *Service) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Scheduled(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error().Err(err).Msg("scheduled access review failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
