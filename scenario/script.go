package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/fuka-load/fuka/plan"
)

// A script scenario (plan: `script: file.star`, `function: name`) is a
// Starlark function that one client runs once per iteration. The file is
// compiled and its top level run once, at Compile; its globals are then
// frozen and shared by every client, each of which calls the function in
// a Starlark thread of its own. Everything a report needs by name is found
// in the source before the run: each http.<method>(...) call is a request
// name, each check(...) call a set of checks, each group("name", fn) a
// group, each ctx.data.<feeder> a feeder the scenario takes a row of. That
// keeps request and check names fixed, as the recorder and a distributed
// run's workers need, and lets `fuka validate` point at script:line:col.
// See docs/scripts.md.

// maxScriptSteps bounds one iteration of a script: an endless loop ends
// with a script error rather than holding its client for ever. A variable
// for tests only.
var maxScriptSteps uint64 = 10_000_000

// scriptOptions are the Starlark dialect of scripts: while loops and
// top-level control allowed, recursion not (the step bound would still end
// it, but deep recursion grows the Go stack first).
var scriptOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true}

var httpMethods = []string{"get", "post", "put", "patch", "delete", "head", "options"}

// siteKey is a call's position in its script: where its '(' is, which is
// where the Starlark interpreter says a running call is.
type siteKey struct{ line, col int32 }

func keyOf(p syntax.Position) siteKey { return siteKey{p.Line, p.Col} }

// scriptModule is one compiled script file, shared by the scenarios that
// name it.
type scriptModule struct {
	path     string
	globals  starlark.StringDict
	base     string   // base_url without its trailing slash
	defaults []header // defaults.headers, templates
	http     map[siteKey]*httpSite
	checks   map[siteKey]*checkSite
	feeders  []*binding                // the feeders read as ctx.data.<name>
	columns  map[string]map[string]int // feeder -> column -> template slot
	defs     map[string]*defInfo       // global functions
	vars     *starlark.Dict            // ctx.vars: plan vars and env, frozen
	errs     *errLog
}

// httpSite is one http.<method>(...) call in the source.
type httpSite struct {
	step *step // method, request name index, timeout, whether to keep the body
}

// checkSite is one check(...) call. Its checks are counted under the
// request whose response it is given; cands are the requests that may be
// (see candidates), idx[k][i] the check index of checker i for cands[k].
type checkSite struct {
	cands    []int
	checkers []*Checker // nil entry: the condition form, check(r, cond, name=...)
	idx      [][]int
}

// defInfo is what a global function does, lexically: its requests and the
// global functions it calls (directly or as a group's function).
type defInfo struct {
	reqs    []int
	callees []string
}

// scriptScenario is a script scenario's compiled part.
type scriptScenario struct {
	mod      *scriptModule
	fn       *starlark.Function
	errCheck int   // check index of "<scenario>: no script error"
	reqs     []int // the requests its function can reach, for scenario scopes
}

// script compiles scenario s's script (once per file) and returns the
// scenario's compiled part, or nil after recording errors.
func (c *compiler) script(cs *compiled, s *plan.Scenario) *scriptScenario {
	path := c.p.Resolve(s.Script.Value)
	if c.scripts == nil {
		c.scripts = map[string]*scriptModule{}
	}
	mod, seen := c.scripts[path]
	if !seen {
		mod = c.loadScript(s.Script, path)
		c.scripts[path] = mod // nil too: its errors are reported once
	}
	if mod == nil {
		return nil
	}
	fname := s.Function.Value
	at := s.Function.Pos
	if fname == "" {
		fname, at = s.Name, s.Script.Pos
	}
	fn, ok := mod.globals[fname].(*starlark.Function)
	switch {
	case !ok:
		c.errorf(at, "script %s has no function %q; name it with function:", s.Script.Value, fname)
		return nil
	case fn.NumParams() != 1:
		c.errorf(at, "script %s: function %q takes %d parameters; want one (ctx)", s.Script.Value, fname, fn.NumParams())
		return nil
	}
	ss := &scriptScenario{mod: mod, fn: fn, reqs: mod.reach(fname)}
	ss.errCheck = len(c.prog.Checks)
	c.prog.Checks = append(c.prog.Checks, s.Name+": no script error")
	c.prog.checkReq = append(c.prog.checkReq, -1) // the scenario's, not a request's
	cs.feeders = slices.Clone(mod.feeders)
	// defaults.headers are sent with a script's requests too, so a column
	// used there ({{ users.token }}) takes a row as well.
	for _, b := range c.prog.feeders {
		for _, h := range c.p.Defaults.Headers {
			if strings.Contains(h.Value, b.f.Name+".") && !slices.Contains(cs.feeders, b) {
				cs.feeders = append(cs.feeders, b)
			}
		}
	}
	return ss
}

