package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// doc is a plan as the importers build it, before it becomes YAML. Fields
// that the plan reads as templates (paths, header, query and form values,
// bodies, JSON strings) hold text with marked expressions (see ref); the
// writer turns them into template source. Everything else is literal.
type doc struct {
	header     []string // comment lines at the top
	name       string
	baseURL    string
	env        []kv // NAME -> default
	vars       []kv
	defHeaders []kv
	data       []feed
	scenarios  []*scen
	load       loadShape
	loadNote   []string // comment lines above load
	thresholds []string
}

// kv is a key and a value, with an optional line comment.
type kv struct {
	k, v    string
	comment string
	raw     bool // v is YAML written as is (an extract's long form)
}

type feed struct {
	name, csv, pick string
	comment         string
}

type scen struct {
	name       string
	weight     int
	load       *loadShape // its own load (several JMeter thread groups)
	startAfter string     // the scenario it waits for (a setUp Thread Group's)
	comment    []string
	steps      []*step
}

type loadShape struct {
	clients          int
	rampUp, duration time.Duration
	iterations       int
}

type think struct{ min, max time.Duration }

// step is a request (method != ""), a pause (pause != nil) or a group.
type step struct {
	comment []string

	method, path, name string
	headers            []kv
	query              []kv
	json               *jval
	form               []kv
	body               *string
	bodyFile           string
	timeout            time.Duration
	followRedirects    int
	extract            []kv
	status             int
	checks             checks

	pause *think

	group string
	steps []*step

	// Logic (JMeter controllers): cond is an expression without braces.
	logic     string // "if", "loop", "foreach", "set" or ""
	cond      string // if: condition; loop: while condition; foreach: the list
	count     int    // loop: count
	max       int    // loop while / foreach: bound
	as        string // foreach: element variable
	els       []*step
	set       []kv // set: variable -> expression (without braces)
	onFailure string
}

// checks are assertions beyond the status (JMeter assertions).
type checks struct {
	statuses     []int
	bodyContains string
	bodyRegex    string
	json         []kv // path -> YAML scalar, written as is
	jsonExists   []string
	maxLatency   time.Duration
}

func (c *checks) empty() bool {
	return len(c.statuses) == 0 && c.bodyContains == "" && c.bodyRegex == "" && len(c.json) == 0 && len(c.jsonExists) == 0 && c.maxLatency == 0
}

// findKV returns the value and index of key (any case) in list, or -1.
func findKV(list []kv, name string) (string, int) {
	for i, h := range list {
		if strings.EqualFold(h.k, name) {
			return h.v, i
		}
	}
	return "", -1
}

// setKV replaces the value of key (any case) or appends it.
func setKV(list []kv, key, val string) []kv {
	if _, i := findKV(list, key); i >= 0 {
		list[i].v = val
		return list
	}
	return append(list, kv{k: key, v: val})
}

func delKV(list []kv, key string) []kv {
	if _, i := findKV(list, key); i >= 0 {
		return append(list[:i:i], list[i+1:]...)
	}
	return list
}

// bytes writes the plan as YAML.
func (d *doc) bytes() []byte {
	w := &writer{}
	for _, c := range d.header {
		w.comment(0, c)
	}
	if d.name != "" {
		w.line(0, "name: "+scalar(d.name))
	}
	if d.baseURL != "" {
		w.line(0, "base_url: "+scalar(d.baseURL))
	}
	if len(d.env) > 0 {
		w.line(0, "env:                    # environment variables the plan reads, with their defaults")
		w.pairs(2, d.env, false)
	}
	if len(d.vars) > 0 {
		w.line(0, "vars:")
		w.pairs(2, d.vars, false)
	}
	if len(d.defHeaders) > 0 {
		w.line(0, "defaults:")
		w.line(2, "headers:               # sent with every request")
		w.pairs(4, d.defHeaders, true)
	}
	if len(d.data) > 0 {
		w.line(0, "data:")
		for _, f := range d.data {
			w.line(2, scalar(f.name)+":"+trail(f.comment))
			w.line(4, "csv: "+scalar(f.csv))
			if f.pick != "" {
				w.line(4, "pick: "+f.pick)
			}
		}
	}
	w.line(0, "scenarios:")
	for _, s := range d.scenarios {
		for _, c := range s.comment {
			w.comment(2, c)
		}
		w.line(2, scalar(s.name)+":")
		if s.weight > 0 {
			w.line(4, "weight: "+strconv.Itoa(s.weight))
		}
		if s.load != nil {
			w.line(4, "load: "+s.load.inline())
		}
		if s.startAfter != "" {
			w.line(4, "start_after: "+scalar(s.startAfter))
		}
		w.line(4, "steps:")
		w.steps(6, s.steps)
	}
	w.blank()
	for _, c := range d.loadNote {
		w.comment(0, c)
	}
	l := d.load
	if l.clients > 0 {
		d.writeLoad(w, l)
	}
	if len(d.thresholds) > 0 {
		w.line(0, "thresholds:             # pass/fail for CI: adjust them to your service level objectives")
		for _, t := range d.thresholds {
			w.line(2, "- "+scalar(t))
		}
	}
	return w.buf.Bytes()
}

