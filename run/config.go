package run

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/scenario"
)

// A run's load is a typed job (fukapb.Job): the command line turns its
// flags, or a plan with its files, environment and overrides, into one;
// the same job becomes the engine configuration through the same code on
// the controller (a local run) and on every worker (a distributed one).
// Flags are read once, on the controller; a worker never sees a flag name.

// Options are what a configuration takes besides the plan or the job.
type Options struct {
	Insecure bool // skip TLS certificate verification
	HTTP2    bool // HTTP/2 (h2, or h2c prior knowledge over http)
	HTTP1    bool // HTTP/1.1 also over TLS (else https negotiates h2 by ALPN)
	TLS      TLSFiles
	Version  string // fuka's version: the User-Agent and the report's
	Phases   bool   // time each request's phases (--phases)
}

func (o Options) userAgent() string { return "fuka/" + o.Version }

// MaxClients is the open model's cap on clients in flight: n when it was
// given (a flag or max_clients), else plan.DefaultMaxClients — the one
// default of attack, run, capacity and a distributed run's workers.
func MaxClients(n int) int {
	if n > 0 {
		return n
	}
	return plan.DefaultMaxClients
}

// AttackConfig is an attack job's engine configuration. The job's values
// were checked when the flags became the job.
func AttackConfig(j *fukapb.AttackJob) (engine.Config, error) {
	if grpccall.IsURL(j.GetUrl()) {
		return grpcAttackConfig(j)
	}
	if j.GetWs() != nil {
		return wsAttackConfig(j)
	}
	header := http.Header{}
	for _, h := range j.GetHeaders() {
		header.Add(h.GetKey(), h.GetValue())
	}
	req, err := client.NewRequest(j.GetMethod(), j.GetUrl(), header, j.GetBody())
	if err != nil {
		return engine.Config{}, err
	}
	tc, err := attackTLS(j)
	if err != nil {
		return engine.Config{}, err
	}
	cfg := engine.Config{Work: engine.Request{
		Request: req, Name: j.GetName(), Timeout: time.Duration(j.GetTimeoutNanos()),
		Insecure: j.GetInsecure(), HTTP2: j.GetHttp2(), HTTP1: j.GetHttp1(), TLS: tc, UserAgent: j.GetUserAgent(),
	}, Phases: j.GetPhases()}
	cfg.Load, err = attackLoad(j.GetLoad())
	return cfg, err
}

// attackLoad is an attack job's load.
func attackLoad(l *fukapb.Load) (engine.Load, error) {
	if r := l.GetRate(); r != nil {
		rate, err := RateOf(r)
		if err != nil {
			return nil, fmt.Errorf("rate: %w", err)
		}
		return engine.Open{Rate: rate, MaxClients: MaxClients(int(l.GetMaxClients())), Resolution: time.Duration(l.GetResolutionNanos()), Preconnect: int(l.GetPreconnect())}, nil
	}
	return engine.Closed{
		Clients: int(l.GetClients()), RampUp: time.Duration(l.GetRampUpNanos()), Requests: l.GetRequests(), MaxRPS: l.GetMaxRps(),
		Duration: time.Duration(l.GetDurationNanos()), Resolution: time.Duration(l.GetResolutionNanos()),
	}, nil
}

// RateMsg and RateOf carry a load.Rate exactly: its start and stages.
func RateMsg(r load.Rate) *fukapb.Rate {
	m := &fukapb.Rate{Start: r.Start()}
	for _, s := range r.StagesOnly() {
		m.Stages = append(m.Stages, &fukapb.RateStage{Target: s.Target, OverNanos: int64(s.Over)})
	}
	return m
}

// RateOf is the rate RateMsg carried.
func RateOf(m *fukapb.Rate) (load.Rate, error) {
	stages := make([]load.Stage, len(m.GetStages()))
	for i, s := range m.GetStages() {
		stages[i] = load.Stage{Target: s.GetTarget(), Over: time.Duration(s.GetOverNanos())}
	}
	return load.NewRate(m.GetStart(), stages)
}