// reach returns the requests function name can send: its own and those of
// the functions it calls, transitively, in first-seen order.
func (m *scriptModule) reach(name string) []int {
	var out []int
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		d := m.defs[n]
		if d == nil || seen[n] {
			return
		}
		seen[n] = true
		for _, r := range d.reqs {
			out = appendUnique(out, r)
		}
		for _, callee := range d.callees {
			walk(callee)
		}
	}
	walk(name)
	return out
}

// loadScript reads, resolves, analyses and runs the top level of a script.
func (c *compiler) loadScript(ref plan.String, path string) *scriptModule {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		c.errorf(ref.Pos, "script %q: %v", ref.Value, err)
		return nil
	}
	f, err := scriptOptions.Parse(path, src, 0)
	if err != nil {
		c.starlarkErrors(err)
		return nil
	}
	prog, err := starlark.FileProgram(f, scriptBuiltins.Has)
	if err != nil {
		c.starlarkErrors(err)
		return nil
	}
	if prog.NumLoads() > 0 {
		_, pos := prog.Load(0)
		c.errorf(starPos(pos), "load: a script is one file; it cannot load others")
		return nil
	}
	mod := &scriptModule{
		path: path, base: strings.TrimSuffix(c.p.BaseURL.Value, "/"),
		http: map[siteKey]*httpSite{}, checks: map[siteKey]*checkSite{},
		defs: map[string]*defInfo{}, columns: map[string]map[string]int{}, errs: &errLog{},
	}
	for _, k := range sortedHeaderKeys(c.p.Defaults.Headers) {
		if t := c.tmplAt(c.p.Defaults.Headers[k]); t != nil {
			mod.defaults = append(mod.defaults, header{key: k, val: t})
		}
	}
	mod.vars = starlark.NewDict(len(c.prog.varInit))
	for _, v := range c.prog.varInit {
		_ = mod.vars.SetKey(starlark.String(c.prog.names.Name(v.slot)), starlark.String(v.val))
	}
	mod.vars.Freeze()
	n := len(c.errs)
	a := &analyzer{c: c, mod: mod}
	a.file(f)
	if len(c.errs) > n {
		return nil
	}
	th := &starlark.Thread{Name: "load " + path, Print: func(*starlark.Thread, string) {}}
	th.SetMaxExecutionSteps(maxScriptSteps)
	globals, err := prog.Init(th, scriptBuiltins)
	if err != nil {
		c.errorf(plan.Pos{File: path, Line: 1, Column: 1}, "script: %s", scriptError(err))
		return nil
	}
	globals.Freeze()
	mod.globals = globals
	return mod
}

func sortedHeaderKeys(m map[string]plan.String) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func starPos(p syntax.Position) plan.Pos {
	return plan.Pos{File: p.Filename(), Line: int(p.Line), Column: int(p.Col)}
}

// starlarkErrors records syntax and resolve errors at their positions.
func (c *compiler) starlarkErrors(err error) {
	var se syntax.Error
	var re resolve.ErrorList
	switch {
	case errors.As(err, &se):
		c.errorf(starPos(se.Pos), "script: %s", se.Msg)
	case errors.As(err, &re):
		for _, e := range re {
			c.errorf(starPos(e.Pos), "script: %s", e.Msg)
		}
	default:
		c.errorf(plan.Pos{}, "script: %v", err)
	}
}

