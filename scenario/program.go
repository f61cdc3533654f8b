// Package scenario runs plan files: it compiles a plan.Plan once into a
// Program (templates, extractors, checks, data feeders, request names), and
// gives each client its own state — variables, cookie jar, random source —
// to run its scenario's steps, one request at a time.
package scenario

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/types"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/feeder"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

// Program is a compiled plan, shared read-only by all clients.
type Program struct {
	Plan     *plan.Plan
	names    *tmpl.Names
	Requests []string // request names, by index, for metrics
	// Protos is each request name's protocol when not HTTP ("grpc",
	// "ws"), by index; shorter than Requests where the rest are HTTP.
	Protos     []string
	Checks     []string // check names ("request name: check name"), by index
	checkReq   []int    // the request name index of each check
	Groups     map[string][]int
	scenarios  []*compiled
	weights    []int // cumulative scenario weights
	feeders    []*binding
	varInit    []slotVal // plan vars, set in every new client's state
	defTimeout time.Duration
	// http1, http2 and tls are the plan's http_version and tls (defaults),
	// for the transport (NewRunner).
	http1, http2 bool
	tls          *client.TLS
	// iterSlot and clientSlot are the slots of the built-in variables
	// iteration and client_id, or -1 when the plan defines its own.
	iterSlot, clientSlot int
	usesIter             bool                 // some template or expression reads iteration
	hasExpr              bool                 // some step evaluates an expression
	grpc                 map[string]*grpcCall // grpc: steps' calls (grpc.go)
	invalids             errLog               // why requests could not be sent, by message (InvalidReasons)
}

// InvalidReasons says why requests of the run could not be sent (kind
// invalid), one line per distinct reason with its count, first seen
// first: "add: bad message: … (×6)". Nothing else names the problem: an
// invalid request has no status and no answer.
func (p *Program) InvalidReasons() []string {
	l := &p.invalids
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.order)+1)
	for _, m := range l.order {
		out = append(out, fmt.Sprintf("%s (×%d)", m, l.count[m]))
	}
	if l.other > 0 {
		out = append(out, fmt.Sprintf("%d more for other reasons", l.other))
	}
	return out
}

type slotVal struct {
	slot int
	val  string
}

// binding is a feeder and the template slots of its columns.
type binding struct {
	f      *feeder.Feeder
	cols   []string // column names
	slots  []int    // by column
	endRun bool     // unique feeder exhausted: end the run (else stop the client)
}

type compiled struct {
	name    string
	weight  int
	steps   []*step
	feeders []*binding // the feeders its templates use: one row each per iteration
	script  *scriptScenario
}

type stepKind int

const (
	kRequest stepKind = iota
	kThink
	kIf
	kLoop
	kForeach
	kSet
	kWS // ws.go: ws:, send:, expect:, close:
	kSend
	kExpect
	kClose
)

type step struct {
	kind        stepKind
	think       plan.Think
	method      string
	base        string // base_url, for a relative path
	url         *tmpl.Template
	query       []header // appended to the URL, escaped
	headers     []header
	form        []header // the body, form-encoded
	body        *tmpl.Template
	json        *jsonBody // json: body (templates inside its strings)
	bodyStatic  []byte
	contentType string
	timeout     time.Duration
	req         int // request name index
	extract     []*Extractor
	checks      []*Checker
	checkIdx    []int
	abortOnFail bool
	needBody    bool
	needMD      bool  // a grpc: step reads the call's header or trailer metadata
	retries     int   // attempts after a failed one (plan.Plan.RetriesOf)
	required    []int // by extractor: the check a required value counts in, or -1
	multipart   *multipartBody
	redirects   int       // redirects followed (plan.Plan.RedirectsOf)
	redirReq    int       // the request name index of the redirects followed
	grpc        *grpcCall // a grpc: step's call (grpc.go); count is its expect
	expect      int       // its expect check, or -1
	retryCodes  uint32    // a grpc: step's codes that are retried, a bit each

	// onFail is the step's on_failure, else that of the nearest group or
	// logic step around it (see plan.Step.OnFailure).
	onFail plan.OnFailure

	// kIf, kLoop, kForeach, kSet: see logic.go.
	cond      *expression // if:, while:, foreach in:
	then      []*step     // then:, the loop's steps
	els       []*step     // else:
	count     int         // loop count:
	max       int         // while max:, foreach max: (0: the whole list)
	turnThink *plan.Think // pause between turns
	as        int         // the slot of the loop's or foreach's as:, or -1
	fields    []field     // foreach: the {{ as.path }} slots
	sets      []setter    // set:
	errCheck  int         // the check counted failed when an expression fails

	ws *wsStep // kWS, kSend, kExpect, kClose (ws.go)
}

