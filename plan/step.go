package plan

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fuka-load/fuka/client"
)

var (
	methodKeys  = []string{"get", "post", "put", "delete", "patch", "head", "options"}
	actionKeys  = append(slices.Clip(methodKeys), "think", "group", "if", "loop", "foreach", "set", "ws", "send", "expect", "close", "grpc")
	requestKeys = []string{"name", "headers", "query", "json", "form", "body", "body_file", "timeout", "extract", "check", "abort_on_fail", "retries", "retry_non_idempotent", "multipart", "follow_redirects", "on_failure"}
	groupKeys   = []string{"group", "steps", "on_failure"}
	thinkKeys   = []string{"think"}
	// anyStepKeys is every key a step may have, for a step without an action.
	anyStepKeys = slices.Concat(actionKeys, requestKeys, []string{"steps", "then", "else", "subprotocols", "binary"})
	checkKeys   = []string{"status", "body_contains", "body_regex", "json", "json_exists", "max_latency", "header", "trailer"}
)

func (ps *parser) steps(key string, n *yaml.Node) []*Step {
	items, ok := ps.list(n, key)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		ps.errorf(n, "%s: want at least one step", key)
	}
	out := make([]*Step, 0, len(items))
	for _, it := range items {
		if st := ps.step(it); st != nil {
			out = append(out, st)
		}
	}
	return out
}

// step reads one step. Its action key (a method, think or group) says what
// it is and which other keys it may have.
func (ps *parser) step(n *yaml.Node) *Step {
	es, ok := ps.mapping(n, "step")
	if !ok {
		return nil
	}
	var action *entry
	// send: with expect: is one step, a message and the answer it awaits:
	// there expect is not an action of its own.
	withSend := slices.ContainsFunc(es, func(e entry) bool { return e.Key == "send" })
	for i, e := range es {
		if !slices.Contains(actionKeys, e.Key) || withSend && e.Key == "expect" {
			continue
		}
		if action != nil {
			ps.errorf(e.K, "step has both %q and %q; want exactly one of: %s", action.Key, e.Key, strings.Join(actionKeys, ", "))
			continue
		}
		action = &es[i]
	}
	if action == nil {
		ps.errorf(n, "step has no action; want one of: %s", strings.Join(actionKeys, ", "))
		for _, e := range es {
			if !slices.Contains(anyStepKeys, e.Key) {
				ps.unknown(e, "step", anyStepKeys)
			}
		}
		return nil
	}
	st := &Step{Pos: ps.pos(n)}
	switch action.Key {
	case "think":
		st.Kind = StepThink
		st.Think, _ = ps.think("think", action.V)
		ps.onlyAction(es, "think step", thinkKeys)
	case "group":
		ps.group(st, *action, es)
	case "if":
		ps.ifStep(st, *action, es)
	case "loop":
		ps.loopStep(st, *action, es)
	case "foreach":
		ps.foreachStep(st, *action, es)
	case "set":
		ps.setStep(st, *action, es)
	case "ws", "send", "expect", "close":
		ps.wsStep(st, *action, es)
	case "grpc":
		ps.grpcStep(st, *action, es) // grpc.go
	default:
		ps.request(st, *action, es)
	}
	return st
}

// onlyAction reports the keys of es that are neither actions (reported as
// doubles already) nor in keys.
func (ps *parser) onlyAction(es []entry, what string, keys []string) {
	for _, e := range es {
		if !slices.Contains(actionKeys, e.Key) && !slices.Contains(keys, e.Key) {
			ps.unknown(e, what, keys)
		}
	}
}

func (ps *parser) group(st *Step, action entry, es []entry) {
	st.Kind = StepGroup
	if s, ok := ps.nonEmpty("group", action.V); ok {
		st.Group = s.Value
	}
	ps.onlyAction(es, "group step", groupKeys)
	ps.onFailure(st, es)
	i := slices.IndexFunc(es, func(e entry) bool { return e.Key == "steps" })
	if i < 0 {
		ps.errorf(action.K, "group %q has no steps", clip(st.Group))
		return
	}
	st.Steps = ps.steps("steps", es[i].V)
}