// inline writes a load as a flow mapping.
func (l loadShape) inline() string {
	parts := []string{"clients: " + strconv.Itoa(l.clients)}
	if l.rampUp > 0 {
		parts = append(parts, "ramp_up: "+fmtDur(l.rampUp))
	}
	if l.duration > 0 {
		parts = append(parts, "duration: "+fmtDur(l.duration))
	}
	if l.iterations > 0 {
		parts = append(parts, "iterations: "+strconv.Itoa(l.iterations))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func (d *doc) writeLoad(w *writer, l loadShape) {
	w.line(0, "load:")
	w.line(2, "clients: "+strconv.Itoa(l.clients))
	if l.rampUp > 0 {
		w.line(2, "ramp_up: "+fmtDur(l.rampUp))
	}
	if l.duration > 0 {
		w.line(2, "duration: "+fmtDur(l.duration))
	}
	if l.iterations > 0 {
		w.line(2, "iterations: "+strconv.Itoa(l.iterations))
	}
}

type writer struct{ buf bytes.Buffer }

func (w *writer) line(indent int, s string) {
	w.buf.WriteString(strings.Repeat(" ", indent))
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}

func (w *writer) blank() { w.buf.WriteByte('\n') }

func (w *writer) comment(indent int, s string) {
	if s == "" {
		w.line(indent, "#")
		return
	}
	w.line(indent, "# "+oneLine(s))
}

// trail is a line comment, or "" when there is none.
func trail(c string) string {
	if c == "" {
		return ""
	}
	return "  # " + oneLine(c)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85 {
			return ' '
		}
		return r
	}, s)
}

// pairs writes a mapping of strings; templ says whether values are
// templates (header values) or plain strings (vars, env).
func (w *writer) pairs(indent int, list []kv, templ bool) {
	for _, p := range list {
		v := p.v
		if templ {
			v = tpl(v)
		}
		w.line(indent, scalar(p.k)+": "+scalar(v)+trail(p.comment))
	}
}

func (w *writer) steps(indent int, steps []*step) {
	for _, s := range steps {
		for _, c := range s.comment {
			w.comment(indent, c)
		}
		for i, l := range s.lines() {
			if i == 0 {
				w.line(indent, "- "+l)
			} else {
				w.line(indent, "  "+l)
			}
		}
	}
}

