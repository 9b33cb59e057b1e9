// Package sqlfilter compiles SCIM filters (RFC 7644 §3.4.2.2) and sortBy
// (§3.4.2.3) into SQL for the SQL store drivers. What differs between the
// SQL engines (placeholders, boolean literals, parameter types, case
// folding, string matching, JSON access) is behind Dialect; the tables and
// columns are the schema both drivers share (the users and groups tables,
// the user_emails and members side tables).
//
// The compiler turns the filter AST into a SQL boolean expression over one
// resource table. Values are always bound parameters (numbered, ?N or $N);
// the only text taken from the AST into the SQL is attribute names, and
// only after they resolved to the canonical names of the schema documents.
//
// Semantics:
//   - Predicates are two-valued. An absent attribute makes a comparison
//     NULL, which is false at the top of a WHERE and inside AND/OR (both are
//     monotone), so only negation needs care: NOT coalesce(p, false). Hence
//     "not (title eq x)" and "title ne x" hold for a user without a title.
//   - ne is the negation of eq, for multi-valued attributes too: a user
//     matches "emails.value ne x" when none of its emails is x.
//   - A multi-valued attribute matches when any of its values does; a
//     complex multi-valued attribute without a sub-attribute stands for its
//     "value" sub-attribute (emails co "x" is emails.value co "x").
//   - caseExact=false attributes compare on schemas.Fold of both sides
//     (userName on its RFC 8265 key, schemas.UsernameFold): the keyed
//     columns hold it, and values in the JSON documents are folded in SQL
//     (Dialect.Fold);
//     gt/ge/lt/le compare strings lexicographically by code point.
//   - dateTime compares instants, at the microsecond precision kept.
//   - pr is "present and not empty": "", [] and {} are absent (RFC 7644
//     §3.4.2.2, RFC 7643 §2.5 unassigned values).
//   - members.value and groups.value hold resource ids and compare exactly,
//     like id itself (RFC 7643 §3.1), although the Group schema document
//     leaves members.value caseExact=false.
//   - Comparing with null is a presence test: "eq null" is "not pr".
//
// The attributes identity providers filter on compile to indexed columns or
// to "seq IN (SELECT … FROM side_table WHERE indexed = ?)" subqueries, which
// the engine answers by index; everything else is evaluated on the JSON
// documents row by row.
package sqlfilter

import (
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Table is a resource table the compiler targets.
type Table struct {
	Name, Alias  string
	RT           *schemas.ResourceType
	ResourceType string // meta.resourceType of its rows
}

// Col is the column name of the table, qualified by its alias.
func (t *Table) Col(name string) string { return t.Alias + "." + name }

// MemberDisplay is members.display: the user's displayName, else its
// userName; a group's displayName (RFC 7643 §4.2 leaves display to the
// service provider). It expects members m LEFT JOIN users mu, groups mg.
const MemberDisplay = "coalesce(mu.display_name, mu.user_name, mg.display_name)"

// Compiler compiles the filter and sort order of one list request; Args
// are the values bound so far.
type Compiler struct {
	t    *Table
	d    Dialect
	args []any
}

// New returns a compiler for a request on t in dialect d.
func New(t *Table, d Dialect) *Compiler { return &Compiler{t: t, d: d} }

// Args are the values of the parameters the compiled SQL binds, in order.
func (c *Compiler) Args() []any { return c.args }

// Where compiles filter e into a boolean SQL expression.
func (c *Compiler) Where(e filter.Expression) (string, error) { return c.expr(e, nil) }

func invalid(format string, args ...any) error {
	return store.Errorf(store.EINVALID, "invalid filter: "+format, args...)
}

func (c *Compiler) bind(v any) string {
	c.args = append(c.args, v)
	return c.d.Placeholder(len(c.args))
}

func (c *Compiler) not(p string) string { return "NOT coalesce(" + p + ", " + c.d.False() + ")" }

// elemScope is the element of a multi-valued (or single complex) attribute
// a value path filter applies to: attribute names inside the brackets are
// its sub-attributes.
type elemScope struct {
	ref schemas.Ref
	m   *multiSource // nil for a single-valued complex attribute
}

func (c *Compiler) expr(e filter.Expression, el *elemScope) (string, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e == nil {
			break
		}
		l, err := c.expr(e.Left, el)
		if err != nil {
			return "", err
		}
		r, err := c.expr(e.Right, el)
		if err != nil {
			return "", err
		}
		switch strings.ToLower(string(e.Operator)) {
		case string(filter.AND):
			return "(" + l + " AND " + r + ")", nil
		case string(filter.OR):
			return "(" + l + " OR " + r + ")", nil
		}
		return "", invalid("unknown logical operator %q", e.Operator)
	case *filter.NotExpression:
		if e == nil {
			break
		}
		in, err := c.expr(e.Expression, el)
		if err != nil {
			return "", err
		}
		return c.not(in), nil
	case *filter.AttributeExpression:
		if e == nil {
			break
		}
		if el != nil {
			return c.elemAttr(e, el)
		}
		return c.attr(e)
	case *filter.ValuePath:
		if e == nil {
			break
		}
		if el != nil {
			return "", invalid("value filters cannot nest (%v)", e)
		}
		return c.valuePath(e)
	}
	return "", invalid("unsupported expression %T", e)
}