// LoadFlags are fuka run's (and validate's) load flags; Changed tells
// which were given.
type LoadFlags struct {
	Clients    int
	Duration   time.Duration
	Rate       string
	MaxClients int
	BaseURL    string
	Changed    func(flag string) bool
}

// Overrides is the typed form of the load flags: what overridden applies,
// here and on a distributed run's workers.
func (f LoadFlags) Overrides() (*fukapb.Overrides, error) {
	changed := f.Changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	ov := &fukapb.Overrides{BaseUrl: f.BaseURL}
	count := func(flag string, v int) (*int32, error) {
		if !changed(flag) {
			return nil, nil
		}
		if v <= 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("--%s %d: must be > 0", flag, v)
		}
		return proto.Int32(int32(v)), nil
	}
	var err error
	if ov.Clients, err = count("clients", f.Clients); err != nil {
		return nil, err
	}
	if ov.MaxClients, err = count("max-clients", f.MaxClients); err != nil {
		return nil, err
	}
	if changed("duration") {
		if f.Duration <= 0 {
			return nil, fmt.Errorf("--duration %v: must be > 0", f.Duration)
		}
		ov.DurationNanos = proto.Int64(int64(f.Duration))
	}
	if f.Rate != "" {
		r, err := load.ParseRate(f.Rate, f.Duration)
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		ov.Rate = RateMsg(r)
	}
	return ov, nil
}

// overridden returns the plan with the load overrides applied to a copy
// of its load, then validated as a plan file is, so that file and flags
// obey one set of rules: `fuka run plan.yaml --duration 10s` is refused
// when ramp_up is longer, as the same load in the file is. Errors about
// the load name the flags that made it.
func overridden(p *plan.Plan, ov *fukapb.Overrides) (*plan.Plan, error) {
	var given []string
	var rate load.Rate
	if ov.Clients != nil {
		given = append(given, fmt.Sprintf("--clients %d", ov.GetClients()))
	}
	if ov.DurationNanos != nil {
		given = append(given, fmt.Sprintf("--duration %v", time.Duration(ov.GetDurationNanos())))
	}
	if ov.GetRate() != nil {
		var err error
		if rate, err = RateOf(ov.GetRate()); err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		given = append(given, "--rate "+rate.String())
	}
	if ov.MaxClients != nil {
		given = append(given, fmt.Sprintf("--max-clients %d", ov.GetMaxClients()))
	}
	if len(given) == 0 {
		return p, nil
	}
	if p.Load == nil || ownLoads(p) {
		return nil, errors.New("--clients, --duration, --rate and --max-clients override a plan-level load shared by weight; this plan gives scenarios their own loads or starts")
	}
	l := *p.Load
	switch {
	case ov.GetRate() != nil:
		if ov.Clients != nil {
			return nil, errors.New("--clients (closed model) does not combine with --rate (open model)")
		}
		var stages []plan.RateStage
		for _, st := range rate.Stages() {
			stages = append(stages, plan.RateStage{Target: st.Target, Over: st.Over})
		}
		l = plan.Load{Rate: stages, MaxClients: l.MaxClients, Pos: l.Pos}
	case l.Open():
		if ov.Clients != nil {
			return nil, errors.New("--clients (closed model) does not combine with an open-model load")
		}
		if ov.DurationNanos != nil {
			return nil, errors.New("--duration: this plan's load is open and its rate stages set the length; give --rate with --duration to change it")
		}
	default:
		if ov.MaxClients != nil {
			return nil, errors.New("--max-clients is for the open model: use it with --rate or a plan with rate stages")
		}
		if ov.Clients != nil {
			l.Clients = int(ov.GetClients())
		}
		if ov.DurationNanos != nil {
			l.Duration = time.Duration(ov.GetDurationNanos())
		}
	}
	if ov.MaxClients != nil {
		l.MaxClients = int(ov.GetMaxClients())
	}
	q := *p
	q.Load = &l
	if err := q.Validate(); err != nil {
		var es plan.Errors
		if errors.As(err, &es) {
			for i, e := range es {
				if e.Pos == l.Pos {
					es[i] = &plan.Error{Pos: e.Pos, Msg: e.Msg + " (with " + strings.Join(given, " ") + ")"}
				}
			}
		}
		return nil, err
	}
	return &q, nil
}

