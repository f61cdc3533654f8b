package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/fuka-load/fuka/client"
)

// scriptBuiltins are the names a script sees besides Starlark's own. They
// are shared by every client: the state they act on (the client, its
// random source, its cookie jar) is the calling thread's (see clientOf).
var scriptBuiltins = starlark.StringDict{
	"http":   httpModule(),
	"check":  starlark.NewBuiltin("check", scriptCheck),
	"sleep":  starlark.NewBuiltin("sleep", scriptSleep),
	"group":  starlark.NewBuiltin("group", scriptGroup),
	"random": randomModule(),
	"json":   json.Module,
}

func init() { scriptBuiltins.Freeze() }

const localClient = "fuka.client"

// scriptClient is a client's script state: one Starlark thread for all its
// iterations.
type scriptClient struct {
	c        *Client
	th       *starlark.Thread
	sc       *compiled
	ctxVal   *ctxValue
	args     starlark.Tuple
	run      context.Context // the iteration's context: a run stop ends sleeps and loops
	intended time.Time
	first    bool
	next     *scriptClient // the client's state for its other script scenarios (open model)
}

// clientOf returns the client running on thread th and its state for the
// running scenario, or an error for the script's top level (run once, at
// load, with no client).
func clientOf(th *starlark.Thread, fn string) (*Client, *scriptClient, error) {
	s, _ := th.Local(localClient).(*scriptClient)
	if s == nil {
		return nil, nil, fmt.Errorf("%s: only inside a scenario's function, not while the script loads", fn)
	}
	return s.c, s, nil
}

// runScript runs one iteration of a script scenario: a call of its
// function. A Starlark error is a failed "no script error" check, noted
// with its position for the end of the run (Program.ScriptErrors); the
// client goes on with its next iteration.
func (c *Client) runScript(ctx context.Context, sc *compiled, intended time.Time) bool {
	s := c.scr
	for s != nil && s.sc != sc {
		s = s.next
	}
	if s == nil {
		s = &scriptClient{c: c, next: c.scr, th: &starlark.Thread{
			Name:  fmt.Sprintf("client %d", c.id),
			Print: func(*starlark.Thread, string) {},
			OnMaxSteps: func(th *starlark.Thread) {
				th.Cancel(fmt.Sprintf("more than %d steps in one iteration (an endless loop?)", maxScriptSteps))
			},
		}, sc: sc}
		s.th.SetLocal(localClient, s)
		s.ctxVal = &ctxValue{c: c, sc: sc, data: &dataValue{c: c, mod: sc.script.mod}}
		s.args = starlark.Tuple{s.ctxVal}
		c.scr = s
	}
	s.run, s.intended, s.first = ctx, intended, true
	s.th.SetMaxExecutionSteps(s.th.ExecutionSteps() + maxScriptSteps)
	stop := context.AfterFunc(ctx, func() { s.th.Cancel("the run stopped") })
	_, err := starlark.Call(s.th, sc.script.fn, s.args, nil)
	stop()
	s.th.Uncancel()
	s.ctxVal.iteration++
	if ctx.Err() != nil {
		return true // the run's end cut the iteration short: not the script's fault
	}
	c.rec.Check(sc.script.errCheck, err == nil)
	if err != nil {
		sc.script.mod.errs.note(scriptError(err))
	}
	if c.bad {
		c.bad = false
		return c.pauseAfterInvalid(ctx)
	}
	return true
}

// scriptError formats a Starlark error as "file:line:col: in fn: message",
// at the innermost frame of the script.
func scriptError(err error) string {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return err.Error()
	}
	for i := len(ee.CallStack) - 1; i >= 0; i-- {
		fr := ee.CallStack[i]
		if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
			return fmt.Sprintf("%s: in %s: %s", fr.Pos, fr.Name, ee.Msg)
		}
	}
	return ee.Msg
}

// maxScriptErrors bounds the distinct script error messages kept.
const maxScriptErrors = 20

// errLog counts script errors by message, for the end of the run.
type errLog struct {
	mu    sync.Mutex
	count map[string]int
	order []string
	other int
}

