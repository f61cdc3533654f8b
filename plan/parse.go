package plan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// ParseFile reads and parses the plan file at path; see Parse. (It is not
// called Load: that is the load shape's type.)
func ParseFile(path string) (*Plan, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return Parse(path, src)
}

// Parse parses and validates a plan. file names the plan in error positions
// and is where relative paths (data files, body_file) start from; Parse
// checks that those files exist, and reads the header row of CSV files.
//
// Parse reports every problem it finds, not only the first: the error is
// an Errors sorted by position, each naming file:line:column. A YAML
// syntax error ends parsing and is the only error (YAML parsers know only
// its line). On error the Plan is nil.
//
// A Plan returned by Parse has passed Validate; templates ({{ ... }}) and
// thresholds are kept as written, for their own packages to compile.
func Parse(file string, src []byte) (*Plan, error) {
	return parse(&parser{file: file, dir: filepath.Dir(file)}, src)
}

// ParseWithProtos is Parse for a distributed run's worker: the plan's
// protos: files are not read but found in protos, the files as the
// controller compiled them (with their imports), so that the worker needs
// neither the .proto files nor what they import.
func ParseWithProtos(file string, src []byte, protos *protoregistry.Files) (*Plan, error) {
	return parse(&parser{file: file, dir: filepath.Dir(file), shipped: protos}, src)
}

func parse(ps *parser, src []byte) (*Plan, error) {
	root, ok := ps.document(src)
	if !ok {
		return nil, ps.errs
	}
	p := ps.plan(root)
	if !ps.halted {
		ps.errs = append(ps.errs, p.crossErrors()...)
	}
	if len(ps.errs) > 0 {
		sortErrors(ps.errs)
		return nil, ps.errs
	}
	return p, nil
}

// Resolve returns path, relative to the plan file's directory unless it is
// absolute: the file a data feeder or body_file names.
func (p *Plan) Resolve(path string) string { return resolve(p.File, path) }

func resolve(file, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(file), path)
}

func sortErrors(es Errors) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Column - b.Pos.Column
	})
}

// document decodes src into its root node. A plan file holds exactly one
// YAML document.
func (ps *parser) document(src []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.errorAt(Pos{File: ps.file, Line: 1, Column: 1}, "empty plan: want a mapping with scenarios and a load")
		} else {
			ps.syntax(src, err)
		}
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		ps.syntax(src, err)
		return nil, false
	default:
		ps.errorf(&extra, "a plan file holds one YAML document; another starts here")
		return nil, false
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		ps.errorf(&doc, "empty plan: want a mapping with scenarios and a load")
		return nil, false
	}
	return doc.Content[0], true
}

// yamlLine matches the YAML library's "yaml: line 3: problem" errors.
var yamlLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// parserProblems are the YAML library's parser (not scanner) errors. For
// them it reports the 0-based line where the enclosing block or flow
// collection starts; the scanner's errors carry a 1-based line.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// yamlAnchor matches the library's anchor errors, which have no line.
var yamlAnchor = regexp.MustCompile(`^(?:unknown anchor '(.*)' referenced|anchor '(.*)' value contains itself)$`)

// syntax turns a YAML library error into an Error. The library knows the
// line but does not say the column, so the column is left out; for errors
// without a line, syntax finds the place in src itself.
func (ps *parser) syntax(src []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	at := Pos{File: ps.file, Line: 1}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		msg = m[2]
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 {
			at.Line = n
			if slices.Contains(parserProblems, msg) {
				at.Line++
			}
		}
	} else if m := yamlAnchor.FindStringSubmatch(msg); m != nil {
		// An unknown alias is *name; an anchor inside itself is &name.
		mark := "*" + m[1]
		if m[1] == "" {
			mark = "&" + m[2]
		}
		if i := bytes.Index(src, []byte(mark)); i >= 0 {
			at.Line, at.Column = lineCol(src[:i])
		}
	} else if i := badByte(src); i >= 0 {
		at.Line, at.Column = lineCol(src[:i])
	}
	ps.errorAt(at, "bad YAML: %s", msg)
}

