package importer

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// threadGroup turns a Thread Group into a scenario and its load. top says
// it is the only one: its headers go to defaults.headers.
func (j *jmxImport) threadGroup(g jel, plan scope, top bool) (*scen, loadShape) {
	n := g.n
	what := fmt.Sprintf("Thread Group %q", n.testname())
	sc := j.scope(g.kids, plan, top)
	steps := j.steps(g.kids, sc)
	if len(steps) == 0 {
		j.notes.add("%s: no HTTP requests to import", what)
		return nil, loadShape{}
	}
	count := func(prop string, def int64) int64 {
		s := n.str(prop)
		if s == "" {
			return def
		}
		lit, ok := j.literal(s)
		v, isNum := parseNum(lit)
		if !ok || !isNum || v < 0 {
			j.notes.add("%s: %s is %q, not a number: using %d", what, prop, clip(s), def)
			return def
		}
		return v
	}
	if n.kind() == concurrencyTG {
		l := j.concurrency(n, what, count)
		return j.scenario(n, what, steps, l), l
	}
	l := loadShape{clients: int(max(count("ThreadGroup.num_threads", 1), 1))}
	l.rampUp = secs(count("ThreadGroup.ramp_time", 0))
	if n.flag("ThreadGroup.scheduler") {
		l.duration = secs(count("ThreadGroup.duration", 0))
		if d := count("ThreadGroup.delay", 0); d > 0 {
			j.notes.add("%s: the startup delay of %ds is not imported (use start_after on the scenario)", what, d)
		}
	}
	loops := int64(1)
	if lc := n.prop("ThreadGroup.main_controller"); lc != nil {
		s := lc.str("LoopController.loops")
		if lit, ok := j.literal(s); ok {
			s = lit
		}
		if v, ok := parseNum(s); ok {
			loops = v
		} else if s != "" {
			j.notes.add("%s: loop count %q is not a number: runs until the duration ends", what, clip(s))
			loops = -1
		}
		if lc.flag("LoopController.continue_forever") && lc.str("LoopController.loops") == "-1" {
			loops = -1
		}
	}
	if loops > 0 {
		l.iterations = int(min(loops, 1<<31-1))
	}
	if l.duration == 0 && l.iterations == 0 {
		l.duration = 30 * time.Second
		j.notes.add("%s loops until stopped: the plan runs it for 30s (set load.duration)", what)
	}
	if l.duration > 0 && l.rampUp > l.duration {
		j.notes.add("%s: ramp-up %s is longer than the duration: cut to %s", what, fmtDur(l.rampUp), fmtDur(l.duration))
		l.rampUp = l.duration
	}
	return j.scenario(n, what, steps, l), l
}

// concurrencyTG is the Concurrency Thread Group of the JMeter plugins
// (Taurus writes it): a target number of threads, reached over a ramp-up,
// held for a time.
const concurrencyTG = "com.blazemeter.jmeter.threads.concurrency.ConcurrencyThreadGroup"

func (j *jmxImport) concurrency(n *xnode, what string, count func(string, int64) int64) loadShape {
	unit := time.Second
	if strings.TrimSpace(n.str("Unit")) == "M" {
		unit = time.Minute
	}
	l := loadShape{clients: int(max(count("TargetLevel", 1), 1))}
	l.rampUp = time.Duration(count("RampUp", 0)) * unit
	l.duration = l.rampUp + time.Duration(count("Hold", 0))*unit
	if it := count("Iterations", 0); it > 0 {
		l.iterations = int(min(it, 1<<31-1))
		j.notes.add("%s: iterations %d count for the whole group in JMeter, per client in the plan", what, it)
	}
	if s := count("Steps", 0); s > 1 {
		j.notes.add("%s: the ramp-up in %d steps is a smooth ramp-up in the plan", what, s)
	}
	if l.duration == 0 && l.iterations == 0 {
		l.duration = 30 * time.Second
		j.notes.add("%s has no hold time: the plan runs it for 30s (set load.duration)", what)
	}
	return l
}

func (j *jmxImport) scenario(n *xnode, what string, steps []*step, l loadShape) *scen {
	name := ident(n.testname())
	if name == "" || name == "_" {
		name = "thread_group"
	}
	for i, base := 2, name; slicesContainsScen(j.doc.scenarios, name); i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return &scen{name: name, steps: steps, comment: []string{fmt.Sprintf("%s: %d thread(s)", what, l.clients)}}
}

func slicesContainsScen(ss []*scen, name string) bool {
	for _, s := range ss {
		if s.name == name {
			return true
		}
	}
	return false
}

// isController tells the logic controllers whose children are imported
// in order, without their logic.
func isController(kind string) bool {
	return strings.HasSuffix(kind, "Controller") || kind == "InterleaveControl" || kind == "RunTime"
}