// analyzer finds a script's requests, checks, groups and data columns.
type analyzer struct {
	c       *compiler
	mod     *scriptModule
	all     []int // every request of the script
	checks  []*pendingCheck
	checkAt map[*syntax.CallExpr]*pendingCheck
	groups  []pendingGroup
	cols    []colRef        // ctx.data.<feeder>.<column>
	bodies  [][]syntax.Stmt // every def's body, for the flow pass
}

// scope is where a call is: the global function it is in ("" at top
// level), to which its requests belong.
type scope struct{ owner string }

type pendingCheck struct {
	call  *syntax.CallExpr
	cands []int // from the flow pass; anyRequest: every request
}

type pendingGroup struct {
	name  string
	fn    string
	owner string
}

func (a *analyzer) file(f *syntax.File) {
	top := &scope{}
	for _, st := range f.Stmts {
		a.walk(st, top)
	}
	a.checkAt = map[*syntax.CallExpr]*pendingCheck{}
	for _, pc := range a.checks {
		a.checkAt[pc.call] = pc
	}
	a.flowBlock(f.Stmts, reach{})
	for _, body := range a.bodies {
		a.flowBlock(body, reach{})
	}
	for _, r := range a.cols {
		a.column(r)
	}
	for _, pc := range a.checks {
		a.check(pc)
	}
	for _, g := range a.groups {
		if _, ok := a.mod.defs[g.fn]; !ok {
			continue // reported by group()
		}
		for _, r := range a.mod.reach(g.fn) {
			a.c.prog.Groups[g.name] = appendUnique(a.c.prog.Groups[g.name], r)
		}
	}
}

// walk visits n within scope sc; a def's body is in the scope of its
// global function.
func (a *analyzer) walk(n syntax.Node, sc *scope) {
	syntax.Walk(n, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.DefStmt:
			inner := sc
			if sc.owner == "" {
				inner = &scope{owner: n.Name.Name}
				a.mod.defs[n.Name.Name] = &defInfo{}
			}
			for _, p := range n.Params {
				a.walk(p, sc) // defaults are evaluated outside
			}
			for _, st := range n.Body {
				a.walk(st, inner)
			}
			a.bodies = append(a.bodies, n.Body)
			return false
		case *syntax.DotExpr:
			a.data(n)
		case *syntax.IndexExpr: // ctx.data.<feeder>["column"]
			if x, ok := n.X.(*syntax.DotExpr); ok {
				if xx, ok := x.X.(*syntax.DotExpr); ok && xx.Name.Name == "data" {
					if col, ok := literal(n.Y).(string); ok {
						a.cols = append(a.cols, colRef{x.Name.Name, col, syntax.Start(n.Y)})
					}
				}
			}
		case *syntax.CallExpr:
			a.call(n, sc)
		}
		return true
	})
}

// anyRequest in a reach means "a value that may be any response".
const anyRequest = -1

// reach maps a local name to the requests whose response it may hold at
// a point of a function; a name not in it may hold anything.
type reach map[string][]int