// lineCol is the 1-based line and column (in runes) just after prefix.
func lineCol(prefix []byte) (line, col int) {
	line = 1 + bytes.Count(prefix, []byte("\n"))
	last := prefix[bytes.LastIndexByte(prefix, '\n')+1:]
	return line, 1 + utf8.RuneCount(last)
}

// badByte returns the offset of the first byte YAML does not accept in a
// document, invalid UTF-8 or a control character other than tab and line
// breaks, or -1.
func badByte(src []byte) int {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && n <= 1,
			r < 0x20 && r != '\t' && r != '\n' && r != '\r',
			r == 0x7f, r == 0xfffe, r == 0xffff:
			return i
		}
		i += n
	}
	return -1
}

var planKeys = []string{"name", "base_url", "vars", "env", "defaults", "data", "scenarios", "load", "thresholds", "abort_when", "monitor", "profile", "protos"}

func (ps *parser) plan(root *yaml.Node) *Plan {
	p := &Plan{File: ps.file, Pos: ps.pos(root)}
	es, ok := ps.mapping(root, "plan")
	if !ok {
		return p
	}
	sawScenarios := false
	for _, e := range es {
		switch e.Key {
		case "name":
			if s, ok := ps.nonEmpty("name", e.V); ok {
				p.Name = s.Value
			}
		case "base_url":
			p.BaseURL = ps.baseURL(e.V)
		case "vars":
			p.Vars = ps.strMap("vars", e.V, func(e entry) bool { return ps.ident("variable", e) })
		case "env":
			p.Env = ps.env(e.V)
		case "defaults":
			ps.defaults(e.V, &p.Defaults)
		case "data":
			p.Data = ps.data(e.V)
		case "scenarios":
			sawScenarios = true
			p.Scenarios = ps.scenarios(e.V)
		case "load":
			p.Load = ps.load("load", e.V)
		case "thresholds":
			p.Thresholds = ps.thresholds(e.V)
		case "abort_when":
			p.AbortWhen = ps.aborts(e.V)
		case "monitor":
			p.Monitor = ps.monitor(e.V)
		case "profile":
			p.Profile = ps.profiles(e.V)
		case "protos":
			p.Protos = ps.protos(e.V) // protos.go
		default:
			ps.unknown(e, "plan", planKeys)
		}
	}
	if !sawScenarios {
		ps.errorf(root, "plan has no scenarios; want at least one under scenarios:")
	}
	ps.linkProtos(p)
	if p.Name == "" && ps.file != "" {
		base := filepath.Base(ps.file)
		p.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return p
}

func (ps *parser) baseURL(n *yaml.Node) String {
	s, ok := ps.nonEmpty("base_url", n)
	if !ok {
		return String{}
	}
	if err := checkBaseURL(s.Value); err != nil {
		ps.errorf(n, "base_url: %v", err)
	}
	return s
}

// checkBaseURL accepts an absolute http or https URL without templates,
// query or fragment (fuka run --base-url can point a plan elsewhere).
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "grpc" || u.Scheme == "grpcs") {
		return fmt.Errorf("bad URL %q: base_url is for HTTP and WebSocket steps; a grpc: step names its server in target: (target: %s)", clip(s), clip(s))
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(s, "{{") {
		return fmt.Errorf("bad URL %q: want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080", clip(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("bad URL %q: want no query or fragment; put them in the requests", clip(s))
	}
	return nil
}

// env reads NAME: default pairs; a null default is "".
func (ps *parser) env(n *yaml.Node) map[string]String {
	es, ok := ps.mapping(n, "env")
	if !ok {
		return nil
	}
	m := make(map[string]String, len(es))
	for _, e := range es {
		if !ps.ident("env", e) {
			continue
		}
		if isNull(e.V) {
			m[e.Key] = String{Pos: ps.pos(e.V)}
			continue
		}
		if s, ok := ps.str(fmt.Sprintf("env %q", e.Key), e.V); ok {
			m[e.Key] = s
		}
	}
	return m
}

var defaultsKeys = []string{"timeout", "headers", "think", "retries", "retry_non_idempotent", "follow_redirects", "http_version", "tls"}

func (ps *parser) defaults(n *yaml.Node, d *Defaults) {
	es, _ := ps.mapping(n, "defaults")
	for _, e := range es {
		switch e.Key {
		case "timeout":
			d.Timeout, _ = ps.positive("timeout", e.V)
		case "headers":
			d.Headers = ps.headers("headers", e.V)
		case "think":
			d.Think, _ = ps.think("think", e.V)
		case "retries":
			d.Retries, _ = ps.retries(e.V)
		case "retry_non_idempotent":
			d.RetryNonIdempotent, _ = ps.boolean("retry_non_idempotent", e.V)
		default:
			if !ps.defaultsHTTP(e, &d.DefaultsHTTP) {
				ps.unknown(e, "defaults", defaultsKeys)
			}
		}
	}
}

var feederKeys = []string{"csv", "jsonl", "pick", "on_exhausted"}

func (ps *parser) data(n *yaml.Node) map[string]*Feeder {
	es, ok := ps.mapping(n, "data")
	if !ok {
		return nil
	}
	m := make(map[string]*Feeder, len(es))
	for _, e := range es {
		ok := ps.ident("data", e)
		if f := ps.feeder(e); ok {
			m[e.Key] = f
		}
	}
	return m
}

func (ps *parser) feeder(fe entry) *Feeder {
	f := &Feeder{Name: fe.Key, Pick: "sequential", Pos: ps.pos(fe.K)}
	what := fmt.Sprintf("data %q", fe.Key)
	es, ok := ps.mapping(fe.V, what)
	if !ok {
		return f
	}
	var src, exhausted *entry
	for i, e := range es {
		switch e.Key {
		case "csv", "jsonl":
			if src != nil {
				ps.errorf(e.K, "%s: %q and %q are both set; want one of them", what, src.Key, e.Key)
				continue
			}
			src = &es[i]
			s, ok := ps.nonEmpty(e.Key, e.V)
			if !ok {
				continue
			}
			if e.Key == "csv" {
				f.CSV = s
			} else {
				f.JSONL = s
			}
			ps.dataFile(e.Key, s)
		case "pick":
			if s, ok := ps.str("pick", e.V); ok {
				if !slices.Contains([]string{"sequential", "random", "unique"}, s.Value) {
					ps.errorf(e.V, "pick: want sequential, random or unique, got %q", clip(s.Value))
				} else {
					f.Pick = s.Value
				}
			}
		case "on_exhausted":
			exhausted = &es[i]
			if s, ok := ps.str("on_exhausted", e.V); ok {
				if s.Value != "stop_client" && s.Value != "end_run" {
					ps.errorf(e.V, "on_exhausted: want stop_client or end_run, got %q", clip(s.Value))
				} else {
					f.OnExhausted = s.Value
				}
			}
		default:
			ps.unknown(e, "data", feederKeys)
		}
	}
	if src == nil {
		ps.errorf(fe.K, "%s: want csv: PATH or jsonl: PATH", what)
	}
	switch {
	case f.Pick == "unique" && f.OnExhausted == "":
		f.OnExhausted = "stop_client"
	case f.Pick != "unique" && exhausted != nil:
		ps.errorf(exhausted.K, "on_exhausted: only applies to pick: unique (sequential and random never run out)")
	}
	return f
}

// maxHeaderRow bounds what Parse reads of a CSV file for its header row.
const maxHeaderRow = 1 << 20

// dataFile checks that a feeder's file exists and, for CSV, that its first
// row names the columns.
func (ps *parser) dataFile(kind string, s String) {
	path := resolve(ps.file, s.Value)
	fail := func(format string, args ...any) {
		ps.errorAt(s.Pos, "data file %q: %s", clip(s.Value), fmt.Sprintf(format, args...))
	}
	if !ps.fileExists(s, "data file") || kind != "csv" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		fail("%v", pathErr(err))
		return
	}
	defer f.Close()
	// The header row is all Parse reads; a file that is one endless line
	// (/dev/zero) must not be read whole for it.
	lr := &io.LimitedReader{R: f, N: maxHeaderRow}
	header, err := csv.NewReader(lr).Read()
	switch {
	case lr.N == 0:
		fail("no header row in the first %s; want a first line of column names", FormatSize(maxHeaderRow))
		return
	case errors.Is(err, io.EOF):
		fail("empty; want a header row of column names")
		return
	case err != nil:
		fail("%v", err)
		return
	}
	// Spreadsheets often save CSV with a byte order mark.
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	seen := make(map[string]bool, len(header))
	for i, col := range header {
		switch {
		case !isIdent(col):
			fail("column %d %q: want a header row of names of letters, digits and _, not starting with a digit", i+1, clip(col))
		case seen[col]:
			fail("column %q appears twice in the header row", col)
		}
		seen[col] = true
	}
}

// fileExists reports a missing or unreadable file at s.
func (ps *parser) fileExists(s String, what string) bool {
	fi, err := os.Stat(resolve(ps.file, s.Value))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.errorAt(s.Pos, "%s %q: no such file", what, clip(s.Value))
	case err != nil:
		ps.errorAt(s.Pos, "%s %q: %v", what, clip(s.Value), pathErr(err))
	case fi.IsDir():
		ps.errorAt(s.Pos, "%s %q: is a directory", what, clip(s.Value))
	default:
		return true
	}
	return false
}

