package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/types"
)

// whileMax bounds a JMeter While or endless Loop controller, which JMeter
// lets run forever: a plan's loop always has a bound.
const whileMax = 100

// lastOK is JMeter's "the last sample succeeded" as a plan expression:
// status is 0 before the first response of an iteration, which JMeter
// counts as a success too (a blank While condition enters the loop).
const lastOK = "status < 400"

// controller turns a JMeter logic controller into a plan step: Loop →
// loop count, While → loop while (bounded), If → if, ForEach → foreach,
// Once Only → if on the first iteration. ok is false for the controllers
// it does not know.
func (j *jmxImport) controller(el jel, sc scope) (out []*step, ok bool) {
	n := el.n
	kind := n.kind()
	what := fmt.Sprintf("%s %q", kind, n.testname())
	inner := func() []*step { return j.steps(el.kids, j.scope(el.kids, sc, false)) }
	switch kind {
	case "LoopController":
		return j.loopController(el, sc), true
	case "WhileController":
		body := inner()
		if len(body) == 0 {
			return nil, true
		}
		cond := n.str("WhileController.condition")
		x, ok := j.condition(cond, true)
		if !ok {
			j.notes.add("%s: condition %q is not translated: its steps run once (write the plan's loop: { while: ... } by hand)", what, clip(cond))
			return body, true
		}
		j.notes.add("%s: JMeter's While has no bound; the plan's loop stops after %d turns (max)", what, whileMax)
		return []*step{{logic: "loop", cond: x, max: whileMax, name: n.testname(), steps: body}}, true
	case "IfController":
		body := inner()
		if len(body) == 0 {
			return nil, true
		}
		cond := n.str("IfController.condition")
		x, ok := j.condition(cond, n.flag("IfController.useExpression"))
		ok = ok && strings.TrimSpace(cond) != ""
		if !ok {
			j.notes.add("%s: condition %q is not translated: the plan runs its steps always (if: true); write the condition by hand", what, clip(cond))
			x = "true"
		}
		if n.flag("IfController.evaluateAll") {
			j.notes.add("%s: \"evaluate for all children\" is not imported: the condition is checked once, before the first", what)
		}
		return []*step{{logic: "if", cond: x, name: n.testname(), steps: body}}, true
	case "ForeachController":
		return j.foreach(el, sc), true
	case "OnceOnlyController":
		body := inner()
		if len(body) == 0 {
			return nil, true
		}
		return []*step{{logic: "if", cond: "iteration == 0", name: n.testname(), steps: body}}, true
	}
	return nil, false
}

// loopController: a count (literal, a variable, or forever).
func (j *jmxImport) loopController(el jel, sc scope) []*step {
	n := el.n
	what := fmt.Sprintf("LoopController %q", n.testname())
	body := j.steps(el.kids, j.scope(el.kids, sc, false))
	if len(body) == 0 {
		return nil
	}
	raw := strings.TrimSpace(n.str("LoopController.loops"))
	lit, isLit := j.literal(raw)
	count, isNum := parseNum(lit)
	st := &step{logic: "loop", name: n.testname(), steps: body}
	switch {
	case isLit && isNum && count == -1 || n.flag("LoopController.continue_forever") && raw == "-1":
		j.notes.add("%s loops forever: the plan's loop stops after %d turns", what, whileMax)
		st.cond, st.max = "true", whileMax
	case isLit && isNum && count == 0:
		j.notes.add("%s: loop count 0, its steps never run: not imported", what)
		return nil
	case isLit && isNum && count == 1:
		return body
	case isLit && isNum && count > 1:
		st.count = int(min(count, 1_000_000))
	default:
		// ${loops}: a variable count, read when the loop starts.
		x, ok := j.condVar(raw)
		if !ok {
			j.notes.add("%s: loop count %q is not translated: its steps run once", what, clip(raw))
			return body
		}
		st.as = j.newName("turn")
		st.cond, st.max = st.as+" < int("+x+")", 1_000_000
	}
	return []*step{st}
}

