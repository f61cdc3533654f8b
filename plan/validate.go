package plan

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fuka-load/fuka/client"
)

// Validate checks p against the rules of a plan file and returns every
// problem as Errors sorted by position, or nil.
//
// Parse already validates, with the exact position of every value; a Plan
// it returns passes Validate. Validate is for a Plan built or changed in
// code, such as a parsed plan whose load `fuka run --clients 50` has
// replaced. It checks the values in the struct (a load's clients, rate
// stages, weights, think times, methods, paths, base_url) and the rules
// that span the plan (scenario names, start_after, base_url, every scenario
// having a load). It does not read data files, and it cannot see what only
// the YAML shows, such as unknown keys; positions are those stored in p.
func (p *Plan) Validate() error {
	c := &collector{}
	p.structErrors(c)
	c.errs = append(c.errs, p.crossErrors()...)
	if len(c.errs) == 0 {
		return nil
	}
	sortErrors(c.errs)
	return c.errs
}

type collector struct{ errs Errors }

func (c *collector) add(at Pos, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: at, Msg: fmt.Sprintf(format, args...)})
}

// structErrors checks the values Parse checks as it reads them.
func (p *Plan) structErrors(c *collector) {
	if len(p.Scenarios) == 0 {
		c.add(p.Pos, "plan has no scenarios; want at least one under scenarios:")
	}
	if p.BaseURL.Value != "" {
		if err := checkBaseURL(p.BaseURL.Value); err != nil {
			c.add(p.BaseURL.Pos, "base_url: %v", err)
		}
	}
	if p.Defaults.Timeout < 0 {
		c.add(p.Pos, "defaults: timeout %v is negative", p.Defaults.Timeout)
	}
	thinkErrors(c, p.Pos, "defaults: think", p.Defaults.Think)
	if r := p.Defaults.Retries; r < 0 || r > MaxRetries {
		c.add(p.Pos, "defaults: retries: want 0 to %d, got %d", MaxRetries, r)
	}
	headerErrors(c, "defaults: headers", p.Defaults.Headers)
	httpDefaultsErrors(c, p)
	for _, name := range sortedKeys(p.Data) {
		feederErrors(c, name, p.Data[name])
	}
	if p.Load != nil {
		loadErrors(c, "load", p.Load)
	}
	seen := make(map[string]*Scenario, len(p.Scenarios))
	for _, s := range p.Scenarios {
		what := fmt.Sprintf("scenario %q", s.Name)
		if !isScenarioName(s.Name) {
			c.add(s.Pos, "scenario name %q: want letters, digits, _ and -, starting with a letter or _", clip(s.Name))
		}
		if first, dup := seen[s.Name]; dup {
			c.add(s.Pos, "%s is defined twice; first at %v", what, first.Pos)
		}
		seen[s.Name] = s
		if s.Weight < 1 {
			c.add(s.Pos, "%s: weight must be at least 1, got %d", what, s.Weight)
		}
		switch {
		case s.Script.Value != "" && len(s.Steps) > 0:
			c.add(s.Script.Pos, "%s has both steps and script; want one of them", what)
		case s.Script.Value == "" && len(s.Steps) == 0:
			c.add(s.Pos, "%s has no steps", what)
		case s.Script.Value == "" && s.Function.Value != "":
			c.add(s.Function.Pos, "%s: function: needs script:", what)
		}
		stepErrors(c, s.Steps)
		if s.Load != nil {
			loadErrors(c, what+": load", s.Load)
		}
	}
}

func feederErrors(c *collector, name string, f *Feeder) {
	what := fmt.Sprintf("data %q", name)
	if !isIdent(name) {
		c.add(f.Pos, "data name %q: want letters, digits and _, not starting with a digit", clip(name))
	}
	if (f.CSV.Value == "") == (f.JSONL.Value == "") {
		c.add(f.Pos, "%s: want exactly one of csv: PATH or jsonl: PATH", what)
	}
	switch f.Pick {
	case "", "sequential", "random":
		if f.OnExhausted != "" {
			c.add(f.Pos, "%s: on_exhausted only applies to pick: unique", what)
		}
	case "unique":
		if f.OnExhausted != "" && f.OnExhausted != "stop_client" && f.OnExhausted != "end_run" {
			c.add(f.Pos, "%s: on_exhausted: want stop_client or end_run, got %q", what, f.OnExhausted)
		}
	default:
		c.add(f.Pos, "%s: pick: want sequential, random or unique, got %q", what, f.Pick)
	}
}