func (l *errLog) note(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = map[string]int{}
	}
	if _, ok := l.count[msg]; !ok && len(l.order) >= maxScriptErrors {
		l.other++
		return
	}
	if l.count[msg] == 0 {
		l.order = append(l.order, msg)
	}
	l.count[msg]++
}

// ScriptErrors returns the errors the plan's scripts raised during the run,
// one line each with its count, first seen first: "checkout.star:7:21: in
// checkout: key "token" not in dict (×12)".
func (p *Program) ScriptErrors() []string {
	var out []string
	seen := map[*errLog]bool{}
	for _, sc := range p.scenarios {
		if sc.script == nil || seen[sc.script.mod.errs] {
			continue
		}
		l := sc.script.mod.errs
		seen[l] = true
		l.mu.Lock()
		for _, m := range l.order {
			out = append(out, fmt.Sprintf("%s (×%d)", m, l.count[m]))
		}
		if l.other > 0 {
			out = append(out, fmt.Sprintf("%s: %d more errors of other kinds", sc.script.mod.path, l.other))
		}
		l.mu.Unlock()
	}
	return out
}

// ---- http ----

func httpModule() *starlarkstruct.Module {
	m := &starlarkstruct.Module{Name: "http", Members: starlark.StringDict{}}
	for _, meth := range httpMethods {
		m.Members[meth] = starlark.NewBuiltin("http."+meth, scriptHTTP)
	}
	return m
}