// foreach: JMeter's ForEach reads input_1, input_2, ... that an extractor
// with match number -1 wrote; a plan extracts such a list as one JSON
// array, which foreach goes through.
func (j *jmxImport) foreach(el jel, sc scope) []*step {
	n := el.n
	what := fmt.Sprintf("ForeachController %q", n.testname())
	in := strings.TrimSpace(n.str("ForeachController.inputVal"))
	ret := strings.TrimSpace(n.str("ForeachController.returnVal"))
	body := j.steps(el.kids, j.scope(el.kids, sc, false))
	if len(body) == 0 {
		return nil
	}
	as, ok := j.names[ret]
	if in == "" || ret == "" || !ok {
		j.notes.add("%s: no input or output variable: its steps run once", what)
		return body
	}
	list, isList := j.lists[in]
	if !isList {
		j.notes.add("%s: ${%s_1}, ${%s_2}... come from no JSON extractor with match number -1 that the plan imports: its steps run once", what, in, in)
		return body
	}
	if s, e := n.str("ForeachController.startIndex"), n.str("ForeachController.endIndex"); strings.TrimSpace(s) != "" || strings.TrimSpace(e) != "" {
		j.notes.add("%s: start and end index are not imported: it goes through the whole list", what)
	}
	return []*step{{logic: "foreach", cond: list, as: as, name: n.testname(), steps: body}}
}

// flowControl turns a Flow Control Action (TestAction) into a think step
// when it pauses; its other actions have no plan step.
func (j *jmxImport) flowControl(n *xnode) []*step {
	what := fmt.Sprintf("TestAction %q", n.testname())
	action := strings.TrimSpace(n.str("ActionProcessor.action"))
	if action != "1" { // 1: pause
		j.notes.add("%s: action %s (stop, or go to the next iteration or loop) has no plan step; use on_failure: next_iteration or stop_client on the step that decides", what, map[string]string{
			"0": "stop", "2": "stop now", "3": "start next thread loop", "4": "start next iteration of current loop", "5": "break current loop"}[action])
		return nil
	}
	ms, ok := j.literalNum(n.str("ActionProcessor.duration"))
	if !ok || ms < 0 {
		j.notes.add("%s: pause %q is not a number of milliseconds, not imported", what, clip(n.str("ActionProcessor.duration")))
		return nil
	}
	if ms == 0 {
		return nil
	}
	d := time.Duration(ms) * time.Millisecond
	return []*step{{pause: &think{d, d}}}
}

func (j *jmxImport) literalNum(s string) (int64, bool) {
	if lit, ok := j.literal(s); ok {
		s = lit
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return int64(f), err == nil && f < 1e12
}

// condVar is the expression for a text that is exactly one ${var}.
func (j *jmxImport) condVar(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "${") || closing(s, 0) != len(s)-1 || strings.HasPrefix(s, "${__") {
		return "", false
	}
	return j.expr(s[2 : len(s)-1])
}

var (
	condWrapper = regexp.MustCompile(`^\$\{__(jexl2|jexl3|javaScript|groovy)\((.*)\)\}$`)
	condEquals  = regexp.MustCompile(`\.equals\(`)
	condVarsGet = regexp.MustCompile(`vars\.get\(\s*["']([A-Za-z_][A-Za-z0-9_.-]*)["']\s*\)`)
	condNumCmp  = regexp.MustCompile(`^\s*(<=|>=|<|>|[-+*/%])|(<=|>=|<|>|[-+*/%])\s*$`)
)