func thinkErrors(c *collector, at Pos, what string, t *Think) {
	if t == nil {
		return
	}
	switch {
	case t.Min < 0 || t.Max < 0:
		c.add(at, "%s: negative think time %v..%v", what, t.Min, t.Max)
	case t.Max != 0 && t.Min > t.Max:
		c.add(at, "%s: min %v is more than max %v", what, t.Min, t.Max)
	}
}

func stepErrors(c *collector, steps []*Step) {
	for _, st := range steps {
		switch st.Kind {
		case StepRequest:
			if st.GRPC != nil { // grpc.go
				grpcErrors(c, st)
				break
			}
			if !validMethod(st.Method) {
				c.add(st.Pos, "step: bad method %q; want one of: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS", st.Method)
			}
			if err := checkPath(st.Path.Value); err != nil {
				c.add(st.Path.Pos, "%s: %v", strings.ToLower(st.Method), err)
			}
			if st.Timeout < 0 {
				c.add(st.Pos, "step: timeout %v is negative", st.Timeout)
			}
			if st.Retries != nil && (*st.Retries < 0 || *st.Retries > MaxRetries) {
				c.add(st.RetriesPos, "retries: want 0 to %d, got %d", MaxRetries, *st.Retries)
			}
			headerErrors(c, "headers", st.Headers)
			bodies := 0
			for _, set := range []bool{st.JSON != nil, st.Form != nil, st.Body != nil, st.BodyFile.Value != "", st.Multipart != nil} {
				if set {
					bodies++
				}
			}
			if bodies > 1 {
				c.add(st.Pos, "step: a request has at most one of json, form, body, body_file, multipart")
			}
			httpStepErrors(c, st)
		case StepThink:
			if st.Think == nil {
				c.add(st.Pos, "think step without a think time")
			}
			thinkErrors(c, st.Pos, "think", st.Think)
		case StepGroup:
			if st.Group == "" {
				c.add(st.Pos, "group: must not be empty")
			}
			if len(st.Steps) == 0 {
				c.add(st.Pos, "group %q has no steps", clip(st.Group))
			}
			stepErrors(c, st.Steps)
		case StepIf, StepLoop, StepForeach, StepSet:
			logicErrors(c, st)
		case StepWS, StepSend, StepExpect, StepClose:
			wsStepErrors(c, st)
		default:
			c.add(st.Pos, "step: unknown kind %d", st.Kind)
		}
	}
}

// headerErrors checks header names and values as Parse does: fuka frames
// requests itself (client.ManagedHeader), and a line break in a value
// would end the header.
func headerErrors(c *collector, what string, h map[string]String) {
	for _, name := range sortedKeys(h) {
		v := h[name]
		switch {
		case !isToken(name):
			c.add(v.Pos, "%s: bad header name %q", what, clip(name))
		case client.ManagedHeader(name) != "":
			c.add(v.Pos, "%s: %s: %s", what, name, client.ManagedHeader(name))
		case strings.ContainsAny(v.Value, "\r\n"):
			c.add(v.Pos, "%s: header %q: value contains a line break", what, name)
		}
	}
}

func validMethod(m string) bool {
	for _, k := range methodKeys {
		if m == strings.ToUpper(k) {
			return true
		}
	}
	return false
}

