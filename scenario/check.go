package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
)

// Checker is a compiled plan.Check: one pass/fail test of a response.
type Checker struct {
	// Name is the check's name from the plan, or one made from what it
	// tests ("status is 200") when the plan gave none.
	Name string

	kind     plan.CheckKind
	statuses []int
	text     []byte         // CheckBodyContains
	re       *regexp.Regexp // CheckBodyRegex
	path     string         // CheckJSONEquals, CheckJSONExists: gjson path
	want     gjson.Result   // CheckJSONEquals
	latency  time.Duration  // CheckMaxLatency
	header   string         // CheckHeader: canonical name
	name     string         // CheckHeader: the name as written
	value    string         // CheckHeader: "" = the header exists
}

// CompileCheck compiles c. For CheckJSONEquals, c.Value is a JSON value
// (1, "ok", true, null, [1,2], {"a":1}); text that is not valid JSON is
// taken as a string, so `ok` and `"ok"` mean the same.
func CompileCheck(c plan.Check) (*Checker, error) {
	k := &Checker{Name: c.Name, kind: c.Kind}
	var err error
	switch c.Kind {
	case plan.CheckStatus:
		if len(c.Statuses) == 0 {
			return nil, errors.New("no status codes")
		}
		for _, s := range c.Statuses {
			if s < 100 || s > 599 {
				return nil, fmt.Errorf("status %d is not an HTTP status (100-599)", s)
			}
		}
		k.statuses = slices.Clone(c.Statuses)
		if len(c.Statuses) == 1 {
			k.defaultName("status is %d", c.Statuses[0])
		} else {
			k.defaultName("status in %v", c.Statuses)
		}
	case plan.CheckBodyContains:
		if c.Expr == "" {
			return nil, errors.New("empty text")
		}
		k.text = []byte(c.Expr)
		k.defaultName("body contains %q", c.Expr)
	case plan.CheckBodyRegex:
		if k.re, err = compileRegex(c.Expr); err != nil {
			return nil, err
		}
		k.defaultName("body matches %q", c.Expr)
	case plan.CheckJSONEquals:
		if k.path, err = jsonPath(c.Expr); err != nil {
			return nil, err
		}
		v := strings.TrimSpace(c.Value)
		if gjson.Valid(v) {
			k.want = gjson.Parse(v)
		} else {
			k.want = gjson.Result{Type: gjson.String, Str: c.Value, Raw: strconv.Quote(c.Value)}
		}
		k.defaultName("%s == %s", c.Expr, k.want.Raw)
	case plan.CheckJSONExists:
		if k.path, err = jsonPath(c.Expr); err != nil {
			return nil, err
		}
		k.defaultName("%s exists", c.Expr)
	case plan.CheckMaxLatency:
		if c.Latency <= 0 {
			return nil, fmt.Errorf("max latency must be positive, got %v", c.Latency)
		}
		k.latency = c.Latency
		k.defaultName("latency <= %v", c.Latency)
	case plan.CheckHeader, plan.CheckTrailer:
		if c.Expr == "" {
			return nil, errors.New("empty header name")
		}
		k.header, k.name, k.value = textproto.CanonicalMIMEHeaderKey(c.Expr), c.Expr, c.Value
		what := "header"
		if c.Kind == plan.CheckTrailer {
			what = "trailer"
		}
		if c.Value == "" {
			k.defaultName("%s %s exists", what, k.header)
		} else {
			k.defaultName("%s %s == %q", what, k.header, c.Value)
		}
	default:
		return nil, fmt.Errorf("unknown check kind %d", c.Kind)
	}
	return k, nil
}

func (k *Checker) defaultName(format string, args ...any) {
	if k.Name == "" {
		k.Name = fmt.Sprintf(format, args...)
	}
}

// Apply reports whether r passes the check.
func (k *Checker) Apply(r *Response) bool {
	switch k.kind {
	case plan.CheckStatus:
		return slices.Contains(k.statuses, r.Status)
	case plan.CheckBodyContains:
		return bytes.Contains(r.Body, k.text)
	case plan.CheckBodyRegex:
		return k.re.Match(r.Body)
	case plan.CheckJSONEquals:
		got := gjson.Get(view(r.Body), k.path)
		return got.Exists() && equalJSON(got, k.want)
	case plan.CheckJSONExists:
		return gjson.Get(view(r.Body), k.path).Exists()
	case plan.CheckMaxLatency:
		return r.Latency <= k.latency
	case plan.CheckHeader:
		return r.headerHas(k.header, k.name, k.value)
	case plan.CheckTrailer:
		vs := headerValues(r.Trailer, k.header, k.name)
		return vs != nil && (k.value == "" || slices.Contains(vs, k.value))
	}
	return false
}

// equalJSON compares two JSON values by meaning: numbers by value (1 ==
// 1.0 == 1e0), strings after unescaping, objects by their keys whatever
// the order (a repeated key: the last one counts, as in encoding/json),
// arrays element by element.
func equalJSON(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case gjson.Number:
		return equalNumbers(a.Raw, b.Raw)
	case gjson.String:
		return a.Str == b.Str
	case gjson.JSON:
		if a.IsArray() != b.IsArray() {
			return false
		}
		if a.IsArray() {
			x, y := a.Array(), b.Array()
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				if !equalJSON(x[i], y[i]) {
					return false
				}
			}
			return true
		}
		x, y := objectMap(a), objectMap(b)
		if len(x) != len(y) {
			return false
		}
		for key, v := range x {
			w, ok := y[key]
			if !ok || !equalJSON(v, w) {
				return false
			}
		}
	}
	return true // null, true, false: the type says it all
}

func objectMap(o gjson.Result) map[string]gjson.Result {
	m := map[string]gjson.Result{}
	o.ForEach(func(k, v gjson.Result) bool {
		m[k.Str] = v
		return true
	})
	return m
}

// equalNumbers compares two JSON numbers exactly, as decimals: it does not
// go through float64, so large integer IDs that differ in the last digit
// are not equal, and it does not expand exponents, so 1e999999 costs
// nothing.
func equalNumbers(x, y string) bool {
	a, okA := parseDecimal(x)
	b, okB := parseDecimal(y)
	if !okA || !okB {
		return x == y
	}
	return a == b
}

// decimal is a number as ±0.digits × 10^exp with no leading or trailing
// zero in digits; zero has no digits and no sign.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s == "" {
		return d, false
	}
	if s[0] == '-' {
		d.neg, s = true, s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return d, false
	}
	digits := intPart + frac
	if strings.Trim(digits, "0123456789") != "" {
		return d, false
	}
	var exp int64
	if hasExp {
		e, err := strconv.ParseInt(strings.TrimPrefix(expText, "+"), 10, 64)
		if err != nil {
			return d, false
		}
		exp = max(min(e, 1<<40), -1<<40) // beyond any real number; keeps the sum below from overflowing
	}
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = digits[lead:]
	exp += int64(len(intPart) - lead)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return decimal{}, true
	}
	d.digits, d.exp = digits, exp
	return d, true
}