func ownLoads(p *plan.Plan) bool { return (&Plan{Plan: p}).OwnLoads() }

// loadOf is a plan load in engine terms.
func loadOf(l *plan.Load) (engine.Load, error) {
	if !l.Open() {
		return engine.Closed{Clients: l.Clients, RampUp: l.RampUp, Duration: l.Duration, Iterations: l.Iterations, MaxRPS: l.MaxRPS}, nil
	}
	r, err := plan.NewRate(l.Rate)
	if err != nil {
		return nil, fmt.Errorf("%s: load: %w", l.Pos, err)
	}
	return engine.Open{Rate: r, MaxClients: MaxClients(l.MaxClients)}, nil
}

// planTargets are the run's target as the reports name it and, when the
// plan sends to several, each of them: a plan without base_url whose steps
// name their own (grpc://, ws://) would otherwise be reported with none.
func planTargets(p *plan.Plan) (string, []string) {
	ts := p.Targets()
	switch len(ts) {
	case 0:
		return p.BaseURL.Value, nil
	case 1:
		return ts[0], nil
	}
	return strconv.Itoa(len(ts)) + " targets", ts
}

// loadConfig turns the plan's load (overrides applied: see overridden)
// into engine terms.
func loadConfig(p *plan.Plan, version string) (engine.Config, report.Meta, error) {
	meta := report.Meta{Name: p.Name, Version: version}
	meta.Target, meta.Targets = planTargets(p)
	if p.Load == nil {
		return engine.Config{}, meta, errors.New("no plan-level load") // per-scenario loads: see partsConfig
	}
	ld, err := loadOf(p.Load)
	if err != nil {
		return engine.Config{}, meta, err
	}
	cfg := engine.Config{Load: ld}
	switch l := ld.(type) {
	case engine.Open:
		meta.Model, meta.LatencyFrom = report.ModelOpen, report.FromIntended
		meta.Planned, meta.Rate, meta.MaxClients = l.Rate.Duration(), l.Rate.String(), l.MaxClients
	case engine.Closed:
		meta.Model, meta.LatencyFrom = report.ModelClosed, report.FromSend
		meta.Clients, meta.RampUp, meta.Planned, meta.MaxRPS = l.Clients, l.RampUp, l.Duration, l.MaxRPS
	}
	return cfg, meta, nil
}

// partsConfig builds a run of several parts, one per scenario with its own
// load, started at once, after a delay, or after another scenario ends.
// The parts' scenario runners are set by PlanConfig.
func partsConfig(p *plan.Plan, version string) (engine.Config, report.Meta, error) {
	meta := report.Meta{Name: p.Name, Version: version, Model: "mixed"}
	meta.Target, meta.Targets = planTargets(p)
	var cfg engine.Config
	var parts engine.Parts
	index := map[string]int{}
	for i, sc := range p.Scenarios {
		index[sc.Name] = i
	}
	var ends []time.Duration // each part's planned end, when known
	for _, sc := range p.Scenarios {
		l := sc.Load
		if l == nil {
			l = p.Load // the plan's load is every such scenario's default
		}
		if l == nil {
			return cfg, meta, fmt.Errorf("%s: scenario %q has no load and the plan has none", sc.Pos, sc.Name)
		}
		ld, err := loadOf(l)
		if err != nil {
			return cfg, meta, err
		}
		part := engine.Part{Load: ld, After: -1}
		open, _ := ld.(engine.Open)
		closed, _ := ld.(engine.Closed)
		delay, after := sc.After()
		part.Delay = delay
		begin := delay
		if after != "" {
			part.After = index[after]
			begin = -1
			if part.After < len(ends) && ends[part.After] >= 0 {
				begin = ends[part.After]
			}
		}
		end := time.Duration(-1)
		if d := closed.Duration; l.Open() {
			end = begin + open.Rate.Duration()
		} else if d > 0 && closed.Iterations == 0 {
			end = begin + d
		}
		if begin < 0 {
			end = -1
		}
		ends = append(ends, end)
		meta.Clients += closed.Clients
		meta.MaxClients += open.MaxClients
		parts.Parts = append(parts.Parts, part)
	}
	cfg.Work = parts
	for _, e := range ends {
		if e < 0 {
			meta.Planned = 0
			break
		}
		meta.Planned = max(meta.Planned, e)
	}
	meta.LatencyFrom = report.FromSend
	return cfg, meta, nil
}