// scriptHTTP is http.<method>(path, query=, headers=, json=, body=, form=,
// name=, timeout=): one request, sent and recorded as a YAML step's is
// (Client.send: at most once, never retried), its response returned.
func scriptHTTP(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c, sc, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	site := sc.site(th)
	if site == nil {
		return nil, fmt.Errorf("%s: call it by name, as %s(...), so that its request name is known before the run", b.Name(), b.Name())
	}
	a, err := httpArgs(b.Name(), args, kwargs)
	if err != nil {
		return nil, err
	}
	path, query, hdrs, form, jsonV, body, timeout := a.path, a.query, a.headers, a.form, a.json, a.body, a.timeout
	s := site.step
	if timeout != starlark.None {
		f, ok := starlark.AsFloat(timeout)
		if !ok || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s: timeout: want seconds > 0, got %s", b.Name(), timeout)
		}
		cp := *s
		cp.timeout = time.Duration(f * float64(time.Second))
		s = &cp
	}
	mod := sc.sc.script.mod
	rawURL, err := c.scriptURL(mod.base, path, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	c.hdrs = c.hdrs[:0]
	var payload []byte
	ctype := "" // under the script's headers, which may set their own
	switch {
	case jsonV != nil:
		v, err := starlark.Call(th, jsonEncode, starlark.Tuple{jsonV}, nil)
		if err != nil {
			return nil, err
		}
		payload = []byte(string(v.(starlark.String)))
		ctype = "application/json"
	case form != nil:
		enc, err := appendPairs(nil, form)
		if err != nil {
			return nil, fmt.Errorf("%s: form: %v", b.Name(), err)
		}
		payload = enc
		ctype = "application/x-www-form-urlencoded"
	case body != nil:
		switch v := body.(type) {
		case starlark.String:
			payload = []byte(string(v))
		case starlark.Bytes:
			payload = []byte(string(v))
		default:
			return nil, fmt.Errorf("%s: body: want a string or bytes, got %s", b.Name(), body.Type())
		}
	}
	for _, h := range mod.defaults {
		c.hdrs = append(c.hdrs, renderedHeader{h.key, string(h.val.Render(nil, c.st))})
	}
	if hdrs != nil {
		for _, kv := range hdrs.Items() {
			k, ok1 := starlark.AsString(kv[0])
			v, ok2 := starlark.AsString(kv[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: headers: want strings, got %s: %s", b.Name(), kv[0].Type(), kv[1].Type())
			}
			c.hdrs = append(c.hdrs, renderedHeader{k, v}) // after the defaults: it replaces theirs
		}
	}
	from := time.Time{}
	if sc.first && c.r.open {
		from = sc.intended
	}
	sc.first = false
	for _, h := range c.hdrs {
		if !validHeaderValue(h.val) {
			c.invalid(s, from, "header "+h.key+": the value has a line break or control character")
			return nil, fmt.Errorf("%s: header %s: the value has a line break or control character; the request was not sent", b.Name(), h.key)
		}
	}
	h := hop{method: s.method, url: rawURL, body: payload, contentType: ctype, req: s.req}
	resp, _ := c.send(s, h, from, false)
	if resp != nil && s.redirects > 0 && !c.bad {
		resp = c.follow(sc.run, s, h, resp)
	}
	if c.bad {
		return nil, fmt.Errorf("%s: %q is not a valid URL; the request was not sent", b.Name(), rawURL)
	}
	r := &responseValue{req: s.req}
	if resp != nil {
		cp := *resp
		cp.Body = bytes.Clone(resp.Body) // c.body is reused by the next request
		r.resp = &cp
	}
	return r, nil
}

var jsonEncode = json.Module.Members["encode"]

// callArgs are the arguments of an http call.
type callArgs struct {
	path                 string
	query, headers, form *starlark.Dict
	json, body           starlark.Value
	timeout              starlark.Value
}

// httpArgs unpacks an http call's arguments (by hand: starlark.UnpackArgs
// would make every one of them escape, a few allocations per request).
func httpArgs(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (callArgs, error) {
	a := callArgs{timeout: starlark.None}
	var pathV starlark.Value
	switch len(args) {
	case 0:
	case 1:
		pathV = args[0]
	default:
		return a, fmt.Errorf("%s: want one positional argument (the path), got %d", fn, len(args))
	}
	for _, kv := range kwargs {
		k, _ := starlark.AsString(kv[0])
		v := kv[1]
		var err error
		switch k {
		case "path":
			if pathV != nil {
				return a, fmt.Errorf("%s: got multiple values for path", fn)
			}
			pathV = v
		case "query":
			a.query, err = dictArg(fn, k, v)
		case "headers":
			a.headers, err = dictArg(fn, k, v)
		case "form":
			a.form, err = dictArg(fn, k, v)
		case "json":
			a.json = v
		case "body":
			a.body = v
		case "timeout":
			a.timeout = v
		case "name", "follow_redirects": // read from the source before the run
		default:
			return a, fmt.Errorf("%s: unexpected argument %s=; want path, query, headers, json, form, body, name, timeout, follow_redirects", fn, k)
		}
		if err != nil {
			return a, err
		}
	}
	p, ok := pathV.(starlark.String)
	if !ok {
		if pathV == nil {
			return a, fmt.Errorf("%s: missing the path", fn)
		}
		return a, fmt.Errorf("%s: path: want a string, got %s", fn, pathV.Type())
	}
	a.path = string(p)
	if (a.json != nil && a.form != nil) || (a.json != nil && a.body != nil) || (a.form != nil && a.body != nil) {
		return a, fmt.Errorf("%s: want one body: json=, form= or body=", fn)
	}
	return a, nil
}

func dictArg(fn, k string, v starlark.Value) (*starlark.Dict, error) {
	if v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: %s: want a dict, got %s", fn, k, v.Type())
	}
	return d, nil
}

// scriptURL is base_url + path (unless path is absolute) + query, with
// what a URL may not hold raw percent-encoded.
func (c *Client) scriptURL(base, path string, query *starlark.Dict) (string, error) {
	c.buf = c.buf[:0]
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		c.buf = append(c.buf, base...)
		if !strings.HasPrefix(path, "/") {
			c.buf = append(c.buf, '/')
		}
	}
	c.buf = append(c.buf, path...)
	if query != nil && query.Len() > 0 {
		if bytes.IndexByte(c.buf, '?') >= 0 {
			c.buf = append(c.buf, '&')
		} else {
			c.buf = append(c.buf, '?')
		}
		var err error
		if c.buf, err = appendPairs(c.buf, query); err != nil {
			return "", fmt.Errorf("query: %v", err)
		}
	}
	c.ubuf = client.AppendFixedURL(c.ubuf[:0], c.buf)
	return string(c.ubuf), nil
}

