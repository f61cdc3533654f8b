// Package threshold parses and evaluates pass/fail expressions over a run's
// results, such as "p99 < 300ms", "checkout.p95 < 500ms", "error_rate < 1%",
// "checks > 99.9%" or "rps > 500". Failed thresholds set the exit code in CI;
// the same expressions, evaluated by the runner over a sliding window, drive
// abort_when.
//
// # Grammar
//
//	expr   = [scope "."] metric op number [unit]
//	scope  = word { "." word }            word = [A-Za-z0-9_-]+
//	       | '"' chars '"' | "'" chars "'"  (\ escapes the next byte)
//	op     = "<" | "<=" | ">" | ">=" | "==" | "!="
//	number = digits ["." [digits]] | "." digits
//
// Spaces may surround the operator; the unit follows the number directly. An
// unquoted scope may contain dots: the last dot before a known metric name
// splits scope from metric, so "api.v2.p99.9 < 1s" is metric p99.9 of scope
// "api.v2". A scope with spaces or other characters is quoted:
// `"list products".p95 < 200ms`.
//
// # Metrics and units
//
//	p50 p90 p95 p99 p999 (p99.9) max min mean (avg)   latency: ms, s, us or µs, m (minutes); a unit is required
//	error_rate checks                                 ratio: a percentage, "1%" is 0.01
//	rps                                               requests per second, a plain number
//	requests failed dropped                           counts, a plain number
//
// Parsing converts the number to the metric's canonical unit (milliseconds
// for latency, 0..1 for ratios), which is also what [Values] return, so
// evaluation is a plain comparison.
package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Metric names, as they appear in expressions (canonical spelling) and as
// [Values] are asked for them.
const (
	P50       = "p50"  // latency, ms
	P90       = "p90"  // latency, ms
	P95       = "p95"  // latency, ms
	P99       = "p99"  // latency, ms
	P999      = "p999" // latency, ms; also written p99.9
	Max       = "max"  // latency, ms
	Min       = "min"  // latency, ms
	Mean      = "mean" // latency, ms; also written avg
	RPS       = "rps"  // completed requests per second
	Requests  = "requests"
	Failed    = "failed"     // transport errors plus responses with status >= 400
	Dropped   = "dropped"    // open model: starts that found no free client
	ErrorRate = "error_rate" // failed/requests, 0..1
	Checks    = "checks"     // passed checks/all checks, 0..1
)

// kind is what a metric measures, which decides the units it takes and how
// its values print.
type kind uint8

const (
	kindNone    kind = iota
	kindLatency      // milliseconds
	kindRatio        // 0..1, written as a percentage
	kindRate         // per second
	kindCount
)

// lookupMetric returns the canonical name and kind of a metric as written.
func lookupMetric(name string) (string, kind) {
	switch name {
	case P50, P90, P95, P99, P999, Max, Min, Mean:
		return name, kindLatency
	case "p99.9":
		return P999, kindLatency
	case "avg":
		return Mean, kindLatency
	case ErrorRate, Checks:
		return name, kindRatio
	case RPS:
		return name, kindRate
	case Requests, Failed, Dropped:
		return name, kindCount
	}
	return "", kindNone
}

const metricList = "p50, p90, p95, p99, p999, max, min, mean, rps, requests, failed, dropped, error_rate or checks"

// unitFactor is how many canonical units (milliseconds, or 1 for a ratio)
// one of unit is.
func unitFactor(unit string) (ms float64, ok bool) {
	switch unit {
	case "ms":
		return 1, true
	case "s":
		return 1000, true
	case "us", "µs", "μs": // micro sign and Greek mu, as time.ParseDuration
		return 0.001, true
	case "m":
		return 60000, true
	case "%":
		return 0.01, true
	}
	return 0, false
}

// toCanonical converts num, a decimal as written in unit, to the canonical
// unit. It moves the decimal point in the text rather than multiplying
// floats, so that "99.9%" is exactly the float nearest 0.999 (99.9/100 is
// not) and "checks >= 99.9%" passes when 999 of 1000 checks pass.
func toCanonical(num, unit string) (v float64, ok bool) {
	shift := 0
	switch unit {
	case "us", "µs", "μs":
		shift = -3
	case "%":
		shift = -2
	case "s", "m":
		shift = 3
	}
	n, err := strconv.ParseFloat(shiftDecimal(num, shift), 64)
	if unit == "m" {
		n *= 60
	}
	if err != nil || math.IsInf(n, 0) {
		return 0, false // beyond float64 (a tiny number just rounds to 0)
	}
	return n, true
}