func (ps *parser) request(st *Step, action entry, es []entry) {
	st.Kind = StepRequest
	st.Method = strings.ToUpper(action.Key)
	if s, ok := ps.nonEmpty(action.Key, action.V); ok {
		st.Path = s
		if err := checkPath(s.Value); err != nil {
			ps.errorf(action.V, "%s: %v", action.Key, err)
		}
	}
	var body *entry
	for i, e := range es {
		if slices.Contains(actionKeys, e.Key) {
			continue
		}
		switch e.Key {
		case "json", "form", "body", "body_file", "multipart":
			if body != nil {
				ps.errorf(e.K, "%q and %q are both set; a request has at most one of json, form, body, body_file, multipart", body.Key, e.Key)
				continue
			}
			body = &es[i]
		}
		switch e.Key {
		case "name":
			if s, ok := ps.nonEmpty("name", e.V); ok {
				st.Name = s.Value
			}
		case "headers":
			st.Headers = ps.headers("headers", e.V)
		case "query":
			st.Query = ps.strMap("query", e.V, ps.nonEmptyKey("query"))
		case "json":
			var buf bytes.Buffer
			if ps.toJSON("json", e.V, &buf) {
				st.JSON = &String{Value: buf.String(), Pos: ps.pos(e.V)}
			}
		case "form":
			st.Form = ps.strMap("form", e.V, ps.nonEmptyKey("form"))
		case "body":
			if e.V.Kind != yaml.ScalarNode || isNull(e.V) {
				ps.errorf(e.V, "body: want a string, got %s (use json: for a JSON body, form: for a form)", describe(e.V))
				continue
			}
			st.Body = &String{Value: e.V.Value, Pos: ps.pos(e.V)}
		case "body_file":
			if s, ok := ps.nonEmpty("body_file", e.V); ok {
				st.BodyFile = s
				if ps.fileExists(s, "body file") {
					b, err := ReadBodyFile(resolve(ps.file, s.Value))
					if err != nil {
						ps.errorAt(s.Pos, "body file %q: %v", clip(s.Value), pathErr(err))
					}
					st.BodyData = b
				}
			}
		case "timeout":
			st.Timeout, _ = ps.positive("timeout", e.V)
		case "extract":
			st.Extract = ps.extracts(e.V)
			ps.noTrailerExtracts(st.Extract)
		case "check":
			st.Checks = ps.checks(e.V)
			ps.noTrailerChecks(st.Checks)
		case "abort_on_fail":
			st.AbortOnFail, _ = ps.boolean("abort_on_fail", e.V)
		case "retries":
			if n, ok := ps.retries(e.V); ok {
				st.Retries, st.RetriesPos = &n, ps.pos(e.V)
			}
		case "retry_non_idempotent":
			if b, ok := ps.boolean("retry_non_idempotent", e.V); ok {
				st.RetryNonIdempotent = &b
			}
		case "multipart":
			st.Multipart = ps.multipart(e.V)
		case "follow_redirects":
			if n, ok := ps.redirects(e.V); ok {
				st.FollowRedirects, st.FollowRedirectsPos = &n, ps.pos(e.V)
			}
		case "on_failure":
			ps.onFailure(st, es)
			if st.AbortOnFail && st.OnFailure != FailUnset {
				ps.errorf(e.K, "on_failure and abort_on_fail are both set; use on_failure: next_iteration alone")
			}
		default:
			ps.unknown(e, "request step", requestKeys)
		}
	}
	if st.Name == "" {
		st.Name = st.Method + " " + st.Path.Value
	}
}

// retries reads a retry count: an integer from 0 to MaxRetries.
func (ps *parser) retries(n *yaml.Node) (int, bool) {
	r, ok := ps.integer("retries", n)
	if ok && (r < 0 || r > MaxRetries) {
		ps.errorf(n, "retries: want 0 to %d, got %d", MaxRetries, r)
		return 0, false
	}
	return r, ok
}

// checkPath accepts a path for base_url ("/api?x=1"), an absolute http or
// https URL, or a template that makes one of those.
func checkPath(p string) error {
	if strings.ContainsAny(p, "\r\n\x00") {
		return fmt.Errorf("bad path %q: contains a line break or NUL", clip(p))
	}
	switch {
	case strings.HasPrefix(p, "{{"):
		return nil
	case strings.HasPrefix(p, "http://"), strings.HasPrefix(p, "https://"):
		if strings.Contains(p, "{{") {
			return nil
		}
		if u, err := url.Parse(p); err != nil || u.Host == "" {
			return fmt.Errorf("bad URL %q: want http://host/path", clip(p))
		}
		return nil
	case strings.HasPrefix(p, "/"):
		if strings.Contains(p, "{{") {
			return nil
		}
		if _, err := url.Parse(p); err != nil {
			return fmt.Errorf("bad path %q: %v", clip(p), errors.Unwrap(err))
		}
		return nil
	}
	return fmt.Errorf("bad path %q: want /path (after base_url), http(s)://host/path, or a template", clip(p))
}

