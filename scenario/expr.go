package scenario

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

// Expressions ('{{ status == 200 && cart.items > 0 }}') are compiled once,
// with github.com/expr-lang/expr, against the names the plan defines: an
// unknown name is an error at compile time, with its file:line:column.
//
// A variable holds text (what a template renders); in an expression it
// has a type: a value extracted from JSON that is not a string (a number,
// an array, an object) is that JSON value, parsed the first time an
// expression reads it; a value set: from an expression keeps the
// expression's type; anything else is a string. Data columns are fields of
// the data source's name (users.name), and three names are built in:
// status (the last response's status in this iteration, 0 when none came),
// iteration (the client's iteration number, from 0) and client_id (the
// client's number, from 0). A plan's own variable of the same name wins.

// Built-in names.
const (
	builtinStatus    = "status"
	builtinIteration = "iteration"
	builtinClientID  = "client_id"
)

// expression is a compiled expression and the names it reads.
type expression struct {
	src  string
	prog *vm.Program
	refs []exprRef
	// slot is the variable the expression is when it is only a name
	// (foreach over it then walks its JSON text without parsing it), or -1.
	slot int
}

// exprRef is one name an expression reads and where its value comes from.
type exprRef struct {
	key     string
	slot    int      // a variable's slot, or -1
	feeder  *binding // a data source: a map of its columns
	builtin string   // status
}

// exprEnv returns the names expressions may use, with their types, and
// where each one's value comes from.
func (c *compiler) exprEnv() (types.Map, map[string]exprRef) {
	if c.env2 != nil {
		return c.env2, c.refs
	}
	env, refs := types.Map{}, map[string]exprRef{}
	names := c.prog.names
	for s := range names.Len() {
		n := names.Name(s)
		if !strings.Contains(n, ".") && !strings.Contains(n, "-") {
			env[n], refs[n] = types.Any, exprRef{key: n, slot: s}
		}
	}
	for _, b := range c.prog.feeders {
		cols := types.Map{}
		for _, col := range b.cols {
			cols[col] = types.String
		}
		env[b.f.Name], refs[b.f.Name] = cols, exprRef{key: b.f.Name, slot: -1, feeder: b}
	}
	if _, mine := env[builtinStatus]; !mine {
		env[builtinStatus], refs[builtinStatus] = types.Int, exprRef{key: builtinStatus, slot: -1, builtin: builtinStatus}
	}
	c.env2, c.refs = env, refs
	return env, refs
}

// identifiers collects the names an expression reads.
type identifiers struct{ names []string }

func (v *identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && !slices.Contains(v.names, id.Value) {
		v.names = append(v.names, id.Value)
	}
}

// expr compiles x; what names it in errors ("if", "while"). asBool makes a
// result that is not true or false an error.
func (c *compiler) expr(what string, x *plan.Expr, asBool bool) *expression {
	if x == nil {
		return nil
	}
	env, refs := c.exprEnv()
	ids := &identifiers{}
	opts := []expr.Option{expr.Env(env), expr.Patch(ids)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(x.Src, opts...)
	if err != nil {
		pos, msg := x.Pos, err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
			if fe.Line > 1 {
				pos.Line += fe.Line - 1
				pos.Column = 1
			}
			pos.Column += fe.Column
		}
		c.errorf(pos, "%s: expression %q: %s", what, x.Src, msg)
		return nil
	}
	e := &expression{src: x.Src, prog: prog, slot: -1}
	for _, n := range ids.names {
		if r, ok := refs[n]; ok {
			e.refs = append(e.refs, r)
		}
	}
	if r, ok := refs[x.Src]; ok && r.slot >= 0 {
		e.slot = r.slot
	}
	return e
}

// exprState is a client's side of expressions: the environment they run
// in, a VM reused from one run to the next, and each variable's typed
// value, remembered for the text it was made from so that an unchanged
// variable costs no parsing and no allocation.
type exprState struct {
	env    map[string]any
	vm     vm.VM
	seen   []string // the text typed[i] was made from (the same string, not only equal)
	typed  []any
	json   []string // the JSON text a slot was set to from JSON, not a string
	status int
}

func newExprState(n int) *exprState {
	return &exprState{env: map[string]any{}, seen: make([]string, n), typed: make([]any, n), json: make([]string, n)}
}

// same reports whether a and b are the same string in memory: a variable
// assigned anew (another response's value) is never taken for an old one
// that happens to be equal, and an equal check costs no comparison of
// the bytes.
func same(a, b string) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.StringData(a) == unsafe.StringData(b)
}

// value is slot's value in an expression.
func (x *exprState) value(st *tmpl.State, slot int) any {
	if slot >= len(st.Vals) {
		return ""
	}
	s := st.Vals[slot]
	if s == "" {
		return ""
	}
	if same(s, x.seen[slot]) {
		return x.typed[slot]
	}
	var v any = s
	if same(s, x.json[slot]) {
		var j any
		if json.Unmarshal([]byte(s), &j) == nil {
			v = j
		}
	}
	x.seen[slot], x.typed[slot] = s, v
	return v
}

// setJSON marks slot's current text as JSON (an extracted array, object,
// number, true, false or null).
func (x *exprState) setJSON(st *tmpl.State, slot int) {
	if slot < len(st.Vals) {
		x.json[slot] = st.Vals[slot]
	}
}

// setTyped sets slot to text, whose typed value is v.
func (x *exprState) setTyped(st *tmpl.State, slot int, text string, v any) {
	if slot < len(st.Vals) {
		st.Vals[slot] = text
		x.seen[slot], x.typed[slot] = text, v
	}
}

// eval evaluates e with client c's variables.
func (c *Client) eval(e *expression) (any, error) {
	x := c.ex
	for _, r := range e.refs {
		switch {
		case r.slot >= 0:
			x.env[r.key] = x.value(c.st, r.slot)
		case r.feeder != nil:
			m := make(map[string]any, len(r.feeder.slots))
			for i, s := range r.feeder.slots {
				m[r.feeder.cols[i]] = c.st.Vals[s]
			}
			x.env[r.key] = m
		default: // status
			x.env[r.key] = x.status
		}
	}
	return x.vm.Run(e.prog, x.env)
}

// text is how a value an expression made renders in a template: a string
// as it is, a number or true/false as Go writes it, anything else as JSON.
func text(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, false
	case bool:
		return strconv.FormatBool(v), false
	case int:
		return strconv.Itoa(v), false
	case int64:
		return strconv.FormatInt(v, 10), false
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// list returns v's elements when v is a list.
func list(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