// shiftDecimal multiplies the decimal num (digits with at most one point)
// by 10^k, in text.
func shiftDecimal(num string, k int) string {
	ip, fp, _ := strings.Cut(num, ".")
	digits := ip + fp
	point := len(ip) + k
	switch {
	case point <= 0:
		return "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return digits + strings.Repeat("0", point-len(digits))
	}
	return digits[:point] + "." + digits[point:]
}

// fromCanonical is the inverse of toCanonical, in floats: for printing.
func fromCanonical(v float64, unit string) float64 {
	switch unit {
	case "us", "µs", "μs":
		return v * 1000
	case "%":
		return v * 100
	}
	if f, ok := unitFactor(unit); ok {
		return v / f
	}
	return v
}

// Expr is a parsed threshold such as "p99 < 300ms", "checkout.p95 < 500ms",
// "error_rate < 1%", "checks > 99.9%" or "rps > 500".
type Expr struct {
	Scope  string  // "" for the whole run; else a scenario, group or request name
	Metric string  // canonical name: one of the metric constants (P99, ErrorRate, ...)
	Op     string  // <, <=, >, >=, == or !=
	Value  float64 // in the metric's canonical unit: ms for latency, 0..1 for ratios
	Unit   string  // as written: "ms", "s", "us", "µs", "m", "%" or "" (no unit)
	Src    string  // the text Parse was given

	// num is the number as written ("1.50"), so that String gives it back
	// exactly rather than through a float conversion; "" in an Expr built
	// by hand.
	num string
}

// Error is a problem in a threshold expression. Offset is a byte offset
// into the text given to Parse, so that a caller that knows where the text
// came from (a plan file) can point at the exact column.
type Error struct {
	Src    string // the text given to Parse
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("threshold %q: offset %d: %s", e.Src, e.Offset, e.Msg)
}