// condition translates a JMeter If or While condition into a plan
// expression (without braces). Understood: ${__jexl3(...)},
// ${__javaScript(...)}, ${__groovy(...)} and plain JavaScript conditions
// made of "${var}" strings, ${var} numbers, vars.get("var"), .equals(...),
// literals and == != < > && || !; a lone ${var} (true when it is "true");
// ${JMeterThread.last_sample_ok}; and a blank While condition (until a
// request fails). ok is false for anything else.
func (j *jmxImport) condition(raw string, isExpr bool) (string, bool) {
	s := strings.TrimSpace(raw)
	if s == "" || s == "LAST" {
		return lastOK, true
	}
	if m := condWrapper.FindStringSubmatch(s); m != nil && closing(s, 0) == len(s)-1 {
		s = m[2]
		if m[1] == "jexl3" || m[1] == "jexl2" || m[1] == "javaScript" {
			// A second argument is the variable that stores the result.
			if i := strings.LastIndex(s, ","); i > 0 && !strings.ContainsAny(s[i:], `"')`) {
				s = s[:i]
			}
		}
	} else if isExpr {
		// useExpression: the text is a variable (or function) that must
		// be "true".
		x, ok := j.condVar(s)
		if s == "${JMeterThread.last_sample_ok}" {
			return lastOK, true
		}
		if !ok {
			return "", false
		}
		return "string(" + x + ") == \"true\"", true
	}
	s = strings.ReplaceAll(s, "===", "==")
	s = strings.ReplaceAll(s, "!==", "!=")
	s = condVarsGet.ReplaceAllString(s, "$${$1}")
	s = condEquals.ReplaceAllString(s, " == (")
	env := types.Map{"status": types.Int, "iteration": types.Int, "client_id": types.Int}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		end := closing(s, i)
		if end < 0 || strings.HasPrefix(s[i:], "${__") {
			return "", false
		}
		name := strings.TrimSpace(s[i+2 : end])
		before, after := s[:i], s[end+1:]
		quoted := false
		for _, q := range []string{`"`, `'`} {
			if strings.HasSuffix(before, q) && strings.HasPrefix(after, q) {
				before, after, quoted = before[:len(before)-1], after[1:], true
				break
			}
		}
		var x string
		if name == "JMeterThread.last_sample_ok" {
			x = "(" + lastOK + ")"
			if quoted {
				x = "((" + lastOK + `) ? "true" : "false")`
			}
		} else {
			v, ok := j.expr(name)
			if !ok || strings.Contains(v, " ") {
				return "", false
			}
			root, _, _ := strings.Cut(v, ".")
			env[root] = types.Any
			switch {
			case quoted:
				x = "string(" + v + ")"
			case condNumCmp.MatchString(before) || condNumCmp.MatchString(after):
				x = "float(" + v + ")"
			default:
				x = v
			}
		}
		b.WriteString(before)
		b.WriteString(x)
		s = after
	}
	out := strings.TrimSpace(b.String())
	if strings.Contains(out, "{{") || strings.Contains(out, "}}") || strings.ContainsAny(out, "\n\r;") {
		return "", false
	}
	// Only the names put there: ctx, props, a Java method call are not.
	if _, err := expr.Compile(out, expr.Env(env), expr.AsBool()); err != nil {
		return "", false
	}
	return out, true
}

// assertion turns a JMeter assertion into checks on c; ok is false when it
// does not map (a note says why).
func (j *jmxImport) assertion(n *xnode, c *checks) {
	what := fmt.Sprintf("%s %q", n.kind(), n.testname())
	switch n.kind() {
	case "ResponseAssertion":
		j.responseAssertion(n, what, c)
	case "DurationAssertion":
		ms, ok := j.literalNum(n.str("DurationAssertion.duration"))
		if !ok || ms <= 0 {
			j.notes.add("%s: duration %q is not a number of milliseconds, not imported", what, clip(n.str("DurationAssertion.duration")))
			return
		}
		c.maxLatency = time.Duration(ms) * time.Millisecond
	case "JSONPathAssertion":
		path, ok := gjsonPath(n.str("JSON_PATH"))
		switch {
		case !ok:
			j.notes.add("%s: JSON path %q is not a simple path ($.a.b[0]), not imported", what, clip(n.str("JSON_PATH")))
		case n.flag("INVERT"):
			j.notes.add("%s: an inverted JSON assertion is not imported", what)
		case n.flag("EXPECT_NULL"):
			c.json = append(c.json, kv{k: path, v: "null"})
		case !n.flag("JSONVALIDATION"):
			c.jsonExists = append(c.jsonExists, path)
		default:
			want := n.str("EXPECTED_VALUE")
			if n.flag("ISREGEX") && regexp.QuoteMeta(want) != want {
				j.notes.add("%s: the expected value %q is a regular expression: the plan checks only that %s exists", what, clip(want), path)
				c.jsonExists = append(c.jsonExists, path)
				return
			}
			c.json = append(c.json, kv{k: path, v: jsonScalar(want)})
		}
	}
}

