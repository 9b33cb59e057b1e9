// Package admin is the bridge's admin API, /admin/v1: the audit trail,
// health status, reconciles, the HubSpot provisioning queue, drift sweeps,
// access reviews and, when enabled, Go's profiles. It is mounted beside
// the SCIM front (scim.Mount), which authenticates every request for the
// admin scope, rate-limits it per client and logs and measures it; answers
// and errors are rendered as the front renders them.
package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// Prefix is where the admin API is mounted.
const Prefix = "/admin/v1"

// Auditor pages through the audit trail (*provision.Service).
type Auditor interface {
	// Audit answers up to limit records after the sequence number after
	// (of resourceID only, when set) and the last sequence number answered.
	Audit(ctx context.Context, after int64, limit int, resourceID string) ([]store.AuditRecord, int64, error)
}

// Health is every health check's state (*health.Registry).
type Health interface {
	HealthStatus(ctx context.Context) (*health.Report, error)
}

// Reconciler runs and reports directory reconciles (*reconcile.Runner).
type Reconciler interface {
	ReconcileStatus(ctx context.Context) (*reconcile.Status, error)
	// Reconcile runs a full reconcile now; an ECONFLICT error while
	// another run is going.
	Reconcile(ctx context.Context, force, dryRun bool) (*reconcile.Result, error)
}

// Provisioning is the HubSpot provisioning queue and its drift sweep
// (*provision.Engine).
type Provisioning interface {
	ProvisioningStatus(ctx context.Context) (*provision.Status, error)
	// Recreate replaces a user's HubSpot account, which keeps an older
	// email, by one under the user's email.
	Recreate(ctx context.Context, actor schemas.Actor, userID string) (*provision.Recreated, error)
	// SweepReport is the drift sweep's last result and next run; SweepNow
	// runs one, an ECONFLICT error while one runs.
	SweepReport(ctx context.Context) (*provision.SweepStatus, error)
	SweepNow(ctx context.Context, force, dryRun bool) (*provision.SweepResult, error)
}

// Reviewer runs access reviews (*review.Service).
type Reviewer interface {
	// Review runs a review now (concurrent callers share one run).
	Review(ctx context.Context) (*review.Report, error)
	// LatestReview is the last scheduled review with what changed since
	// the one before; nil when none has run (or none is scheduled).
	LatestReview(ctx context.Context) (*review.Stored, error)
}

// Deps are the services the admin API shows; each may be nil, and its
// endpoints then answer 404 saying what is not configured.
type Deps struct {
	Auditor      Auditor
	Health       Health
	Reconciler   Reconciler
	Provisioning Provisioning
	Reviewer     Reviewer
	Config
}

// Config is the admin API's configuration (the server section of the
// configuration file).
type Config struct {
	// Profiling serves Go's pprof profiles under /admin/v1/debug/pprof/
	// (admin scope), for diagnosing a live server.
	Profiling bool `yaml:"profiling"`
}

type api struct{ Deps }

// New is the admin API's handler, to be mounted at Prefix.
func New(d Deps) http.Handler {
	a := &api{d}
	r := chi.NewRouter()
	r.Get("/audit", a.handleAudit)
	r.Get("/status", a.handleStatus)
	r.Get("/reconcile", a.handleReconcileStatus)
	r.Post("/reconcile", a.handleReconcile)
	r.Get("/provisioning", a.handleProvisioning)
	r.Post("/provisioning/{id}/recreate", a.handleRecreate)
	r.Get("/sweep", a.handleSweepStatus)
	r.Post("/sweep", a.handleSweep)
	r.Get("/review", a.handleReview)
	r.Get("/review/latest", a.handleLatestReview)
	if d.Profiling {
		r.HandleFunc("/debug/pprof/*", pprofHandler)
	}
	return r
}

func zlog(r *http.Request) *zerolog.Logger { return zerolog.Ctx(r.Context()) }

func notFound(w http.ResponseWriter, r *http.Request, detail string) {
	scim.WriteError(w, r, scim.Error(http.StatusNotFound, "", detail))
}

const (
	noDirectory    = "No directory is configured."
	noProvisioning = "HubSpot provisioning is not configured."
	noReviews      = "Access reviews need HubSpot provisioning (hubspot.token)."
)

// handleAudit pages through the audit trail: GET /admin/v1/audit?after=SEQ&limit=N&resourceId=ID.
func (a *api) handleAudit(w http.ResponseWriter, r *http.Request) {
	if a.Auditor == nil {
		notFound(w, r, "No audit trail is configured.")
		return
	}
	q := r.URL.Query()
	after, err1 := parseIntParam(q.Get("after"), 0)
	limit, err2 := parseIntParam(q.Get("limit"), 100)
	if err1 != nil || err2 != nil || after < 0 || limit < 1 {
		scim.WriteError(w, r, scim.Error(http.StatusBadRequest, "invalidValue", "after and limit must be non-negative integers (limit ≥ 1)."))
		return
	}
	records, next, err := a.Auditor.Audit(r.Context(), after, int(min(limit, 1000)), q.Get("resourceId"))
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	scim.WriteJSON(w, http.StatusOK, map[string]any{"records": records, "next": next})
}

func parseIntParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// pprofHandler serves net/http/pprof under /admin/v1/debug/pprof/.
func pprofHandler(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, Prefix+"/debug/pprof/")
	switch name {
	case "", "index":
		r.URL.Path = "/debug/pprof/"
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}

