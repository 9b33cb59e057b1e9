package main

import (
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/admin"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim"
)

// The one road: SCIM requests, directory reconciles and review fixes
// (provision.Service.Relink) write through the same provisioning service;
// the admin API reports on it beside the SCIM front. Each consumer
// declares what it needs; these assertions are where the pieces are seen
// to fit.
var (
	// Push and pull take the same write path.
	_ scim.Users       = (*provision.Service)(nil)
	_ scim.Groups      = (*provision.Service)(nil)
	_ reconcile.Writer = (*provision.Service)(nil)
	_ scim.Pinger      = (*provision.Service)(nil)
	_ scim.Health      = (*health.Registry)(nil)

	_ provision.HubSpot  = (*hubspot.Client)(nil)
	_ scim.Authenticator = (*auth.StaticTokens)(nil)
	_ scim.Authenticator = (*auth.Chain)(nil)
	_ scim.TokenService  = (*auth.Issuer)(nil)

	// The admin API, mounted beside the SCIM front.
	_ admin.Auditor      = (*provision.Service)(nil)
	_ admin.Health       = (*health.Registry)(nil)
	_ admin.Reconciler   = (*reconcile.Runner)(nil)
	_ admin.Provisioning = (*provision.Engine)(nil)
	_ admin.Reviewer     = (*review.Service)(nil)

	// Access reviews read and fix HubSpot through the same client.
	_ review.HubSpotReader = (*hubspot.Client)(nil)
	_ review.HubSpotWriter = (*hubspot.Client)(nil)
)

// adminMount mounts the admin API on the SCIM front, for the admin scope.
func adminMount(d admin.Deps) scim.Mount {
	return scim.Mount{Pattern: admin.Prefix, Scope: schemas.ScopeAdmin, Handler: admin.New(d)}
}

// reconcilerOrNil, provisioningOrNil and reviewerOrNil keep a nil pointer
// from becoming a non-nil interface.
func reconcilerOrNil(r *reconcile.Runner) admin.Reconciler {
	if r == nil {
		return nil
	}
	return r
}

func provisioningOrNil(e *provision.Engine) admin.Provisioning {
	if e == nil {
		return nil
	}
	return e
}

func reviewerOrNil(r *review.Service) admin.Reviewer {
	if r == nil {
		return nil
	}
	return r
}