// loadErrors checks a Load's values and that it is one model or the other.
func loadErrors(c *collector, what string, l *Load) {
	if !l.Open() {
		switch {
		case l.Clients < 1:
			c.add(l.Pos, "%s: clients must be at least 1, got %d", what, l.Clients)
		case l.MaxClients != 0:
			c.add(l.Pos, "%s: max_clients is for the open model (rate)", what)
		case l.Duration < 0 || l.RampUp < 0 || l.Iterations < 0:
			c.add(l.Pos, "%s: duration, ramp_up and iterations must not be negative", what)
		case math.IsNaN(l.MaxRPS) || l.MaxRPS < 0:
			c.add(l.Pos, "%s: max_rps %v must be more than 0 (or 0 for no cap)", what, l.MaxRPS)
		case l.Duration == 0 && l.Iterations == 0:
			c.add(l.Pos, "%s: the closed model needs duration or iterations (per client) to end", what)
		case l.Duration > 0 && l.RampUp > l.Duration:
			c.add(l.Pos, "%s: ramp_up %v is longer than duration %v", what, l.RampUp, l.Duration)
		}
		return
	}
	if l.Clients != 0 || l.RampUp != 0 || l.Iterations != 0 || l.MaxRPS != 0 {
		c.add(l.Pos, "%s: rate and closed-model settings (clients, ramp_up, iterations, max_rps) are both set; a load is closed or open, not both", what)
	}
	if l.Duration != 0 {
		c.add(l.Pos, "%s: duration is not used with rate; the stages set the length", what)
	}
	if l.MaxClients < 0 { // 0: not set, DefaultMaxClients
		c.add(l.Pos, "%s: max_clients must be at least 1, got %d", what, l.MaxClients)
	}
	errsBefore := len(c.errs)
	var total time.Duration
	for i, s := range l.Rate {
		switch {
		case math.IsNaN(s.Target) || math.IsInf(s.Target, 0) || s.Target < 0:
			c.add(l.Pos, "%s: rate stage %d: target %v must be a number >= 0", what, i+1, s.Target)
		case s.Over < 0:
			c.add(l.Pos, "%s: rate stage %d: over %v is negative", what, i+1, s.Over)
		case s.Over > math.MaxInt64-total:
			c.add(l.Pos, "%s: the rate stages last too long in total", what)
			return
		}
		total += max(s.Over, 0)
	}
	if total == 0 {
		c.add(l.Pos, "%s: the rate stages last 0s in total; want some over > 0", what)
		return
	}
	if len(c.errs) == errsBefore {
		if err := checkRate(l.Rate); err != nil {
			c.add(l.Pos, "%s: rate: %v", what, err)
		}
	}
}

// crossErrors checks the rules that span several parts of a plan. Parse
// and Validate both apply them.
func (p *Plan) crossErrors() Errors {
	c := &collector{}
	p.loadErrors(c)
	p.startAfterErrors(c)
	p.baseURLErrors(c)
	p.nameErrors(c)
	p.retryErrors(c)
	for _, s := range p.Scenarios {
		p.wsErrors(c, s.Steps)
	}
	return c.errs
}

// retryErrors: a request that is not idempotent (POST, PATCH) is retried
// only when the plan says so twice, with retries: and retry_non_idempotent:
// a retry may repeat what the first attempt did (a second order), since a
// failed attempt may still have been processed.
func (p *Plan) retryErrors(c *collector) {
	for _, s := range p.Scenarios {
		Walk(s.Steps, func(st *Step) {
			if st.Kind != StepRequest || st.Retries == nil || *st.Retries == 0 || Idempotent(st.Method) {
				return
			}
			force := p.Defaults.RetryNonIdempotent
			if st.RetryNonIdempotent != nil {
				force = *st.RetryNonIdempotent
			}
			switch {
			case force:
			case st.GRPC != nil:
				c.add(st.RetriesPos, "retries: a gRPC call is sent as a POST and may not be idempotent: a retry may repeat what a failed attempt already did; add retry_non_idempotent: true to retry it anyway")
			default:
				c.add(st.RetriesPos, "retries: %s is not idempotent: a retry may repeat what a failed attempt already did (a second order); add retry_non_idempotent: true to retry it anyway", st.Method)
			}
		})
		Walk(s.Steps, func(st *Step) {
			if st.GRPC != nil && st.GRPC.RetryCodes != nil && p.RetriesOf(st) == 0 {
				c.add(st.GRPC.RetryCodesPos, "retry_codes: the step is not retried; give it retries: N (and retry_non_idempotent: true)")
			}
		})
	}
}

// loadErrors: every scenario needs a load, its own or the plan's.
func (p *Plan) loadErrors(c *collector) {
	if p.Load != nil {
		return
	}
	for _, s := range p.Scenarios {
		if s.Load == nil {
			c.add(s.Pos, "scenario %q has no load, and the plan has none; add load: to the plan or to every scenario", s.Name)
		}
	}
}