// lines renders a step as block YAML lines, relative to the step's "- ".
func (s *step) lines() []string {
	switch {
	case s.pause != nil:
		t := fmtDur(s.pause.min)
		if s.pause.max > s.pause.min {
			t += ".." + fmtDur(s.pause.max)
		}
		return []string{"think: " + t}
	case s.logic != "":
		return s.logicLines()
	case s.method == "":
		out := []string{"group: " + scalar(s.group)}
		if s.onFailure != "" {
			out = append(out, "on_failure: "+s.onFailure)
		}
		return append(out, stepList("steps", s.steps)...)
	}
	out := []string{strings.ToLower(s.method) + ": " + scalar(tpl(s.path))}
	if s.name != "" {
		out = append(out, "name: "+scalar(s.name))
	}
	mapping := func(key string, list []kv, templ bool) {
		if len(list) == 0 {
			return
		}
		out = append(out, key+":")
		for _, p := range list {
			v := p.v
			if templ {
				v = tpl(v)
			}
			if !p.raw {
				v = scalar(v)
			}
			out = append(out, "  "+scalar(p.k)+": "+v+trail(p.comment))
		}
	}
	mapping("headers", s.headers, true)
	mapping("query", s.query, true)
	switch {
	case s.json != nil && s.json.container() && !s.json.empty():
		out = append(out, "json:")
		for _, l := range s.json.lines() {
			out = append(out, "  "+l)
		}
	case s.json != nil:
		out = append(out, "json: "+s.json.scalar())
	case len(s.form) > 0:
		mapping("form", s.form, true)
	case s.body != nil:
		out = append(out, "body: "+scalar(tpl(*s.body)))
	case s.bodyFile != "":
		out = append(out, "body_file: "+scalar(s.bodyFile))
	}
	if s.timeout > 0 {
		out = append(out, "timeout: "+fmtDur(s.timeout))
	}
	if s.followRedirects > 0 {
		out = append(out, "follow_redirects: "+strconv.Itoa(s.followRedirects))
	}
	mapping("extract", s.extract, false)
	c := s.checks
	if s.status != 0 && len(c.statuses) == 0 {
		c.statuses = []int{s.status}
	}
	if !c.empty() {
		out = append(out, "check:")
		switch len(c.statuses) {
		case 0:
		case 1:
			out = append(out, "  status: "+strconv.Itoa(c.statuses[0]))
		default:
			codes := make([]string, len(c.statuses))
			for i, x := range c.statuses {
				codes[i] = strconv.Itoa(x)
			}
			out = append(out, "  status: ["+strings.Join(codes, ", ")+"]")
		}
		if c.bodyContains != "" {
			out = append(out, "  body_contains: "+scalar(c.bodyContains))
		}
		if c.bodyRegex != "" {
			out = append(out, "  body_regex: "+scalar(c.bodyRegex))
		}
		if len(c.json) > 0 {
			out = append(out, "  json:")
			for _, p := range c.json {
				out = append(out, "    "+scalar(p.k)+": "+p.v)
			}
		}
		if len(c.jsonExists) > 0 {
			out = append(out, "  json_exists:")
			for _, p := range c.jsonExists {
				out = append(out, "    - "+scalar(p))
			}
		}
		if c.maxLatency > 0 {
			out = append(out, "  max_latency: "+fmtDur(c.maxLatency))
		}
	}
	if s.onFailure != "" {
		out = append(out, "on_failure: "+s.onFailure)
	}
	return out
}

