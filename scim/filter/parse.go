package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	ast "github.com/scim2/filter-parser/v2"
)

// SyntaxError reports where a filter or path stopped making sense.
type SyntaxError struct {
	Input  string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid filter at offset %d: %s", e.Offset, e.Msg)
}

// MaxLength bounds the filters Parse accepts; longer ones are refused rather
// than parsed, so a hostile filter cannot make the server work hard.
const MaxLength = 8192

// maxDepth bounds nesting of parentheses and not().
const maxDepth = 64

// Parse parses a filter expression.
func Parse(s string) (ast.Expression, error) {
	p := &parser{in: s}
	if len(s) > MaxLength {
		return nil, p.errf("filter longer than %d bytes", MaxLength)
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errf("empty filter")
	}
	e, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errf("unexpected %q", p.rest(12))
	}
	return e, nil
}

// ParsePath parses a PATCH path: attrPath, or valuePath with an optional
// trailing sub-attribute (RFC 7644 §3.5.2 PATH).
func ParsePath(s string) (ast.Path, error) {
	p := &parser{in: s}
	p.skipSpace()
	ap, err := p.parseAttrPath()
	if err != nil {
		return ast.Path{}, err
	}
	path := ast.Path{AttributePath: ap}
	if p.peek() == '[' {
		p.pos++
		vf, err := p.parseOr(true)
		if err != nil {
			return ast.Path{}, err
		}
		p.skipSpace()
		if p.peek() != ']' {
			return ast.Path{}, p.errf("expected ']'")
		}
		p.pos++
		path.ValueExpression = vf
		if p.peek() == '.' {
			p.pos++
			name, err := p.parseName()
			if err != nil {
				return ast.Path{}, err
			}
			path.SubAttribute = &name
		}
	}
	p.skipSpace()
	if !p.eof() {
		return ast.Path{}, p.errf("unexpected %q", p.rest(12))
	}
	return path, nil
}

type parser struct {
	in    string
	pos   int
	depth int
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Input: p.in, Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.in[p.pos]
}

func (p *parser) rest(n int) string {
	r := p.in[p.pos:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (p *parser) skipSpace() {
	for !p.eof() && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t' || p.in[p.pos] == '\n' || p.in[p.pos] == '\r') {
		p.pos++
	}
}

// keyword consumes word (case-insensitive) if it is next and is followed by
// a delimiter, reporting whether it did.
func (p *parser) keyword(word string) bool {
	end := p.pos + len(word)
	if end > len(p.in) || !strings.EqualFold(p.in[p.pos:end], word) {
		return false
	}
	if end < len(p.in) && isNameChar(p.in[end]) {
		return false
	}
	p.pos = end
	return true
}

// parseOr: orExp = andExp *("or" andExp); "and" binds tighter (RFC 7644 §3.4.2.2).
func (p *parser) parseOr(inValue bool) (ast.Expression, error) {
	left, err := p.parseAnd(inValue)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("or") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseAnd(inValue)
		if err != nil {
			return nil, err
		}
		left = &ast.LogicalExpression{Left: left, Right: right, Operator: ast.OR}
	}
}

func (p *parser) parseAnd(inValue bool) (ast.Expression, error) {
	left, err := p.parseUnary(inValue)
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("and") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseUnary(inValue)
		if err != nil {
			return nil, err
		}
		left = &ast.LogicalExpression{Left: left, Right: right, Operator: ast.AND}
	}
}

func (p *parser) parseUnary(inValue bool) (ast.Expression, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errf("expression expected")
	}
	if p.depth >= maxDepth {
		return nil, p.errf("nested more than %d levels", maxDepth)
	}
	save := p.pos
	if p.keyword("not") {
		p.skipSpace()
		if p.peek() == '(' {
			e, err := p.parseParen(inValue)
			if err != nil {
				return nil, err
			}
			return &ast.NotExpression{Expression: e}, nil
		}
		// An attribute may itself be called "not…"; fall back.
		p.pos = save
	}
	if p.peek() == '(' {
		return p.parseParen(inValue)
	}
	return p.parseAttrExp(inValue)
}

func (p *parser) parseParen(inValue bool) (ast.Expression, error) {
	p.pos++ // '('
	p.depth++
	e, err := p.parseOr(inValue)
	p.depth--
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return nil, p.errf("expected ')'")
	}
	p.pos++
	return e, nil
}

func (p *parser) parseAttrExp(inValue bool) (ast.Expression, error) {
	ap, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() == '[' {
		if inValue {
			return nil, p.errf("value filters cannot be nested")
		}
		p.pos++
		p.depth++
		vf, err := p.parseOr(true)
		p.depth--
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.peek() != ']' {
			return nil, p.errf("expected ']'")
		}
		p.pos++
		if p.peek() != '.' {
			return &ast.ValuePath{AttributePath: ap, ValueFilter: vf}, nil
		}
		// Entra ID's emails[type eq "work"].value eq "x": fold the trailing
		// comparison into the value filter.
		p.pos++
		sub, err := p.parseName()
		if err != nil {
			return nil, err
		}
		cmp, err := p.parseComparison(ast.AttributePath{AttributeName: sub})
		if err != nil {
			return nil, err
		}
		return &ast.ValuePath{AttributePath: ap, ValueFilter: &ast.LogicalExpression{Left: vf, Right: cmp, Operator: ast.AND}}, nil
	}
	return p.parseComparison(ap)
}

