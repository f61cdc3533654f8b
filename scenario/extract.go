package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

// Response is what a step's response looked like, as the runner captured it.
// Extractors and checks only read it; Body may be a buffer the runner reuses
// for the next request, so nothing keeps a reference to it.
type Response struct {
	Status  int
	Header  http.Header
	Body    []byte
	Latency time.Duration
	Cookies []*http.Cookie // set by this response
	// Trailer is a gRPC call's trailer metadata (its Header the call's
	// header metadata), when its step checks or extracts metadata.
	Trailer http.Header
	// head is the response's raw header lines ("Name: value\n" each) on
	// the event-loop path, which builds no Header map: when Header is nil
	// lookups read these bytes instead.
	head []byte
}

// nextHeader returns the value of the first header line named name
// (case-insensitively) in head at or after offset from, and the offset
// after that line; next is -1 when there is none.
func nextHeader(head []byte, name string, from int) (val []byte, next int) {
	for from < len(head) {
		end := bytes.IndexByte(head[from:], '\n')
		if end < 0 {
			end = len(head) - from
		}
		line := head[from : from+end]
		from += end + 1
		colon := bytes.IndexByte(line, ':')
		if colon == len(name) && strings.EqualFold(view(line[:colon]), name) {
			return bytes.Trim(line[colon+1:], " \t"), from
		}
	}
	return nil, -1
}

