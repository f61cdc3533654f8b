package tmpl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a problem in a template string. Offset is the byte offset in the
// template where the problem starts, so the caller can point at it in the
// plan file (column + Offset on the template's line).
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// maxDepth bounds the nesting of parentheses, so a hostile plan cannot
// recurse the parser (or the renderer) into the ground.
const maxDepth = 16

// Template is a compiled template string, safe for concurrent use: every
// mutable thing rendering touches lives in the State.
type Template struct {
	src    string
	nodes  []node
	static bool
}

// Compile parses s against the variables in names. env looks up environment
// variables for the env function, at compile time; nil means none is set.
// Errors are *Error.
func Compile(s string, names *Names, env func(string) (string, bool)) (*Template, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	t := &Template{src: s}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			t.lit(s[i:])
			break
		}
		t.lit(s[i : i+j])
		p := parser{src: s, pos: i + j + 2, names: names, env: env}
		n, err := p.expr(0, tClose, i+j)
		if err != nil {
			return nil, err
		}
		t.add(n)
		i = p.pos
	}
	t.static = len(t.nodes) == 0 || len(t.nodes) == 1 && t.nodes[0].op == opLit
	return t, nil
}

// lit appends literal text, merging it with a literal before it.
func (t *Template) lit(s string) {
	if s != "" {
		t.add(node{op: opLit, s: s})
	}
}

func (t *Template) add(n node) {
	if k := len(t.nodes); n.op == opLit && k > 0 && t.nodes[k-1].op == opLit {
		t.nodes[k-1].s += n.s
		return
	}
	if n.op == opLit && n.s == "" {
		return
	}
	t.nodes = append(t.nodes, n)
}

// Render appends the template's output for st to dst.
func (t *Template) Render(dst []byte, st *State) []byte {
	for i := range t.nodes {
		dst = st.eval(dst, &t.nodes[i], 0)
	}
	return dst
}

// Static returns the template's output when it is the same on every render:
// s had no {{ }}, or only actions that compile to constants ({{ "{{" }},
// {{ env "HOST" }}, {{ base64 "a:b" }}). The caller can then precompute it.
func (t *Template) Static() (string, bool) {
	if !t.static {
		return "", false
	}
	if len(t.nodes) == 0 {
		return "", true
	}
	return t.nodes[0].s, true
}

// String returns the source of the template.
func (t *Template) String() string { return t.src }

// IsFunc reports whether name is a template function. Such a name cannot
// be used as a variable: {{ name }} calls the function.
func IsFunc(name string) bool {
	_, ok := funcs[name]
	return ok
}

type tokKind uint8

const (
	tEOF    tokKind = iota
	tClose          // }}
	tLParen         // (
	tRParen         // )
	tIdent          // name
	tString         // "..."
	tNumber         // -12, 1.5
)

type token struct {
	kind     tokKind
	off, end int    // source span
	text     string // identifier, number, or unescaped string
	isInt    bool   // a number that fits int64
	i        int64
}

// parser reads one {{ ... }} action.
type parser struct {
	src      string
	pos      int
	names    *Names
	env      func(string) (string, bool)
	ahead    token // the token look read, when hasAhead
	hasAhead bool
}