type header struct {
	key   string
	canon string // headers: the canonical key, as net/http sends it
	val   *tmpl.Template
	// shadowed: a later header has the same canonical key and replaces
	// this one (net/http's Header.Set); the event loop skips it.
	shadowed bool
}

// Compile turns a parsed plan into a Program. env looks up environment
// variables (os.LookupEnv in the CLI, a map in tests). Errors are plan.Errors
// with positions.
func Compile(p *plan.Plan, env func(string) (string, bool)) (*Program, error) {
	if env == nil {
		env = os.LookupEnv
	}
	c := &compiler{p: p, env: env, prog: &Program{
		Plan: p, names: tmpl.NewNames(), Groups: map[string][]int{},
		defTimeout: p.Defaults.Timeout, iterSlot: -1, clientSlot: -1,
	}}
	if c.prog.defTimeout <= 0 {
		c.prog.defTimeout = 10 * time.Second
	}
	c.httpDefaults()
	c.declare()
	for _, s := range p.Scenarios {
		c.scenario(s)
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i].Pos, c.errs[j].Pos
			return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
		})
		return nil, c.errs
	}
	total := 0
	for _, s := range c.prog.scenarios {
		total += s.weight
		c.prog.weights = append(c.prog.weights, total)
	}
	return c.prog, nil
}

type compiler struct {
	env2         types.Map // names expressions may use (exprEnv)
	refs         map[string]exprRef
	p            *plan.Plan
	env          func(string) (string, bool)
	prog         *Program
	errs         plan.Errors
	reqIndex     map[string]int
	feedByNm     map[string]*binding
	scripts      map[string]*scriptModule // by resolved path; nil: failed
	scriptChecks map[string]int           // script check names -> index
}

