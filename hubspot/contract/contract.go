// Package contract holds the bridge's own contract with HubSpot,
// openapi.yaml: every call package hubspot makes, in the bridge's words,
// checked against HubSpot's published OpenAPI files (the comments of the
// YAML name the file, or the other source, behind each operation).
//
// It is for tests. Load parses and validates the document once;
// (*Contract).Transport checks every request a client sends and every
// answer it receives, and (*Contract).Middleware checks every answer a
// server (the simulator) gives, reporting each violation to a callback
// (t.Error in tests) without changing the traffic.
//
// What the contract promises, in short: request bodies are as strict as
// HubSpot's schemas (no undocumented field, every type checked), query
// parameters must be declared, answers carry what HubSpot's schemas require
// and may carry more, errors are HubSpot's envelope (5xx may be the CDN's
// HTML page), 429 is the rate-limit body, and the X-HubSpot-RateLimit-*
// headers, when sent, are counts.
//
// When the client gains a call, add its operation to openapi.yaml (one
// path per API version, a "# Source:" comment naming the spec file it was
// checked against) and the method to coverageCalls in
// hubspot/contract_coverage_test.go, which fails until both are done.
package contract

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed openapi.yaml
var document []byte

// Document returns the contract's YAML source.
func Document() []byte { return slices.Clone(document) }

// ErrUnknownCall is wrapped by the violation reported for a request that
// matches no operation of the contract.
var ErrUnknownCall = errors.New("the client made a call the contract lacks")

// Contract is the loaded, validated contract. It is safe for concurrent
// use.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	ops    []string
}

var load = sync.OnceValues(func() (*Contract, error) { return parse(document) })

// Load returns the contract, parsed and validated on first use.
func Load() (*Contract, error) { return load() }

// MustLoad is Load for tests and package initialisation: it panics when
// the embedded document does not load (a broken build, not a runtime
// condition).
func MustLoad() *Contract {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// parse loads and validates a contract document.
func parse(data []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: loading openapi.yaml: %w", err)
	}
	// correlationId is a UUID in every HubSpot file.
	doc.SetStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122))
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(),
		openapi3.EnableSchemaDefaultsValidation(), openapi3.EnableSchemaPatternValidation()); err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	// The contract names HubSpot's host; tests talk to the simulator on
	// any host, so routing ignores servers.
	routing := *doc
	routing.Servers = nil
	router, err := gorillamux.NewRouter(&routing)
	if err != nil {
		return nil, fmt.Errorf("contract: routing openapi.yaml: %w", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:             true,
		MultiError:                        true,
		SkipSettingDefaults:               true, // never change the request under test
		RejectWhenRequestBodyNotSpecified: true,
		AuthenticationFunc:                bearerPresent,
		SchemaValidationOptions:           doc.GetSchemaValidationOptions(),
	}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	c := &Contract{doc: doc, router: router, opts: opts}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			c.ops = append(c.ops, method+" "+path)
		}
	}
	slices.Sort(c.ops)
	return c, nil
}

// Doc is the parsed document (do not modify it).
func (c *Contract) Doc() *openapi3.T { return c.doc }

// Operations lists the contract's operations as "METHOD path", the path
// as the contract writes it (e.g. "GET /settings/users/2026-03/{userId}").
func (c *Contract) Operations() []string { return slices.Clone(c.ops) }

// bearerPresent is the contract's only security check: the bearer token is
// there. Whether HubSpot accepts it is HubSpot's business.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearer" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New(`no "Authorization: Bearer <token>" header`)
	}
	return nil
}

// schemaMessage shortens kin-openapi's schema errors (which print the
// whole schema and value) to the place and the reason.
func schemaMessage(err *openapi3.SchemaError) string {
	at := "/" + strings.Join(err.JSONPointer(), "/")
	return fmt.Sprintf("at %s: %s", at, err.Reason)
}

// route finds the operation of r, whatever its host.
func (c *Contract) route(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return nil, nil, err
	}
	return route, params, nil
}

// opName is "METHOD path" of a route.
func opName(route *routers.Route) string { return route.Method + " " + route.Path }

// Violation is a request or an answer the contract does not allow.
type Violation struct {
	// Side is "request" or "response".
	Side string
	// Operation is the contract's "METHOD path" (template), or "" when no
	// operation matched.
	Operation string
	// Method and Path are the request's, the path only when no operation
	// matched (a matched path may hold a secret: the token-information
	// call carries the token in its path).
	Method, Path string
	// Status is the answer's status (response side).
	Status int
	Err    error
}

func (v *Violation) Error() string {
	call := v.Operation
	if call == "" {
		call = v.Method + " " + v.Path
	}
	if v.Side == "response" {
		return fmt.Sprintf("contract: %s: answer %d: %v", call, v.Status, v.Err)
	}
	return fmt.Sprintf("contract: %s: request: %v", call, v.Err)
}

func (v *Violation) Unwrap() error { return v.Err }
