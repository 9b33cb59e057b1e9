package sqlite

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/schemas"
)

// Full scans (store.Reader.ScanUsers, ScanGroups), for the directory
// reconcile, which compares every resource with the directory.
//
// A scan reads a page (keyset on seq: "seq > last seen", a range of the
// primary key, whatever the depth), decodes it, returns the read connection
// to the pool and only then calls fn for each row of the page. So fn may
// read or write the store itself (even with a single read connection), and
// no read transaction stays open while fn works, which would keep the WAL
// from being checkpointed for the length of the scan. Rows written during
// the scan may or may not be seen; a row is never seen twice, since seq
// does not change on update.

// Scan page bounds. scanPage rows at a time keep the statements few (100
// for 100,000 users) and the memory small (a page of users is about 1 MB).
// A page of groups with their members also ends once it holds
// scanMemberBudget members, so that a scan of large groups holds a bounded
// number of members at a time (a single group larger than that comes in a
// page of its own).
const (
	scanPage         = 1000
	scanMemberBudget = 50_000
)

// ScanUsers calls fn for every user in creation order, with groups and
// origin; see store.Reader. fn's error stops the scan and is returned
// unchanged.
func (s *Store) ScanUsers(ctx context.Context, fn func(*schemas.User) error) error {
	sc := newUserScan(true, true)
	page := make([]*schemas.User, 0, s.scanPage)
	var after int64
	for {
		page = page[:0]
		err := s.get(ctx, func(r *reader) error {
			rows, err := r.st.scanUsers.QueryContext(ctx, after, s.scanPage)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				u, seq, err := sc.scan(rows)
				if err != nil {
					return err
				}
				page, after = append(page, u), seq
			}
			return rows.Err()
		})
		if err != nil {
			return fmt.Errorf("sqlite: scan users: %w", err)
		}
		for i, u := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			page[i] = nil // fn's to keep, not the page's
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < s.scanPage {
			return nil
		}
	}
}

// ScanGroups calls fn for every group in creation order, with its members
// when withMembers; see store.Reader. A page's groups and members are read
// in one read transaction, so each group comes with the members it had.
func (s *Store) ScanGroups(ctx context.Context, withMembers bool, fn func(*schemas.Group) error) error {
	var (
		after int64
		page  []*schemas.Group
		seqs  []int64
	)
	for {
		page, seqs = page[:0], seqs[:0]
		more := false // the page ended early, at the member budget
		err := s.read(ctx, func(r *reader) error {
			rows, err := r.st.scanGroups.QueryContext(ctx, after, s.scanPage, withMembers)
			if err != nil {
				return err
			}
			defer rows.Close()
			members := 0
			for rows.Next() {
				var n int
				g, seq, err := scanGroup(rows, &n)
				if err != nil {
					return err
				}
				if withMembers && len(page) > 0 && members+n > s.scanBudget {
					more = true
					break
				}
				members += n
				page, seqs = append(page, g), append(seqs, seq)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			rows.Close()
			if !withMembers || len(page) == 0 {
				return nil
			}
			// The page is every group with after < seq <= the last one,
			// so its members are one range of the members primary key.
			mrows, err := r.st.scanMembers.QueryContext(ctx, after, seqs[len(seqs)-1])
			if err != nil {
				return err
			}
			return fillMembers(mrows, page, seqs)
		})
		if err != nil {
			return fmt.Errorf("sqlite: scan groups: %w", err)
		}
		if len(seqs) > 0 {
			after = seqs[len(seqs)-1]
		}
		for i, g := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			page[i] = nil
			if err := fn(g); err != nil {
				return err
			}
		}
		if !more && len(page) < s.scanPage {
			return nil
		}
	}
}