func (c *compiler) errorf(pos plan.Pos, format string, a ...any) {
	c.errs = append(c.errs, &plan.Error{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

// declare registers every name templates may use, before any template is
// compiled: an extracted variable may be used by a step written above the
// one that extracts it in another scenario.
func (c *compiler) declare() {
	names := c.prog.names
	keys := make([]string, 0, len(c.p.Vars))
	for k := range c.p.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.prog.varInit = append(c.prog.varInit, slotVal{names.Add(k), c.p.Vars[k].Value})
	}
	envKeys := make([]string, 0, len(c.p.Env))
	for k := range c.p.Env {
		envKeys = append(envKeys, k)
	}
	sort.Strings(envKeys)
	for _, k := range envKeys {
		v, ok := c.env(k)
		if !ok {
			v = c.p.Env[k].Value
		}
		c.prog.varInit = append(c.prog.varInit, slotVal{names.Add(k), v})
	}
	c.feedByNm = map[string]*binding{}
	dataNames := make([]string, 0, len(c.p.Data))
	for k := range c.p.Data {
		dataNames = append(dataNames, k)
	}
	sort.Strings(dataNames)
	for _, name := range dataNames {
		fd := c.p.Data[name]
		var t *feeder.Table
		var err error
		switch {
		case fd.CSV.Value != "":
			t, err = feeder.ReadCSV(c.p.Resolve(fd.CSV.Value))
		case fd.JSONL.Value != "":
			t, err = feeder.ReadJSONL(c.p.Resolve(fd.JSONL.Value))
		default:
			err = fmt.Errorf("no csv or jsonl file")
		}
		if err != nil {
			c.errorf(fd.Pos, "data %q: %v", name, err)
			continue
		}
		pick, err := feeder.ParsePick(fd.Pick)
		if err != nil {
			c.errorf(fd.Pos, "data %q: %v", name, err)
			continue
		}
		b := &binding{f: feeder.New(name, t, pick), cols: t.Columns, endRun: fd.OnExhausted == "end_run"}
		for _, col := range t.Columns {
			b.slots = append(b.slots, names.Add(name+"."+col))
		}
		c.feedByNm[name] = b
		c.prog.feeders = append(c.prog.feeders, b)
	}
	for _, s := range c.p.Scenarios {
		plan.Walk(s.Steps, c.declareStep)
	}
	c.declareBuiltins()
	c.reqIndex = map[string]int{}
}

func (c *compiler) scenario(s *plan.Scenario) {
	cs := &compiled{name: s.Name, weight: max(s.Weight, 1)}
	if s.Script.Value != "" {
		cs.script = c.script(cs, s) // see script.go
		c.prog.scenarios = append(c.prog.scenarios, cs)
		return
	}
	cs.steps = c.defaultThink(c.steps(s.Steps, nil, plan.FailUnset))
	// A scenario takes one row of each feeder its templates mention.
	for _, b := range c.prog.feeders {
		if c.uses(s, b.f.Name+".") {
			cs.feeders = append(cs.feeders, b)
		}
	}
	c.prog.scenarios = append(c.prog.scenarios, cs)
}

// defaultThink puts defaults.think after every request that is not
// followed by a think step of its own (the last request too: the pause
// then comes before the next iteration).
func (c *compiler) defaultThink(steps []*step) []*step {
	d := c.p.Defaults.Think
	if d == nil || (d.Min <= 0 && d.Max <= 0) {
		return steps
	}
	out := make([]*step, 0, 2*len(steps))
	for i, st := range steps {
		st.then, st.els = c.defaultThink(st.then), c.defaultThink(st.els)
		out = append(out, st)
		if st.kind == kRequest && (i+1 == len(steps) || steps[i+1].kind != kThink) {
			out = append(out, &step{kind: kThink, think: *d})
		}
	}
	return out
}

// uses reports whether any template string of s mentions prefix.
func (c *compiler) uses(s *plan.Scenario, prefix string) bool {
	found := false
	seen := func(v string) {
		if strings.Contains(v, prefix) {
			found = true
		}
	}
	plan.Walk(s.Steps, func(st *plan.Step) { stepStrings(st, seen) })
	// Default headers are rendered into every request, so a column used
	// only there ({{ users.token }}) must take a row too.
	for _, h := range c.p.Defaults.Headers {
		seen(h.Value)
	}
	return found
}

// steps compiles steps inside the given groups, outermost first: a request
// in a nested group counts in every group around it, so an outer group's
// numbers include its inner groups'. fail is the on_failure of the nearest
// group or logic step around them that sets one.
func (c *compiler) steps(steps []*plan.Step, groups []string, fail plan.OnFailure) []*step {
	var out []*step
	for _, s := range steps {
		f := fail
		if s.OnFailure != plan.FailUnset {
			f = s.OnFailure
		}
		switch s.Kind {
		case plan.StepThink:
			if s.Think != nil {
				out = append(out, &step{kind: kThink, think: *s.Think})
			}
		case plan.StepGroup:
			out = append(out, c.steps(s.Steps, append(groups[:len(groups):len(groups)], s.Group), f)...)
		case plan.StepRequest:
			if st := c.request(s, groups); st != nil {
				st.onFail = f
				out = append(out, st)
			}
		case plan.StepIf, plan.StepLoop, plan.StepForeach, plan.StepSet:
			if st := c.logic(s, groups, f); st != nil {
				out = append(out, st)
			}
		case plan.StepWS, plan.StepSend, plan.StepExpect, plan.StepClose:
			st := c.wsStep(s, groups)
			st.onFail = f
			out = append(out, st)
		}
	}
	return out
}

// tmplAt compiles a template string, placing errors at the string's
// position plus the offset the template package reports.
func (c *compiler) tmplAt(s plan.String) *tmpl.Template {
	t, err := tmpl.Compile(s.Value, c.prog.names, c.env)
	if err != nil {
		pos := s.Pos
		msg := err.Error()
		if te, ok := err.(*tmpl.Error); ok {
			pos.Column += te.Offset
			msg = te.Msg
		}
		c.errorf(pos, "template %q: %s", s.Value, msg)
		return nil
	}
	return t
}

func (c *compiler) request(s *plan.Step, groups []string) *step {
	st := &step{kind: kRequest, method: s.Method, timeout: s.Timeout, abortOnFail: s.AbortOnFail, retries: c.p.RetriesOf(s)}
	if st.timeout <= 0 {
		st.timeout = c.prog.defTimeout
	}
	name := s.Name
	if name == "" {
		name = s.Method + " " + s.Path.Value
	}
	idx, ok := c.reqIndex[name]
	if !ok {
		idx = len(c.prog.Requests)
		c.reqIndex[name] = idx
		c.prog.Requests = append(c.prog.Requests, name)
	}
	st.req = idx
	for _, g := range groups {
		if g != "" {
			c.prog.Groups[g] = appendUnique(c.prog.Groups[g], idx)
		}
	}
	if s.GRPC != nil {
		c.protocol(idx, "grpc")
		c.grpcStep(s, st, name)
		c.responseRules(s, st, name, idx)
		return st
	}
	if st.redirects = c.p.RedirectsOf(s); st.redirects > 0 {
		st.redirReq = c.requestIndex(redirectName(name), groups)
	}

	// URL: base_url (a literal) + path (a template), unless the path is absolute.
	if p := s.Path.Value; !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
		st.base = strings.TrimSuffix(c.p.BaseURL.Value, "/")
		if !strings.HasPrefix(p, "/") {
			st.base += "/"
		}
	}
	st.url = c.tmplAt(s.Path)
	st.query = c.pairs(s.Query)

	hdrs := map[string]plan.String{}
	for k, v := range c.p.Defaults.Headers {
		hdrs[k] = v
	}
	for k, v := range s.Headers {
		hdrs[k] = v
	}
	keys := make([]string, 0, len(hdrs))
	for k := range hdrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t := c.tmplAt(hdrs[k]); t != nil {
			st.headers = append(st.headers, header{key: k, canon: http.CanonicalHeaderKey(k), val: t})
		}
	}
	// Two spellings of one header (a default's and the step's): net/http
	// sets them in this order, so the last one is sent; so does the loop.
	for i := range st.headers {
		for _, h := range st.headers[i+1:] {
			if h.canon == st.headers[i].canon {
				st.headers[i].shadowed = true
			}
		}
	}

	switch {
	case s.JSON != nil:
		// The json: document is JSON text, not one template: compiled as
		// one, a template with a string literal ({{ upper "b" }}) would
		// arrive escaped, and a " or \ in a rendered value would make the
		// body invalid JSON. jsonBody compiles each string on its own.
		st.json = c.jsonBody(*s.JSON)
		st.contentType = "application/json"
	case len(s.Form) > 0:
		st.form = c.pairs(s.Form)
		st.contentType = "application/x-www-form-urlencoded"
	case s.Body != nil:
		st.body = c.tmplAt(*s.Body)
	case s.Multipart != nil:
		st.multipart, st.contentType = c.multipart(s.Multipart)
	case s.BodyFile.Value != "":
		b := s.BodyData
		if b == nil { // a Plan built in code
			var err error
			if b, err = plan.ReadBodyFile(c.p.Resolve(s.BodyFile.Value)); err != nil {
				c.errorf(s.BodyFile.Pos, "body_file %q: %v", s.BodyFile.Value, err)
			}
		}
		st.bodyStatic = b
	}
	c.responseRules(s, st, name, idx)
	return st
}

