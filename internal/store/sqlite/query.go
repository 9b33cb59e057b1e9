package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// List requests (RFC 7644 §3.4.2). A request runs in one read transaction,
// so the page, its total and the related groups or members come from the
// same snapshot.

// listPlan is a compiled list request.
type listPlan struct {
	t            *table
	where        string // "" when unfiltered
	args         []any
	order        string // "" when the filter pins one row
	defaultOrder bool   // ordered by seq alone: cursors apply
	start, count int
	shape        string // lazily built cache key of (table, filter, values)
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
	}
	if q.Filter != nil && c.UniqueLookup(q.Filter) {
		p.args = c.Args()
		return p, nil // at most one row: no order, no cursor
	}
	seq := t.Col("seq")
	if q.Filter != nil && c.IndexDriven(q.Filter) {
		seq = "+" + seq
	}
	order, byKey, err := c.OrderBy(q.SortBy, q.Descending, seq)
	if err != nil {
		return nil, err
	}
	p.order, p.args, p.defaultOrder = order, c.Args(), !byKey
	return p, nil
}

// key identifies the set of rows the plan selects, whatever the order and
// page: the table, the filter SQL and its values.
func (p *listPlan) key() string {
	if p.shape != "" {
		return p.shape
	}
	var b strings.Builder
	b.WriteString(p.t.Name)
	b.WriteByte(0)
	b.WriteString(p.where)
	for _, a := range p.args {
		b.WriteByte(0)
		if s, ok := a.(string); ok {
			// Length-prefixed, so no value can imitate a separator.
			b.WriteString("s" + strconv.Itoa(len(s)) + ":" + s)
		} else {
			fmt.Fprintf(&b, "%T:%v", a, a)
		}
	}
	p.shape = b.String()
	return p.shape
}

// startAt is where a page query starts reading rows in the plan's order.
// The zero value skips start-1 rows from the first with OFFSET; otherwise
// rows start after seq (or at seq, with from) and skip rows are stepped
// over from there.
type startAt struct {
	seek bool
	from bool // seq >= seq rather than seq > seq
	seq  int64
	skip int
}

// pageSQL is the page query, reading from at.
func (p *listPlan) pageSQL(cols string, at startAt) (string, []any) {
	args := append([]any(nil), p.args...)
	bind := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + p.t.Name + " " + p.t.Alias)
	var conds []string
	if p.where != "" {
		conds = append(conds, "("+p.where+")")
	}
	if at.seek {
		op := " > "
		if at.from {
			op = " >= "
		}
		conds = append(conds, p.t.Col("seq")+op+bind(at.seq))
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	if p.order != "" {
		b.WriteString(" ORDER BY " + p.order)
	}
	b.WriteString(" LIMIT " + bind(p.count))
	switch {
	case at.seek:
		b.WriteString(" OFFSET " + bind(at.skip))
	case p.start > 1:
		b.WriteString(" OFFSET " + bind(p.start-1))
	}
	return b.String(), args
}

func (p *listPlan) countSQL() string {
	return "SELECT count(*) FROM " + p.t.Name + " " + p.t.Alias + " WHERE " + p.where
}