func (r reach) clone() reach {
	out := make(reach, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// merge is what holds after either of two paths.
func merge(x, y reach) reach {
	out := reach{}
	for k, v := range x {
		if w, ok := y[k]; ok {
			u := slices.Clone(v)
			for _, r := range w {
				u = appendUnique(u, r)
			}
			out[k] = u
		}
	}
	return out
}

// flowBlock follows the statements of one function body (nested defs
// have their own pass), so that a check(r, ...) counts under the requests
// r can hold there: in `r = http.get("/a"); check(r, ...); r =
// http.get("/b"); check(r, ...)` each check has its one request.
func (a *analyzer) flowBlock(stmts []syntax.Stmt, st reach) reach {
	for _, s := range stmts {
		st = a.flowStmt(s, st)
	}
	return st
}

func (a *analyzer) flowStmt(s syntax.Stmt, st reach) reach {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		a.flowExpr(s.RHS, st)
		a.flowExpr(s.LHS, st)
		id, ok := s.LHS.(*syntax.Ident)
		if ok && s.Op == syntax.EQ {
			if site := a.siteOf(s.RHS); site != nil {
				st[id.Name] = []int{site.step.req}
				return st
			}
		}
		unbind(s.LHS, st)
	case *syntax.ExprStmt:
		a.flowExpr(s.X, st)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			a.flowExpr(s.Result, st)
		}
	case *syntax.IfStmt:
		a.flowExpr(s.Cond, st)
		st = merge(a.flowBlock(s.True, st.clone()), a.flowBlock(s.False, st.clone()))
	case *syntax.ForStmt:
		a.flowExpr(s.X, st)
		st = a.flowLoop(s.Body, st, s.Vars)
	case *syntax.WhileStmt:
		st = a.flowLoop(s.Body, st, nil)
		a.flowExpr(s.Cond, st)
	case *syntax.DefStmt:
		for _, p := range s.Params {
			a.flowExpr(p, st)
		}
		delete(st, s.Name.Name)
	}
	return st
}

// flowLoop follows a loop body from a state that allows every assignment
// the body makes anywhere (a later turn, or a continue, starts there; a
// break leaves from anywhere), which is then what holds after the loop.
func (a *analyzer) flowLoop(body []syntax.Stmt, st reach, vars syntax.Expr) reach {
	entry := st.clone()
	if vars != nil {
		unbind(vars, entry)
	}
	for _, s := range body {
		syntax.Walk(s, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.DefStmt, *syntax.LambdaExpr, *syntax.Comprehension:
				return false
			case *syntax.AssignStmt:
				id, ok := n.LHS.(*syntax.Ident)
				site := a.siteOf(n.RHS)
				if !ok || n.Op != syntax.EQ || site == nil {
					unbind(n.LHS, entry)
				} else if rs, ok := entry[id.Name]; ok {
					entry[id.Name] = appendUnique(slices.Clone(rs), site.step.req)
				}
			case *syntax.ForStmt:
				unbind(n.Vars, entry)
			}
			return true
		})
	}
	a.flowBlock(body, entry.clone())
	return entry
}

// unbind forgets what the names of a binding target held.
func unbind(e syntax.Expr, st reach) {
	switch e := e.(type) {
	case *syntax.Ident:
		delete(st, e.Name)
	case *syntax.TupleExpr:
		for _, x := range e.List {
			unbind(x, st)
		}
	case *syntax.ListExpr:
		for _, x := range e.List {
			unbind(x, st)
		}
	case *syntax.ParenExpr:
		unbind(e.X, st)
	}
}

// flowExpr gives the check calls in e their candidate requests.
func (a *analyzer) flowExpr(e syntax.Node, st reach) {
	syntax.Walk(e, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.LambdaExpr:
			a.flowExpr(n.Body, reach{})
			return false
		case *syntax.Comprehension:
			inner := st.clone()
			for _, cl := range n.Clauses {
				if fc, ok := cl.(*syntax.ForClause); ok {
					a.flowExpr(fc.X, inner)
					unbind(fc.Vars, inner)
				} else {
					a.flowExpr(cl.(*syntax.IfClause).Cond, inner)
				}
			}
			a.flowExpr(n.Body, inner)
			return false
		case *syntax.CallExpr:
			if pc := a.checkAt[n]; pc != nil {
				args, _ := splitArgs(n)
				if len(args) > 0 {
					for _, r := range a.reaching(args[0], st) {
						pc.cands = appendUnique(pc.cands, r)
					}
				}
			}
		}
		return true
	})
}

// reaching returns the requests whose response e may be.
func (a *analyzer) reaching(e syntax.Expr, st reach) []int {
	e = unparen(e)
	if site := a.siteOf(e); site != nil {
		return []int{site.step.req}
	}
	if id, ok := e.(*syntax.Ident); ok {
		if rs, ok := st[id.Name]; ok {
			return rs
		}
	}
	return []int{anyRequest}
}

