package importer

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/tmpl"
)

// jmxImport holds what one JMX import has learned so far.
type jmxImport struct {
	dir   string
	notes notes
	doc   doc

	taken    map[string]bool   // names in the plan's one namespace: vars, env, feeders, extracted
	names    map[string]string // JMeter variable -> template expression (users.email, token)
	vars     map[string]*jvar  // user defined variables
	unknown  map[string]bool   // JMeter variables nothing defines (declared as empty vars)
	extracts map[*xnode]kv     // extractors fuka can express -> variable and source
	lists    map[string]string // JMeter variable of an all-matches JSON extractor -> plan variable (an array)
	requests []*jmxReq

	expected4xx bool // an assertion expects a 4xx or 5xx status
	header      []csvHeaderFile
}

// jmxReq is a request step whose URL waits for base_url to be chosen.
type jmxReq struct {
	st     *step
	origin string // scheme://host[:port]; marked when the host is a template
}

// scope is what JMeter applies to every sampler below an element: config
// elements and timers anywhere in a controller reach all its samplers.
type scope struct {
	headers    []kv
	timers     []think
	http       httpDefaults
	asserts    []*xnode // assertions: each applies to every sampler in scope
	extractors []*xnode // post-processors: likewise
}

type httpDefaults struct {
	protocol, domain, port, path string
	timeout                      time.Duration
}

// JMX imports the common subset of a JMeter test plan: thread groups
// (scenarios and the load), HTTP samplers (requests), header managers,
// HTTP request defaults, user defined variables, CSV data sets (feeders;
// dir is the folder of the .jmx, which their paths are relative to),
// constant and uniform random timers (think steps), simple and transaction
// controllers (groups), and simple regular expression and JSON extractors.
// ${var} references become templates. Everything else is named in a note.
func JMX(r io.Reader, dir string) (*Result, error) {
	tp, err := parseJMX(r)
	if err != nil {
		return nil, err
	}
	j := &jmxImport{
		// The names expressions have built in are not for JMeter's variables.
		dir: dir, taken: map[string]bool{"status": true, "iteration": true, "client_id": true}, names: map[string]string{},
		unknown: map[string]bool{}, extracts: map[*xnode]kv{}, vars: map[string]*jvar{}, lists: map[string]string{},
	}
	name := tp.n.testname()
	j.doc.name = name
	j.doc.header = []string{
		fmt.Sprintf("Imported by `fuka import jmx` from the JMeter test plan %q. Schema: docs/plan.md.", name),
		"Check it with `fuka validate FILE`, run it with `fuka run FILE`.",
		"`fuka import` lists on stderr every element it did not import.",
	}

	// Names first: variables, data columns and extracted values can be used
	// anywhere, before or after the element that defines them.
	j.arguments(tp.n.prop("TestPlan.user_defined_variables"))
	j.declare(tp.kids)

	var groups, setups []jel
	for _, el := range tp.kids {
		n := el.n
		switch {
		case !n.enabled():
		case n.kind() == "ThreadGroup", n.kind() == concurrencyTG:
			groups = append(groups, el)
		case n.kind() == "SetupThreadGroup":
			setups = append(setups, el)
		case n.kind() == "PostThreadGroup":
			j.notes.add("%s %q: not imported; run such steps as a scenario of their own that starts after the others (start_after)", n.kind(), n.testname())
		case strings.Contains(strings.ToLower(n.kind()), "threadgroup") || strings.Contains(n.kind(), ".threads."):
			j.notes.add("%s %q: only the standard Thread Group is imported", n.kind(), n.testname())
		}
	}
	plan := j.scope(tp.kids, scope{}, true)
	if len(groups) == 0 {
		return nil, j.fail(fmt.Errorf("JMX: no enabled Thread Group in the test plan %q", name))
	}
	for _, el := range tp.kids {
		j.other(el, true)
	}
	if len(setups) > 1 {
		j.notes.add("%d setUp Thread Groups: the first is imported, the others are not", len(setups))
	}
	// A setUp Thread Group runs before the others: its scenario comes
	// first, and the others start after it has ended.
	var setup *scen
	loads := make([]loadShape, 0, len(groups)+1)
	if len(setups) > 0 {
		if s, l := j.threadGroup(setups[0], plan, false); s != nil {
			setup = s
			j.doc.scenarios = append(j.doc.scenarios, s)
			loads = append(loads, l)
		}
	}
	for _, g := range groups {
		// With one thread group, its headers are everyone's: defaults.
		s, l := j.threadGroup(g, plan, len(groups) == 1 && setup == nil)
		if s == nil {
			continue
		}
		if setup != nil {
			s.startAfter = setup.name
		}
		j.doc.scenarios = append(j.doc.scenarios, s)
		loads = append(loads, l)
	}
	if len(j.doc.scenarios) == 0 || len(j.doc.scenarios) == 1 && setup != nil {
		return nil, j.fail(fmt.Errorf("JMX: no HTTP requests to import in the thread groups of %q", name))
	}
	j.setLoad(loads)
	j.setURLs()
	j.doc.thresholds = []string{"error_rate < 1%"}
	if j.expected4xx {
		// error_rate counts every status >= 400; the checks say which of
		// them the plan expects.
		j.doc.thresholds = []string{"checks > 99%"}
		j.notes.add("an assertion expects a status of 400 or more: the threshold is checks > 99%%, as error_rate counts every status >= 400 as failed")
	}
	if len(j.doc.data) > len(j.header) && dir != "" && dir != "." {
		j.notes.add("data file paths are relative to the plan file, as JMeter's are to the .jmx: save the plan in %s (next to the .jmx) or adjust the data: paths", dir)
	}
	return &Result{YAML: j.doc.bytes(), Skipped: j.notes.list, CSVHeaders: j.header}, nil
}

