package scenario

import (
	"fmt"
	"strings"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

// The logic steps (if, loop, foreach, set) compile into steps with bodies:
// a client walks them as a tree (see flow.go), with no parsing and no
// lookup by name at run time. Requests inside keep their names, so a
// request in a 5-turn loop counts 5 times per iteration under its own
// name; a named if, loop or foreach is a scope in the report, as a group
// is. An expression that cannot be evaluated at run time (a type error, a
// foreach over what is not a list) counts as a failed check named for the
// step, such as `foreach products: in is a list`.

// field is a {{ as.path }} variable of a foreach: the element's path.
type field struct {
	slot int
	path string // gjson path inside the element
}

// setter is one variable of a set: step.
type setter struct {
	slot int
	expr *expression    // '{{ expr }}'
	tmpl *tmpl.Template // otherwise: a template, rendered
}

// declareStep adds the variables st defines to the template names.
func (c *compiler) declareStep(st *plan.Step) {
	names := c.prog.names
	for _, x := range st.Extract {
		names.Add(x.Var)
	}
	for _, v := range st.Set {
		names.Add(v.Var)
	}
	if st.Loop != nil && st.Loop.As != "" {
		names.Add(st.Loop.As)
	}
	if f := st.Foreach; f != nil && f.As != "" {
		if _, data := c.p.Data[f.As]; data {
			c.errorf(f.Pos, "foreach: as: %q is the name of a data source; pick another name", f.As)
			return
		}
		names.Add(f.As)
		// {{ product.id }} in a template inside reads field id of each
		// element: a variable of its own, filled each turn.
		for _, p := range c.fieldsUsed(st.Steps, f.As) {
			names.Add(f.As + "." + p)
		}
	}
}

// declareBuiltins adds iteration and client_id, unless the plan defines
// variables of those names (its own then win).
func (c *compiler) declareBuiltins() {
	names := c.prog.names
	if _, mine := names.Slot(builtinIteration); !mine {
		c.prog.iterSlot = names.Add(builtinIteration)
		for _, s := range c.p.Scenarios {
			c.prog.usesIter = c.prog.usesIter || c.uses(s, builtinIteration)
		}
	}
	if _, mine := names.Slot(builtinClientID); !mine {
		c.prog.clientSlot = names.Add(builtinClientID)
	}
}

// fieldsUsed returns the paths after "as." in the templates of steps.
func (c *compiler) fieldsUsed(steps []*plan.Step, as string) []string {
	var out []string
	prefix := as + "."
	plan.Walk(steps, func(st *plan.Step) {
		stepStrings(st, func(s string) {
			for i := strings.Index(s, prefix); i >= 0; {
				end := i + len(prefix)
				for end < len(s) && isNameByte(s[end]) {
					end++
				}
				p := strings.TrimRight(s[i+len(prefix):end], ".")
				if p != "" && (i == 0 || !isNameByte(s[i-1])) && !contains(out, p) {
					out = append(out, p)
				}
				next := strings.Index(s[end:], prefix)
				if next < 0 {
					break
				}
				i = end + next
			}
		})
	})
	return out
}

func isNameByte(b byte) bool {
	return b == '_' || b == '.' || b == '-' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// stepStrings calls fn with every template or expression of st itself (not
// of the steps inside it).
func stepStrings(st *plan.Step, fn func(string)) {
	fn(st.Path.Value)
	for _, m := range []map[string]plan.String{st.Headers, st.Query, st.Form} {
		for _, v := range m {
			fn(v.Value)
		}
	}
	if st.JSON != nil {
		fn(st.JSON.Value)
	}
	if st.Body != nil {
		fn(st.Body.Value)
	}
	if st.Multipart != nil {
		for _, p := range st.Multipart.Parts {
			if p.Value != nil {
				fn(p.Value.Value)
			}
		}
	}
	if st.If != nil {
		fn(st.If.Src)
	}
	if st.Loop != nil && st.Loop.While != nil {
		fn(st.Loop.While.Src)
	}
	if st.Foreach != nil {
		fn(st.Foreach.In.Src)
	}
	for _, v := range st.Set {
		fn(v.Value.Value)
	}
}

// check adds a check to the program and returns its index; req is the
// request name index it belongs to, or -1 for a logic step's. Two logic
// steps written alike (set page twice) get names told apart by a number.
func (c *compiler) check(name string, req int) int {
	if req < 0 {
		base := name
		for n := 2; contains(c.prog.Checks, name); n++ {
			what, rest, _ := strings.Cut(base, ": ")
			name = fmt.Sprintf("%s #%d: %s", what, n, rest)
		}
	}
	c.prog.Checks = append(c.prog.Checks, name)
	c.prog.checkReq = append(c.prog.checkReq, req)
	return len(c.prog.Checks) - 1
}

// logic compiles an if, loop, foreach or set step.
func (c *compiler) logic(s *plan.Step, groups []string, fail plan.OnFailure) *step {
	c.prog.hasExpr = true
	st := &step{onFail: fail, as: -1, errCheck: -1}
	if (s.Kind == plan.StepIf && s.If == nil) || (s.Kind == plan.StepLoop && s.Loop == nil) || (s.Kind == plan.StepForeach && s.Foreach == nil) {
		c.errorf(s.Pos, "%s step without its expression or bounds (see plan.Validate)", kindName(s.Kind))
		return nil
	}
	if s.Group != "" {
		groups = append(groups[:len(groups):len(groups)], s.Group)
		if _, ok := c.prog.Groups[s.Group]; !ok {
			c.prog.Groups[s.Group] = []int{} // a scope even before (or without) requests
		}
	}
	switch s.Kind {
	case plan.StepIf:
		st.kind = kIf
		st.cond = c.expr("if", s.If, true)
		st.errCheck = c.check("if "+s.If.Src+": evaluates", -1)
		st.then = c.steps(s.Steps, groups, fail)
		st.els = c.steps(s.Else, groups, fail)
	case plan.StepLoop:
		l := s.Loop
		st.kind, st.count, st.max, st.turnThink = kLoop, l.Count, l.Max, l.Think
		if l.While != nil {
			st.cond = c.expr("while", l.While, true)
			st.errCheck = c.check("while "+l.While.Src+": evaluates", -1)
		}
		if l.As != "" {
			st.as, _ = c.prog.names.Slot(l.As)
		}
		st.then = c.steps(s.Steps, groups, fail)
	case plan.StepForeach:
		f := s.Foreach
		st.kind, st.max, st.turnThink = kForeach, f.Max, f.Think
		st.cond = c.expr("foreach: in", &f.In, false)
		st.errCheck = c.check("foreach "+f.In.Src+": in is a list", -1)
		if slot, ok := c.prog.names.Slot(f.As); ok {
			st.as = slot
		}
		for _, p := range c.fieldsUsed(s.Steps, f.As) {
			if slot, ok := c.prog.names.Slot(f.As + "." + p); ok {
				st.fields = append(st.fields, field{slot: slot, path: p})
			}
		}
		st.then = c.steps(s.Steps, groups, fail)
	case plan.StepSet:
		st.kind = kSet
		for _, v := range s.Set {
			slot, _ := c.prog.names.Slot(v.Var)
			set := setter{slot: slot}
			if v.Expr != nil {
				set.expr = c.expr(fmt.Sprintf("set %q", v.Var), v.Expr, false)
			} else {
				set.tmpl = c.tmplAt(v.Value)
			}
			st.sets = append(st.sets, set)
		}
		names := make([]string, len(s.Set))
		for i, v := range s.Set {
			names[i] = v.Var
		}
		st.errCheck = c.check("set "+strings.Join(names, ", ")+": evaluates", -1)
	}
	return st
}

func kindName(k plan.StepKind) string {
	switch k {
	case plan.StepIf:
		return "if"
	case plan.StepLoop:
		return "loop"
	case plan.StepForeach:
		return "foreach"
	}
	return "set"
}