// predeclared reports whether id is the fuka builtin of that name (not a
// local or global that hides it).
func predeclared(e syntax.Expr, name string) bool {
	id, ok := e.(*syntax.Ident)
	if !ok || id.Name != name {
		return false
	}
	b, ok := id.Binding.(*resolve.Binding)
	return ok && b.Scope == resolve.Predeclared
}

func (a *analyzer) errorf(p syntax.Position, format string, args ...any) {
	a.c.errorf(starPos(p), format, args...)
}

// call registers a request, check or group call, or a call of a global
// function (for the call graph).
func (a *analyzer) call(n *syntax.CallExpr, sc *scope) {
	switch fn := n.Fn.(type) {
	case *syntax.DotExpr:
		if predeclared(fn.X, "http") {
			a.request(n, fn.Name.Name, sc)
		}
	case *syntax.Ident:
		switch {
		case predeclared(fn, "check"):
			a.checks = append(a.checks, &pendingCheck{call: n})
		case predeclared(fn, "group"):
			a.group(n, sc)
		default:
			if b, ok := fn.Binding.(*resolve.Binding); ok && b.Scope == resolve.Global && sc.owner != "" {
				d := a.mod.defs[sc.owner]
				d.callees = append(d.callees, fn.Name)
			}
		}
	}
}

// request registers one http.<method>(path, ...) call: its request name is
// name= (a string literal), else the method and the path as written (a
// literal, or the format string of "..." % x).
func (a *analyzer) request(n *syntax.CallExpr, method string, sc *scope) {
	if !slices.Contains(httpMethods, method) {
		a.errorf(n.Lparen, "http.%s: no such function; want one of: %s", method, strings.Join(httpMethods, ", "))
		return
	}
	args, kw := splitArgs(n)
	name := ""
	if v, ok := kw["name"]; ok {
		s, ok := literal(v).(string)
		if !ok || s == "" {
			a.errorf(syntax.Start(v), "http.%s: name= must be a string literal (request names are fixed before the run)", method)
			return
		}
		name = s
	} else {
		path := kw["path"]
		if len(args) > 0 {
			path = args[0]
		}
		written := writtenPath(path)
		if written == "" {
			a.errorf(n.Lparen, "http.%s: the path is computed; give the request a name: name=\"...\"", method)
			return
		}
		name = strings.ToUpper(method) + " " + written
	}
	st := &step{
		kind: kRequest, method: strings.ToUpper(method), req: a.c.requestIndex(name, nil),
		timeout: a.c.prog.defTimeout, needBody: true, redirects: a.c.p.Defaults.FollowRedirects,
	}
	if v, ok := kw["follow_redirects"]; ok {
		r, ok := literal(v).(int64)
		if !ok || r < 0 || r > plan.MaxRedirects {
			a.errorf(syntax.Start(v), "http.%s: follow_redirects= must be a literal from 0 to %d", method, plan.MaxRedirects)
			return
		}
		st.redirects = int(r)
	}
	reqs := []int{st.req}
	if st.redirects > 0 {
		// Each hop is a request of its own, as a step's are.
		st.redirReq = a.c.requestIndex(redirectName(name), nil)
		reqs = append(reqs, st.redirReq)
	}
	a.all = appendUnique(a.all, st.req)
	if sc.owner != "" {
		d := a.mod.defs[sc.owner]
		for _, r := range reqs {
			d.reqs = appendUnique(d.reqs, r)
		}
	}
	a.mod.http[keyOf(n.Lparen)] = &httpSite{step: st}
}

// writtenPath is the path of a request as written: a string literal, or
// the format of "..." % args; "" when it is computed otherwise.
func writtenPath(e syntax.Expr) string {
	switch e := unparen(e).(type) {
	case *syntax.Literal:
		s, _ := e.Value.(string)
		return s
	case *syntax.BinaryExpr:
		if e.Op == syntax.PERCENT {
			if l, ok := unparen(e.X).(*syntax.Literal); ok {
				s, _ := l.Value.(string)
				return s
			}
		}
	}
	return ""
}

