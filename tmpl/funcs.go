package tmpl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// op is what a node renders.
type op uint8

const (
	opLit op = iota // s
	opVar           // Vals[slot]
	opRandInt
	opRandString
	opRandItem
	opUUID
	opSeq
	opNow // i is a now* mode, s the layout
	opBase64
	opURLQuery
	opLower
	opUpper
)

// node is one piece of a compiled template: literal text, a variable or a
// call. Rendering switches on op instead of calling through interfaces or
// closures, which keeps it free of allocation and easy to inline.
type node struct {
	op    op
	s     string // opLit: the text; opNow: the layout
	isInt bool   // opLit: s is an integer, i its value
	i     int64  // opLit: integer value; opNow: mode
	slot  int    // opVar
	args  []node // calls
}

// Modes of now.
const (
	nowLayout = iota
	nowUnix
	nowUnixMilli
)

// maxRandString bounds randString, so one template cannot ask for gigabytes.
const maxRandString = 1 << 16

// argKind is what a function accepts in one argument position.
type argKind uint8

const (
	argAny   argKind = iota // any value
	argInt                  // an integer literal, or a value parsed at render time
	argConst                // a string literal
)

// fn describes a template function.
type fn struct {
	name     string
	op       op
	min, max int // argument count; max < 0: no limit
	args     []argKind
	pure     bool // same arguments, same result: folded when all are literals
	// compile, when set, finishes the node at compile time (or turns it
	// into a literal).
	compile func(p *parser, tok token, args []arg, n *node) error
}

func (f *fn) kind(i int) argKind {
	if i < len(f.args) {
		return f.args[i]
	}
	if len(f.args) > 0 {
		return f.args[len(f.args)-1]
	}
	return argAny
}

func (f *fn) checkArity(off, got int) error {
	if got >= f.min && (f.max < 0 || got <= f.max) {
		return nil
	}
	var want string
	switch {
	case f.max < 0:
		want = fmt.Sprintf("at least %s", plural(f.min))
	case f.min == f.max && f.min == 0:
		want = "no arguments"
	case f.min == f.max:
		want = plural(f.min)
	default:
		want = fmt.Sprintf("%d or %d arguments", f.min, f.max)
	}
	return errAt(off, "%s takes %s, got %d", f.name, want, got)
}