func (p *parser) parseComparison(ap ast.AttributePath) (*ast.AttributeExpression, error) {
	if p.peek() != ' ' && p.peek() != '\t' {
		return nil, p.errf("expected an operator after %q", ap.String())
	}
	p.skipSpace()
	start := p.pos
	for !p.eof() && isAlpha(p.in[p.pos]) {
		p.pos++
	}
	op := ast.CompareOperator(strings.ToLower(p.in[start:p.pos]))
	switch op {
	case ast.PR:
		return &ast.AttributeExpression{AttributePath: ap, Operator: op}, nil
	case ast.EQ, ast.NE, ast.CO, ast.SW, ast.EW, ast.GT, ast.LT, ast.GE, ast.LE:
	default:
		p.pos = start
		return nil, p.errf("unknown operator %q", p.in[start:min(start+8, len(p.in))])
	}
	p.skipSpace()
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &ast.AttributeExpression{AttributePath: ap, Operator: op, CompareValue: v}, nil
}

// parseValue reads compValue = false / null / true / number / string.
func (p *parser) parseValue() (any, error) {
	switch c := p.peek(); {
	case c == '"':
		return p.parseString()
	case c == '-' || isDigit(c):
		return p.parseNumber()
	}
	switch {
	case p.keyword("true"):
		return true, nil
	case p.keyword("false"):
		return false, nil
	case p.keyword("null"):
		return nil, nil
	}
	return nil, p.errf("expected a value")
}

func (p *parser) parseString() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for !p.eof() {
		c := p.in[p.pos]
		switch {
		case c == '\\':
			escaped = true
			p.pos += 2
			continue
		case c == '"':
			p.pos++
			raw := p.in[start:p.pos]
			if !escaped {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal([]byte(raw), &s); err != nil {
				p.pos = start
				return "", p.errf("invalid string %s", raw)
			}
			return s, nil
		case c < 0x20:
			return "", p.errf("control character in string")
		}
		p.pos++
	}
	p.pos = start
	return "", p.errf("unterminated string")
}

// parseNumber reads a JSON number (RFC 7644 §3.4.2.2, RFC 8259 §6): an integer
// literal that fits an int is an int; any other number, including an integer
// beyond the int range, is the nearest float64. Numbers beyond the float64
// range are refused.
func (p *parser) parseNumber() (any, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	isFloat := false
	for !p.eof() {
		c := p.in[p.pos]
		if isDigit(c) {
			p.pos++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && (p.in[p.pos-1] == 'e' || p.in[p.pos-1] == 'E')) {
			isFloat = true
			p.pos++
			continue
		}
		break
	}
	lit := p.in[start:p.pos]
	if !isFloat {
		if i, err := strconv.Atoi(lit); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || !json.Valid([]byte(lit)) {
		p.pos = start
		return nil, p.errf("invalid number %q", lit)
	}
	return f, nil
}

// parseAttrPath reads attrPath = [URI ":"] ATTRNAME *1subAttr. A URI is
// recognised by its "urn:" scheme; it ends at the last colon of the token.
func (p *parser) parseAttrPath() (ast.AttributePath, error) {
	start := p.pos
	for !p.eof() && (isNameChar(p.in[p.pos]) || p.in[p.pos] == ':' || p.in[p.pos] == '.' || p.in[p.pos] == '$') {
		p.pos++
	}
	tok := p.in[start:p.pos]
	if tok == "" {
		return ast.AttributePath{}, p.errf("attribute name expected")
	}
	var ap ast.AttributePath
	if i := strings.LastIndexByte(tok, ':'); i >= 0 {
		uri := tok[:i]
		if !strings.HasPrefix(strings.ToLower(uri), "urn:") || i == len(tok)-1 {
			p.pos = start
			return ast.AttributePath{}, p.errf("invalid attribute path %q", tok)
		}
		ap.URIPrefix = &uri
		tok = tok[i+1:]
	}
	name, sub, hasSub := strings.Cut(tok, ".")
	if !validName(name) || (hasSub && !validName(sub)) {
		whole := p.in[start:p.pos]
		p.pos = start
		return ast.AttributePath{}, p.errf("invalid attribute path %q", whole)
	}
	ap.AttributeName = name
	if hasSub {
		ap.SubAttribute = &sub
	}
	return ap, nil
}

func (p *parser) parseName() (string, error) {
	start := p.pos
	for !p.eof() && (isNameChar(p.in[p.pos]) || p.in[p.pos] == '$') {
		p.pos++
	}
	name := p.in[start:p.pos]
	if !validName(name) {
		p.pos = start
		return "", p.errf("attribute name expected")
	}
	return name, nil
}

// validName checks ATTRNAME = ALPHA *(nameChar), allowing "$ref" (RFC 7643 §2.4).
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool    { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isNameChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' }
