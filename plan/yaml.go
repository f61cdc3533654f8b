package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// maxVisits bounds the YAML nodes one parse walks. Aliases let a small file
// name the same subtree many times (a "billion laughs" document); the walk
// stops with one error instead of expanding them all.
const maxVisits = 1 << 20

// durationHint ends every bad-duration message.
const durationHint = "want e.g. 500ms, 10s, 1m"

// parser walks a YAML document by hand so that every value keeps its
// position and every problem is reported, not only the first.
type parser struct {
	file   string
	dir    string // directory of file; relative paths resolve against it
	errs   Errors
	visits int
	halted bool // maxVisits reached: no more errors, every node reads as null
	// shipped, when set, holds the protos: files compiled by a distributed
	// run's controller (ParseWithProtos): none is read from disk.
	shipped *protoregistry.Files
}

// nullNode stands in for every node once the parser has halted.
var nullNode = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}

func (ps *parser) pos(n *yaml.Node) Pos { return Pos{File: ps.file, Line: n.Line, Column: n.Column} }

func (ps *parser) errorf(n *yaml.Node, format string, args ...any) {
	ps.errorAt(ps.pos(n), format, args...)
}

func (ps *parser) errorAt(at Pos, format string, args ...any) {
	if ps.halted {
		return
	}
	ps.errs = append(ps.errs, &Error{Pos: at, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases to the node they name and counts the visit.
func (ps *parser) deref(n *yaml.Node) *yaml.Node {
	if ps.halted {
		return nullNode
	}
	ps.visits++
	if ps.visits > maxVisits {
		ps.errorf(n, "plan too large: more than %d values (counting each use of an alias)", maxVisits)
		ps.halted = true
		return nullNode
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode && n.Style&yaml.FlowStyle != 0 {
			// `key: {{ token }}` is a flow mapping inside a flow mapping.
			return "an unquoted {{ template }}, which YAML reads as a mapping; put the value in quotes"
		}
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float", "!!bool":
			return clip(n.Value)
		}
		return strconv.Quote(clip(n.Value))
	}
	return "nothing"
}

// clip shortens s for an error message.
func clip(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	r := []rune(s)
	return string(r[:most]) + "…"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// entry is one key: value pair of a mapping.
type entry struct {
	Key  string
	K, V *yaml.Node // V is already dereferenced
}

// mapping returns the pairs of a mapping in file order. It reports a node
// that is not a mapping ("what: want a mapping, got a list"), keys that are
// not scalars, merge keys, and duplicate keys (with both positions); the bad
// pairs are left out.
func (ps *parser) mapping(n *yaml.Node, what string) ([]entry, bool) {
	if n.Kind != yaml.MappingNode {
		ps.errorf(n, "%s: want a mapping, got %s", what, describe(n))
		return nil, false
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	out := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		at := n.Content[i]
		k, v := ps.deref(at), ps.deref(n.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode:
			ps.errorf(at, "%s: want a string key, got %s", what, describe(k))
			continue
		case k.ShortTag() == "!!merge":
			ps.errorf(at, "%s: merge keys (<<) are not supported", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			ps.errorf(at, "duplicate key %q in %s; first at line %d, column %d", k.Value, what, first.Line, first.Column)
			continue
		}
		seen[k.Value] = at
		out = append(out, entry{Key: k.Value, K: at, V: v})
	}
	return out, true
}

// unknown reports a key that has no meaning where it is.
func (ps *parser) unknown(e entry, what string, known []string) {
	ps.errorf(e.K, "unknown key %q in %s; want one of: %s", e.Key, what, strings.Join(known, ", "))
}

// list returns the items of a sequence, dereferenced.
func (ps *parser) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n, "%s: want a list, got %s", what, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = ps.deref(c)
	}
	return out, true
}

// str reads any scalar but null as text, exactly as written.
func (ps *parser) str(key string, n *yaml.Node) (String, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.errorf(n, "%s: want a string, got %s", key, describe(n))
		return String{}, false
	}
	return String{Value: n.Value, Pos: ps.pos(n)}, true
}

// nonEmpty is str that also rejects "".
func (ps *parser) nonEmpty(key string, n *yaml.Node) (String, bool) {
	s, ok := ps.str(key, n)
	if ok && s.Value == "" {
		ps.errorf(n, "%s: must not be empty", key)
		return s, false
	}
	return s, ok
}

// strMap reads a mapping of scalars; check, if not nil, vets each name.
func (ps *parser) strMap(what string, n *yaml.Node, check func(e entry) bool) map[string]String {
	es, ok := ps.mapping(n, what)
	if !ok {
		return nil
	}
	m := make(map[string]String, len(es))
	for _, e := range es {
		if check != nil && !check(e) {
			continue
		}
		if s, ok := ps.str(what+" "+strconv.Quote(e.Key), e.V); ok {
			m[e.Key] = s
		}
	}
	return m
}

func (ps *parser) integer(key string, n *yaml.Node) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var i int
		if n.Decode(&i) == nil {
			return i, true
		}
	}
	ps.errorf(n, "%s: want an integer, got %s", key, describe(n))
	return 0, false
}

func (ps *parser) number(key string, n *yaml.Node) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	ps.errorf(n, "%s: want a number, got %s", key, describe(n))
	return 0, false
}