// stepList writes key: and the steps below it, relative to the step's "- ".
func stepList(key string, steps []*step) []string {
	w := &writer{}
	w.steps(2, steps)
	return append([]string{key + ":"}, strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")...)
}

// exprScalar writes an expression as a quoted '{{ x }}' scalar.
func exprScalar(x string) string { return quote("{{ " + x + " }}") }

func (s *step) logicLines() []string {
	var out []string
	switch s.logic {
	case "set":
		out = append(out, "set:")
		for _, p := range s.set {
			out = append(out, "  "+scalar(p.k)+": "+exprScalar(p.v))
		}
		return out
	case "if":
		out = append(out, "if: "+exprScalar(s.cond))
	case "loop":
		if s.cond == "" {
			out = append(out, "loop: { count: "+strconv.Itoa(s.count)+" }")
		} else {
			as := ""
			if s.as != "" {
				as = ", as: " + s.as
			}
			out = append(out, "loop: { while: "+exprScalar(s.cond)+", max: "+strconv.Itoa(s.max)+as+" }")
		}
	case "foreach":
		fe := "foreach: { in: " + exprScalar(s.cond) + ", as: " + s.as
		if s.max > 0 {
			fe += ", max: " + strconv.Itoa(s.max)
		}
		out = append(out, fe+" }")
	}
	if s.name != "" {
		out = append(out, "name: "+scalar(s.name))
	}
	if s.onFailure != "" {
		out = append(out, "on_failure: "+s.onFailure)
	}
	if s.logic == "if" {
		out = append(out, stepList("then", s.steps)...)
		if len(s.els) > 0 {
			out = append(out, stepList("else", s.els)...)
		}
		return out
	}
	return append(out, stepList("steps", s.steps)...)
}

// jval is a JSON value that keeps its keys in order (a request body is
// written back the way it was recorded). Strings hold marked text.
type jval struct {
	kind byte   // 'o' object, 'a' array, 's' string, 'n' number, 'b' true/false, 'z' null
	text string // string, number as written, "true"/"false"
	keys []string
	vals []*jval
}

// maxJSONDepth bounds nesting: deeper bodies stay text (body:).
const maxJSONDepth = 64

var errNotPlanJSON = errors.New("not a JSON document a plan can hold")

// parseJSON reads one JSON document, keeping key order. Documents a plan
// cannot hold as `json:` are errors: duplicate keys (YAML forbids them),
// literal "{{" (the escape would be JSON-quoted), too deep a nesting.
func parseJSON(s string) (*jval, error) {
	if !json.Valid([]byte(s)) || strings.Contains(s, "{{") {
		return nil, errNotPlanJSON
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotPlanJSON
	}
	return v, nil
}

func readJSON(dec *json.Decoder, depth int) (*jval, error) {
	if depth > maxJSONDepth {
		return nil, errNotPlanJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		v := &jval{kind: 'a'}
		if t == '{' {
			v.kind = 'o'
		}
		seen := map[string]bool{}
		for dec.More() {
			if v.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := k.(string)
				if seen[key] {
					return nil, errNotPlanJSON
				}
				seen[key] = true
				v.keys = append(v.keys, key)
			}
			x, err := readJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			v.vals = append(v.vals, x)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return v, nil
	case string:
		return &jval{kind: 's', text: t}, nil
	case json.Number:
		return &jval{kind: 'n', text: t.String()}, nil
	case bool:
		return &jval{kind: 'b', text: strconv.FormatBool(t)}, nil
	case nil:
		return &jval{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

func (v *jval) container() bool { return v.kind == 'o' || v.kind == 'a' }
func (v *jval) empty() bool     { return len(v.vals) == 0 }

// scalar writes a scalar or an empty container inline.
func (v *jval) scalar() string {
	switch v.kind {
	case 'o':
		return "{}"
	case 'a':
		return "[]"
	case 's':
		return scalar(tpl(v.text))
	case 'z':
		return "null"
	}
	return v.text
}

// lines writes a non-empty container as block YAML.
func (v *jval) lines() []string {
	var out []string
	for i, x := range v.vals {
		lead := "- "
		if v.kind == 'o' {
			lead = scalar(tpl(v.keys[i])) + ":"
		}
		if !x.container() || x.empty() {
			if v.kind == 'o' {
				lead += " "
			}
			out = append(out, lead+x.scalar())
			continue
		}
		sub := x.lines()
		if v.kind == 'o' {
			out = append(out, lead)
			for _, l := range sub {
				out = append(out, "  "+l)
			}
			continue
		}
		out = append(out, lead+sub[0])
		for _, l := range sub[1:] {
			out = append(out, "  "+l)
		}
	}
	return out
}

// scalar writes s as a YAML scalar that reads back as the same string:
// plain when that is safe, double-quoted otherwise. It errs on the side of
// quoting (anything that could read as a number, a boolean or null).
func scalar(s string) string {
	if plainSafe(s) {
		return s
	}
	return quote(s)
}

var yamlWords = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true,
	"null": true, "~": true, "<<": true, "=": true,
}

func plainSafe(s string) bool {
	if s == "" || yamlWords[strings.ToLower(s)] {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`+. \t0123456789<=") {
		return false
	}
	last := s[len(s)-1]
	if last == ' ' || last == ':' {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || r == '\uFEFF' || (r != ' ' && !unicode.IsPrint(r)) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// quote writes s as a YAML double-quoted scalar. Invalid UTF-8 becomes
// U+FFFD: YAML text is Unicode (callers keep binary data out).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case r == ' ', r != '\uFEFF' && r != 0x85 && r != 0x2028 && r != 0x2029 && unicode.IsPrint(r) && r != utf8.RuneError:
				b.WriteRune(r)
			case r == utf8.RuneError:
				b.WriteString(`\uFFFD`)
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