func (p *listPlan) total(ctx context.Context, r *reader) (int, error) {
	var n int
	if p.where == "" {
		// Kept by triggers: no count(*) scan for the unfiltered listing.
		err := r.st.count.QueryRowContext(ctx, p.t.Name).Scan(&n)
		return n, err
	}
	rows, err := r.query(ctx, p.countSQL(), p.args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// ranked reports whether the plan lists a whole table in creation order,
// which the seq_buckets counts index by position (migration 0009).
func (p *listPlan) ranked() bool { return p.where == "" && p.defaultOrder }

// runList answers a list request in one read transaction: the page (scan
// reads one row and returns its seq), the total, then related data for the
// page.
//
// A page deeper than the first does not step over the rows before it. A
// whole table in creation order starts at the 1,024-seq block holding its
// startIndex (found by the per-block counts) and skips less than a block;
// a filtered list in creation order starts after the nearest page boundary
// an earlier request met at or before its startIndex and skips the
// difference, or, when that is more than walkMin rows, walks the seqs in
// between and leaves boundaries along them. Pages asked for out of order,
// or by several clients at once, cost about what the next page does.
// Lists sorted by an attribute still skip with OFFSET.
func runList[T any](ctx context.Context, s *Store, p *listPlan, cols string,
	scan func(scanner) (T, int64, error),
	related func(ctx context.Context, r *reader, items []T, seqs []int64) error,
) (items []T, total int, err error) {
	g1 := s.gen.Load()
	// settled reports whether no commit began or ended since g1 was read:
	// then the snapshot, taken by the first statement, is the data of
	// generation g1, and what the page cache holds for g1 describes it.
	settled := func() bool { return g1%2 == 0 && s.gen.Load() == g1 }

	err = s.read(ctx, func(r *reader) error {
		var seqs []int64
		fetch := func(at startAt) error {
			items, seqs = items[:0], seqs[:0]
			q, args := p.pageSQL(cols, at)
			rows, err := r.query(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				it, seq, err := scan(rows)
				if err != nil {
					return err
				}
				items, seqs = append(items, it), append(seqs, seq)
			}
			return rows.Err()
		}
		if p.count > 0 {
			items, seqs = make([]T, 0, min(p.count, 128)), make([]int64, 0, min(p.count, 128))
			var at startAt
			cached := false // at comes from the page cache
			if p.defaultOrder && p.start > 1 {
				var rk *ranks
				if g1%2 == 0 {
					at, cached, rk = s.pages.startAt(g1, p)
				}
				if p.ranked() && rk == nil {
					// No counts for this generation yet: read them in
					// this snapshot, so they describe it whatever commits.
					var err error
					if rk, err = readRanks(ctx, r, p.t.Name); err != nil {
						return err
					}
					if settled() {
						s.pages.putRanks(g1, p.t.Name, rk)
					}
					if b := rk.locate(p.start - 1); !cached || b.skip < at.skip {
						at, cached = b, false
					}
				}
				if !p.ranked() {
					var err error
					if at, err = s.walk(ctx, r, p, at, g1, settled); err != nil {
						return err
					}
				}
			}
			if err := fetch(at); err != nil {
				return err
			}
			if cached && !settled() {
				// What the cache said may not describe this snapshot:
				// start again from what the snapshot itself holds.
				if p.ranked() {
					rk, err := readRanks(ctx, r, p.t.Name)
					if err != nil {
						return err
					}
					at = rk.locate(p.start - 1)
				} else {
					var err error
					if at, err = s.walk(ctx, r, p, startAt{}, g1, settled); err != nil {
						return err
					}
				}
				if err := fetch(at); err != nil {
					return err
				}
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
			cached, ok := 0, false
			if g1%2 == 0 {
				cached, ok = s.pages.total(g1, p.key())
			}
			if ok && settled() {
				total = cached
				break
			}
			var err error
			if total, err = p.total(ctx, r); err != nil {
				return err
			}
			if settled() {
				s.pages.putTotal(g1, p.key(), total)
			}
		}
		if p.defaultOrder && n > 0 && n == p.count && settled() {
			s.pages.putCursor(g1, p.key(), p.start+n, seqs[n-1])
		}
		if related != nil && n > 0 {
			return related(ctx, r, items, seqs)
		}
		return nil
	})
	return items, total, err
}

// walkMin is the most rows a filtered page skips with OFFSET; further,
// walk reads the seqs in between and remembers boundaries along them.
const walkMin = 1024

// walk brings a filtered list's start point at to at most walkMin rows
// before the page: it reads the seqs of the rows it would skip (one
// column, no documents decoded) and starts after the last, and when the
// snapshot is generation g1's it remembers a page boundary every walkMin
// rows, so that later pages anywhere in that range, in any order, skip
// fewer than walkMin rows.
func (s *Store) walk(ctx context.Context, r *reader, p *listPlan, at startAt, g1 uint64, settled func() bool) (startAt, error) {
	skip, base := p.start-1, 1 // rows to pass, and the position of the first
	if at.seek {
		skip, base = at.skip, p.start-at.skip
	}
	if skip <= walkMin {
		return at, nil
	}
	w := *p
	w.start, w.count = 1, skip
	q, args := w.pageSQL(p.t.Col("seq"), startAt{seek: at.seek, seq: at.seq})
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return at, err
	}
	defer rows.Close()
	var marks []cursor
	n, last := 0, at.seq
	for rows.Next() {
		if err := rows.Scan(&last); err != nil {
			return at, err
		}
		n++
		// The row at position base+n-1 ends; position base+n follows it.
		if (base+n)%walkMin == 1 {
			marks = append(marks, cursor{base + n, last})
		}
	}
	if err := rows.Err(); err != nil {
		return at, err
	}
	if settled() {
		s.pages.putCursors(g1, p.key(), marks)
	}
	if n == 0 && !at.seek {
		return startAt{seek: true, seq: -1 << 62, skip: skip}, nil // no rows: past the end
	}
	return startAt{seek: true, seq: last, skip: skip - n}, nil
}

// bucketBits is the width of a seq_buckets block: seq >> bucketBits.
const bucketBits = 10

// ranks are the per-block row counts of one table (seq_buckets), as
// prefix sums: block i starts at seq first[i] and has before[i] rows ahead
// of it. Only blocks holding rows are listed, so before is increasing.
type ranks struct {
	first  []int64
	before []int
}

const qRanks = `SELECT bucket, n FROM seq_buckets WHERE tbl = ?1 AND n > 0 ORDER BY bucket`

func readRanks(ctx context.Context, r *reader, tbl string) (*ranks, error) {
	rows, err := r.query(ctx, qRanks, tbl)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rk := &ranks{}
	sum := 0
	for rows.Next() {
		var bucket int64
		var n int
		if err := rows.Scan(&bucket, &n); err != nil {
			return nil, err
		}
		rk.first = append(rk.first, bucket<<bucketBits)
		rk.before = append(rk.before, sum)
		sum += n
	}
	return rk, rows.Err()
}

// locate is where the row at 0-based position k starts: from the first
// seq of the block holding it, skipping the rows of the block before it
// (fewer than 1 << bucketBits). Past the last row it points into the last
// block, whose rows run out before the page fills.
func (rk *ranks) locate(k int) startAt {
	i := sort.Search(len(rk.before), func(i int) bool { return rk.before[i] > k }) - 1
	if i < 0 {
		return startAt{skip: k, seek: true, from: true}
	}
	return startAt{seek: true, from: true, seq: rk.first[i], skip: k - rk.before[i]}
}

// QueryUsers answers a list request on /Users. The groups attribute comes
// with each row (users.groups_json): no query per page for it.
func (s *Store) QueryUsers(ctx context.Context, q schemas.Query) (*store.UserPage, error) {
	p, err := s.plan(s.users, q)
	if err != nil {
		return nil, err
	}
	cols := userCols
	if q.Related {
		cols += ", u.groups_json"
	}
	sc := newUserScan(q.Related, true)
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
	var related func(context.Context, *reader, []*schemas.Group, []int64) error
	if q.Related {
		related = s.membersOfGroups
	}
	groups, total, err := runList(ctx, s, p, groupCols, func(sc scanner) (*schemas.Group, int64, error) {
		return scanGroup(sc)
	}, related)
	if err != nil {
		return nil, wrapQueryErr("groups", err)
	}
	return &store.GroupPage{Total: total, Groups: groups}, nil
}

// membersOfGroups fills the members of a page of groups with one query.
func (s *Store) membersOfGroups(ctx context.Context, r *reader, groups []*schemas.Group, seqs []int64) error {
	js, err := json.Marshal(seqs)
	if err != nil {
		return err
	}
	rows, err := r.st.membersOfGroups.QueryContext(ctx, string(js))
	if err != nil {
		return err
	}
	return fillMembers(rows, groups, seqs)
}

// fillMembers reads rows of (group seq, member id, type, display) into the
// groups (seqs[i] is the seq of groups[i]), which it marks as read with
// their members. It closes rows.
func fillMembers(rows *sql.Rows, groups []*schemas.Group, seqs []int64) error {
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
			display sql.NullString
		)
		if err := rows.Scan(&seq, &id, &typ, &display); err != nil {
			return err
		}
		if g := bySeq[seq]; g != nil {
			g.Members = append(g.Members, schemas.Member{Value: id, Type: typ, Display: display.String})
		}
	}
	return rows.Err()
}

