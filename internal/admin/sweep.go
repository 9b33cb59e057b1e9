package admin

import "net/http"

// handleSweepStatus shows the drift sweep: GET /admin/v1/sweep.
func (a *api) handleSweepStatus(w http.ResponseWriter, r *http.Request) {
	if a.Provisioning == nil {
		notFound(w, r, noProvisioning)
		return
	}
	serveView(w, r, a.Provisioning.SweepReport)
}

// handleSweep runs a drift sweep now: POST /admin/v1/sweep?dryRun=true
// lists the differences without fixing them; ?force=true lets removals
// the deletion guard held back go ahead.
func (a *api) handleSweep(w http.ResponseWriter, r *http.Request) {
	if a.Provisioning == nil {
		notFound(w, r, noProvisioning)
		return
	}
	serveRun(w, r, "drift sweep", a.Provisioning.SweepNow)
}
