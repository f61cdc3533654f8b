package plan

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The logic steps: if, loop, foreach and set. Their expressions are kept
// as text with the position where the text starts; the scenario package
// compiles them once, against the names the plan defines.

var (
	ifKeys      = []string{"if", "then", "else", "name", "on_failure"}
	loopKeys    = []string{"loop", "steps", "name", "on_failure"}
	foreachKeys = []string{"foreach", "steps", "name", "on_failure"}
	setKeys     = []string{"set", "on_failure"}
	loopOpts    = []string{"count", "while", "max", "think", "as"}
	foreachOpts = []string{"in", "as", "max", "think"}
	failures    = []OnFailure{FailContinue, FailNextIteration, FailStopClient}
)

// onFailure reads the on_failure: key among es, if there is one.
func (ps *parser) onFailure(st *Step, es []entry) {
	i := slices.IndexFunc(es, func(e entry) bool { return e.Key == "on_failure" })
	if i < 0 {
		return
	}
	s, ok := ps.str("on_failure", es[i].V)
	if !ok {
		return
	}
	if !slices.Contains(failures, OnFailure(s.Value)) {
		ps.errorf(es[i].V, "on_failure: want continue, next_iteration or stop_client, got %q", clip(s.Value))
		return
	}
	st.OnFailure, st.OnFailurePos = OnFailure(s.Value), s.Pos
}

// scopeName reads the optional name: of a logic step (a scope, as a group's).
func (ps *parser) scopeName(st *Step, es []entry) {
	for _, e := range es {
		if e.Key == "name" {
			if s, ok := ps.nonEmpty("name", e.V); ok {
				st.Group = s.Value
			}
		}
	}
}

// body reads the step list under key, which must be there.
func (ps *parser) body(action entry, es []entry, key string) []*Step {
	i := slices.IndexFunc(es, func(e entry) bool { return e.Key == key })
	if i < 0 {
		ps.errorf(action.K, "%s has no %s: list of steps", action.Key, key)
		return nil
	}
	return ps.steps(key, es[i].V)
}

func (ps *parser) ifStep(st *Step, action entry, es []entry) {
	st.Kind = StepIf
	ps.onlyAction(es, "if step", ifKeys)
	ps.onFailure(st, es)
	ps.scopeName(st, es)
	st.If = ps.expr("if", action.V)
	st.Steps = ps.body(action, es, "then")
	if i := slices.IndexFunc(es, func(e entry) bool { return e.Key == "else" }); i >= 0 {
		st.Else = ps.steps("else", es[i].V)
	}
}

func (ps *parser) loopStep(st *Step, action entry, es []entry) {
	st.Kind = StepLoop
	ps.onlyAction(es, "loop step", loopKeys)
	ps.onFailure(st, es)
	ps.scopeName(st, es)
	st.Steps = ps.body(action, es, "steps")
	l := &Loop{Pos: ps.pos(action.V)}
	st.Loop = l
	opts, ok := ps.mapping(action.V, "loop")
	if !ok {
		return
	}
	var count, maxE *entry
	for i, e := range opts {
		switch e.Key {
		case "count":
			count = &opts[i]
			l.Count, _ = ps.turns("count", e.V)
		case "while":
			l.While = ps.expr("while", e.V)
		case "max":
			maxE = &opts[i]
			l.Max, _ = ps.turns("max", e.V)
		case "think":
			l.Think, _ = ps.think("think", e.V)
		case "as":
			l.As = ps.varName("as", e.V)
		default:
			ps.unknown(e, "loop", loopOpts)
		}
	}
	whiles := slices.ContainsFunc(opts, func(e entry) bool { return e.Key == "while" })
	switch {
	case count == nil && !whiles:
		ps.errorf(action.V, "loop has no bound; want count: N, or while: '{{ expr }}' with max: N")
	case count != nil && whiles:
		ps.errorf(count.K, "loop has both count and while; want count: N, or while: '{{ expr }}' with max: N")
	case whiles && maxE == nil:
		ps.errorf(action.V, "loop: a while needs max: N, the most turns it may take (a condition that stays true must not loop forever)")
	case count != nil && maxE != nil:
		ps.errorf(maxE.K, "loop: max is for while; count is already the number of turns")
	}
}

func (ps *parser) foreachStep(st *Step, action entry, es []entry) {
	st.Kind = StepForeach
	ps.onlyAction(es, "foreach step", foreachKeys)
	ps.onFailure(st, es)
	ps.scopeName(st, es)
	st.Steps = ps.body(action, es, "steps")
	f := &Foreach{Pos: ps.pos(action.V)}
	st.Foreach = f
	opts, ok := ps.mapping(action.V, "foreach")
	if !ok {
		return
	}
	sawIn := false
	for _, e := range opts {
		switch e.Key {
		case "in":
			sawIn = true
			if x := ps.expr("in", e.V); x != nil {
				f.In = *x
			}
		case "as":
			f.As = ps.varName("as", e.V)
		case "max":
			f.Max, _ = ps.turns("max", e.V)
		case "think":
			f.Think, _ = ps.think("think", e.V)
		default:
			ps.unknown(e, "foreach", foreachOpts)
		}
	}
	if !sawIn {
		ps.errorf(action.V, "foreach: missing in: '{{ list }}', the list to go through")
	}
	if !slices.ContainsFunc(opts, func(e entry) bool { return e.Key == "as" }) {
		ps.errorf(action.V, "foreach: missing as: NAME, the variable that holds each element")
	}
}