// appendPairs appends a dict as k=v&k=v, escaped, in the dict's order.
// A value that is not a string is written as Starlark prints it (2, True).
func appendPairs(dst []byte, d *starlark.Dict) ([]byte, error) {
	for i, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, fmt.Errorf("want string keys, got %s", kv[0].Type())
		}
		v, ok := starlark.AsString(kv[1])
		if !ok {
			v = kv[1].String()
		}
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, url.QueryEscape(k)...)
		dst = append(dst, '=')
		dst = append(dst, url.QueryEscape(v)...)
	}
	return dst, nil
}

// site is the http call running on th, by the position of its '('.
func (s *scriptClient) site(th *starlark.Thread) *httpSite {
	return s.sc.script.mod.http[keyOf(th.CallFrame(1).Pos)]
}

// ---- check, sleep, group ----

// scriptCheck is check(r, status=200, ...) or check(r, cond, name="..."):
// it counts each of the call's checks against r's request and returns
// whether they all passed. A response that never came fails them all.
func scriptCheck(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	c, sc, err := clientOf(th, "check")
	if err != nil {
		return nil, err
	}
	site := sc.sc.script.mod.checks[keyOf(th.CallFrame(1).Pos)]
	if site == nil {
		return nil, errors.New("check: call it by name, as check(...), so that its checks are known before the run")
	}
	if len(args) == 0 {
		return nil, errors.New("check: want a response")
	}
	r, ok := args[0].(*responseValue)
	if !ok {
		return nil, fmt.Errorf("check: want a response (from http.get, ...), got %s", args[0].Type())
	}
	k := -1
	for i, cand := range site.cands {
		if cand == r.req {
			k = i
			break
		}
	}
	if k < 0 {
		return nil, fmt.Errorf("check: this response is from request %q, which this check does not expect", c.r.prog.Requests[r.req])
	}
	all := true
	for i, ck := range site.checkers {
		var ok bool
		switch {
		case ck == nil: // check(r, cond, name=...)
			ok = len(args) > 1 && bool(args[1].Truth())
		case r.resp != nil:
			ok = ck.Apply(r.resp)
		}
		c.rec.Check(site.idx[k][i], ok)
		all = all && ok
	}
	return starlark.Bool(all), nil
}

// scriptSleep is sleep(seconds): think time, cut short when the run stops.
func scriptSleep(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var secs starlark.Value
	if err := starlark.UnpackPositionalArgs("sleep", args, kwargs, 1, &secs); err != nil {
		return nil, err
	}
	f, ok := starlark.AsFloat(secs)
	if !ok || f < 0 || math.IsNaN(f) || f > 24*3600 {
		return nil, fmt.Errorf("sleep: want seconds from 0 to 86400, got %s", secs)
	}
	_, sc, err := clientOf(th, "sleep")
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(time.Duration(f * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return starlark.None, nil
	case <-sc.run.Done():
		return nil, errors.New("the run stopped")
	}
}

// scriptGroup is group("name", fn, args...): it calls fn(args...). The
// group's requests were found in the source (see analyzer.group).
func scriptGroup(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, errors.New("group: want group(\"name\", function, args...)")
	}
	return starlark.Call(th, args[1], args[2:], kwargs)
}

// ---- random ----

func randomModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "random", Members: starlark.StringDict{
		"random":  starlark.NewBuiltin("random.random", randRandom),
		"uniform": starlark.NewBuiltin("random.uniform", randUniform),
		"randint": starlark.NewBuiltin("random.randint", randInt),
		"choice":  starlark.NewBuiltin("random.choice", randChoice),
	}}
}

func randRandom(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	c, _, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	return starlark.Float(c.st.Rand.Float64()), nil
}