func (p *Plan) startAfterErrors(c *collector) {
	index := make(map[string]int, len(p.Scenarios))
	for i, s := range p.Scenarios {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i
		}
	}
	// next[i] is the scenario i starts after, or -1.
	next := make([]int, len(p.Scenarios))
	for i, s := range p.Scenarios {
		next[i] = -1
		v := s.StartAfter.Value
		switch {
		case v == "":
		case !isScenarioName(v):
			if _, err := parseDuration(v); err != nil {
				c.add(s.StartAfter.Pos, "start_after: %v (or the name of a scenario)", err)
			}
		case v == s.Name:
			c.add(s.StartAfter.Pos, "start_after: scenario %q cannot start after itself", s.Name)
		default:
			j, ok := index[v]
			if !ok {
				c.add(s.StartAfter.Pos, "start_after: unknown scenario %q; want a duration (30s) or one of: %s", clip(v), p.scenarioNames())
				continue
			}
			next[i] = j
		}
	}
	// Each scenario starts after at most one other, so following next from
	// each scenario either ends or runs into a cycle.
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(next))
	for i := range next {
		var path []int
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = onPath
			path = append(path, j)
			j = next[j]
		}
		if j >= 0 && state[j] == onPath {
			cycle := path[indexOf(path, j):]
			// Name the cycle from its first scenario in the file.
			first := 0
			for k, m := range cycle {
				if m < cycle[first] {
					first = k
				}
			}
			names := make([]string, 0, len(cycle)+1)
			for k := range cycle {
				names = append(names, p.Scenarios[cycle[(first+k)%len(cycle)]].Name)
			}
			names = append(names, names[0])
			s := p.Scenarios[cycle[first]]
			c.add(s.StartAfter.Pos, "start_after: scenarios wait for each other in a cycle: %s", strings.Join(names, " -> "))
		}
		for _, k := range path {
			state[k] = done
		}
	}
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func (p *Plan) scenarioNames() string {
	names := make([]string, len(p.Scenarios))
	for i, s := range p.Scenarios {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// baseURLErrors: a plan without base_url needs absolute URLs. A path that
// starts with a template may make an absolute URL, so it does not count.
func (p *Plan) baseURLErrors(c *collector) {
	if p.BaseURL.Value != "" {
		return
	}
	for _, s := range p.Scenarios {
		var rel *Step
		Walk(s.Steps, func(st *Step) {
			if rel == nil && st.Kind == StepRequest && strings.HasPrefix(st.Path.Value, "/") {
				rel = st
			}
		})
		if rel != nil {
			c.add(rel.Path.Pos, "relative path %q needs base_url; set base_url: http://host:port or use absolute URLs", clip(rel.Path.Value))
			return
		}
	}
}

// nameErrors: templates read vars, env and data by name, so one name means
// one thing.
func (p *Plan) nameErrors(c *collector) {
	type def struct {
		kind string
		pos  Pos
	}
	defs := map[string]def{}
	for _, name := range sortedKeys(p.Vars) {
		defs[name] = def{"variable", p.Vars[name].Pos}
	}
	add := func(kind, name string, at Pos) {
		if d, dup := defs[name]; dup {
			where := ""
			if s := d.pos.String(); s != "" {
				where = " at " + s
			}
			c.add(at, "%s %q has the same name as %s %q%s", kind, name, d.kind, name, where)
			return
		}
		defs[name] = def{kind, at}
	}
	for _, name := range sortedKeys(p.Env) {
		add("env", name, p.Env[name].Pos)
	}
	for _, name := range sortedKeys(p.Data) {
		add("data", name, p.Data[name].Pos)
	}
}

// After tells when s starts: after a delay from the start of the run, or,
// when StartAfter names a scenario, once that scenario has ended. Both are
// zero when s starts with the run. It assumes a valid plan.
func (s *Scenario) After() (delay time.Duration, scenario string) {
	v := s.StartAfter.Value
	if isScenarioName(v) {
		return 0, v
	}
	d, _ := parseDuration(v)
	return d, ""
}