// pathErr drops the path an *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var scenarioKeys = []string{"weight", "steps", "script", "function", "load", "start_after"}

func (ps *parser) scenarios(n *yaml.Node) []*Scenario {
	es, ok := ps.mapping(n, "scenarios")
	if !ok {
		return nil
	}
	if len(es) == 0 {
		ps.errorf(n, "scenarios: want at least one scenario")
	}
	out := make([]*Scenario, 0, len(es))
	for _, e := range es {
		if !isScenarioName(e.Key) {
			ps.errorf(e.K, "scenario name %q: want letters, digits, _ and -, starting with a letter or _", clip(e.Key))
		}
		out = append(out, ps.scenario(e))
	}
	return out
}

// isScenarioName reports whether s is [A-Za-z_][A-Za-z0-9_-]*: a name
// thresholds can scope to ("checkout.p95 < 500ms") and start_after can tell
// from a duration.
func isScenarioName(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") && isIdent(strings.ReplaceAll(s, "-", "_"))
}

func (ps *parser) scenario(se entry) *Scenario {
	s := &Scenario{Name: se.Key, Weight: 1, Pos: ps.pos(se.K)}
	what := fmt.Sprintf("scenario %q", se.Key)
	es, ok := ps.mapping(se.V, what)
	if !ok {
		return s
	}
	sawSteps := false
	for _, e := range es {
		switch e.Key {
		case "weight":
			if w, ok := ps.integer("weight", e.V); ok {
				if w < 1 {
					ps.errorf(e.V, "weight: must be at least 1, got %d", w)
				} else {
					s.Weight = w
				}
			}
		case "steps":
			sawSteps = true
			s.Steps = ps.steps("steps", e.V)
		case "script":
			s.Script, _ = ps.nonEmpty("script", e.V)
		case "function":
			s.Function, _ = ps.nonEmpty("function", e.V)
		case "load":
			s.Load = ps.load("load", e.V)
		case "start_after":
			// Checked with the other scenarios, by crossErrors.
			s.StartAfter, _ = ps.nonEmpty("start_after", e.V)
		default:
			ps.unknown(e, "scenario", scenarioKeys)
		}
	}
	ps.scriptKeys(s, sawSteps, se)
	return s
}