func randUniform(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lo, hi starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &lo, &hi); err != nil {
		return nil, err
	}
	a, ok1 := starlark.AsFloat(lo)
	z, ok2 := starlark.AsFloat(hi)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: want two numbers", b.Name())
	}
	c, _, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	return starlark.Float(a + (z-a)*c.st.Rand.Float64()), nil
}

func randInt(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lo, hi int64
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &lo, &hi); err != nil {
		return nil, err
	}
	if hi < lo || hi-lo+1 <= 0 {
		return nil, fmt.Errorf("%s: want a <= b, got %d, %d", b.Name(), lo, hi)
	}
	c, _, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt64(lo + c.st.Rand.Int64N(hi-lo+1)), nil
}

func randChoice(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Indexable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &seq); err != nil {
		return nil, err
	}
	if seq.Len() == 0 {
		return nil, fmt.Errorf("%s: empty sequence", b.Name())
	}
	c, _, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	return seq.Index(c.st.Rand.IntN(seq.Len())), nil
}

// ---- values: ctx, ctx.data, responses ----

// ctxValue is the function's ctx: ctx.client_id, ctx.iteration (from 0,
// per client), ctx.scenario, ctx.vars (the plan's vars and env) and
// ctx.data.<feeder>.<column> (this iteration's rows).
type ctxValue struct {
	c         *Client
	sc        *compiled
	data      *dataValue
	iteration int
}

var ctxAttrs = []string{"client_id", "data", "iteration", "scenario", "vars"}

func (v *ctxValue) String() string        { return "<ctx>" }
func (v *ctxValue) Type() string          { return "ctx" }
func (v *ctxValue) Freeze()               {}
func (v *ctxValue) Truth() starlark.Bool  { return true }
func (v *ctxValue) Hash() (uint32, error) { return 0, errors.New("unhashable: ctx") }
func (v *ctxValue) AttrNames() []string   { return ctxAttrs }
func (v *ctxValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "client_id":
		return starlark.MakeInt(v.c.id), nil
	case "iteration":
		return starlark.MakeInt(v.iteration), nil
	case "scenario":
		return starlark.String(v.sc.name), nil
	case "vars":
		return v.sc.script.mod.vars, nil
	case "data":
		return v.data, nil
	}
	return nil, nil
}

// dataValue is ctx.data: a row of each feeder the script names.
type dataValue struct {
	c   *Client
	mod *scriptModule
}