func errAt(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token, or a lexical error.
func (p *parser) next() (token, error) {
	if p.hasAhead {
		p.hasAhead = false
		return p.ahead, nil
	}
	return p.lex()
}

// look returns the next token without consuming it.
func (p *parser) look() (token, error) {
	if p.hasAhead {
		return p.ahead, nil
	}
	t, err := p.lex()
	if err != nil {
		return t, err
	}
	p.ahead, p.hasAhead = t, true
	return t, nil
}

func (p *parser) lex() (token, error) {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	if start >= len(s) {
		return token{kind: tEOF, off: start, end: start}, nil
	}
	c := s[start]
	switch {
	case c == '}' && strings.HasPrefix(s[start:], "}}"):
		p.pos += 2
		return token{kind: tClose, off: start, end: p.pos}, nil
	case c == '(':
		p.pos++
		return token{kind: tLParen, off: start, end: p.pos}, nil
	case c == ')':
		p.pos++
		return token{kind: tRParen, off: start, end: p.pos}, nil
	case c == '"':
		return p.lexString()
	case isDigit(c) || c == '-' && start+1 < len(s) && isDigit(s[start+1]):
		return p.lexNumber()
	}
	r, size := utf8.DecodeRuneInString(s[start:])
	if r == '_' || unicode.IsLetter(r) {
		p.pos += size
		for p.pos < len(s) {
			r, size := utf8.DecodeRuneInString(s[p.pos:])
			if !isNameRune(r) {
				break
			}
			p.pos += size
		}
		return token{kind: tIdent, off: start, end: p.pos, text: s[start:p.pos]}, nil
	}
	return token{}, errAt(start, "unexpected character %q", r)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isNameRune(r rune) bool {
	return r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (p *parser) lexString() (token, error) {
	s, start := p.src, p.pos
	var b strings.Builder
	from := start + 1 // start of the text not yet copied into b
	escaped := false
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			p.pos = i + 1
			text := s[start+1 : i]
			if escaped {
				b.WriteString(s[from:i])
				text = b.String()
			}
			return token{kind: tString, off: start, end: p.pos, text: text}, nil
		case '\\':
			if i+1 >= len(s) {
				return token{}, errAt(start, "unterminated string")
			}
			if e := s[i+1]; e != '"' && e != '\\' {
				r, _ := utf8.DecodeRuneInString(s[i+1:])
				return token{}, errAt(i, `unknown escape "\%c" in string (only \" and \\)`, r)
			}
			escaped = true
			b.WriteString(s[from:i])
			b.WriteByte(s[i+1])
			i++
			from = i + 1
		}
	}
	return token{}, errAt(start, "unterminated string")
}

func (p *parser) lexNumber() (token, error) {
	s, start := p.src, p.pos
	i := start
	if s[i] == '-' {
		i++
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	frac := false
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		frac = true
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i:]); isNameRune(r) {
			end := i
			for end < len(s) {
				r, size := utf8.DecodeRuneInString(s[end:])
				if !isNameRune(r) {
					break
				}
				end += size
			}
			return token{}, errAt(start, "bad number %q", s[start:end])
		}
	}
	p.pos = i
	t := token{kind: tNumber, off: start, end: i, text: s[start:i]}
	if !frac {
		v, err := strconv.ParseInt(t.text, 10, 64)
		t.isInt, t.i = err == nil, v
	}
	return t, nil
}

// describe names a token in an error message.
func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tString:
		return p.src[t.off:t.end] // already quoted
	}
	return strconv.Quote(p.src[t.off:t.end])
}

// unclosed is the error for a {{ or ( without its closing token.
func unclosed(kind tokKind, open int) error {
	if kind == tClose {
		return errAt(open, `unclosed "{{"`)
	}
	return errAt(open, `unclosed "("`)
}

// expr parses what sits between {{ and }} (end = tClose) or between ( and )
// (end = tRParen), consuming the closing token. open is the offset of the
// opening token, for errors.
func (p *parser) expr(depth int, end tokKind, open int) (node, error) {
	t, err := p.next()
	if err != nil {
		return node{}, err
	}
	var n node
	switch t.kind {
	case end:
		if end == tClose {
			return node{}, errAt(open, "empty {{ }}")
		}
		return node{}, errAt(open, "empty ( )")
	case tEOF, tClose:
		return node{}, unclosed(end, open)
	case tRParen:
		return node{}, errAt(t.off, `unexpected ")"`)
	case tIdent:
		if f, ok := funcs[t.text]; ok {
			args, err := p.args(depth)
			if err != nil {
				return node{}, err
			}
			if n, err = p.call(f, t, args); err != nil {
				return node{}, err
			}
			break
		}
		slot, ok := p.names.Slot(t.text)
		if !ok {
			if nt, err := p.look(); err == nil && startsOperand(nt.kind) {
				return node{}, errAt(t.off, "unknown function %q", t.text)
			}
			return node{}, errAt(t.off, "unknown variable %q", t.text)
		}
		n = node{op: opVar, slot: slot}
		if nt, err := p.look(); err == nil && startsOperand(nt.kind) {
			return node{}, errAt(nt.off, "%q is a variable, not a function: it takes no arguments", t.text)
		}
	case tString, tNumber:
		n = node{op: opLit, s: t.text, isInt: t.isInt, i: t.i}
	case tLParen:
		if n, err = p.paren(depth, t.off); err != nil {
			return node{}, err
		}
	}
	t, err = p.next()
	switch {
	case err != nil:
		return node{}, err
	case t.kind == end:
		return n, nil
	case t.kind == tEOF || t.kind == tClose:
		return node{}, unclosed(end, open)
	case t.kind == tRParen:
		return node{}, errAt(t.off, `unexpected ")"`)
	case end == tClose:
		return node{}, errAt(t.off, `expected "}}", found %s`, p.describe(t))
	default:
		return node{}, errAt(t.off, `expected ")", found %s`, p.describe(t))
	}
}