// responseRules compiles s's extractors and checks into st, whose request
// is named name, index idx.
func (c *compiler) responseRules(s *plan.Step, st *step, name string, idx int) {
	for _, x := range s.Extract {
		ex, err := CompileExtract(x, c.prog.names)
		if err != nil {
			c.errorf(x.Pos, "extract %q: %v", x.Var, err)
			continue
		}
		st.extract = append(st.extract, ex)
		req := -1
		if x.Required {
			req = c.check(name+": "+x.Var+" is extracted", idx)
		}
		st.required = append(st.required, req)
		st.needBody = st.needBody || x.From == plan.FromJSON || x.From == plan.FromRegex
		st.needMD = st.needMD || x.From == plan.FromHeader || x.From == plan.FromTrailer
	}
	for _, ch := range s.Checks {
		ck, err := CompileCheck(ch)
		if err != nil {
			c.errorf(ch.Pos, "check %q: %v", ch.Name, err)
			continue
		}
		st.checks = append(st.checks, ck)
		st.checkIdx = append(st.checkIdx, len(c.prog.Checks))
		c.prog.Checks = append(c.prog.Checks, name+": "+ch.Name)
		c.prog.checkReq = append(c.prog.checkReq, idx)
		switch ch.Kind {
		case plan.CheckBodyContains, plan.CheckBodyRegex, plan.CheckJSONEquals, plan.CheckJSONExists:
			st.needBody = true
		case plan.CheckHeader, plan.CheckTrailer:
			st.needMD = true
		}
	}
}