// headerFirst returns the first value of header canon (written name).
func (r *Response) headerFirst(canon, name string) (string, bool) {
	if r.Header == nil && r.head != nil {
		if v, next := nextHeader(r.head, canon, 0); next >= 0 {
			return string(v), true
		}
		return "", false
	}
	if vs := headerValues(r.Header, canon, name); len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// headerHas reports whether header canon is there (value "") or has value
// among its values.
func (r *Response) headerHas(canon, name, value string) bool {
	if r.Header == nil && r.head != nil {
		for at := 0; ; {
			v, next := nextHeader(r.head, canon, at)
			if next < 0 {
				return false
			}
			if value == "" || view(v) == value {
				return true
			}
			at = next
		}
	}
	vs := headerValues(r.Header, canon, name)
	if value == "" {
		return vs != nil
	}
	return slices.Contains(vs, value)
}

// cookie returns the value of the cookie name this response set; the last
// one wins, as in a browser's cookie jar.
func (r *Response) cookie(name string) (string, bool) {
	if r.Header == nil && r.head != nil {
		v, found := "", false
		for at := 0; ; {
			line, next := nextHeader(r.head, "Set-Cookie", at)
			if next < 0 {
				return v, found
			}
			if ck, err := http.ParseSetCookie(string(line)); err == nil && ck.Name == name {
				v, found = ck.Value, true
			}
			at = next
		}
	}
	for i := len(r.Cookies) - 1; i >= 0; i-- {
		if c := r.Cookies[i]; c != nil && c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// Extractor is a compiled plan.Extract: it stores a value from a response
// into a variable slot for later steps.
type Extractor struct {
	Slot int    // the variable's slot in the template names
	Var  string // the variable's name
	// Default, when not nil, is the value stored when the response has
	// none; Required makes a missing value a failure (see plan.Extract).
	Default  *string
	Required bool

	from   plan.ExtractFrom
	path   string         // FromJSON: gjson path
	re     *regexp.Regexp // FromRegex
	group  int            // FromRegex: 1 when re has a group, else 0 (whole match)
	header string         // FromHeader: canonical name
	name   string         // FromHeader, FromCookie: the name as written
}

// CompileExtract compiles e, adding e.Var to names. JSON paths are gjson
// paths; the JSONPath forms "$.a.b", "$.items[0].id" and "$['a.b']" are
// translated (see jsonPath). A regex is compiled once, here.
func CompileExtract(e plan.Extract, names *tmpl.Names) (*Extractor, error) {
	if e.Var == "" {
		return nil, errors.New("no variable name")
	}
	x := &Extractor{Var: e.Var, from: e.From, name: e.Expr, Default: e.Default, Required: e.Required}
	switch e.From {
	case plan.FromJSON:
		p, err := jsonPath(e.Expr)
		if err != nil {
			return nil, err
		}
		x.path = p
	case plan.FromRegex:
		re, err := compileRegex(e.Expr)
		if err != nil {
			return nil, err
		}
		x.re = re
		if re.NumSubexp() > 0 {
			x.group = 1
		}
	case plan.FromHeader, plan.FromTrailer:
		if e.Expr == "" {
			return nil, errors.New("empty header name")
		}
		x.header, x.name = textproto.CanonicalMIMEHeaderKey(e.Expr), e.Expr
	case plan.FromCookie:
		if e.Expr == "" {
			return nil, errors.New("empty cookie name")
		}
	default:
		return nil, fmt.Errorf("unknown extraction source %d", e.From)
	}
	// Only now, so that a bad extraction does not leave a name behind.
	x.Slot = names.Add(e.Var)
	return x, nil
}

// Apply stores the extracted value into st.Vals[x.Slot] and reports whether
// it was found; when it was not, the variable is set to Default, or keeps
// its old value when there is no Default.
func (x *Extractor) Apply(r *Response, st *tmpl.State) bool {
	ok, _ := x.apply(r, st)
	return ok
}

// apply is Apply that also reports whether the value is JSON text (an
// array, an object, a number, true, false or null) rather than a string.
func (x *Extractor) apply(r *Response, st *tmpl.State) (found, isJSON bool) {
	v, isJSON, ok := x.value(r)
	if x.Slot >= len(st.Vals) {
		return ok, false
	}
	switch {
	case ok:
		st.Vals[x.Slot] = v
	case x.Default != nil:
		st.Vals[x.Slot] = *x.Default
	}
	return ok, ok && isJSON
}

// value returns the extracted value, copied out of the response.
func (x *Extractor) value(r *Response) (v string, isJSON, ok bool) {
	switch x.from {
	case plan.FromJSON:
		res := gjson.Get(view(r.Body), x.path)
		if !res.Exists() {
			return "", false, false
		}
		if res.Type == gjson.String {
			return strings.Clone(res.Str), false, true
		}
		return strings.Clone(res.Raw), true, true
	case plan.FromRegex:
		m := x.re.FindSubmatchIndex(r.Body)
		if m == nil || m[2*x.group] < 0 {
			return "", false, false
		}
		return string(r.Body[m[2*x.group]:m[2*x.group+1]]), false, true
	case plan.FromHeader:
		if v, ok := r.headerFirst(x.header, x.name); ok {
			return v, false, true
		}
	case plan.FromCookie:
		if v, ok := r.cookie(x.name); ok {
			return v, false, true
		}
	case plan.FromTrailer:
		if vs := headerValues(r.Trailer, x.header, x.name); len(vs) > 0 {
			return vs[0], false, true
		}
	}
	return "", false, false
}

// view returns b as a string without copying, for read-only lookups whose
// results are copied (or dropped) before b can change.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// headerValues looks a header up case-insensitively: by its canonical key
// first, then by any spelling, for maps not built by net/http.
func headerValues(h http.Header, canon, name string) []string {
	if vs, ok := h[canon]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

func compileRegex(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, errors.New("empty regex")
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("bad regex: %w", err)
	}
	return re, nil
}

// jsonPath turns a path as a plan writes it into a gjson path:
//
//	token, data.items.0.id     gjson paths, kept as they are
//	$.token                    → token
//	$.items[0].id              → items.0.id
//	items[0].id                → items.0.id
//	$.items[*].id              → items.#.id (every id)
//	$['a.b'].c                 → a\.b.c
//	$                          → @this (the whole document)
//
// A path that uses gjson's own syntax (#(...) queries, @modifiers, | pipes,
// [a,b] or {a,b} multipaths) is kept as it is, after any leading "$.".
func jsonPath(expr string) (string, error) {
	if expr == "" {
		return "", errors.New("empty JSON path")
	}
	if expr == "$" {
		return "@this", nil
	}
	rest, dollar := strings.CutPrefix(expr, "$")
	if dollar {
		switch {
		case strings.Contains(rest, ".."):
			return "", fmt.Errorf("JSON path %q: recursive descent (..) is not supported", expr)
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
		case strings.HasPrefix(rest, "["):
		default:
			return "", fmt.Errorf(`JSON path %q: expected "." or "[" after "$"`, expr)
		}
	}
	if rest == "" {
		return "", fmt.Errorf("JSON path %q: no key after \"$.\"", expr)
	}
	if strings.Contains(rest, "[?") {
		return "", fmt.Errorf("JSON path %q: filter expressions are not supported; use a gjson query such as items.#(id==3)", expr)
	}
	if strings.ContainsAny(rest, "#@|(") || !dollar && (rest[0] == '[' || rest[0] == '{') {
		return rest, nil // gjson syntax
	}
	if !strings.Contains(rest, "[") {
		if err := checkKeys(expr, rest); err != nil {
			return "", err
		}
		return rest, nil
	}
	var b strings.Builder
	for i := 0; i < len(rest); {
		switch c := rest[i]; c {
		case '.':
			i++
			if i == len(rest) || rest[i] == '.' || rest[i] == '[' {
				return "", fmt.Errorf("JSON path %q: empty key", expr)
			}
		case '[':
			end := strings.IndexByte(rest[i:], ']')
			if end < 0 {
				return "", fmt.Errorf(`JSON path %q: missing "]"`, expr)
			}
			seg, err := bracket(expr, rest[i+1:i+end])
			if err != nil {
				return "", err
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
			i += end + 1
			if i < len(rest) && rest[i] != '.' && rest[i] != '[' {
				return "", fmt.Errorf(`JSON path %q: expected "." or "[" after "]"`, expr)
			}
		default:
			end := strings.IndexAny(rest[i:], ".[")
			if end < 0 {
				end = len(rest) - i
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(rest[i : i+end])
			i += end
		}
	}
	return b.String(), nil
}

// bracket translates the inside of [...] into a gjson path component.
func bracket(expr, in string) (string, error) {
	switch {
	case in == "*":
		return "#", nil
	case len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0]:
		return gjson.Escape(in[1 : len(in)-1]), nil
	case in != "" && strings.Trim(in, "0123456789") == "":
		return in, nil
	}
	return "", fmt.Errorf("JSON path %q: unsupported index [%s] (use a number, * or a quoted key)", expr, in)
}

// checkKeys rejects empty keys in a dotted path ("a..b", "a.", ".a").
func checkKeys(expr, path string) error {
	if strings.HasPrefix(path, ".") || strings.Contains(path, "..") ||
		strings.HasSuffix(path, ".") && !strings.HasSuffix(path, `\.`) {
		return fmt.Errorf("JSON path %q: empty key", expr)
	}
	return nil
}