func unparen(e syntax.Expr) syntax.Expr {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// splitArgs returns a call's positional arguments and its named ones.
func splitArgs(n *syntax.CallExpr) ([]syntax.Expr, map[string]syntax.Expr) {
	var args []syntax.Expr
	kw := map[string]syntax.Expr{}
	for _, x := range n.Args {
		if b, ok := x.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			if id, ok := b.X.(*syntax.Ident); ok {
				kw[id.Name] = b.Y
				continue
			}
		}
		args = append(args, x)
	}
	return args, kw
}

// group registers group("name", fn, ...): the requests fn can reach count
// in the group too.
func (a *analyzer) group(n *syntax.CallExpr, sc *scope) {
	args, _ := splitArgs(n)
	name := ""
	if len(args) > 0 {
		name, _ = literal(args[0]).(string)
	}
	var fn string
	if len(args) > 1 {
		if id, ok := args[1].(*syntax.Ident); ok {
			if b, ok := id.Binding.(*resolve.Binding); ok && b.Scope == resolve.Global {
				fn = id.Name
			}
		}
	}
	if name == "" || fn == "" {
		a.errorf(n.Lparen, "group: want group(\"name\", function, args...) with a string literal and a function defined in the script")
		return
	}
	if sc.owner != "" {
		d := a.mod.defs[sc.owner]
		d.callees = append(d.callees, fn)
	}
	a.groups = append(a.groups, pendingGroup{name: name, fn: fn, owner: sc.owner})
}

// data notes ctx.data.<feeder> (a feeder the script's scenarios take a
// row of each iteration) and ctx.data.<feeder>.<column> (checked once the
// whole file is seen).
func (a *analyzer) data(n *syntax.DotExpr) {
	x, ok := n.X.(*syntax.DotExpr)
	if !ok {
		return
	}
	if x.Name.Name == "data" {
		a.feeder(n)
		return
	}
	if xx, ok := x.X.(*syntax.DotExpr); ok && xx.Name.Name == "data" {
		a.cols = append(a.cols, colRef{x.Name.Name, n.Name.Name, n.Name.NamePos})
	}
}

func (a *analyzer) feeder(n *syntax.DotExpr) {
	name := n.Name.Name
	if _, ok := a.mod.columns[name]; ok {
		return
	}
	b := a.c.feedByNm[name]
	if b == nil {
		a.errorf(n.Name.NamePos, "no data %q in the plan (ctx.data.%s)", name, name)
		a.mod.columns[name] = nil
		return
	}
	cols := map[string]int{}
	for i, col := range b.cols {
		cols[col] = b.slots[i]
	}
	a.mod.columns[name] = cols
	a.mod.feeders = append(a.mod.feeders, b)
}

// colRef is ctx.data.<feeder>.<column> or ctx.data.<feeder>["column"].
type colRef struct {
	feeder, col string
	pos         syntax.Position
}

// column checks a column reference against the feeder's columns.
func (a *analyzer) column(r colRef) {
	cols := a.mod.columns[r.feeder]
	if cols == nil {
		return // no such feeder: reported
	}
	if _, ok := cols[r.col]; !ok {
		a.errorf(r.pos, "data %q has no column %q; it has: %s", r.feeder, r.col, strings.Join(sortedKeysOf(cols), ", "))
	}
}