// jsonScalar writes an expected JSON value as YAML: a number, true, false
// or null as such, anything else as a string.
func jsonScalar(s string) string {
	t := strings.TrimSpace(s)
	if t == "true" || t == "false" || t == "null" {
		return t
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil && t == s && !strings.ContainsAny(t, "xXoObB_") {
		return t
	}
	return quote(s)
}

// Response Assertion test types (a bit set, as JMeter stores them).
const (
	raMatch     = 1
	raContains  = 2
	raNot       = 4
	raEquals    = 8
	raSubstring = 16
	raOr        = 32
)

func (j *jmxImport) responseAssertion(n *xnode, what string, c *checks) {
	field := strings.TrimSpace(n.str("Assertion.test_field"))
	typ, _ := parseNum(n.str("Assertion.test_type"))
	var strs []string
	for _, s := range n.items("Asserion.test_strings") { // JMeter's own spelling
		strs = append(strs, s.Text)
	}
	for _, s := range n.items("Assertion.test_strings") {
		strs = append(strs, s.Text)
	}
	if n.flag("Assertion.assume_success") && field != "Assertion.response_code" {
		j.notes.add("%s: \"ignore status\" makes every status a pass; the plan checks only what the assertion tests", what)
	}
	if typ&raNot != 0 {
		j.notes.add("%s: a NOT assertion is not imported (a plan checks what must be there)", what)
		return
	}
	if len(strs) == 0 {
		return
	}
	if len(strs) > 1 && typ&raOr == 0 && field != "Assertion.response_code" {
		j.notes.add("%s: %d patterns; the plan checks the first, %q", what, len(strs), clip(strs[0]))
		strs = strs[:1]
	}
	switch field {
	case "Assertion.response_code":
		for _, s := range strs {
			code, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || code < 100 || code > 599 || typ&(raEquals|raSubstring|raMatch|raContains) == 0 {
				j.notes.add("%s: status pattern %q is not a status code, not imported", what, clip(s))
				return
			}
			c.statuses = append(c.statuses, code)
		}
		if code := c.statuses; len(code) > 0 && code[0] >= 400 {
			j.expected4xx = true
		}
	case "Assertion.response_data", "Assertion.response_data_as_document", "":
		s := j.tr(strs[0])
		if hasRef(s) {
			j.notes.add("%s: the pattern %q uses variables; a check is literal text: not imported", what, clip(strs[0]))
			return
		}
		if len(strs) > 1 {
			j.notes.add("%s: %d patterns or-ed: the plan checks the first, %q", what, len(strs), clip(strs[0]))
		}
		switch {
		case typ&raSubstring != 0:
			c.bodyContains = s
		case typ&raContains != 0:
			c.bodyRegex = s
		case typ&raMatch != 0:
			c.bodyRegex = `^(?s:` + s + `)$`
		case typ&raEquals != 0:
			c.bodyRegex = `^` + regexp.QuoteMeta(s) + `$`
		}
		if _, err := regexp.Compile(c.bodyRegex); err != nil {
			j.notes.add("%s: pattern %q is not a Go regular expression, not imported", what, clip(s))
			c.bodyRegex = ""
		}
	default:
		j.notes.add("%s: assertions on %s are not imported (the plan checks status, body, JSON and latency)", what, strings.TrimPrefix(field, "Assertion."))
	}
}