var abortKeys = []string{"threshold", "for"}

func (ps *parser) thresholds(n *yaml.Node) []Threshold {
	items, _ := ps.list(n, "thresholds")
	out := make([]Threshold, 0, len(items))
	for _, it := range items {
		if s, ok := ps.nonEmpty("threshold", it); ok {
			out = append(out, Threshold{Expr: s})
		}
	}
	return out
}

func (ps *parser) aborts(n *yaml.Node) []Abort {
	items, _ := ps.list(n, "abort_when")
	out := make([]Abort, 0, len(items))
	for _, it := range items {
		es, ok := ps.mapping(it, "abort_when")
		if !ok {
			continue
		}
		var a Abort
		for _, e := range es {
			switch e.Key {
			case "threshold":
				a.Expr, _ = ps.nonEmpty("threshold", e.V)
			case "for":
				a.For, _ = ps.duration("for", e.V)
			default:
				ps.unknown(e, "abort_when", abortKeys)
			}
		}
		if a.Expr.Value == "" {
			if !slices.ContainsFunc(es, func(e entry) bool { return e.Key == "threshold" }) {
				ps.errorf(it, "abort_when: missing threshold")
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

var profileKeys = []string{"pprof", "at", "seconds", "kinds"}

// monitor reads the monitor: list: `local`, or one-key mappings such as
// {agent: HOST:PORT, token_file: F}, {process: nginx}, {nginx: URL},
// {postgres: DSN}, {redis: ADDR}, {prometheus: URL, keep: [names]},
// {kubernetes: {namespace: NS, deployment: NAME, ...}}.
func (ps *parser) monitor(n *yaml.Node) []MonitorSource {
	items, _ := ps.list(n, "monitor")
	var out []MonitorSource
	for _, it := range items {
		if it.Kind == yaml.ScalarNode && !isNull(it) {
			if it.Value != "local" {
				ps.errorf(it, "monitor: unknown source %q; want local, or a mapping with one of: %s", it.Value, strings.Join(MonitorKinds[1:], ", "))
				continue
			}
			out = append(out, MonitorSource{Kind: "local", Pos: ps.pos(it)})
			continue
		}
		es, ok := ps.mapping(it, "monitor")
		if !ok {
			continue
		}
		src := MonitorSource{Pos: ps.pos(it)}
		for _, e := range es {
			switch e.Key {
			case "agent", "process", "prometheus", "nginx", "postgres", "redis", "kubernetes":
				if src.Kind != "" {
					ps.errorf(e.K, "monitor: %q and %q in one entry; give one source per entry", src.Kind, e.Key)
					continue
				}
				src.Kind = e.Key
				if e.Key == "kubernetes" { // a mapping, not a target string (monitor/kube)
					src.Kube = ps.kube(e.V)
					if src.Kube != nil {
						src.Target = src.Kube.Namespace
					}
					continue
				}
				src.Target, _ = ps.nonEmpty(e.Key, e.V)
			case "local":
				ps.errorf(e.K, "monitor: write local as a plain list item: - local")
			case "keep":
				items, ok := ps.list(e.V, "keep")
				if !ok {
					continue
				}
				for _, k := range items {
					if s, ok := ps.nonEmpty("keep", k); ok {
						src.Keep = append(src.Keep, s.Value)
					}
				}
			case "token_file":
				if s, ok := ps.nonEmpty("token_file", e.V); ok {
					src.TokenFile = s
					ps.fileExists(s, "token file")
				}
			default:
				ps.unknown(e, "monitor source", append(append([]string{}, MonitorKinds[1:]...), "keep", "token_file"))
			}
		}
		switch {
		case src.Kind == "":
			ps.errorf(it, "monitor: entry names no source; want one of: %s", strings.Join(MonitorKinds[1:], ", "))
			continue
		case len(src.Keep) > 0 && src.Kind != "prometheus":
			ps.errorf(it, "monitor: keep is for prometheus sources")
		case src.TokenFile.Value != "" && src.Kind != "agent":
			ps.errorf(it, "monitor: token_file is for agent sources")
		case src.Kind == "agent" && src.TokenFile.Value == "":
			ps.errorf(it, "monitor: agent %q needs token_file (the file the agent was started with)", src.Target.Value)
		}
		out = append(out, src)
	}
	return out
}

// kubeName is an object name as Kubernetes allows it (RFC 1123 subdomain).
var kubeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

var kubeKeys = []string{"namespace", "deployment", "statefulset", "hpa", "scaledobject", "kubeconfig", "context"}

// kube reads a kubernetes: monitor source: {namespace: NS, deployment,
// statefulset, hpa, scaledobject: NAME, kubeconfig: PATH, context: NAME}.
// It returns nil when the node is not a mapping.
func (ps *parser) kube(n *yaml.Node) *KubeSource {
	es, ok := ps.mapping(n, "kubernetes")
	if !ok {
		return nil
	}
	k := &KubeSource{}
	fields := map[string]*String{
		"namespace": &k.Namespace, "deployment": &k.Deployment, "statefulset": &k.StatefulSet,
		"hpa": &k.HPA, "scaledobject": &k.ScaledObject, "kubeconfig": &k.Kubeconfig, "context": &k.Context,
	}
	hasNS, named := false, false // keys seen, even with a bad value (reported once, not twice)
	for _, e := range es {
		f, known := fields[e.Key]
		if !known {
			ps.unknown(e, "kubernetes", kubeKeys)
			continue
		}
		v, ok := ps.nonEmpty(e.Key, e.V)
		*f = v
		switch e.Key {
		case "namespace", "deployment", "statefulset", "hpa", "scaledobject":
			if e.Key == "namespace" {
				hasNS = true
			} else {
				named = true
			}
			if ok && (len(v.Value) > 253 || !kubeName.MatchString(v.Value)) {
				ps.errorf(e.V, "%s: %q is not a Kubernetes name (lower-case letters, digits, '-' and '.')", e.Key, clip(v.Value))
			}
		case "kubeconfig":
			if f.Value != "" {
				ps.fileExists(*f, "kubeconfig")
			}
		}
	}
	if !hasNS {
		ps.errorf(n, "kubernetes: missing namespace")
	}
	if !named {
		ps.errorf(n, "kubernetes: nothing to watch; name a deployment, statefulset, hpa or scaledobject")
	}
	return k
}

// profiles reads the profile: list of {pprof: URL, at, seconds, kinds}.
func (ps *parser) profiles(n *yaml.Node) []ProfileSpec {
	items, _ := ps.list(n, "profile")
	var out []ProfileSpec
	for _, it := range items {
		es, ok := ps.mapping(it, "profile")
		if !ok {
			continue
		}
		sp := ProfileSpec{Pos: ps.pos(it)}
		for _, e := range es {
			switch e.Key {
			case "pprof":
				sp.URL, _ = ps.nonEmpty("pprof", e.V)
			case "at":
				sp.At, _ = ps.nonEmpty("at", e.V)
			case "seconds":
				if v, ok := ps.integer("seconds", e.V); ok {
					if v < 1 || v > 600 {
						ps.errorf(e.V, "seconds: want 1 to 600, got %d", v)
					}
					sp.Seconds = v
				}
			case "kinds":
				items, ok := ps.list(e.V, "kinds")
				if !ok {
					continue
				}
				for _, k := range items {
					s, ok := ps.nonEmpty("kind", k)
					if !ok {
						continue
					}
					switch s.Value {
					case "cpu", "heap", "goroutine", "allocs", "block", "mutex":
						sp.Kinds = append(sp.Kinds, s.Value)
					default:
						ps.errorf(k, "kinds: unknown profile %q; want cpu, heap, goroutine, allocs, block or mutex", s.Value)
					}
				}
			default:
				ps.unknown(e, "profile", profileKeys)
			}
		}
		if sp.URL.Value == "" {
			ps.errorf(it, "profile: missing pprof (the application's pprof base URL, e.g. http://127.0.0.1:6060)")
			continue
		}
		out = append(out, sp)
	}
	return out
}

// scriptKeys checks that a scenario has either steps or a script (see
// Scenario.Script), and a function only with a script.
func (ps *parser) scriptKeys(s *Scenario, sawSteps bool, se entry) {
	what := fmt.Sprintf("scenario %q", se.Key)
	switch {
	case sawSteps && s.Script.Value != "":
		ps.errorAt(s.Script.Pos, "%s has both steps and script; want one of them", what)
	case !sawSteps && s.Script.Value == "" && s.Script.Pos.Line == 0:
		ps.errorf(se.K, "%s has no steps", what)
	}
	if s.Function.Value != "" && s.Script.Value == "" && s.Script.Pos.Line == 0 {
		ps.errorAt(s.Function.Pos, "%s: function: needs script:", what)
	}
}
