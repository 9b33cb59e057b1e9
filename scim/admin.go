package scim

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

	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/schemas"
)

// handleAudit pages through the audit trail: GET /admin/v1/audit?after=SEQ&limit=N&resourceId=ID.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	if s.auditor == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "No audit trail is configured."))
		return
	}
	q := r.URL.Query()
	after, err1 := parseIntParam(q.Get("after"), 0)
	limit, err2 := parseIntParam(q.Get("limit"), 100)
	if err1 != nil || err2 != nil || after < 0 || limit < 1 {
		writeError(w, r, newError(http.StatusBadRequest, "invalidValue", "after and limit must be non-negative integers (limit ≥ 1)."))
		return
	}
	records, next, err := s.auditor.Audit(r.Context(), after, int(min(limit, 1000)), q.Get("resourceId"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"records": records, "next": next})
}

func parseIntParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// pprofHandler serves net/http/pprof under /admin/v1/debug/pprof/.
func pprofHandler(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/admin/v1/debug/pprof/")
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

func (s *Server) handleReconcileStatus(w http.ResponseWriter, r *http.Request) {
	if s.reconciler == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "No directory is configured."))
		return
	}
	serveView(w, r, s.reconciler.ReconcileStatus)
}

// handleReconcile runs a full reconcile: POST /admin/v1/reconcile?dryRun=true
// shows the plan; ?force=true applies a plan the deletion guard held back.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request) {
	if s.reconciler == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "No directory is configured."))
		return
	}
	serveRun(w, r, "reconcile", s.reconciler.Reconcile)
}

// serveView answers an admin view.
func serveView(w http.ResponseWriter, r *http.Request, view func(context.Context) (any, error)) {
	v, err := view(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", v)
}

// serveRun answers an admin run that takes the boolean parameters force
// (past the deletion guard) and dryRun (report only): a reconcile or a
// drift sweep.
func serveRun(w http.ResponseWriter, r *http.Request, what string, run func(ctx context.Context, force, dryRun bool) (any, error)) {
	q := r.URL.Query()
	force, err := boolParam(q, "force")
	if err != nil {
		writeError(w, r, err)
		return
	}
	dry, err := boolParam(q, "dryRun")
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := run(r.Context(), force, dry)
	if err != nil {
		writeError(w, r, busy(err)) // another run is going, or why it failed
		return
	}
	zlog(r).Info().Bool("force", force).Bool("dry_run", dry).Msg(what + " requested through the admin API")
	writeJSON(w, http.StatusOK, "application/json", res)
}

func (s *Server) handleProvisioning(w http.ResponseWriter, r *http.Request) {
	if s.provStatus == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "HubSpot provisioning is not configured."))
		return
	}
	st, err := s.provStatus.ProvisioningStatus(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", st)
}

// busy turns a service's ECONFLICT into a 409 without scimType: a conflict
// with work under way, not attribute uniqueness.
func busy(err error) error {
	var se *schemas.Error
	if errors.As(err, &se) && se.Code == schemas.ECONFLICT {
		return newError(http.StatusConflict, "", se.Message)
	}
	return err
}

// handleRecreate replaces a user's HubSpot account, which keeps an older
// email, by one under the user's email: POST
// /admin/v1/provisioning/{id}/recreate.
func (s *Server) handleRecreate(w http.ResponseWriter, r *http.Request) {
	if s.provStatus == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "HubSpot provisioning is not configured."))
		return
	}
	res, err := s.provStatus.Recreate(r.Context(), actor(r), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, busy(err)) // the user is being provisioned
		return
	}
	zlog(r).Info().Str("user_id", chi.URLParam(r, "id")).Msg("HubSpot user recreated through the admin API")
	writeJSON(w, http.StatusOK, "application/json", res)
}

// handleReview runs an access review now: GET /admin/v1/review
// (?format=json|csv|html, default json).
func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	if s.reviewer == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "Access reviews need HubSpot provisioning (hubspot.token)."))
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "csv", "html":
	default:
		writeError(w, r, newError(http.StatusBadRequest, "invalidValue", fmt.Sprintf("format is json, csv or html, not %q", format)))
		return
	}
	rep, err := s.reviewer.Review(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		zlog(r).Warn().Err(err).Msg("access review failed")
		writeError(w, r, newError(http.StatusBadGateway, "", "The review could not read all of its sources (nothing is reported on partial data): "+err.Error()))
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
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// handleLatestReview serves the last scheduled review with what is new and
// resolved since the one before: GET /admin/v1/review/latest.
func (s *Server) handleLatestReview(w http.ResponseWriter, r *http.Request) {
	if s.reviewer == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "Access reviews need HubSpot provisioning (hubspot.token)."))
		return
	}
	st, err := s.reviewer.LatestReview(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if st == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "No scheduled review has run yet (review.interval)."))
		return
	}
	writeJSON(w, http.StatusOK, "application/json", st)
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
		return false, newError(http.StatusBadRequest, "invalidValue", fmt.Sprintf("%s must be true or false, not %q.", name, v))
	}
	return b, nil
}

// Health reports readiness for /readyz and every check's state for GET
// /admin/v1/status.
type Health interface {
	// Ready is "ready", "degraded" (HubSpot or the directory in trouble:
	// writes are still taken and queued) or "unavailable" (no writes can be
	// taken), with a "check: reason" line per check in trouble. It must be
	// cheap: no network calls.
	Ready(ctx context.Context) (status string, reasons []string)
	// HealthStatus is the full report: each check's status, reason, since
	// when, last success and details.
	HealthStatus(ctx context.Context) (any, error)
}

// healthUnavailable is the readiness status that answers 503.
const healthUnavailable = "unavailable"

// readiness is /readyz's body.
type readiness struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
}

// handleStatus shows every health check in full: GET /admin/v1/status.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if s.health == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "No health checks are configured."))
		return
	}
	st, err := s.health.HealthStatus(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", st)
}