// handleStatus shows every health check in full: GET /admin/v1/status.
func (a *api) handleStatus(w http.ResponseWriter, r *http.Request) {
	if a.Health == nil {
		notFound(w, r, "No health checks are configured.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	serveView(w, r, a.Health.HealthStatus)
}

func (a *api) handleReconcileStatus(w http.ResponseWriter, r *http.Request) {
	if a.Reconciler == nil {
		notFound(w, r, noDirectory)
		return
	}
	serveView(w, r, a.Reconciler.ReconcileStatus)
}

// handleReconcile runs a full reconcile: POST /admin/v1/reconcile?dryRun=true
// shows the plan; ?force=true applies a plan the deletion guard held back.
func (a *api) handleReconcile(w http.ResponseWriter, r *http.Request) {
	if a.Reconciler == nil {
		notFound(w, r, noDirectory)
		return
	}
	serveRun(w, r, "reconcile", a.Reconciler.Reconcile)
}

func (a *api) handleProvisioning(w http.ResponseWriter, r *http.Request) {
	if a.Provisioning == nil {
		notFound(w, r, noProvisioning)
		return
	}
	serveView(w, r, a.Provisioning.ProvisioningStatus)
}

// handleRecreate replaces a user's HubSpot account, which keeps an older
// email, by one under the user's email: POST
// /admin/v1/provisioning/{id}/recreate.
func (a *api) handleRecreate(w http.ResponseWriter, r *http.Request) {
	if a.Provisioning == nil {
		notFound(w, r, noProvisioning)
		return
	}
	res, err := a.Provisioning.Recreate(r.Context(), scim.RequestActor(r), chi.URLParam(r, "id"))
	if err != nil {
		scim.WriteError(w, r, busy(err)) // the user is being provisioned
		return
	}
	zlog(r).Info().Str("user_id", chi.URLParam(r, "id")).Msg("HubSpot user recreated through the admin API")
	scim.WriteJSON(w, http.StatusOK, res)
}

// serveView answers an admin view.
func serveView[T any](w http.ResponseWriter, r *http.Request, view func(context.Context) (T, error)) {
	v, err := view(r.Context())
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	scim.WriteJSON(w, http.StatusOK, v)
}

// serveRun answers an admin run that takes the boolean parameters force
// (past the deletion guard) and dryRun (report only): a reconcile or a
// drift sweep.
func serveRun[T any](w http.ResponseWriter, r *http.Request, what string, run func(ctx context.Context, force, dryRun bool) (T, error)) {
	q := r.URL.Query()
	force, err := boolParam(q, "force")
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	dry, err := boolParam(q, "dryRun")
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	res, err := run(r.Context(), force, dry)
	if err != nil {
		scim.WriteError(w, r, busy(err)) // another run is going, or why it failed
		return
	}
	zlog(r).Info().Bool("force", force).Bool("dry_run", dry).Msg(what + " requested through the admin API")
	scim.WriteJSON(w, http.StatusOK, res)
}

// busy turns a service's ECONFLICT into a 409 without scimType: a conflict
// with work under way, not attribute uniqueness.
func busy(err error) error {
	var se *schemas.Error
	if errors.As(err, &se) && se.Code == schemas.ECONFLICT {
		return scim.Error(http.StatusConflict, "", se.Message)
	}
	return err
}

// boolParam reads an optional true/false query parameter; anything else
// is refused, so that a mistyped dryRun never runs for real.
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, scim.Error(http.StatusBadRequest, "invalidValue", fmt.Sprintf("%s must be true or false, not %q.", name, v))
	}
	return b, nil
}

// handleReview runs an access review now: GET /admin/v1/review
// (?format=json|csv|html, default json).
func (a *api) handleReview(w http.ResponseWriter, r *http.Request) {
	if a.Reviewer == nil {
		notFound(w, r, noReviews)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "csv", "html":
	default:
		scim.WriteError(w, r, scim.Error(http.StatusBadRequest, "invalidValue", fmt.Sprintf("format is json, csv or html, not %q", format)))
		return
	}
	rep, err := a.Reviewer.Review(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		zlog(r).Warn().Err(err).Msg("access review failed")
		scim.WriteError(w, r, scim.Error(http.StatusBadGateway, "", "The review could not read all of its sources (nothing is reported on partial data): "+err.Error()))
		return
	}
	zlog(r).Info().Int("findings", rep.Summary.Findings).Msg("access review requested through the admin API")
	var buf bytes.Buffer
	ctype := "application/json"
	switch format {
	case "csv":
		ctype = "text/csv; charset=utf-8"
		w.Header().Set("Content-Disposition", `attachment; filename="access-review.csv"`)
		err = review.WriteCSV(&buf, rep)
	case "html":
		ctype = "text/html; charset=utf-8"
		err = review.WriteHTML(&buf, rep, "scimbridge access review")
	default:
		err = review.WriteJSON(&buf, rep)
	}
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// handleLatestReview serves the last scheduled review with what is new and
// resolved since the one before: GET /admin/v1/review/latest.
func (a *api) handleLatestReview(w http.ResponseWriter, r *http.Request) {
	if a.Reviewer == nil {
		notFound(w, r, noReviews)
		return
	}
	st, err := a.Reviewer.LatestReview(r.Context())
	if err != nil {
		scim.WriteError(w, r, err)
		return
	}
	if st == nil {
		notFound(w, r, "No scheduled review has run yet (review.interval).")
		return
	}
	scim.WriteJSON(w, http.StatusOK, st)
}
