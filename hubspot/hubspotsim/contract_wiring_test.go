package hubspotsim

import (
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot/contract"
)

// contractChecked wraps a simulator handler with the contract's
// middleware (package contract, openapi.yaml): every answer the simulator
// gives to a call of the contract must be one the contract allows, or the
// test fails. Requests are not checked (tests send malformed ones on
// purpose), nor are calls the contract does not have (the /_sim/
// inspection endpoints, versions the client does not speak).
//
// Reports after the test's cleanup are dropped (t.Error would panic);
// call it before starting the server, so that the server's cleanup runs
// first.
func contractChecked(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c.Middleware(h, contract.TestReporter(t))
}