// PlanConfig builds the engine configuration of a compiled plan with the
// load overrides ov; closeRunner releases the scenario runner after the
// run. A worker of a distributed run builds its configuration with it
// too (PrepareJob).
func PlanConfig(c *Plan, ov *fukapb.Overrides, o Options) (cfg engine.Config, meta report.Meta, closeRunner func(), err error) {
	p, err := overridden(c.Plan, ov)
	if err != nil {
		return cfg, meta, nil, err
	}
	opts, err := o.scenarioOptions()
	if err != nil {
		return cfg, meta, nil, err
	}
	defer func() { meta.H2C = h2c(p, o) }()
	parts := p.Load == nil || ownLoads(p)
	if parts {
		cfg, meta, err = partsConfig(p, o.Version)
	} else {
		cfg, meta, err = loadConfig(p, o.Version)
	}
	if err != nil {
		return cfg, meta, nil, err
	}
	cfg.Phases = o.Phases
	opts.MaxConns = slots(cfg)
	w, _ := cfg.Work.(engine.Parts)
	_, open := cfg.Load.(engine.Open)
	runner := scenario.NewRunner(c.Prog, opts, open)
	if !parts {
		// HTTP2 is for Footprint: HTTP/2 multiplexes a client's requests.
		cfg.Work = engine.Plan{Scenario: runner, HTTP2: o.HTTP2}
		return cfg, meta, runner.Close, nil
	}
	for i, sc := range p.Scenarios {
		_, open := w.Parts[i].Load.(engine.Open)
		if w.Parts[i].Scenario, err = runner.Only(sc.Name, open); err != nil {
			runner.Close()
			return cfg, meta, nil, err
		}
	}
	w.HTTP2 = o.HTTP2
	cfg.Work = w
	return cfg, meta, runner.Close, nil
}

// slots is how many clients cfg's load, or its parts' loads together, may
// hold at once: they share one transport, with as many idle connections.
func slots(cfg engine.Config) int {
	n := 0
	if cfg.Load != nil {
		n = cfg.Load.Slots()
	}
	w, _ := cfg.Work.(engine.Parts)
	for _, part := range w.Parts {
		n += part.Load.Slots()
	}
	return n
}

// CapacityConfig is the base configuration of a capacity search of a plan
// whose scenarios share its load: the open model, its rate set per step.
// maxClients is --max-clients when given, else 0: the plan's max_clients
// or the default.
func CapacityConfig(c *Plan, maxClients int, resolution time.Duration, o Options) (engine.Config, func(), error) {
	if c.Plan.Load == nil || c.OwnLoads() {
		return engine.Config{}, nil, errors.New("capacity needs a plan whose scenarios share one load by weight; this plan gives scenarios their own loads or starts")
	}
	if maxClients <= 0 && c.Plan.Load.Open() {
		maxClients = c.Plan.Load.MaxClients
	}
	maxClients = MaxClients(maxClients)
	opts, err := o.scenarioOptions()
	if err != nil {
		return engine.Config{}, nil, err
	}
	opts.MaxConns = maxClients
	runner := scenario.NewRunner(c.Prog, opts, true)
	cfg := engine.Config{Load: engine.Open{MaxClients: maxClients, Resolution: resolution}, Work: engine.Plan{Scenario: runner}}
	return cfg, runner.Close, nil
}