func (ps *parser) boolean(key string, n *yaml.Node) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if n.Decode(&b) == nil {
			return b, true
		}
	}
	ps.errorf(n, "%s: want true or false, got %s", key, describe(n))
	return false, false
}

// duration reads a duration >= 0 in Go syntax; see parseDuration.
func (ps *parser) duration(key string, n *yaml.Node) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.errorf(n, "%s: want a duration (e.g. 500ms, 10s, 1m), got %s", key, describe(n))
		return 0, false
	}
	d, err := parseDuration(n.Value)
	if err != nil {
		ps.errorf(n, "%s: %v", key, err)
		return 0, false
	}
	return d, true
}

// positive is duration that also rejects 0.
func (ps *parser) positive(key string, n *yaml.Node) (time.Duration, bool) {
	d, ok := ps.duration(key, n)
	if ok && d == 0 {
		ps.errorf(n, "%s: must be more than 0", key)
		return 0, false
	}
	return d, ok
}

// parseDuration parses time.ParseDuration syntax and insists on a unit: a
// bare "5" could mean seconds or milliseconds, so only "0" may go without.
// Negative durations are errors.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: %s", s, durationHint)
	}
	if d < 0 {
		return 0, fmt.Errorf("bad duration %q: must not be negative", s)
	}
	return d, nil
}

// parseThink parses "2s" (a fixed pause; Max = Min) or "1s..3s" (uniform in
// [Min, Max]).
func parseThink(s string) (Think, error) {
	lo, hi, isRange := strings.Cut(s, "..")
	if !isRange {
		d, err := parseDuration(s)
		return Think{Min: d, Max: d}, err
	}
	a, err := parseDuration(lo)
	if err != nil {
		return Think{}, fmt.Errorf("bad think time %q: %w", s, err)
	}
	b, err := parseDuration(hi)
	if err != nil {
		return Think{}, fmt.Errorf("bad think time %q: %w", s, err)
	}
	if a > b {
		return Think{}, fmt.Errorf("bad think time %q: min %v is more than max %v", s, a, b)
	}
	return Think{Min: a, Max: b}, nil
}

func (ps *parser) think(key string, n *yaml.Node) (*Think, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.errorf(n, "%s: want a duration (2s) or a range (1s..3s), got %s", key, describe(n))
		return nil, false
	}
	t, err := parseThink(n.Value)
	if err != nil {
		ps.errorf(n, "%s: %v", key, err)
		return nil, false
	}
	return &t, true
}

// isIdent reports whether s is [A-Za-z_][A-Za-z0-9_]*, the shape of a
// name templates can refer to.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

// ident checks that a mapping key is an identifier.
func (ps *parser) ident(what string, e entry) bool {
	if isIdent(e.Key) {
		return true
	}
	ps.errorf(e.K, "%s name %q: want letters, digits and _, not starting with a digit", what, clip(e.Key))
	return false
}

// toJSON writes n as JSON to buf: mappings become objects (keys in file
// order), lists arrays, and scalars keep their YAML type. Strings, template
// strings included, are written as JSON strings.
func (ps *parser) toJSON(key string, n *yaml.Node, buf *bytes.Buffer) bool {
	switch n.Kind {
	case yaml.MappingNode:
		es, ok := ps.mapping(n, key)
		if !ok {
			return false
		}
		buf.WriteByte('{')
		for i, e := range es {
			if i > 0 {
				buf.WriteByte(',')
			}
			jsonString(buf, e.Key)
			buf.WriteByte(':')
			if !ps.toJSON(key, e.V, buf) {
				ok = false
			}
		}
		buf.WriteByte('}')
		return ok
	case yaml.SequenceNode:
		ok := true
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !ps.toJSON(key, ps.deref(c), buf) {
				ok = false
			}
		}
		buf.WriteByte(']')
		return ok
	case yaml.ScalarNode:
		return ps.jsonScalar(key, n, buf)
	}
	ps.errorf(n, "%s: want a JSON value, got %s", key, describe(n))
	return false
}

func (ps *parser) jsonScalar(key string, n *yaml.Node, buf *bytes.Buffer) bool {
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
		return true
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			buf.WriteString(strconv.FormatBool(b))
			return true
		}
	case "!!int", "!!float":
		// Keep the number as written when it already is JSON (1.0 stays
		// 1.0); convert YAML-only forms such as 0x1F or 1_000.
		v := strings.TrimSpace(n.Value)
		if v != "" && (v[0] == '-' || '0' <= v[0] && v[0] <= '9') && json.Valid([]byte(v)) {
			buf.WriteString(v)
			return true
		}
		var x any
		if n.Decode(&x) == nil {
			if f, isFloat := x.(float64); isFloat && (math.IsNaN(f) || math.IsInf(f, 0)) {
				ps.errorf(n, "%s: %s is not a JSON number", key, n.Value)
				return false
			}
			if b, err := json.Marshal(x); err == nil {
				buf.Write(b)
				return true
			}
		}
	default:
		jsonString(buf, n.Value)
		return true
	}
	ps.errorf(n, "%s: bad %s value %s", key, strings.TrimPrefix(n.ShortTag(), "!!"), describe(n))
	return false
}

// jsonString writes s as a JSON string without escaping <, > and &, which
// are fine in a request body and common in templates' output.
func jsonString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}