func wrapQueryErr(what string, err error) error {
	if store.ErrorCode(err) != "" {
		return err
	}
	return fmt.Errorf("sqlite: query %s: %w", what, err)
}

// pageCache remembers, for lists in the default (creation) order, the seq
// of the last row before a position, so that a later page seeks past the
// nearest such boundary ("seq > ?", an index range) and skips only the rows
// between it and its startIndex instead of stepping over StartIndex-1 rows
// with OFFSET, whose cost grows with the depth of the page. It keeps the
// per-block counts of whole tables (ranks), and totals, so paging through a
// filtered list counts once. Everything in it belongs to one write
// generation: a commit makes all of it stale, and the first reader of a
// newer generation drops it.
type pageCache struct {
	mu       sync.Mutex
	gen      uint64
	cursors  map[string][]cursor // by plan key, ordered by pos
	ncursors int
	totals   map[string]int
	ranks    map[string]*ranks // by table
}

// cursor says that position pos (1-based) comes right after the row seq.
type cursor struct {
	pos int
	seq int64
}

// maxPageCache bounds the cursors and the totals; past it the cache starts
// over.
const maxPageCache = 4096

// sync makes the cache describe generation gen; false when gen is older
// than what the cache holds (a slow reader), which must neither read nor
// write it.
func (c *pageCache) sync(gen uint64) bool {
	switch {
	case gen < c.gen:
		return false
	case gen > c.gen || c.cursors == nil:
		c.gen = gen
		c.cursors = map[string][]cursor{}
		c.ncursors = 0
		c.totals = map[string]int{}
		c.ranks = map[string]*ranks{}
	}
	return true
}