func (v *dataValue) String() string        { return "<ctx.data>" }
func (v *dataValue) Type() string          { return "data" }
func (v *dataValue) Freeze()               {}
func (v *dataValue) Truth() starlark.Bool  { return true }
func (v *dataValue) Hash() (uint32, error) { return 0, errors.New("unhashable: data") }
func (v *dataValue) AttrNames() []string {
	out := make([]string, 0, len(v.mod.columns))
	for k := range v.mod.columns {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
func (v *dataValue) Attr(name string) (starlark.Value, error) {
	cols, ok := v.mod.columns[name]
	if !ok {
		// Only a feeder named in the source (ctx.data.users) takes a row.
		return nil, fmt.Errorf("ctx.data has no %q: name the data as ctx.data.<name> in the script", name)
	}
	return &rowValue{c: v.c, name: name, cols: cols}, nil
}

// rowValue is ctx.data.<feeder>: the iteration's row.
type rowValue struct {
	c    *Client
	name string
	cols map[string]int
}

func (v *rowValue) String() string        { return "<ctx.data." + v.name + ">" }
func (v *rowValue) Type() string          { return "row" }
func (v *rowValue) Freeze()               {}
func (v *rowValue) Truth() starlark.Bool  { return true }
func (v *rowValue) Hash() (uint32, error) { return 0, errors.New("unhashable: row") }
func (v *rowValue) AttrNames() []string   { return sortedKeysOf(v.cols) }

// Get is row["column"], for a column whose name is a Starlark keyword
// (ctx.data.users["pass"]) or not an identifier.
func (v *rowValue) Get(k starlark.Value) (starlark.Value, bool, error) {
	name, ok := starlark.AsString(k)
	if !ok {
		return nil, false, fmt.Errorf("ctx.data.%s[...]: want a column name, got %s", v.name, k.Type())
	}
	slot, ok := v.cols[name]
	if !ok {
		return nil, false, fmt.Errorf("ctx.data.%s has no column %q", v.name, name)
	}
	return starlark.String(v.c.st.Vals[slot]), true, nil
}

func (v *rowValue) Attr(name string) (starlark.Value, error) {
	slot, ok := v.cols[name]
	if !ok {
		return nil, nil
	}
	return starlark.String(v.c.st.Vals[slot]), nil
}

// responseValue is what http.<method> returns: r.status (0 when no
// response came), r.ok, r.text, r.body, r.headers, r.header(name),
// r.json(), r.latency (seconds), r.error.
type responseValue struct {
	req  int
	resp *Response // nil: no response (transport error or timeout)
	json starlark.Value
}

var responseAttrs = []string{"body", "error", "header", "headers", "json", "latency", "ok", "status", "status_code", "text"}

func (r *responseValue) String() string {
	if r.resp == nil {
		return "<response: none>"
	}
	return fmt.Sprintf("<response %d>", r.resp.Status)
}
func (r *responseValue) Type() string          { return "response" }
func (r *responseValue) Freeze()               {}
func (r *responseValue) Truth() starlark.Bool  { return starlark.Bool(r.ok()) }
func (r *responseValue) Hash() (uint32, error) { return 0, errors.New("unhashable: response") }
func (r *responseValue) AttrNames() []string   { return responseAttrs }
func (r *responseValue) ok() bool              { return r.resp != nil && r.resp.Status < 400 }

func (r *responseValue) Attr(name string) (starlark.Value, error) {
	status := 0
	var body []byte
	if r.resp != nil {
		status, body = r.resp.Status, r.resp.Body
	}
	switch name {
	case "status", "status_code":
		return starlark.MakeInt(status), nil
	case "ok":
		return starlark.Bool(r.ok()), nil
	case "text":
		return starlark.String(body), nil
	case "body":
		return starlark.Bytes(body), nil
	case "latency":
		if r.resp == nil {
			return starlark.Float(0), nil
		}
		return starlark.Float(r.resp.Latency.Seconds()), nil
	case "error":
		if r.resp == nil {
			return starlark.String("no response (see the report's errors)"), nil
		}
		return starlark.String(""), nil
	case "headers":
		d := starlark.NewDict(0)
		if r.resp != nil {
			keys := make([]string, 0, len(r.resp.Header))
			for k := range r.resp.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				_ = d.SetKey(starlark.String(k), starlark.String(strings.Join(r.resp.Header[k], ", ")))
			}
		}
		return d, nil
	case "header":
		return starlark.NewBuiltin("header", r.header), nil
	case "json":
		return starlark.NewBuiltin("json", r.decode), nil
	}
	return nil, nil
}

// header is r.header(name): the header's first value, or None.
func (r *responseValue) header(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs("header", args, kwargs, 1, &name); err != nil {
		return nil, err
	}
	if r.resp == nil {
		return starlark.None, nil
	}
	if v := r.resp.Header.Values(http.CanonicalHeaderKey(name)); len(v) > 0 {
		return starlark.String(v[0]), nil
	}
	return starlark.None, nil
}

// decode is r.json(): the body as Starlark values, parsed once per
// response.
func (r *responseValue) decode(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs("json", args, kwargs, 0); err != nil {
		return nil, err
	}
	if r.json != nil {
		return r.json, nil
	}
	if r.resp == nil {
		return nil, errors.New("json: no response")
	}
	v, err := starlark.Call(th, json.Module.Members["decode"], starlark.Tuple{starlark.String(r.resp.Body)}, nil)
	if err != nil {
		return nil, fmt.Errorf("json: the body of %d bytes is not JSON: %v", len(r.resp.Body), err)
	}
	r.json = v
	return v, nil
}