// fail adds what was skipped to err: with nothing imported, the notes are
// the reasons.
func (j *jmxImport) fail(err error) error {
	if len(j.notes.list) == 0 {
		return err
	}
	return fmt.Errorf("%w; what was not imported:\n  %s", err, strings.Join(j.notes.list, "\n  "))
}

// newName reserves a plan name for want (made an identifier, not a template
// function, not taken).
func (j *jmxImport) newName(want string) string {
	base := ident(want)
	if base == "" {
		base = "v"
	}
	if tmpl.IsFunc(base) {
		base += "_"
	}
	name := base
	for i := 2; j.taken[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	j.taken[name] = true
	return name
}

// jvar is a user defined variable. It is declared in the plan (as a var,
// or as an env entry when it is a property lookup) only when a template
// uses it.
type jvar struct {
	value      string // literal value (the default, for a property)
	prop       string // JMeter property name, for ${__P(prop,default)}
	planName   string // "" until declared
	notLiteral bool   // value uses other variables or functions
}

// arguments reads user defined variables (an Arguments element or the
// test plan's own table). A value that is only a property lookup,
// ${__P(name,default)}, becomes an env entry: JMeter's -Jname=value is an
// environment variable for fuka.
func (j *jmxImport) arguments(n *xnode) {
	for _, a := range n.items("Arguments.arguments") {
		jname := strings.TrimSpace(a.str("Argument.name"))
		val := a.str("Argument.value")
		if jname == "" || j.vars[jname] != nil {
			continue
		}
		v := &jvar{value: val}
		if prop, def, ok := propLookup(val); ok {
			v.prop, v.value = prop, def
		} else if lit, ok := j.literal(val); ok {
			v.value = lit
		} else {
			v.notLiteral = true
		}
		j.vars[jname] = v
	}
}

// useVar declares a user defined variable on first use and returns its
// plan name.
func (j *jmxImport) useVar(jname string, v *jvar) string {
	if v.planName != "" {
		return v.planName
	}
	if v.prop != "" {
		v.planName = j.newName(v.prop)
		j.doc.env = append(j.doc.env, kv{k: v.planName, v: scrub(v.value), comment: fmt.Sprintf("${%s} = ${__P(%s)}: set %s in the environment", jname, v.prop, v.planName)})
		return v.planName
	}
	if v.notLiteral {
		j.notes.add("variable %s = %q: its value uses other variables or functions: kept as text", jname, clip(v.value))
	}
	v.planName = j.newName(jname)
	j.doc.vars = append(j.doc.vars, kv{k: v.planName, v: scrub(v.value)})
	return v.planName
}

// propLookup reads a value that is exactly ${__P(name,default)} (or
// __property).
func propLookup(s string) (prop, def string, ok bool) {
	s = strings.TrimSpace(s)
	inner, found := strings.CutPrefix(s, "${")
	if !found || !strings.HasSuffix(inner, "}") {
		return "", "", false
	}
	fn, args, ok := splitCall(strings.TrimSuffix(inner, "}"))
	if !ok || (fn != "__P" && fn != "__property") || len(args) == 0 || strings.Contains(inner, "${") {
		return "", "", false
	}
	if len(args) > 1 {
		def = args[1]
	}
	return strings.TrimSpace(args[0]), def, strings.TrimSpace(args[0]) != ""
}

// splitCall splits "__fn(a,b)" into its name and arguments (\, escapes a comma).
func splitCall(s string) (fn string, args []string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return strings.TrimSpace(s), nil, true
	}
	if !strings.HasSuffix(s, ")") {
		return "", nil, false
	}
	fn = strings.TrimSpace(s[:open])
	body := s[open+1 : len(s)-1]
	if body == "" {
		return fn, nil, true
	}
	var cur strings.Builder
	for i := 0; i < len(body); i++ {
		switch {
		case body[i] == '\\' && i+1 < len(body) && body[i+1] == ',':
			cur.WriteByte(',')
			i++
		case body[i] == ',':
			args = append(args, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(body[i])
		}
	}
	return fn, append(args, cur.String()), true
}

// declare walks the whole tree for names: user defined variables, CSV data
// sets (feeders), extractors (under a sampler or over a scope) and ForEach
// output variables.
func (j *jmxImport) declare(els []jel) {
	for _, el := range els {
		n := el.n
		if !n.enabled() {
			continue
		}
		switch n.kind() {
		case "Arguments":
			j.arguments(n)
		case "CSVDataSet":
			j.csv(n)
		case "RegexExtractor", "JSONPostProcessor":
			if x, ok := extractOf(n); ok {
				pname, seen := j.names[x.name]
				if !seen {
					pname = j.newName(x.name)
					j.names[x.name] = pname
				}
				e := kv{k: pname, v: x.source}
				if x.def != nil {
					e.v, e.raw = "{ from: "+quote(x.source)+", default: "+quote(*x.def)+" }", true
				}
				if x.all {
					j.lists[x.name] = pname
				}
				j.extracts[n] = e
			}
		case "ForeachController":
			if ret := strings.TrimSpace(n.str("ForeachController.returnVal")); ret != "" {
				if _, seen := j.names[ret]; !seen {
					j.names[ret] = j.newName(ret)
				}
			}
		}
		j.declare(el.kids)
	}
}

// csv turns a CSV Data Set into a feeder.
func (j *jmxImport) csv(n *xnode) {
	file := strings.TrimSpace(n.str("filename"))
	what := fmt.Sprintf("CSV Data Set %q", n.testname())
	if file == "" || strings.Contains(file, "${") {
		j.notes.add("%s: file name %q is empty or uses variables, not imported", what, clip(file))
		return
	}
	delim := n.str("delimiter")
	if delim == `\t` {
		delim = "\t"
	}
	if delim != "" && delim != "," {
		j.notes.add("%s: fuka reads comma-separated files; convert %s from %q-separated", what, file, delim)
	}
	d := ','
	if r := []rune(delim); len(r) == 1 {
		d = r[0]
	}
	header, herr := csvHeader(resolveCSV(j.dir, file), d)
	var cols []string
	for c := range strings.SplitSeq(n.str("variableNames"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	switch {
	case len(cols) == 0 && herr != nil:
		j.notes.add("%s: cannot read the column names from the first row of %s: %v", what, file, herr)
	case len(cols) == 0:
		cols = header // JMeter reads the names from the first row too
	case !n.flag("ignoreFirstLine") && !slices.Equal(header, identAll(cols)) && herr == nil:
		// No header row: the plan reads a copy with one, written next to it.
		hdr := strings.Join(identAll(cols), string(d))
		name := strings.TrimSuffix(file[strings.LastIndexAny(file, `/\`)+1:], ".csv") + ".header.csv"
		j.header = append(j.header, csvHeaderFile{Name: name, Header: hdr, Src: resolveCSV(j.dir, file)})
		j.notes.add("%s: %s has no header row (ignoreFirstLine is false): the plan reads %s, a copy with the line %q at its top, which `fuka import -o PLAN` writes next to the plan (on stdout: add the line %q at its top yourself)", what, file, name, hdr, hdr)
		file = name
	case !n.flag("ignoreFirstLine") && !slices.Equal(header, identAll(cols)):
		j.notes.add("%s: %s has no header row (ignoreFirstLine is false): add the line %q at its top; fuka reads column names from the first row", what, file, strings.Join(identAll(cols), ","))
	case herr == nil && !slices.Equal(header, identAll(cols)):
		j.notes.add("%s: the first row of %s is %q but variableNames is %q: make the first row %q", what, file, strings.Join(header, ","), strings.Join(cols, ","), strings.Join(identAll(cols), ","))
	}
	base := strings.TrimSuffix(strings.TrimSuffix(file[strings.LastIndexAny(file, `/\`)+1:], ".csv"), ".header")
	f := feed{name: j.newName(base), csv: file}
	if !n.flag("recycle") && n.str("recycle") != "" {
		f.pick = "unique"
		if !n.flag("stopThread") {
			j.notes.add("%s: JMeter hands out <EOF> when the rows run out; fuka's pick: unique stops the client instead", what)
		}
	}
	if m := n.str("shareMode"); m != "" && m != "shareMode.all" {
		j.notes.add("%s: share mode %s: fuka shares the rows among all clients", what, m)
	}
	for _, c := range cols {
		if ident(c) != c {
			j.notes.add("%s: column %q is named %q in the plan", what, c, ident(c))
		}
		if _, dup := j.names[c]; !dup {
			j.names[c] = f.name + "." + ident(c)
		}
	}
	j.doc.data = append(j.doc.data, f)
}

func identAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = ident(x)
	}
	return out
}

// literal resolves ${var} (user defined variables with literal values) and
// ${__P(name,default)} (to the default) in s; ok is false when something
// else is referenced.
func (j *jmxImport) literal(s string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		end := closing(s, i)
		if end < 0 {
			return "", false
		}
		ref := s[i : end+1]
		name := strings.TrimSpace(ref[2 : len(ref)-1])
		if _, def, ok := propLookup(ref); ok {
			j.notes.add("%s in a server name or a number: the plan uses its default %q", ref, def)
			b.WriteString(def)
		} else if v := j.vars[name]; v != nil && !v.notLiteral {
			if v.prop != "" {
				j.notes.add("${%s} (${__P(%s)}) in a server name or a number: the plan uses its default %q", name, v.prop, v.value)
			}
			b.WriteString(v.value)
		} else {
			return "", false
		}
		s = s[end+1:]
	}
}

// closing is the index of the } that closes the ${ at s[i], or -1.
func closing(s string, i int) int {
	depth := 0
	for k := i; k < len(s); k++ {
		switch {
		case strings.HasPrefix(s[k:], "${"):
			depth++
			k++
		case s[k] == '}':
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// tr translates JMeter text into marked text: ${var} becomes a template
// variable (a feeder column, a plan var, an extracted value), the common
// functions become template functions, and the rest stays text.
func (j *jmxImport) tr(s string) string {
	s = scrub(s)
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		end := closing(s, i)
		if end < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		inner := s[i+2 : end]
		if x, ok := j.expr(inner); ok {
			b.WriteString(ref(x))
		} else {
			b.WriteString(s[i : end+1])
		}
		s = s[end+1:]
	}
}

// expr is the template expression for the inside of a ${...}.
func (j *jmxImport) expr(inner string) (string, bool) {
	inner = strings.TrimSpace(inner)
	if strings.HasPrefix(inner, "__jm__") && strings.HasSuffix(inner, "__idx") {
		// A loop controller's index: the thread group's is the iteration.
		j.notes.add("${%s}: the client's iteration number ({{ iteration }}, from 0)", clip(inner))
		return "iteration", true
	}
	if !strings.HasPrefix(inner, "__") {
		if x, ok := j.names[inner]; ok {
			return x, true
		}
		if v := j.vars[inner]; v != nil {
			return j.useVar(inner, v), true
		}
		if inner == "" || strings.ContainsAny(inner, "${}()") {
			return "", false
		}
		name := j.newName(inner)
		j.names[inner] = name
		j.unknown[inner] = true
		j.doc.vars = append(j.doc.vars, kv{k: name, v: "", comment: fmt.Sprintf("TODO: ${%s} is set by an element that was not imported", inner)})
		j.notes.add("${%s}: nothing imported sets it; it is the empty variable %s in the plan (set it, or add an extract:)", inner, name)
		return name, true
	}
	fn, args, ok := splitCall(inner)
	if !ok || strings.Contains(inner, "${") && fn != "__urlencode" && fn != "__changeCase" && fn != "__base64Encode" {
		j.notes.add("${%s}: not translated, sent as text", clip(inner))
		return "", false
	}
	arg := func(i int) string {
		if i < len(args) {
			return strings.TrimSpace(args[i])
		}
		return ""
	}
	switch fn {
	case "__Random":
		lo, err1 := strconv.Atoi(arg(0))
		hi, err2 := strconv.Atoi(arg(1))
		if err1 == nil && err2 == nil {
			return fmt.Sprintf("randInt %d %d", lo, hi), true
		}
	case "__UUID":
		return "uuid", true
	case "__threadNum":
		j.notes.add("${__threadNum}: the client's number, from 0 ({{ client_id }}); JMeter counts from 1")
		return "client_id", true
	case "__changeCase":
		if a, ok := j.operand(arg(0)); ok {
			switch strings.ToUpper(arg(1)) {
			case "", "UPPER":
				return "upper " + a, true
			case "LOWER":
				return "lower " + a, true
			}
		}
	case "__base64Encode":
		if a, ok := j.operand(arg(0)); ok {
			return "base64 " + a, true
		}
	case "__RandomString":
		if n, err := strconv.Atoi(arg(0)); err == nil && n > 0 && n <= 65536 {
			if arg(1) != "" {
				j.notes.add("${%s}: random letters and digits, not only %q", clip(inner), arg(1))
			}
			return fmt.Sprintf("randString %d", n), true
		}
	case "__counter":
		j.notes.add("${%s}: counts per client ({{ seq }})", clip(inner))
		return "seq", true
	case "__time":
		switch f := arg(0); f {
		case "":
			return `now "unixms"`, true
		case "/1000":
			return `now "unix"`, true
		default:
			if layout, ok := javaLayout(f); ok {
				return "now " + tmplString(layout), true
			}
		}
	case "__P", "__property":
		if p := arg(0); p != "" {
			j.notes.add("JMeter properties (${__P(...)}) read the environment variable of the same name")
			return "env " + tmplString(p) + " " + tmplString(arg(1)), true
		}
	case "__urlencode":
		if a, ok := j.operand(arg(0)); ok {
			return "urlquery " + a, true
		}
	}
	j.notes.add("${%s}: JMeter function not translated, sent as text", clip(inner))
	return "", false
}

// operand is a function argument as a template operand: a ${var} (a
// name) or literal text (a string); ok is false for anything else.
func (j *jmxImport) operand(a string) (string, bool) {
	if inner, ok := strings.CutPrefix(a, "${"); ok && strings.HasSuffix(inner, "}") {
		if x, ok := j.expr(strings.TrimSuffix(inner, "}")); ok && !strings.Contains(x, " ") {
			return x, true
		}
		return "", false
	}
	if strings.Contains(a, "${") {
		return "", false
	}
	return tmplString(a), true
}

// tmplString quotes s as a template string literal (\" and \\ escapes).
func tmplString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// scope adds the config elements and timers of els to outer. top says the
// elements are at plan level (or the one thread group's), whose headers go
// to defaults.headers.
func (j *jmxImport) scope(els []jel, outer scope, top bool) scope {
	sc := scope{headers: slices.Clone(outer.headers), timers: slices.Clone(outer.timers), http: outer.http,
		asserts: slices.Clone(outer.asserts), extractors: slices.Clone(outer.extractors)}
	for _, el := range els {
		n := el.n
		if !n.enabled() {
			continue
		}
		switch n.kind() {
		case "HeaderManager":
			for _, h := range n.items("HeaderManager.headers") {
				name := strings.TrimSpace(h.str("Header.name"))
				if name == "" {
					continue
				}
				if top {
					j.doc.defHeaders = setKV(j.doc.defHeaders, name, j.tr(h.str("Header.value")))
				} else {
					sc.headers = setKV(sc.headers, name, j.tr(h.str("Header.value")))
				}
			}
			if top {
				j.doc.defHeaders = cleanHeaders(j.doc.defHeaders, &j.notes)
			}
		case "ConfigTestElement":
			if n.prop("HTTPSampler.domain") == nil && n.prop("HTTPSampler.path") == nil && n.prop("HTTPSampler.protocol") == nil {
				continue
			}
			set := func(dst *string, prop string) {
				if v := strings.TrimSpace(n.str(prop)); v != "" {
					*dst = v
				}
			}
			set(&sc.http.protocol, "HTTPSampler.protocol")
			set(&sc.http.domain, "HTTPSampler.domain")
			set(&sc.http.port, "HTTPSampler.port")
			set(&sc.http.path, "HTTPSampler.path")
			if ms, ok := parseNum(n.str("HTTPSampler.response_timeout")); ok && ms > 0 {
				sc.http.timeout = time.Duration(ms) * time.Millisecond
			}
		case "ConstantTimer", "UniformRandomTimer", "GaussianRandomTimer":
			if t, ok := j.timer(n); ok {
				sc.timers = append(sc.timers, t)
			}
		case "ResponseAssertion", "DurationAssertion", "JSONPathAssertion":
			sc.asserts = append(sc.asserts, n)
		case "RegexExtractor", "JSONPostProcessor":
			if _, ok := j.extracts[n]; ok {
				sc.extractors = append(sc.extractors, n)
			}
		}
	}
	return sc
}

// timer reads a constant, uniform random or Gaussian random timer (the
// last approximated as uniform over offset ± deviation).
func (j *jmxImport) timer(n *xnode) (think, bool) {
	num := func(prop string) (int64, bool) {
		s := n.str(prop)
		if lit, ok := j.literal(s); ok {
			s = lit
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return int64(f), err == nil && f >= 0 && f < 1e9
	}
	delay, ok1 := num("ConstantTimer.delay")
	if !ok1 {
		j.notes.add("%s %q: delay %q is not a number of milliseconds, not imported", n.kind(), n.testname(), clip(n.str("ConstantTimer.delay")))
		return think{}, false
	}
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	switch n.kind() {
	case "UniformRandomTimer":
		r, ok := num("RandomTimer.range")
		if !ok {
			r = 0
		}
		return think{ms(delay), ms(delay + r)}, true
	case "GaussianRandomTimer":
		dev, _ := num("RandomTimer.range")
		j.notes.add("%s %q: approximated as a uniform think time over offset ± deviation", n.kind(), n.testname())
		return think{ms(max(delay-dev, 0)), ms(delay + dev)}, true
	}
	return think{ms(delay), ms(delay)}, true
}

// other notes the elements of a level that are neither imported nor part of
// a scope: listeners, assertions, scripts and the like. plan says the
// level is the test plan's.
func (j *jmxImport) other(el jel, plan bool) {
	n := el.n
	kind := n.kind()
	if !n.enabled() {
		j.notes.add("%s %q: disabled", kind, n.testname())
		return
	}
	switch kind {
	case "ThreadGroup", concurrencyTG, "SetupThreadGroup", "PostThreadGroup", "HeaderManager", "ConstantTimer", "UniformRandomTimer",
		"GaussianRandomTimer", "CSVDataSet", "Arguments", "HTTPSamplerProxy", "HTTPSampler":
		return
	case "ConfigTestElement":
		if n.prop("HTTPSampler.domain") != nil || n.prop("HTTPSampler.path") != nil || n.prop("HTTPSampler.protocol") != nil {
			return
		}
	case "CookieManager":
		j.notes.add("CookieManager %q: not needed, fuka keeps a cookie jar per client", n.testname())
		return
	case "CacheManager":
		j.notes.add("CacheManager %q: fuka does not cache responses", n.testname())
		return
	case "RegexExtractor", "JSONPostProcessor":
		if _, ok := j.extracts[n]; ok {
			return
		}
	case "ResponseAssertion", "DurationAssertion", "JSONPathAssertion", "TestAction":
		return // imported where they apply, with a note when they do not map
	}
	if plan && strings.Contains(strings.ToLower(kind), "threadgroup") {
		return
	}
	j.notes.add("%s %q: %s", kind, n.testname(), skipReason(kind))
}