func plural(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

var funcs = map[string]*fn{
	"randInt":    {name: "randInt", op: opRandInt, min: 2, max: 2, args: []argKind{argInt}, compile: compileRandInt},
	"randString": {name: "randString", op: opRandString, min: 1, max: 1, args: []argKind{argInt}, compile: compileRandString},
	"randItem":   {name: "randItem", op: opRandItem, min: 1, max: -1},
	"uuid":       {name: "uuid", op: opUUID},
	"seq":        {name: "seq", op: opSeq},
	"now":        {name: "now", op: opNow, max: 1, args: []argKind{argConst}, compile: compileNow},
	"base64":     {name: "base64", op: opBase64, min: 1, max: 1, pure: true},
	"urlquery":   {name: "urlquery", op: opURLQuery, min: 1, max: 1, pure: true},
	"lower":      {name: "lower", op: opLower, min: 1, max: 1, pure: true},
	"upper":      {name: "upper", op: opUpper, min: 1, max: 1, pure: true},
	"env":        {name: "env", min: 1, max: 2, args: []argKind{argConst}, compile: compileEnv},
}

func compileRandInt(_ *parser, tok token, _ []arg, n *node) error {
	a, b := n.args[0], n.args[1]
	if a.op == opLit && b.op == opLit && a.i > b.i {
		return errAt(tok.off, "randInt: min %d is greater than max %d", a.i, b.i)
	}
	return nil
}

func compileRandString(p *parser, _ token, args []arg, n *node) error {
	if a := n.args[0]; a.op == opLit && (a.i < 0 || a.i > maxRandString) {
		return errAt(args[0].tok.off, "randString: length must be between 0 and %d, got %s", maxRandString, p.describe(args[0].tok))
	}
	return nil
}

func compileNow(_ *parser, _ token, args []arg, n *node) error {
	n.s = time.RFC3339
	if len(args) == 0 {
		return nil
	}
	switch layout := n.args[0].s; layout {
	case "":
		return errAt(args[0].tok.off, "now: empty layout")
	case "unix":
		n.i = nowUnix
	case "unixms":
		n.i = nowUnixMilli
	default:
		n.s = layout
	}
	n.args = nil
	return nil
}

func compileEnv(p *parser, _ token, args []arg, n *node) error {
	name := n.args[0].s
	if name == "" {
		return errAt(args[0].tok.off, "env: empty variable name")
	}
	v, ok := p.env(name)
	if !ok {
		if len(n.args) < 2 {
			return errAt(args[0].tok.off, "env: %s is not set (give a default: env %q \"default\")", name, name)
		}
		v = n.args[1].s
	}
	*n = node{op: opLit, s: v}
	return nil
}

// eval appends the output of n to dst. depth is the nesting level of n; a
// call at depth d evaluates nested calls into scratch[d], so dst is never
// one of the scratch buffers eval writes to (see nested).
func (st *State) eval(dst []byte, n *node, depth int) []byte {
	switch n.op {
	case opLit:
		return append(dst, n.s...)
	case opVar:
		return append(dst, st.val(n.slot)...)
	case opRandInt:
		lo, hi := st.intArg(&n.args[0], depth), st.intArg(&n.args[1], depth)
		if lo > hi {
			lo, hi = hi, lo
		}
		return strconv.AppendInt(dst, randRange(st.rng(), lo, hi), 10)
	case opRandString:
		k := st.intArg(&n.args[0], depth)
		k = max(0, min(k, maxRandString))
		return appendRandString(dst, st.rng(), int(k))
	case opRandItem:
		return st.eval(dst, &n.args[st.rng().IntN(len(n.args))], depth)
	case opUUID:
		return appendUUID(dst, st.rng())
	case opSeq:
		st.Seq++
		return strconv.AppendInt(dst, st.Seq, 10)
	case opNow:
		t := st.now()
		switch n.i {
		case nowUnix:
			return strconv.AppendInt(dst, t.Unix(), 10)
		case nowUnixMilli:
			return strconv.AppendInt(dst, t.UnixMilli(), 10)
		}
		return t.AppendFormat(dst, n.s)
	case opBase64:
		return st.apply(dst, &n.args[0], depth, appendBase64[string], appendBase64[[]byte])
	case opURLQuery:
		return st.apply(dst, &n.args[0], depth, appendQueryEscape[string], appendQueryEscape[[]byte])
	case opLower:
		return st.apply(dst, &n.args[0], depth, appendLower[string], appendLower[[]byte])
	case opUpper:
		return st.apply(dst, &n.args[0], depth, appendUpper[string], appendUpper[[]byte])
	}
	return dst
}

// nested evaluates the call a at depth into scratch[depth] and returns the
// result, valid until the next nested call at the same depth.
func (st *State) nested(a *node, depth int) []byte {
	for len(st.scratch) <= depth {
		st.scratch = append(st.scratch, nil)
	}
	b := st.eval(st.scratch[depth][:0], a, depth+1)
	st.scratch[depth] = b
	return b
}

// apply appends f(a) to dst, handing f the argument's own string when it is
// a literal or a variable and its rendered bytes when it is a call.
func (st *State) apply(dst []byte, a *node, depth int, fs func([]byte, string) []byte, fb func([]byte, []byte) []byte) []byte {
	switch a.op {
	case opLit:
		return fs(dst, a.s)
	case opVar:
		return fs(dst, st.val(a.slot))
	}
	return fb(dst, st.nested(a, depth))
}

// intArg evaluates an integer argument; a value that is not a decimal
// integer counts as 0.
func (st *State) intArg(a *node, depth int) int64 {
	switch a.op {
	case opLit:
		if a.isInt {
			return a.i
		}
		v, _ := parseInt(a.s)
		return v
	case opVar:
		v, _ := parseInt(st.val(a.slot))
		return v
	}
	v, _ := parseInt(st.nested(a, depth))
	return v
}

// parseInt parses an optionally signed decimal integer without allocating
// (strconv.ParseInt allocates its error, and needs a string).
func parseInt[S ~string | ~[]byte](s S) (int64, bool) {
	neg := false
	i := 0
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	var u uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true // u == 1<<63 wraps to math.MinInt64, as wanted
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// randRange returns a uniform integer in [lo, hi], lo <= hi, over the whole
// int64 range without overflow.
func randRange(r *rand.Rand, lo, hi int64) int64 {
	span := uint64(hi) - uint64(lo)
	if span == math.MaxUint64 {
		return int64(r.Uint64())
	}
	return lo + int64(r.Uint64N(span+1))
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// appendRandString appends n characters of alnum. Each 64-bit draw gives ten
// 6-bit indexes; the 2 of 64 values past the alphabet are skipped, which
// keeps the choice uniform.
func appendRandString(dst []byte, r *rand.Rand, n int) []byte {
	dst = slices.Grow(dst, n)
	for n > 0 {
		x := r.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			if c := x & 63; c < uint64(len(alnum)) {
				dst = append(dst, alnum[c])
				n--
			}
			x >>= 6
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a random (version 4, RFC 9562) UUID.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

const base64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendBase64 appends s in standard, padded base64 (as
// base64.StdEncoding), for strings and bytes alike.
func appendBase64[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = slices.Grow(dst, (len(s)+2)/3*4)
	i := 0
	for ; i+3 <= len(s); i += 3 {
		v := uint(s[i])<<16 | uint(s[i+1])<<8 | uint(s[i+2])
		dst = append(dst, base64Std[v>>18&63], base64Std[v>>12&63], base64Std[v>>6&63], base64Std[v&63])
	}
	switch len(s) - i {
	case 1:
		v := uint(s[i]) << 16
		dst = append(dst, base64Std[v>>18&63], base64Std[v>>12&63], '=', '=')
	case 2:
		v := uint(s[i])<<16 | uint(s[i+1])<<8
		dst = append(dst, base64Std[v>>18&63], base64Std[v>>12&63], base64Std[v>>6&63], '=')
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

// appendQueryEscape appends s escaped as url.QueryEscape does: letters,
// digits and -_.~ stay, space becomes +, every other byte becomes %XX.
func appendQueryEscape[S ~string | ~[]byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

func appendLower[S ~string | ~[]byte](dst []byte, s S) []byte {
	return appendMapped(dst, s, 'A', 'Z', unicode.ToLower)
}

func appendUpper[S ~string | ~[]byte](dst []byte, s S) []byte {
	return appendMapped(dst, s, 'a', 'z', unicode.ToUpper)
}

// appendMapped appends s with the ASCII letters in [lo, hi] switched to the
// other case and the other runes mapped by f, as strings.Map(f, s) does (invalid UTF-8 becomes
// U+FFFD).
func appendMapped[S ~string | ~[]byte](dst []byte, s S, lo, hi byte, f func(rune) rune) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if lo <= c && c <= hi {
				c ^= 0x20 // ASCII upper and lower case differ in this bit only
			}
			dst = append(dst, c)
			i++
			continue
		}
		// At most UTFMax bytes: converting them does not allocate.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		dst = utf8.AppendRune(dst, f(r))
		i += size
	}
	return dst
}