func (c *Compiler) resolve(p filter.AttributePath) (schemas.Ref, error) {
	ref, err := c.t.RT.Resolve(p.URI(), p.AttributeName, p.SubAttributeName())
	if err != nil {
		return schemas.Ref{}, invalid("%v", err)
	}
	return ref, nil
}

// normalizeOp lowercases the operator and folds comparisons with null
// (which RFC 7644 does not define) into presence tests: "eq null" is
// "not pr", "ne null" is "pr".
func normalizeOp(e *filter.AttributeExpression) (op filter.CompareOperator, negate bool, err error) {
	op = filter.CompareOperator(strings.ToLower(string(e.Operator)))
	switch op {
	case filter.PR:
		return op, false, nil
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return "", false, invalid("unknown operator %q", e.Operator)
	}
	if e.CompareValue == nil {
		switch op {
		case filter.EQ:
			return filter.PR, true, nil
		case filter.NE:
			return filter.PR, false, nil
		}
		return "", false, invalid("%s cannot compare with null", op)
	}
	if op == filter.NE {
		return filter.EQ, true, nil
	}
	return op, false, nil
}

func (c *Compiler) attr(e *filter.AttributeExpression) (string, error) {
	ref, err := c.resolve(e.AttributePath)
	if err != nil {
		return "", err
	}
	op, negate, err := normalizeOp(e)
	if err != nil {
		return "", err
	}
	var p string
	if ref.Attr.MultiValued {
		p, err = c.multiAttr(ref, op, e.CompareValue)
	} else {
		var o operand
		if o, err = c.scalar(ref); err == nil {
			p, err = c.cond(o, op, e.CompareValue)
		}
	}
	if err != nil {
		return "", err
	}
	if negate {
		p = c.not(p)
	}
	return p, nil
}

// multiAttr compiles a comparison on a multi-valued attribute: true when
// any value matches.
func (c *Compiler) multiAttr(ref schemas.Ref, op filter.CompareOperator, v any) (string, error) {
	sub := ref.Sub
	if sub == nil && ref.Attr.Type == schemas.TypeComplex {
		if op == filter.PR {
			m, err := c.multi(ref, nil)
			if err != nil {
				return "", err
			}
			return m.any(), nil
		}
		// RFC 7644 §3.4.2.2: a complex multi-valued attribute compared as a
		// whole stands for its value sub-attribute.
		if sub = ref.Attr.Sub("value"); sub == nil {
			return "", invalid("%s needs a sub-attribute", ref.Path())
		}
	}
	var subs []string
	if sub != nil {
		subs = []string{sub.Name}
	}
	m, err := c.multi(ref, subs)
	if err != nil {
		return "", err
	}
	o, err := m.elem(sub)
	if err != nil {
		return "", err
	}
	p, err := c.cond(o, op, v)
	if err != nil {
		return "", err
	}
	return m.wrap(p), nil
}

func (c *Compiler) valuePath(v *filter.ValuePath) (string, error) {
	ref, err := c.resolve(v.AttributePath)
	if err != nil {
		return "", err
	}
	if ref.Sub != nil || ref.Attr.Type != schemas.TypeComplex {
		return "", invalid("%s[…] needs a complex attribute", v.AttributePath)
	}
	if !ref.Attr.MultiValued {
		// name[givenName eq "x"] is name.givenName eq "x".
		return c.expr(v.ValueFilter, &elemScope{ref: ref})
	}
	m, err := c.multi(ref, subAttributes(v.ValueFilter))
	if err != nil {
		return "", err
	}
	in, err := c.expr(v.ValueFilter, &elemScope{ref: ref, m: m})
	if err != nil {
		return "", err
	}
	return m.wrap(in), nil
}

// subAttributes lists the attribute names a value filter refers to.
func subAttributes(e filter.Expression) []string {
	var out []string
	var walk func(filter.Expression)
	walk = func(e filter.Expression) {
		switch e := e.(type) {
		case *filter.LogicalExpression:
			if e == nil {
				return
			}
			walk(e.Left)
			walk(e.Right)
		case *filter.NotExpression:
			if e != nil {
				walk(e.Expression)
			}
		case *filter.AttributeExpression:
			if e == nil {
				return
			}
			out = append(out, e.AttributePath.AttributeName)
		}
	}
	walk(e)
	return out
}

// elemAttr compiles an attribute expression inside a value filter.
func (c *Compiler) elemAttr(e *filter.AttributeExpression, el *elemScope) (string, error) {
	if e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil {
		return "", invalid("%v: only sub-attributes of %s may appear in its value filter", e.AttributePath, el.ref.Path())
	}
	sub := el.ref.Attr.Sub(e.AttributePath.AttributeName)
	if sub == nil {
		return "", invalid("unknown sub-attribute %q of %s", e.AttributePath.AttributeName, el.ref.Path())
	}
	op, negate, err := normalizeOp(e)
	if err != nil {
		return "", err
	}
	var o operand
	if el.m != nil {
		o, err = el.m.elem(sub)
	} else {
		o, err = c.scalar(schemas.Ref{Schema: el.ref.Schema, Attr: el.ref.Attr, Sub: sub})
	}
	if err != nil {
		return "", err
	}
	p, err := c.cond(o, op, e.CompareValue)
	if err != nil {
		return "", err
	}
	if negate {
		p = c.not(p)
	}
	return p, nil
}