// nonEmptyKey returns a strMap check that rejects "" names.
func (ps *parser) nonEmptyKey(what string) func(entry) bool {
	return func(e entry) bool {
		if e.Key == "" {
			ps.errorf(e.K, "%s: empty name", what)
			return false
		}
		return true
	}
}

// headers reads header names (HTTP tokens) and values (templates without
// line breaks).
func (ps *parser) headers(what string, n *yaml.Node) map[string]String {
	m := ps.strMap(what, n, func(e entry) bool {
		if !isToken(e.Key) {
			ps.errorf(e.K, "%s: bad header name %q", what, clip(e.Key))
			return false
		}
		if why := client.ManagedHeader(e.Key); why != "" {
			ps.errorf(e.K, "%s: %s: %s", what, e.Key, why)
			return false
		}
		return true
	})
	for _, name := range sortedKeys(m) {
		if s := m[name]; strings.ContainsAny(s.Value, "\r\n") {
			ps.errorAt(s.Pos, "%s: header %q: value contains a line break", what, name)
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// isToken reports whether s is an RFC 9110 token, the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// compileRegex checks a regular expression; the error is short, e.g.
// `missing closing )`.
func compileRegex(re string) error {
	_, err := regexp.Compile(re)
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Errorf("bad regex %q: %s", clip(re), se.Code)
	}
	return err
}

var extractSources = map[string]ExtractFrom{"json": FromJSON, "regex": FromRegex, "header": FromHeader, "cookie": FromCookie, "trailer": FromTrailer}

func (ps *parser) extracts(n *yaml.Node) []Extract {
	es, ok := ps.mapping(n, "extract")
	if !ok {
		return nil
	}
	out := make([]Extract, 0, len(es))
	for _, e := range es {
		if !ps.ident("variable", e) {
			continue
		}
		what := fmt.Sprintf("extract %q", e.Key)
		x := Extract{Var: e.Key}
		src := e.V
		if e.V.Kind == yaml.MappingNode {
			// {from: SOURCE, default: VALUE, required: true}
			src = ps.extractOptions(what, e.V, &x)
			if src == nil {
				continue
			}
		}
		s, ok := ps.nonEmpty(what, src)
		if !ok {
			continue
		}
		source, expr, _ := strings.Cut(s.Value, ":")
		from, known := extractSources[source]
		switch {
		case !known:
			ps.errorf(src, "%s: bad source %q: want json:PATH, regex:RE, header:NAME or cookie:NAME", what, clip(s.Value))
			continue
		case expr == "":
			ps.errorf(src, "%s: %q: want something after %s:", what, s.Value, source)
			continue
		case from == FromRegex:
			if err := compileRegex(expr); err != nil {
				ps.errorf(src, "%s: %v", what, err)
				continue
			}
		case (from == FromHeader || from == FromTrailer) && !isToken(expr):
			ps.errorf(src, "%s: bad header name %q", what, clip(expr))
			continue
		}
		x.From, x.Expr, x.Pos = from, expr, s.Pos
		out = append(out, x)
	}
	return out
}

var extractKeys = []string{"from", "default", "required"}

// extractOptions reads the long form of an extraction into x and returns
// the node of its source (from:), or nil when it has none.
func (ps *parser) extractOptions(what string, n *yaml.Node, x *Extract) *yaml.Node {
	es, _ := ps.mapping(n, what)
	var src *yaml.Node
	for _, e := range es {
		switch e.Key {
		case "from":
			src = e.V
		case "default":
			if isNull(e.V) {
				x.Default = new(string)
				continue
			}
			if s, ok := ps.str(what+": default", e.V); ok {
				x.Default = &s.Value
			}
		case "required":
			x.Required, _ = ps.boolean(what+": required", e.V)
		default:
			ps.unknown(e, what, extractKeys)
		}
	}
	if src == nil {
		ps.errorf(n, "%s: missing from: (json:PATH, regex:RE, header:NAME or cookie:NAME)", what)
	}
	return src
}

func (ps *parser) checks(n *yaml.Node) []Check {
	es, ok := ps.mapping(n, "check")
	if !ok {
		return nil
	}
	var out []Check
	for _, e := range es {
		at := ps.pos(e.K)
		switch e.Key {
		case "status":
			if c, ok := ps.status(e.V); ok {
				c.Pos = at
				out = append(out, c)
			}
		case "body_contains":
			out = ps.textCheck(out, e, CheckBodyContains, "body contains %q", at)
		case "body_regex":
			out = ps.textCheck(out, e, CheckBodyRegex, "body matches %q", at)
		case "json":
			out = append(out, ps.jsonChecks(e.V)...)
		case "json_exists":
			out = append(out, ps.jsonExists(e.V)...)
		case "max_latency":
			if d, ok := ps.positive("max_latency", e.V); ok {
				out = append(out, Check{Kind: CheckMaxLatency, Name: "max_latency " + strings.TrimSpace(e.V.Value), Latency: d, Pos: at})
			}
		case "header":
			out = append(out, ps.headerChecks(e.V, CheckHeader)...)
		case "trailer":
			out = append(out, ps.headerChecks(e.V, CheckTrailer)...)
		default:
			ps.unknown(e, "check", checkKeys)
		}
	}
	return out
}

// status reads `status: 200` or `status: [200, 201]`.
func (ps *parser) status(n *yaml.Node) (Check, bool) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items, _ = ps.list(n, "status")
		if len(items) == 0 {
			ps.errorf(n, "status: want at least one status")
			return Check{}, false
		}
	}
	c := Check{Kind: CheckStatus}
	ok := true
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			ps.errorf(it, "status: want a status code or a list of them, got %s", describe(it))
			ok = false
			continue
		}
		s, good := ps.integer("status", it)
		switch {
		case !good:
			ok = false
		case s < 100 || s > 599:
			ps.errorf(it, "status: want 100 to 599, got %d", s)
			ok = false
		case slices.Contains(c.Statuses, s):
			ps.errorf(it, "status: %d is listed twice", s)
			ok = false
		default:
			c.Statuses = append(c.Statuses, s)
		}
	}
	if len(c.Statuses) == 1 {
		c.Name = "status is " + strconv.Itoa(c.Statuses[0])
	} else {
		c.Name = fmt.Sprintf("status in %v", c.Statuses)
	}
	return c, ok
}