// startAt is where, by what generation gen's cache holds, plan p's page
// starts: the nearest boundary at or before p.start, or, for a whole
// table, its block, whichever leaves fewer rows to skip. ok is false when
// the cache knows nothing useful; rk are the table's block counts when
// the cache has them.
func (c *pageCache) startAt(gen uint64, p *listPlan) (at startAt, ok bool, rk *ranks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sync(gen) {
		return startAt{}, false, nil
	}
	if cs := c.cursors[p.key()]; len(cs) > 0 {
		i := sort.Search(len(cs), func(i int) bool { return cs[i].pos > p.start }) - 1
		if i >= 0 {
			at, ok = startAt{seek: true, seq: cs[i].seq, skip: p.start - cs[i].pos}, true
		}
	}
	if p.ranked() {
		if rk = c.ranks[p.t.Name]; rk != nil {
			if b := rk.locate(p.start - 1); !ok || b.skip < at.skip {
				at, ok = b, true
			}
		}
	}
	return at, ok, rk
}

func (c *pageCache) putCursor(gen uint64, shape string, pos int, seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sync(gen) {
		return
	}
	if c.ncursors >= maxPageCache {
		clear(c.cursors)
		c.ncursors = 0
	}
	cs := c.cursors[shape]
	i := sort.Search(len(cs), func(i int) bool { return cs[i].pos >= pos })
	if i < len(cs) && cs[i].pos == pos {
		cs[i].seq = seq
		return
	}
	c.cursors[shape] = slices.Insert(cs, i, cursor{pos, seq})
	c.ncursors++
}

// putCursors records several boundaries of one list.
func (c *pageCache) putCursors(gen uint64, shape string, cs []cursor) {
	for _, cur := range cs {
		c.putCursor(gen, shape, cur.pos, cur.seq)
	}
}

func (c *pageCache) putRanks(gen uint64, tbl string, rk *ranks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sync(gen) {
		c.ranks[tbl] = rk
	}
}

func (c *pageCache) total(gen uint64, shape string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sync(gen) {
		return 0, false
	}
	n, ok := c.totals[shape]
	return n, ok
}

func (c *pageCache) putTotal(gen uint64, shape string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sync(gen) {
		return
	}
	if len(c.totals) >= maxPageCache {
		clear(c.totals)
	}
	c.totals[shape] = n
}
