package scim

import "net/http"

// handleSweepStatus shows the drift sweep: GET /admin/v1/sweep.
func (s *Server) handleSweepStatus(w http.ResponseWriter, r *http.Request) {
	if s.provStatus == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "HubSpot provisioning is not configured."))
		return
	}
	serveView(w, r, s.provStatus.SweepReport)
}

// handleSweep runs a drift sweep now: POST /admin/v1/sweep?dryRun=true
// lists the differences without fixing them; ?force=true lets removals
// the deletion guard held back go ahead.
func (s *Server) handleSweep(w http.ResponseWriter, r *http.Request) {
	if s.provStatus == nil {
		writeError(w, r, newError(http.StatusNotFound, "", "HubSpot provisioning is not configured."))
		return
	}
	serveRun(w, r, "drift sweep", s.provStatus.SweepNow)
}