func sortedKeysOf(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkKinds are check()'s named arguments that make a check.
var checkKinds = []string{"status", "body_contains", "body_regex", "json", "json_exists", "max_latency", "header"}

// check compiles one check(r, ...) call. Its named arguments are literals,
// compiled once like a YAML step's check:; check(r, cond, name="...")
// counts a condition the script computes.
func (a *analyzer) check(pc *pendingCheck) {
	n := pc.call
	args, kw := splitArgs(n)
	if len(args) == 0 || len(args) > 2 {
		a.errorf(n.Lparen, "check: want check(response, status=200, ...) or check(response, condition, name=\"...\")")
		return
	}
	name := ""
	if v, ok := kw["name"]; ok {
		s, ok := literal(v).(string)
		if !ok || s == "" {
			a.errorf(syntax.Start(v), "check: name= must be a string literal")
			return
		}
		name = s
	}
	site := &checkSite{}
	var names []string
	if len(args) == 2 {
		if name == "" {
			a.errorf(n.Lparen, "check: a condition needs a name: check(r, cond, name=\"...\")")
			return
		}
		site.checkers = []*Checker{nil}
		names = []string{name}
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	// In the order written, so that names come out in source order.
	sort.Slice(keys, func(i, j int) bool {
		p, q := syntax.Start(kw[keys[i]]), syntax.Start(kw[keys[j]])
		return p.Line < q.Line || (p.Line == q.Line && p.Col < q.Col)
	})
	for _, k := range keys {
		if k == "name" {
			continue
		}
		if len(args) == 2 || !slices.Contains(checkKinds, k) {
			a.errorf(syntax.Start(kw[k]), "check: unknown argument %s=; want %s, or name= with a condition", k, strings.Join(checkKinds, "=, ")+"=")
			continue
		}
		pcs, err := planChecks(k, kw[k])
		if err != nil {
			a.errorf(syntax.Start(kw[k]), "check: %s=: %v", k, err)
			continue
		}
		for _, c := range pcs {
			ck, err := CompileCheck(c)
			if err != nil {
				a.errorf(syntax.Start(kw[k]), "check: %s=: %v", k, err)
				continue
			}
			site.checkers = append(site.checkers, ck)
			names = append(names, ck.Name)
		}
	}
	if len(site.checkers) == 0 {
		if len(args) == 1 {
			a.errorf(n.Lparen, "check: nothing to check; want e.g. status=200")
		}
		return
	}
	if name != "" && len(args) == 1 {
		if len(site.checkers) > 1 {
			a.errorf(syntax.Start(kw["name"]), "check: name= names one check; this call makes %d", len(site.checkers))
			return
		}
		names[0] = name
	}
	site.cands = pc.cands
	if len(site.cands) == 0 || slices.Contains(site.cands, anyRequest) {
		site.cands = a.all
	}
	for _, r := range site.cands {
		row := make([]int, len(names))
		for i, nm := range names {
			row[i] = a.c.checkIndex(r, nm)
		}
		site.idx = append(site.idx, row)
	}
	a.mod.checks[keyOf(n.Lparen)] = site
}

func (a *analyzer) siteOf(e syntax.Expr) *httpSite {
	if call, ok := unparen(e).(*syntax.CallExpr); ok {
		return a.mod.http[keyOf(call.Lparen)]
	}
	return nil
}

// planChecks turns one check() argument into plan checks.
func planChecks(kind string, e syntax.Expr) ([]plan.Check, error) {
	v := literal(e)
	if v == errNotLiteral {
		return nil, errors.New("want a literal value (checks are compiled before the run); for a computed test use check(r, condition, name=\"...\")")
	}
	switch kind {
	case "status":
		var st []int
		switch v := v.(type) {
		case int64:
			st = []int{int(v)}
		case []any:
			for _, x := range v {
				n, ok := x.(int64)
				if !ok {
					return nil, errors.New("want a status code or a list of them")
				}
				st = append(st, int(n))
			}
		default:
			return nil, errors.New("want a status code or a list of them")
		}
		return []plan.Check{{Kind: plan.CheckStatus, Statuses: st}}, nil
	case "body_contains", "body_regex":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("want a string")
		}
		k := plan.CheckBodyContains
		if kind == "body_regex" {
			k = plan.CheckBodyRegex
		}
		return []plan.Check{{Kind: k, Expr: s}}, nil
	case "json_exists":
		var out []plan.Check
		for _, p := range strings1(v) {
			out = append(out, plan.Check{Kind: plan.CheckJSONExists, Expr: p})
		}
		if out == nil {
			return nil, errors.New("want a JSON path or a list of them")
		}
		return out, nil
	case "json", "header":
		var out []plan.Check
		if s, ok := v.(string); ok && kind == "header" {
			return []plan.Check{{Kind: plan.CheckHeader, Expr: s}}, nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("want a dict {\"path\": value}")
		}
		for _, k := range sortedAnyKeys(m) {
			if kind == "header" {
				s, ok := m[k].(string)
				if !ok {
					return nil, fmt.Errorf("header %q: want a string value", k)
				}
				out = append(out, plan.Check{Kind: plan.CheckHeader, Expr: k, Value: s})
				continue
			}
			b, err := json.Marshal(m[k])
			if err != nil {
				return nil, err
			}
			out = append(out, plan.Check{Kind: plan.CheckJSONEquals, Expr: k, Value: string(b)})
		}
		return out, nil
	case "max_latency":
		switch v := v.(type) {
		case string:
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, err
			}
			return []plan.Check{{Kind: plan.CheckMaxLatency, Latency: d}}, nil
		case int64:
			return []plan.Check{{Kind: plan.CheckMaxLatency, Latency: time.Duration(v) * time.Second}}, nil
		case float64:
			return []plan.Check{{Kind: plan.CheckMaxLatency, Latency: time.Duration(v * float64(time.Second))}}, nil
		}
		return nil, errors.New("want a duration (\"500ms\") or seconds")
	}
	return nil, fmt.Errorf("unknown check %s", kind)
}