// jsonChecks reads `json: {PATH: value}`; each value is kept as JSON text.
func (ps *parser) jsonChecks(n *yaml.Node) []Check {
	es, _ := ps.mapping(n, "check json")
	var out []Check
	for _, e := range es {
		if e.Key == "" {
			ps.errorf(e.K, "check json: empty path")
			continue
		}
		var buf bytes.Buffer
		if !ps.toJSON("check json", e.V, &buf) {
			continue
		}
		v := buf.String()
		out = append(out, Check{Kind: CheckJSONEquals, Name: fmt.Sprintf("json %s == %s", e.Key, v), Expr: e.Key, Value: v, Pos: ps.pos(e.K)})
	}
	return out
}

// jsonExists reads `json_exists: [PATH, ...]` (or one PATH).
func (ps *parser) jsonExists(n *yaml.Node) []Check {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items, _ = ps.list(n, "json_exists")
	}
	var out []Check
	for _, it := range items {
		s, ok := ps.nonEmpty("json_exists", it)
		if !ok {
			continue
		}
		if slices.ContainsFunc(out, func(c Check) bool { return c.Expr == s.Value }) {
			ps.errorf(it, "json_exists: %q is listed twice", clip(s.Value))
			continue
		}
		out = append(out, Check{Kind: CheckJSONExists, Name: fmt.Sprintf("json %s exists", s.Value), Expr: s.Value, Pos: s.Pos})
	}
	return out
}

// headerChecks reads `header: {Name: value}` (a gRPC call's `trailer:`
// too, kind CheckTrailer); an empty or null value checks only that the
// header is there.
func (ps *parser) headerChecks(n *yaml.Node, kind CheckKind) []Check {
	what := "header"
	if kind == CheckTrailer {
		what = "trailer"
	}
	es, _ := ps.mapping(n, "check "+what)
	var out []Check
	for _, e := range es {
		if !isToken(e.Key) {
			ps.errorf(e.K, "check %s: bad %s name %q", what, what, clip(e.Key))
			continue
		}
		c := Check{Kind: kind, Expr: e.Key, Pos: ps.pos(e.K)}
		if !isNull(e.V) {
			s, ok := ps.str(fmt.Sprintf("check %s %q", what, e.Key), e.V)
			if !ok {
				continue
			}
			c.Value = s.Value
		}
		if c.Value == "" {
			c.Name = fmt.Sprintf("%s %s exists", what, e.Key)
		} else {
			c.Name = fmt.Sprintf("%s %s == %q", what, e.Key, c.Value)
		}
		out = append(out, c)
	}
	return out
}