// Preflight is everything `fuka run` checks before it sends anything, and
// what `fuka validate` checks, so that the two agree: the plan's monitor
// and profile settings, its load with the flags' overrides (PlanConfig),
// and, unless the run is distributed (each worker checks its own share),
// whether this machine can hold that load (open files, memory), a default
// max_clients lowered to fit first (note says so). It does not reach
// monitor sources or the target.
func Preflight(c *Plan, f LoadFlags, o Options, distributed bool) (cfg engine.Config, meta report.Meta, closeRunner func(), note string, err error) {
	if err := (&Watch{}).FromPlan(c.Plan); err != nil {
		return cfg, meta, nil, "", err
	}
	ov, err := f.Overrides()
	if err != nil {
		return cfg, meta, nil, "", err
	}
	cfg, meta, closeRunner, err = PlanConfig(c, ov, o)
	if err != nil || distributed {
		return cfg, meta, closeRunner, "", err
	}
	p, _ := overridden(c.Plan, ov) // PlanConfig checked it
	var what string
	switch _, parts := cfg.Work.(engine.Parts); {
	case parts:
		note = capDefaultParts(&cfg, &meta, p)
		conns, _ := cfg.Footprint()
		what = fmt.Sprintf("%s: the scenarios' loads (%d clients at once)", p.Pos, conns)
	default:
		if p.Load.Open() && p.Load.MaxClients == 0 {
			note = CapDefault(&cfg, &meta, "max_clients")
		}
		what = loadLabel(p.Load, f, cfg.Load.Slots())
	}
	if err := CheckResources(&cfg, what); err != nil {
		closeRunner()
		return cfg, meta, nil, "", err
	}
	return cfg, meta, closeRunner, note, nil
}

// capDefaultParts is CapDefault of the parts (one per scenario of p) whose
// load is open without max_clients: they are lowered together.
func capDefaultParts(cfg *engine.Config, meta *report.Meta, p *plan.Plan) (note string) {
	w := cfg.Work.(engine.Parts) // its Parts share cfg's array
	var idx []int
	var names []string
	for i, sc := range p.Scenarios {
		if l := cmp.Or(sc.Load, p.Load); l.Open() && l.MaxClients == 0 {
			idx, names = append(idx, i), append(names, sc.Name)
		}
	}
	set := func(n int) {
		for _, i := range idx {
			open := w.Parts[i].Load.(engine.Open)
			open.MaxClients = n
			w.Parts[i].Load = open
		}
	}
	if len(idx) == 0 {
		return ""
	}
	why := lowerDefaults(cfg, plan.DefaultMaxClients, set)
	if why == "" {
		return ""
	}
	meta.MaxClients = 0
	for _, part := range w.Parts {
		if open, ok := part.Load.(engine.Open); ok {
			meta.MaxClients += open.MaxClients
		}
	}
	return fmt.Sprintf("max_clients %d (the default) of scenario %s makes the scenarios' loads %s; using %d",
		plan.DefaultMaxClients, strings.Join(names, ", "), why, w.Parts[idx[0]].Load.Slots())
}

// loadLabel names the setting that sets a plan's number of clients, for
// CheckResources: the flag that overrode it, or its place in the file.
func loadLabel(l *plan.Load, f LoadFlags, maxClients int) string {
	changed := func(flag string) bool { return f.Changed != nil && f.Changed(flag) }
	switch {
	case l.Open() && changed("max-clients"):
		return fmt.Sprintf("--max-clients %d", f.MaxClients)
	case l.Open() && f.Rate != "":
		return fmt.Sprintf("--rate %s (max_clients %d)", f.Rate, maxClients)
	case l.Open():
		return fmt.Sprintf("%s: load: max_clients %d", l.Pos, maxClients)
	case changed("clients"):
		return fmt.Sprintf("--clients %d", f.Clients)
	}
	return fmt.Sprintf("%s: load: clients %d", l.Pos, l.Clients)
}