func startsOperand(k tokKind) bool {
	return k == tIdent || k == tString || k == tNumber || k == tLParen
}

// paren parses a parenthesised expression whose "(" is at open.
func (p *parser) paren(depth, open int) (node, error) {
	if depth >= maxDepth {
		return node{}, errAt(open, "too deeply nested (at most %d levels of parentheses)", maxDepth)
	}
	return p.expr(depth+1, tRParen, open)
}

// arg is a parsed function argument.
type arg struct {
	n   node
	tok token // the argument's first token
}

// args parses operands up to (not including) the token that ends the call.
func (p *parser) args(depth int) ([]arg, error) {
	var args []arg
	for {
		t, err := p.look()
		if err != nil {
			return nil, err
		}
		if !startsOperand(t.kind) {
			return args, nil
		}
		p.hasAhead = false // consume t
		a := arg{tok: t}
		switch t.kind {
		case tString, tNumber:
			a.n = node{op: opLit, s: t.text, isInt: t.isInt, i: t.i}
		case tLParen:
			if a.n, err = p.paren(depth, t.off); err != nil {
				return nil, err
			}
		case tIdent:
			if f, ok := funcs[t.text]; ok {
				if f.min > 0 {
					return nil, errAt(t.off, "%s needs arguments: write (%s ...)", t.text, t.text)
				}
				if a.n, err = p.call(f, t, nil); err != nil {
					return nil, err
				}
				break
			}
			slot, ok := p.names.Slot(t.text)
			if !ok {
				return nil, errAt(t.off, "unknown variable %q", t.text)
			}
			a.n = node{op: opVar, slot: slot}
		}
		args = append(args, a)
	}
}

// call checks a call of f (named by tok) and builds its node, folding it
// to a literal when it can be evaluated now.
func (p *parser) call(f *fn, tok token, args []arg) (node, error) {
	if err := f.checkArity(tok.off, len(args)); err != nil {
		return node{}, err
	}
	n := node{op: f.op}
	for i, a := range args {
		switch f.kind(i) {
		case argInt:
			if a.n.op == opLit && !a.n.isInt {
				return node{}, errAt(a.tok.off, "%s: argument %d must be an integer, got %s", f.name, i+1, p.describe(a.tok))
			}
		case argConst:
			if a.n.op != opLit || a.tok.kind != tString {
				return node{}, errAt(a.tok.off, "%s: argument %d must be a string literal, got %s", f.name, i+1, p.describe(a.tok))
			}
		}
		n.args = append(n.args, a.n)
	}
	if f.compile != nil {
		if err := f.compile(p, tok, args, &n); err != nil {
			return node{}, err
		}
	}
	if f.pure && n.op != opLit && allLit(n.args) {
		n = node{op: opLit, s: string((&State{}).eval(nil, &n, 0))}
	}
	return n, nil
}

func allLit(ns []node) bool {
	for i := range ns {
		if ns[i].op != opLit {
			return false
		}
	}
	return true
}
