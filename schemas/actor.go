package schemas

// Actor says who asked for a change, for the audit trail: the credential's
// name (never the credential) and the request id.
type Actor struct {
	Name      string
	RequestID string
}
