package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/ldap"
	"github.com/scimbridge/scimbridge/directory/otdsrest"
	"github.com/scimbridge/scimbridge/internal/config"
)

var (
	_ directory.ChangeSource = (*ldap.Source)(nil)
	_ directory.Source       = (*otdsrest.Source)(nil)
)

// openDirectory opens the configured directory driver, or returns nil when
// no directory is configured.
func openDirectory(ctx context.Context, cfg *config.Config, log zerolog.Logger) (directory.Source, error) {
	d := cfg.Directory
	switch d.Type {
	case "":
		return nil, nil
	case config.DirectoryLDAP:
		for _, w := range d.LDAP.Warnings() {
			log.Warn().Str("component", "directory").Msg(w)
		}
		return ldap.Open(ctx, d.LDAP, &d.Mapping)
	case config.DirectoryOTDSRest:
		rc := d.OTDSRest
		rc.Log = log.With().Str("component", "directory").Logger()
		return otdsrest.Open(ctx, rc, &d.Mapping)
	}
	return nil, fmt.Errorf("unknown directory type %q", d.Type)
}