func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

func sortedAnyKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type notLiteral struct{}

var errNotLiteral any = notLiteral{}

// literal returns the Go value of a literal expression (string, int64,
// float64, bool, nil, []any, map[string]any), or errNotLiteral.
func literal(e syntax.Expr) any {
	switch e := unparen(e).(type) {
	case *syntax.Literal:
		switch v := e.Value.(type) {
		case string, int64, float64:
			return v
		}
	case *syntax.Ident:
		switch e.Name {
		case "True":
			return true
		case "False":
			return false
		case "None":
			return nil
		}
	case *syntax.UnaryExpr:
		if e.Op == syntax.MINUS {
			switch v := literal(e.X).(type) {
			case int64:
				return -v
			case float64:
				return -v
			}
		}
	case *syntax.ListExpr:
		return literals(e.List)
	case *syntax.TupleExpr:
		return literals(e.List)
	case *syntax.DictExpr:
		m := map[string]any{}
		for _, x := range e.List {
			de := x.(*syntax.DictEntry)
			k, ok := literal(de.Key).(string)
			v := literal(de.Value)
			if !ok || v == errNotLiteral {
				return errNotLiteral
			}
			m[k] = v
		}
		return m
	}
	return errNotLiteral
}

func literals(xs []syntax.Expr) any {
	out := make([]any, 0, len(xs))
	for _, x := range xs {
		v := literal(x)
		if v == errNotLiteral {
			return errNotLiteral
		}
		out = append(out, v)
	}
	return out
}

// checkIndex returns the index of check "request: name" of a script,
// adding it if new: two check() calls of the same test on the same request
// count together, and with a YAML step's of that name compiled before.
func (c *compiler) checkIndex(req int, name string) int {
	full := c.prog.Requests[req] + ": " + name
	if c.scriptChecks == nil {
		c.scriptChecks = map[string]int{}
	}
	if i, ok := c.scriptChecks[full]; ok {
		return i
	}
	for i, name := range c.prog.Checks { // a YAML step's check of that name
		if name == full && c.prog.checkReq[i] == req {
			c.scriptChecks[full] = i
			return i
		}
	}
	i := len(c.prog.Checks)
	c.scriptChecks[full] = i
	c.prog.Checks = append(c.prog.Checks, full)
	c.prog.checkReq = append(c.prog.checkReq, req)
	return i
}
