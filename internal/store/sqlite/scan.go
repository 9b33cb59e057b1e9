package sqlite

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store/sqlstore"
	"github.com/scimbridge/scimbridge/schemas"
)

// Full scans (store.Reader.ScanUsers, ScanGroups), for the directory
// reconcile, which compares every resource with the directory.
//
// A scan reads pages with a keyset on seq ("seq > last seen": a range of
// the primary key, whatever the depth) and decodes each page with the read
// connection returned to the pool before fn sees any of it. So fn may read
// or write the store itself (even with a single read connection), and no
// read transaction stays open while fn works, which would keep the WAL
// from being checkpointed for the length of the scan. Rows written during
// the scan may or may not be seen; a row that exists throughout is seen
// exactly once, since its seq never changes.
//
// Reading and decoding a page (mostly decoding its JSON documents) costs
// about as much as the work a reconcile does per row, so a goroutine reads
// one page ahead of fn: the two overlap on a multi-core machine.

// Scan page bounds. scanPage rows at a time keep the statements few (100
// for 100,000 users) and the memory small (a page of users is about 1 MB;
// at most three are held: fn's, the one read ahead, the one being read). A
// page of groups with their members also ends once it holds
// scanMemberBudget members, so that a scan of large groups holds a bounded
// number of members at a time (a single group larger than that comes in a
// page of its own).
const (
	scanPage         = 1000
	scanMemberBudget = 50_000
)

// ScanUsers calls fn for every user in creation order, with groups and
// origin; see store.Reader.
func (s *Store) ScanUsers(ctx context.Context, fn func(*schemas.User) error) error {
	sc := newUserScan(true, true) // used by next alone
	next := func(after int64) (page []*schemas.User, last int64, more bool, err error) {
		page = make([]*schemas.User, 0, s.scanPage)
		last = after
		err = s.get(ctx, func(r *reader) error {
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
				page, last = append(page, u), seq
			}
			return rows.Err()
		})
		if err != nil {
			return nil, 0, false, fmt.Errorf("sqlite: scan users: %w", err)
		}
		return page, last, len(page) == s.scanPage, nil
	}
	return sqlstore.ScanPages(ctx, next, fn)
}

// ScanGroups calls fn for every group in creation order, with its members
// when withMembers; see store.Reader. A page's groups and members are read
// in one read transaction, so each group comes with the members it had.
func (s *Store) ScanGroups(ctx context.Context, withMembers bool, fn func(*schemas.Group) error) error {
	next := func(after int64) (page []*schemas.Group, last int64, more bool, err error) {
		last = after
		err = s.read(ctx, func(r *reader) error {
			rows, err := r.st.scanGroups.QueryContext(ctx, after, s.scanPage, withMembers)
			if err != nil {
				return err
			}
			defer rows.Close()
			var seqs []int64
			members, rowsRead := 0, 0
			for rows.Next() {
				rowsRead++
				var n int
				g, seq, err := scanGroup(rows, &n)
				if err != nil {
					return err
				}
				if withMembers && len(page) > 0 && members+n > s.scanBudget {
					more = true // the page is full: this group starts the next one
					break
				}
				members += n
				page, seqs, last = append(page, g), append(seqs, seq), seq
			}
			if err := rows.Err(); err != nil {
				return err
			}
			more = more || rowsRead == s.scanPage
			rows.Close()
			if !withMembers || len(page) == 0 {
				return nil
			}
			// The page is every group with after < seq <= last, so its
			// members are one range of the members primary key.
			mrows, err := r.st.scanMembers.QueryContext(ctx, after, last)
			if err != nil {
				return err
			}
			return fillMembers(mrows, page, seqs)
		})
		if err != nil {
			return nil, 0, false, fmt.Errorf("sqlite: scan groups: %w", err)
		}
		return page, last, more, nil
	}
	return sqlstore.ScanPages(ctx, next, fn)
}