// Parse parses one expression; see the package documentation for the
// grammar. Errors are *Error.
func Parse(s string) (*Expr, error) {
	p := parser{s: s}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	e.Src = s
	return e, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(off int, format string, args ...any) *Error {
	return &Error{Src: p.s, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isOpByte(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '!' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// token returns the run of bytes from the current position up to a space,
// an operator byte or the end, without consuming it.
func (p *parser) token() string {
	end := p.pos
	for end < len(p.s) && !isSpace(p.s[end]) && !isOpByte(p.s[end]) {
		end++
	}
	return p.s[p.pos:end]
}

// rest returns the next space-separated piece of text, for messages.
func (p *parser) rest() string {
	end := p.pos
	for end < len(p.s) && !isSpace(p.s[end]) {
		end++
	}
	return p.s[p.pos:end]
}

func (p *parser) expr() (*Expr, error) {
	e := &Expr{}
	p.skipSpace()
	if p.pos == len(p.s) {
		return nil, p.errorf(p.pos, `empty threshold; want e.g. "p99 < 300ms"`)
	}
	k, err := p.lhs(e)
	if err != nil {
		return nil, err
	}
	lhsEnd := p.pos
	p.skipSpace()
	if err := p.op(e, lhsEnd); err != nil {
		return nil, err
	}
	p.skipSpace()
	return e, p.value(e, k)
}

// lhs parses [scope "."] metric.
func (p *parser) lhs(e *Expr) (kind, error) {
	if c := p.s[p.pos]; c == '"' || c == '\'' {
		return p.quotedLHS(e)
	}
	start := p.pos
	tok := p.token()
	if tok == "" {
		return 0, p.errorf(start, "want a metric such as p99 before %q", p.rest())
	}
	p.pos += len(tok)
	if m, k := lookupMetric(tok); k != kindNone {
		e.Metric = m
		return k, nil
	}
	// The last dot before a known metric splits scope from metric; the only
	// metric with a dot, p99.9, ends in "9", which is no metric, so the split
	// is never ambiguous.
	for i := len(tok) - 1; i >= 0; i-- {
		if tok[i] != '.' {
			continue
		}
		m, k := lookupMetric(tok[i+1:])
		if k == kindNone {
			continue
		}
		scope := tok[:i]
		if scope == "" {
			return 0, p.errorf(start, "empty scope before %q", tok[i:])
		}
		if bad := badScopeByte(scope); bad >= 0 {
			return 0, p.errorf(start+bad, "scope %s needs quotes: %s", strconv.Quote(scope), quoteScope(scope)+"."+tok[i+1:])
		}
		e.Scope, e.Metric = scope, m
		return k, nil
	}
	return 0, p.unknownMetric(start, tok)
}

// unknownMetric explains a left-hand side that names no known metric.
func (p *parser) unknownMetric(start int, tok string) *Error {
	// "list products.p95 < 1s": a scope with a space that was not quoted.
	lhs := p.s[start:]
	if i := strings.IndexAny(lhs, "<>=!"); i >= 0 {
		lhs = lhs[:i]
	}
	lhs = strings.TrimRight(lhs, " \t\r\n")
	if lhs != tok {
		if d := strings.LastIndexByte(lhs, '.'); d > 0 {
			if m, k := lookupMetric(lhs[d+1:]); k != kindNone {
				return p.errorf(start, "unknown metric %q; a scope with spaces needs quotes: %s.%s", tok, strconv.Quote(lhs[:d]), m)
			}
		}
	}
	// Point at the metric part: after the last dot, unless that leaves only
	// digits ("p99.8" is one word).
	name, off := tok, start
	if d := strings.LastIndexByte(tok, '.'); d >= 0 {
		if d2 := strings.LastIndexByte(tok[:d], '.'); allDigits(tok[d+1:]) && d2 >= 0 {
			d = d2
		}
		if !allDigits(tok[d+1:]) && tok[d+1:] != "" {
			name, off = tok[d+1:], start+d+1
		}
	}
	return p.errorf(off, "unknown metric %q (want %s)", name, metricList)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// quotedLHS parses "scope".metric.
func (p *parser) quotedLHS(e *Expr) (kind, error) {
	start := p.pos
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	closed := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		if c == q {
			closed = true
			break
		}
		if c == '\\' && p.pos < len(p.s) {
			c = p.s[p.pos]
			p.pos++
		}
		b.WriteByte(c)
	}
	if !closed {
		return 0, p.errorf(start, "unterminated quoted scope")
	}
	if b.Len() == 0 {
		return 0, p.errorf(start, "empty scope")
	}
	if p.pos == len(p.s) || p.s[p.pos] != '.' {
		return 0, p.errorf(p.pos, "want \".\" and a metric after the quoted scope, e.g. %s.p95", p.s[start:p.pos])
	}
	p.pos++
	mstart := p.pos
	tok := p.token()
	p.pos += len(tok)
	m, k := lookupMetric(tok)
	if k == kindNone {
		if tok == "" {
			return 0, p.errorf(mstart, "want a metric after %s (want %s)", p.s[start:mstart], metricList)
		}
		return 0, p.errorf(mstart, "unknown metric %q (want %s)", tok, metricList)
	}
	e.Scope, e.Metric = b.String(), m
	return k, nil
}

// badScopeByte returns the offset of the first byte of an unquoted scope
// that would need quotes, or -1: words of [A-Za-z0-9_-] joined by single dots.
func badScopeByte(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isWordByte(c) {
			continue
		}
		if c == '.' && i > 0 && i < len(s)-1 && s[i-1] != '.' {
			continue
		}
		return i
	}
	return -1
}

// quoteScope writes a scope so that Parse reads it back: bare when it can
// be, else double-quoted with \ before " and \.
func quoteScope(s string) string {
	if s != "" && badScopeByte(s) < 0 {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// op parses the comparison operator; lhsEnd is where the metric ended, for
// messages.
func (p *parser) op(e *Expr, lhsEnd int) error {
	const want = "want an operator (<, <=, >, >=, == or !=)"
	rest := p.s[p.pos:]
	for _, m := range [...]struct{ bad, good string }{{"=<", "<="}, {"=>", ">="}, {"<>", "!="}} {
		if strings.HasPrefix(rest, m.bad) {
			return p.errorf(p.pos, "unknown operator %q; want %s", m.bad, m.good)
		}
	}
	for _, op := range [...]string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			e.Op = op
			p.pos += len(op)
			return nil
		}
	}
	switch {
	case rest == "":
		return p.errorf(p.pos, "%s after %q", want, p.s[:lhsEnd])
	case rest[0] == '=':
		return p.errorf(p.pos, `unknown operator "="; want ==`)
	case rest[0] == '!':
		return p.errorf(p.pos, `unknown operator "!"; want !=`)
	}
	return p.errorf(p.pos, "%s, got %q", want, p.rest())
}

// value parses the number and its unit and checks the unit against the
// metric's kind.
func (p *parser) value(e *Expr, k kind) error {
	start := p.pos
	i := p.pos
	digits := 0
	for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
		i++
		digits++
	}
	if i < len(p.s) && p.s[i] == '.' {
		i++
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		if p.pos == len(p.s) {
			return p.errorf(p.pos, "want a number after %q", e.Op)
		}
		return p.errorf(p.pos, "want a number after %q, got %q", e.Op, p.rest())
	}
	num := p.s[start:i]
	p.pos = i

	ustart := p.pos
	for p.pos < len(p.s) && !isSpace(p.s[p.pos]) {
		p.pos++
	}
	unit := p.s[ustart:p.pos]
	if unit != "%" && strings.IndexFunc(unit, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return p.errorf(start, "want a plain decimal number and a unit, got %q", p.s[start:p.pos])
	}

	// Anything after the value is an error; a known unit after a space is
	// worth a hint.
	p.skipSpace()
	if p.pos < len(p.s) {
		extra := p.rest()
		if _, ok := unitFactor(extra); ok && unit == "" {
			return p.errorf(p.pos, "unexpected %q after the value; write the unit next to the number: %s%s", extra, num, extra)
		}
		return p.errorf(p.pos, "unexpected %q after the value", extra)
	}

	switch k {
	case kindLatency:
		if unit == "" {
			return p.errorf(start, "give a unit, e.g. %sms", num)
		}
		if _, ok := unitFactor(unit); !ok || unit == "%" {
			return p.errorf(ustart, "%s takes a time unit (ms, s, us, µs or m), not %q", e.Metric, unit)
		}
	case kindRatio:
		if unit == "" {
			return p.errorf(start, "give a percentage, e.g. %s%%", num)
		}
		if unit != "%" {
			return p.errorf(ustart, "%s takes a percentage, e.g. 1%%, not %q", e.Metric, unit)
		}
		if n, _ := strconv.ParseFloat(num, 64); n > 100 {
			return p.errorf(start, "%s%% is more than 100%%", num)
		}
	default:
		if unit != "" {
			return p.errorf(ustart, "%s takes a plain number, not %q", e.Metric, unit)
		}
	}
	v, ok := toCanonical(num, unit)
	if !ok {
		return p.errorf(start, "number %s out of range", num)
	}
	e.Value, e.Unit, e.num = v, unit, num
	return nil
}

// String returns e in canonical form, which Parse reads back to the same
// Expr (apart from Src): the metric's canonical name, single spaces around
// the operator, the number and unit as written.
func (e *Expr) String() string {
	var b strings.Builder
	if e.Scope != "" {
		b.WriteString(quoteScope(e.Scope))
		b.WriteByte('.')
	}
	b.WriteString(e.Metric)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	b.WriteByte(' ')
	unit := e.unit()
	if e.num != "" {
		b.WriteString(e.num)
	} else {
		b.WriteString(strconv.FormatFloat(fromCanonical(e.Value, unit), 'f', -1, 64))
	}
	b.WriteString(unit)
	return b.String()
}

// unit is the unit e's value is written in: as parsed, or for an Expr built
// by hand without one, the natural unit of its metric.
func (e *Expr) unit() string {
	if e.Unit != "" {
		return e.Unit
	}
	_, k := lookupMetric(e.Metric)
	switch k {
	case kindLatency:
		return "ms"
	case kindRatio:
		return "%"
	}
	return ""
}

// decimals is how many decimals the number was written with.
func (e *Expr) decimals() int {
	if i := strings.IndexByte(e.num, '.'); i >= 0 {
		return len(e.num) - i - 1
	}
	return 0
}
