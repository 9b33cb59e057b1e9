package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// List requests (RFC 7644 §3.4.2). A request runs in one REPEATABLE READ,
// read-only transaction, so the page, its total and the related members
// come from the same snapshot.

// listPlan is a compiled list request.
type listPlan struct {
	t            *table
	where        string // "" when unfiltered
	args         []any
	order        string // "" when the filter pins one row
	start, count int
}

func (s *Store) plan(t *table, q schemas.Query) (*listPlan, error) {
	c := newCompiler(t)
	// RFC 7644 §3.4.2.4: startIndex < 1 means 1, count < 0 means 0.
	p := &listPlan{t: t, start: max(q.StartIndex, 1), count: max(q.Count, 0)}
	if q.Filter != nil {
		w, err := c.Where(q.Filter)
		if err != nil {
			return nil, err
		}
		p.where = w
		if c.UniqueLookup(q.Filter) {
			p.args = c.Args()
			return p, nil // at most one row: no order
		}
	}
	order, _, err := c.OrderBy(q.SortBy, q.Descending, t.Col("seq"))
	if err != nil {
		return nil, err
	}
	p.order, p.args = order, c.Args()
	return p, nil
}

// pageSQL is the page query: LIMIT and OFFSET over the filter in the
// order. A page of the whole list in creation order skips its rows in an
// index-only scan of the primary key (seq), then reads the page's rows
// from the first seq on: the rows before it are never fetched (at 100,000
// rows in, 7 ms instead of 35 ms).
func (p *listPlan) pageSQL(cols string) (string, []any) {
	if p.where == "" && p.order == p.t.Col("seq") && p.start > 1 {
		seq := p.t.Col("seq")
		q := "SELECT " + cols + " FROM " + p.t.Name + " " + p.t.Alias +
			" WHERE " + seq + " >= (SELECT seq FROM " + p.t.Name + " ORDER BY seq OFFSET $2 LIMIT 1)" +
			" ORDER BY " + seq + " LIMIT $1"
		return q, []any{p.count, p.start - 1}
	}
	args := append([]any(nil), p.args...)
	bind := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + p.t.Name + " " + p.t.Alias)
	if p.where != "" {
		b.WriteString(" WHERE " + p.where)
	}
	if p.order != "" {
		b.WriteString(" ORDER BY " + p.order)
	}
	b.WriteString(" LIMIT " + bind(p.count))
	if p.start > 1 {
		b.WriteString(" OFFSET " + bind(p.start-1))
	}
	return b.String(), args
}

func (p *listPlan) total(ctx context.Context, q pgx.Tx) (int, error) {
	if p.where == "" {
		// Kept by triggers (migration 0002): no count(*) over the table.
		var n int
		err := q.QueryRow(ctx, "SELECT coalesce(sum(n), 0)::bigint FROM row_counts WHERE tbl = $1", p.t.Name).Scan(&n)
		return n, err
	}
	query := "SELECT count(*) FROM " + p.t.Name + " " + p.t.Alias
	if p.where != "" {
		query += " WHERE " + p.where
	}
	var n int
	err := q.QueryRow(ctx, query, p.args...).Scan(&n)
	return n, err
}

// read runs fn in a REPEATABLE READ, read-only transaction: one snapshot
// for all its statements.
func (s *Store) read(ctx context.Context, fn func(q pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return clientValueError(err)
	}
	return tx.Commit(ctx)
}

// runList answers a list request: the page (scan reads one row and
// returns its seq), the total, then related data for the page.
func runList[T any](ctx context.Context, s *Store, p *listPlan, cols string,
	scan func(pgx.Row) (T, int64, error),
	related func(ctx context.Context, q pgx.Tx, items []T, seqs []int64) error,
) (items []T, total int, err error) {
	err = s.read(ctx, func(q pgx.Tx) error {
		var seqs []int64
		if p.count > 0 {
			query, args := p.pageSQL(cols)
			rows, err := q.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				it, seq, err := scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				items, seqs = append(items, it), append(seqs, seq)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		n := len(items)
		switch {
		case n > 0 && n < p.count:
			// A short page is the last one: the total follows.
			total = p.start - 1 + n
		case n == 0 && p.count > 0 && p.start == 1:
			total = 0
		default:
			var err error
			if total, err = p.total(ctx, q); err != nil {
				return err
			}
		}
		if related != nil && n > 0 {
			return related(ctx, q, items, seqs)
		}
		return nil
	})
	return items, total, err
}

// QueryUsers answers a list request on /Users.
func (s *Store) QueryUsers(ctx context.Context, q schemas.Query) (*store.UserPage, error) {
	p, err := s.plan(s.users, q)
	if err != nil {
		return nil, err
	}
	cols := userCols
	if q.Related {
		cols += ", u.groups_json"
	}
	sc := newUserScan(q.Related)
	users, total, err := runList(ctx, s, p, cols, sc.scan, nil)
	if err != nil {
		return nil, wrapQueryErr("users", err)
	}
	return &store.UserPage{Total: total, Users: users}, nil
}

// QueryGroups answers a list request on /Groups.
func (s *Store) QueryGroups(ctx context.Context, q schemas.Query) (*store.GroupPage, error) {
	p, err := s.plan(s.groups, q)
	if err != nil {
		return nil, err
	}
	var related func(context.Context, pgx.Tx, []*schemas.Group, []int64) error
	if q.Related {
		related = membersOfGroups
	}
	groups, total, err := runList(ctx, s, p, groupCols, func(r pgx.Row) (*schemas.Group, int64, error) {
		return scanGroup(r)
	}, related)
	if err != nil {
		return nil, wrapQueryErr("groups", err)
	}
	return &store.GroupPage{Total: total, Groups: groups}, nil
}

// membersOfGroups fills the members of a page of groups with one query.
func membersOfGroups(ctx context.Context, q pgx.Tx, groups []*schemas.Group, seqs []int64) error {
	rows, err := q.Query(ctx, qMembersOfGroups, seqs)
	if err != nil {
		return err
	}
	return fillMembers(rows, groups, seqs)
}

// fillMembers reads rows of (group seq, member id, type, display) into the
// groups (seqs[i] is the seq of groups[i]), which it marks as read with
// their members. It closes rows.
func fillMembers(rows pgx.Rows, groups []*schemas.Group, seqs []int64) error {
	defer rows.Close()
	bySeq := make(map[int64]*schemas.Group, len(groups))
	for i, g := range groups {
		bySeq[seqs[i]] = g
		g.MembersLoaded = true
	}
	for rows.Next() {
		var (
			seq     int64
			id, typ string
			display *string
		)
		if err := rows.Scan(&seq, &id, &typ, &display); err != nil {
			return err
		}
		if g := bySeq[seq]; g != nil {
			g.Members = append(g.Members, schemas.Member{Value: id, Type: typ, Display: deref(display)})
		}
	}
	return rows.Err()
}

func wrapQueryErr(what string, err error) error {
	if store.ErrorCode(err) != "" {
		return err
	}
	return fmt.Errorf("postgres: query %s: %w", what, err)
}