// steps turns the elements of one level into steps, in order.
func (j *jmxImport) steps(els []jel, sc scope) []*step {
	var out []*step
	for _, el := range els {
		n := el.n
		kind := n.kind()
		switch {
		case !n.enabled():
			j.notes.add("%s %q: disabled", kind, n.testname())
		case kind == "HTTPSamplerProxy" || kind == "HTTPSampler":
			out = append(out, j.sampler(el, sc)...)
		case kind == "GenericController" || kind == "TransactionController":
			inner := j.steps(el.kids, j.scope(el.kids, sc, false))
			if name := n.testname(); name != "" && len(inner) > 0 {
				out = append(out, &step{group: name, steps: inner})
			} else {
				out = append(out, inner...)
			}
		case kind == "TestAction":
			out = append(out, j.flowControl(n)...)
		case isController(kind):
			if st, ok := j.controller(el, sc); ok {
				out = append(out, st...)
				continue
			}
			j.notes.add("%s %q: its requests are imported once, in order; its logic (loops, conditions, choices) is not", kind, n.testname())
			out = append(out, j.steps(el.kids, j.scope(el.kids, sc, false))...)
		default:
			j.other(el, false)
		}
	}
	return out
}

// jmeterMaxRedirects is JMeter's httpsampler.max_redirects default.
const jmeterMaxRedirects = 20

var queryMethods = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true, "DELETE": true}

// sampler turns an HTTP sampler into a request step, after a think step
// for the timers in its scope.
func (j *jmxImport) sampler(el jel, sc scope) []*step {
	n := el.n
	what := fmt.Sprintf("%s %q", n.kind(), n.testname())
	own := j.scope(el.kids, sc, false)
	get := func(prop, def string) string {
		if v := strings.TrimSpace(n.str(prop)); v != "" {
			return v
		}
		return def
	}
	method := strings.ToUpper(get("HTTPSampler.method", "GET"))
	if !planMethods[method] {
		j.notes.add("%s: a plan cannot send %s, not imported", what, clip(method))
		return nil
	}
	rawPath := get("HTTPSampler.path", own.http.path)
	var origin, path string
	if lp := strings.ToLower(rawPath); strings.HasPrefix(lp, "http://") || strings.HasPrefix(lp, "https://") {
		t, err := splitURL(j.tr(rawPath))
		if err != nil {
			j.notes.add("%s: %v, not imported", what, err)
			return nil
		}
		origin, path = t.origin, t.path
	} else {
		port := get("HTTPSampler.port", own.http.port)
		proto := strings.ToLower(get("HTTPSampler.protocol", own.http.protocol))
		if proto == "" {
			proto = "http"
			if port == "443" {
				proto = "https"
			}
		}
		if proto != "http" && proto != "https" {
			j.notes.add("%s: protocol %q, not imported (fuka sends http and https)", what, clip(proto))
			return nil
		}
		host := j.hostPart(get("HTTPSampler.domain", own.http.domain))
		if host == "" {
			j.notes.add("%s: no server name (and no HTTP Request Defaults with one), not imported", what)
			return nil
		}
		origin = proto + "://" + host
		if port = j.hostPart(port); port != "" && !(proto == "http" && port == "80") && !(proto == "https" && port == "443") {
			origin += ":" + port
		}
		if !hasRef(origin) {
			if u, err := url.Parse(origin); err != nil || u.Hostname() == "" || strings.ContainsAny(u.Host, "/?#@") {
				j.notes.add("%s: bad server %q, not imported", what, clip(origin))
				return nil
			}
		}
		// A path that starts with a variable, ${base_path}/login, starts
		// with its value: base_url + "{{ base_path }}" would not be a path.
		if strings.HasPrefix(rawPath, "${") {
			if end := closing(rawPath, 0); end > 0 {
				if v := j.vars[strings.TrimSpace(rawPath[2:end])]; v != nil && v.prop == "" && !v.notLiteral && strings.HasPrefix(v.value, "/") {
					rawPath = v.value + rawPath[end+1:]
				}
			}
		}
		path = j.tr(rawPath)
		if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, string(markOpen)) {
			path = "/" + path
		}
		path = oneSlash(cleanURLPart(cutFragment(path)))
	}

	st := &step{method: method, name: n.testname(), timeout: own.http.timeout}
	if ms, ok := parseNum(n.str("HTTPSampler.response_timeout")); ok && ms > 0 {
		st.timeout = time.Duration(ms) * time.Millisecond
	}
	args := n.prop("HTTPsampler.Arguments").items("Arguments.arguments")
	switch {
	case n.flag("HTTPSampler.postBodyRaw"):
		var b strings.Builder
		for _, a := range args {
			b.WriteString(a.str("Argument.value"))
		}
		body := j.tr(b.String())
		st.body = &body
	case len(args) > 0:
		pairs, ok := j.pairs(args)
		switch {
		case ok && queryMethods[method]:
			st.query = pairs
		case ok:
			st.form = pairs
		case queryMethods[method]:
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			path += sep + j.encoded(args)
		default:
			body := j.encoded(args)
			st.body = &body
			own.headers = setKV(own.headers, "Content-Type", formType)
		}
	}
	st.path = path
	st.headers = cleanHeaders(own.headers, &j.notes)
	if len(n.prop("HTTPsampler.Files").items("HTTPFileArgs.files")) > 0 || n.flag("HTTPSampler.DO_MULTIPART_POST") {
		j.notes.add("%s: multipart file uploads are not imported", what)
	}
	if n.flag("HTTPSampler.image_parser") {
		j.notes.add("%s: embedded resources (images, scripts, CSS) are not downloaded", what)
	}
	for _, x := range own.extractors {
		e := j.extracts[x]
		if _, i := findKV(st.extract, e.k); i < 0 {
			st.extract = append(st.extract, e)
		}
	}
	for _, a := range own.asserts {
		j.assertion(a, &st.checks)
	}
	if n.flag("HTTPSampler.follow_redirects") || n.flag("HTTPSampler.auto_redirects") {
		st.followRedirects = jmeterMaxRedirects
	}
	for _, k := range el.kids {
		j.other(k, false)
	}
	j.requests = append(j.requests, &jmxReq{st: st, origin: origin})

	var pause think
	for _, t := range own.timers {
		pause.min += t.min
		pause.max += t.max
	}
	if pause.max > 0 {
		return []*step{{pause: &pause}, st}
	}
	return []*step{st}
}