// pairs compiles a map of templates in key order (query, form).
func (c *compiler) pairs(m map[string]plan.String) []header {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []header
	for _, k := range keys {
		if t := c.tmplAt(m[k]); t != nil {
			out = append(out, header{key: k, val: t})
		}
	}
	return out
}

func appendUnique(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Exhausted names the unique data sources that ran out during the run, each
// with what it then did: "users (stop_client)" or "coupons (end_run)".
func (p *Program) Exhausted() []string {
	var out []string
	for _, b := range p.feeders {
		if b.f.Exhausted() {
			what := "stop_client"
			if b.endRun {
				what = "end_run"
			}
			out = append(out, b.f.Name+" ("+what+")")
		}
	}
	return out
}

// SetShare makes the program's data feeders hand out only one worker's
// rows (see feeder.Feeder.SetShare).
func (p *Program) SetShare(d load.Deal) {
	for _, b := range p.feeders {
		b.f.SetShare(d)
	}
}

// pick returns the scenario for a weighted draw n (any non-negative number;
// successive n spread evenly over the weights).
func (p *Program) pick(n int64) *compiled {
	total := int64(p.weights[len(p.weights)-1])
	r := int(n % total)
	for i, w := range p.weights {
		if r < w {
			return p.scenarios[i]
		}
	}
	return p.scenarios[len(p.scenarios)-1]
}

// newState is a new client's variables.
func (p *Program) newState(seed uint64) *tmpl.State {
	st := tmpl.NewState(p.names, seed)
	for _, v := range p.varInit {
		st.Vals[v.slot] = v.val
	}
	if st.Rand == nil {
		st.Rand = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return st
}

// jsonBody is a json: body: JSON text with templates inside its strings.
// lits[i] comes before parts[i]; there is one more literal than parts.
type jsonBody struct {
	lits  [][]byte
	parts []*tmpl.Template
}

// jsonBody splits a json: document (valid JSON text from the parser) at
// every string that holds a template. Such a string is unescaped before it
// is compiled, and what it renders is escaped back into the JSON string.
func (c *compiler) jsonBody(s plan.String) *jsonBody {
	j := &jsonBody{}
	doc, last := s.Value, 0
	for i := 0; i < len(doc); i++ {
		if doc[i] != '"' {
			continue
		}
		end := i + 1
		for end < len(doc) && doc[end] != '"' {
			if doc[end] == '\\' {
				end++
			}
			end++
		}
		raw := doc[i:min(end+1, len(doc))]
		var str string
		if strings.Contains(raw, "{{") && json.Unmarshal([]byte(raw), &str) == nil {
			t, err := tmpl.Compile(str, c.prog.names, c.env)
			if err != nil {
				msg := err.Error()
				if te, ok := err.(*tmpl.Error); ok {
					msg = te.Msg
				}
				c.errorf(s.Pos, "json: template %q: %s", str, msg)
				return nil
			}
			j.lits = append(j.lits, []byte(doc[last:i+1]))
			j.parts = append(j.parts, t)
			last = end // the closing quote starts the next literal
		}
		i = end
	}
	j.lits = append(j.lits, []byte(doc[last:]))
	return j
}

// render appends the body to dst.
func (j *jsonBody) render(dst []byte, st *tmpl.State) []byte {
	for i, t := range j.parts {
		dst = append(dst, j.lits[i]...)
		at := len(dst)
		dst = t.Render(dst, st)
		if needsJSONEscape(dst[at:]) {
			raw := append([]byte(nil), dst[at:]...)
			dst = appendJSONEscaped(dst[:at], raw)
		}
	}
	return append(dst, j.lits[len(j.parts)]...)
}

func needsJSONEscape(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// appendJSONEscaped appends b escaped for the inside of a JSON string.
func appendJSONEscaped(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