func (ps *parser) setStep(st *Step, action entry, es []entry) {
	st.Kind = StepSet
	ps.onlyAction(es, "set step", setKeys)
	ps.onFailure(st, es)
	vars, ok := ps.mapping(action.V, "set")
	if !ok {
		return
	}
	if len(vars) == 0 {
		ps.errorf(action.V, "set: want at least one variable")
	}
	for _, e := range vars {
		if !ps.ident("variable", e) {
			continue
		}
		v := SetVar{Var: e.Key, Pos: ps.pos(e.K)}
		if isNull(e.V) {
			v.Value = String{Pos: ps.pos(e.V)}
		} else if s, ok := ps.str(fmt.Sprintf("set %q", e.Key), e.V); ok {
			v.Value = s
		} else {
			continue
		}
		if _, _, whole := exprText(v.Value.Value); whole {
			v.Expr = ps.expr(fmt.Sprintf("set %q", e.Key), e.V)
		}
		st.Set = append(st.Set, v)
	}
}

// turns reads a number of turns: 1 to MaxTurns.
func (ps *parser) turns(key string, n *yaml.Node) (int, bool) {
	v, ok := ps.integer(key, n)
	if ok && (v < 1 || v > MaxTurns) {
		ps.errorf(n, "%s: want 1 to %d, got %d", key, MaxTurns, v)
		return 0, false
	}
	return v, ok
}

// varName reads a variable name (an identifier) from a scalar.
func (ps *parser) varName(key string, n *yaml.Node) string {
	s, ok := ps.nonEmpty(key, n)
	if !ok {
		return ""
	}
	if !isIdent(s.Value) {
		ps.errorf(n, "%s: variable name %q: want letters, digits and _, not starting with a digit", key, clip(s.Value))
		return ""
	}
	return s.Value
}

// expr reads '{{ expr }}', keeping where the expression itself starts.
func (ps *parser) expr(key string, n *yaml.Node) *Expr {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.errorf(n, "%s: want an expression in quotes, e.g. '{{ status == 200 }}', got %s", key, describe(n))
		return nil
	}
	src, off, whole := exprText(n.Value)
	switch {
	case !whole:
		ps.errorf(n, "%s: want an expression in {{ }}, e.g. '{{ status == 200 }}', got %q", key, clip(n.Value))
		return nil
	case src == "":
		ps.errorf(n, "%s: empty expression", key)
		return nil
	}
	at := ps.pos(n)
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		at.Column++ // the quote
	}
	if !strings.Contains(n.Value[:off], "\n") {
		at.Column += utf8.RuneCountInString(n.Value[:off])
	}
	return &Expr{Src: src, Pos: at}
}

// exprText returns the expression inside s when s is one '{{ expr }}' and
// nothing else (but spaces), with its byte offset in s.
func exprText(s string) (src string, off int, whole bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{{") || !strings.HasSuffix(t, "}}") || len(t) < 4 {
		return "", 0, false
	}
	inner := t[2 : len(t)-2]
	if strings.Contains(inner, "{{") {
		return "", 0, false // two templates: '{{ a }}-{{ b }}'
	}
	start := strings.Index(s, "{{") + 2
	lead := len(inner) - len(strings.TrimLeft(inner, " \t\r\n"))
	return strings.TrimSpace(inner), start + lead, true
}

// logicErrors checks a logic step built in code, as Parse would.
func logicErrors(c *collector, st *Step) {
	exprErr := func(what string, x *Expr) {
		if x == nil || strings.TrimSpace(x.Src) == "" {
			c.add(st.Pos, "%s: missing expression", what)
		}
	}
	switch st.Kind {
	case StepIf:
		exprErr("if", st.If)
		if len(st.Steps) == 0 {
			c.add(st.Pos, "if has no then: list of steps")
		}
	case StepLoop:
		l := st.Loop
		switch {
		case l == nil || l.Count == 0 && l.While == nil:
			c.add(st.Pos, "loop has no bound; want count: N, or while: '{{ expr }}' with max: N")
		case l.Count != 0 && l.While != nil:
			c.add(l.Pos, "loop has both count and while")
		case l.While != nil && l.Max == 0:
			c.add(l.Pos, "loop: a while needs max: N, the most turns it may take")
		case l.Count < 0 || l.Count > MaxTurns || l.Max < 0 || l.Max > MaxTurns:
			c.add(l.Pos, "loop: count and max: want 1 to %d", MaxTurns)
		}
		if l != nil {
			thinkErrors(c, l.Pos, "loop: think", l.Think)
			if l.As != "" && !isIdent(l.As) {
				c.add(l.Pos, "loop: as: variable name %q: want letters, digits and _", clip(l.As))
			}
		}
		if len(st.Steps) == 0 {
			c.add(st.Pos, "loop has no steps")
		}
	case StepForeach:
		f := st.Foreach
		if f == nil {
			c.add(st.Pos, "foreach: missing in: and as:")
			break
		}
		exprErr("foreach: in", &f.In)
		if !isIdent(f.As) {
			c.add(f.Pos, "foreach: as: variable name %q: want letters, digits and _", clip(f.As))
		}
		if f.Max < 0 || f.Max > MaxTurns {
			c.add(f.Pos, "foreach: max: want 0 (no bound but the list) to %d", MaxTurns)
		}
		thinkErrors(c, f.Pos, "foreach: think", f.Think)
		if len(st.Steps) == 0 {
			c.add(st.Pos, "foreach has no steps")
		}
	case StepSet:
		if len(st.Set) == 0 {
			c.add(st.Pos, "set: want at least one variable")
		}
		for _, v := range st.Set {
			if !isIdent(v.Var) {
				c.add(v.Pos, "set: variable name %q: want letters, digits and _", clip(v.Var))
			}
		}
	}
	if st.OnFailure != FailUnset && !slices.Contains(failures, st.OnFailure) {
		c.add(st.Pos, "on_failure: want continue, next_iteration or stop_client, got %q", st.OnFailure)
	}
	for _, ch := range st.Children() {
		stepErrors(c, ch)
	}
}