// hostPart resolves a server name or port: literally when it can, else
// as a template.
func (j *jmxImport) hostPart(s string) string {
	if lit, ok := j.literal(s); ok {
		return strings.TrimSpace(lit)
	}
	return strings.TrimSpace(j.tr(s))
}

// pairs reads sampler arguments as query or form pairs; ok is false when a
// map cannot hold them (an empty, repeated or templated name).
func (j *jmxImport) pairs(args []*xnode) ([]kv, bool) {
	seen := map[string]bool{}
	var out []kv
	for _, a := range args {
		name := a.str("Argument.name")
		if name == "" || seen[name] || strings.Contains(name, "${") {
			return nil, false
		}
		seen[name] = true
		val := a.str("Argument.value")
		if a.str("HTTPArgument.always_encode") == "false" {
			if v, err := url.QueryUnescape(val); err == nil {
				val = v // fuka encodes it again
			}
		}
		out = append(out, kv{k: scrub(name), v: j.tr(val)})
	}
	return out, true
}

// encoded writes sampler arguments as name=value&... text.
func (j *jmxImport) encoded(args []*xnode) string {
	var parts []string
	for _, a := range args {
		name, val := a.str("Argument.name"), a.str("Argument.value")
		if a.str("HTTPArgument.always_encode") != "false" {
			name, val = urlEncode(j.tr(name)), urlEncode(j.tr(val))
		} else {
			name, val = j.tr(name), j.tr(val)
		}
		if name == "" && a.str("HTTPArgument.use_equals") != "true" {
			parts = append(parts, val)
			continue
		}
		parts = append(parts, name+"="+val)
	}
	return strings.Join(parts, "&")
}

// setLoad sets the plan's load from the thread groups' loads. With
// several, each scenario gets its own load, as each thread group has its
// own threads, ramp-up, duration and loops, all starting together.
func (j *jmxImport) setLoad(loads []loadShape) {
	if len(loads) > 1 {
		for i, s := range j.doc.scenarios {
			s.load = &loads[i]
		}
		start := "all starting together"
		if j.doc.scenarios[0].startAfter == "" && len(j.doc.scenarios) > 1 && j.doc.scenarios[1].startAfter != "" {
			start = "the setUp one first, the others when it has ended"
		}
		j.doc.loadNote = []string{fmt.Sprintf("Each of the %d thread groups is a scenario with its own load (scenarios: NAME: load:), %s.", len(loads), start)}
		return
	}
	l := loads[0]
	desc := fmt.Sprintf("From the thread group: %d thread(s)", l.clients)
	if l.rampUp > 0 {
		desc += ", ramp-up " + fmtDur(l.rampUp)
	}
	if l.duration > 0 {
		desc += ", for " + fmtDur(l.duration)
	}
	if l.iterations > 0 {
		desc += fmt.Sprintf(", %d iteration(s) each", l.iterations)
	}
	j.doc.load = l
	j.doc.loadNote = []string{desc + ".", "Open model instead (arrivals per second): load: { rate: 50, duration: 1m }"}
}

// setURLs picks base_url (the origin most requests go to) and makes the
// other requests' paths absolute.
func (j *jmxImport) setURLs() {
	count := map[string]int{}
	best := ""
	for _, r := range j.requests {
		if r.origin == "" || hasRef(r.origin) {
			continue
		}
		count[r.origin]++
		if count[r.origin] > count[best] {
			best = r.origin
		}
	}
	j.doc.baseURL = best
	for _, r := range j.requests {
		if r.origin != "" && r.origin != best {
			r.st.path = r.origin + r.st.path
		}
	}
}
