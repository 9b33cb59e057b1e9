package ldap

import (
	"context"
	"fmt"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory"
)

// Probe checks that the directory answers as reads need it to: it dials a
// connection of its own (failing over across URLs as reads do), binds, and
// reads each search base's entry (a base-object search for no attributes),
// then closes. It never waits for a read in progress and does not touch
// the connection reads use. Failures are *directory.Error values:
// unreachable, timeout, bind_refused, base_dn_missing or other.
func (s *Source) Probe(ctx context.Context) error {
	s.mu.Lock()
	closed, first := s.closed, s.current
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	c, _, err := s.dialAny(ctx, first)
	if err != nil {
		return directory.Classify(err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	filter := presentObjectClass()
	for _, base := range s.cfg.Bases {
		n := 0
		// "1.1" asks for no attributes (RFC 4511 section 4.5.1.8).
		_, err := c.Search(base, goldap.ScopeBaseObject, filter, []string{"1.1"}, nil,
			func(string, map[string][]string) error { n++; return nil }, map[string]string{})
		if err == nil && n != 1 {
			err = fmt.Errorf("the base entry was not returned (%d entries): check the bind account's read access", n)
		}
		if err != nil {
			return directory.Classify(fmt.Errorf("ldap: probe of %s: %w", base, baseError(deadlineError(ctx, err))))
		}
	}
	return nil
}
