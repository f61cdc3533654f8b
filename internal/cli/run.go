package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
	"github.com/fuka-load/fuka/scenario"
	"github.com/fuka-load/fuka/threshold"
)

// compiled is a plan ready to run: parsed, compiled, thresholds parsed.
type compiled struct {
	plan       *plan.Plan
	prog       *scenario.Program
	thresholds []*threshold.Expr
	aborts     []abortRule
	// source is the plan file as it was compiled, and env the environment
	// variables the compile read that were set: a distributed run's job
	// carries both, so that the workers compile what the controller did.
	source []byte
	env    map[string]string
}

type abortRule struct {
	expr *threshold.Expr
	for_ time.Duration
}

// compilePlan loads and checks a plan file; every problem is reported as
// file:line:col, all at once.
func compilePlan(path, baseURL string) (*compiled, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return compilePlanSource(path, src, baseURL, os.LookupEnv)
}

// compilePlanSource is compilePlan of the plan src read from path, with
// its environment variables looked up by lookup (a worker gets the
// controller's, job.go).
func compilePlanSource(path string, src []byte, baseURL string, lookup func(string) (string, bool)) (*compiled, error) {
	p, err := plan.Parse(path, src)
	if err != nil {
		return nil, err
	}
	read := map[string]string{}
	var mu sync.Mutex
	env := func(k string) (string, bool) {
		v, ok := lookup(k)
		if ok {
			mu.Lock()
			read[k] = v
			mu.Unlock()
		}
		return v, ok
	}
	if baseURL != "" {
		if _, err := client.ParseURL(baseURL); err != nil {
			return nil, fmt.Errorf("--base-url: %w", err)
		}
		p.BaseURL.Value = baseURL
	}
	var errs plan.Errors
	prog, err := scenario.Compile(p, env)
	if pe, ok := err.(plan.Errors); ok {
		errs = append(errs, pe...)
	} else if err != nil {
		return nil, err
	}
	c := &compiled{plan: p, prog: prog, source: src, env: read}
	parse := func(s plan.String) *threshold.Expr {
		e, err := threshold.Parse(s.Value)
		if err != nil {
			pos := s.Pos
			msg := err.Error()
			var te *threshold.Error
			if errors.As(err, &te) {
				pos.Column += te.Offset
				msg = te.Msg
			}
			errs = append(errs, &plan.Error{Pos: pos, Msg: fmt.Sprintf("threshold %q: %s", s.Value, msg)})
		}
		return e
	}
	for _, t := range p.Thresholds {
		if e := parse(t.Expr); e != nil {
			c.thresholds = append(c.thresholds, e)
		}
	}
	for _, a := range p.AbortWhen {
		e := parse(a.Expr)
		if e == nil {
			continue
		}
		if prog != nil {
			// A rule that can never fire would watch nothing in silence.
			if msg := prog.CheckAbort(e); msg != "" {
				errs = append(errs, &plan.Error{Pos: a.Expr.Pos, Msg: fmt.Sprintf("abort_when %q: %s", a.Expr.Value, msg)})
				continue
			}
		}
		c.aborts = append(c.aborts, abortRule{e, a.For})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// planErrors prints plan errors one per line and returns a short error.
func planErrors(stdio Stdio, err error) error {
	var pe plan.Errors
	if errors.As(err, &pe) {
		for _, e := range pe {
			fmt.Fprintln(stdio.Err, e.Error())
		}
		return fmt.Errorf("%d problem(s) in the plan", len(pe))
	}
	return err
}

type runFlags struct {
	clients    int
	duration   time.Duration
	rate       string
	maxClients int
	baseURL    string
	insecure   bool
	http2      bool
	out        outputs
	cluster    clusterFlags // distributed run (cluster_run.go)
}

func newRun(stdio Stdio) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run PLAN.yaml",
		Short: "Run a plan file: scenarios, data, checks, load, thresholds",
		Long: `run executes a plan file (schema: docs/plan.md). Flags override the plan's
load: --clients and --duration for the closed model, --rate (and
--max-clients) to switch to the open model.

Thresholds are evaluated on the results; a failed threshold (or an
abort_when rule that fired) exits 1.`,
		Example: `  fuka run examples/shop.yaml --base-url http://127.0.0.1:8080
  fuka run plan.yaml --clients 50 --duration 1m
  fuka run plan.yaml --rate 10:30s,200:2m --max-clients 500 -o json`,
		Args: exactArgs(1, "run takes one plan file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			c, err := compilePlan(args[0], f.baseURL)
			if err != nil {
				return planErrors(stdio, err)
			}
			return runPlan(cmd.Context(), stdio, c, &f, cmd)
		},
	}
	fl := cmd.Flags()
	addLoadFlags(fl, &f)
	fl.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
	addOutputFlags(fl, &f.out)
	addClusterFlags(fl, &f.cluster)
	return cmd
}

// addLoadFlags registers the flags run and validate share: what they
// change is checked by the same rules (see preflight).
func addLoadFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.SortFlags = false
	fl.IntVarP(&f.clients, "clients", "c", 0, "override: closed model clients")
	fl.DurationVarP(&f.duration, "duration", "d", 0, "override: duration")
	fl.StringVar(&f.rate, "rate", "", "override: open model arrival rate, e.g. 50 or 10:30s,200:2m")
	fl.IntVar(&f.maxClients, "max-clients", 0, "override: open model cap on clients")
	fl.StringVar(&f.baseURL, "base-url", "", "override the plan's base_url")
	fl.BoolVar(&f.http2, "http2", false, "use HTTP/2")
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s (got %d arguments)", msg, len(args))
		}
		return nil
	}
}

// overrides is the typed form of the load flags (changed tells which were
// given): what overridden applies, here and on a distributed run's workers.
func (f *runFlags) overrides(changed func(flag string) bool) (*fukapb.Overrides, error) {
	ov := &fukapb.Overrides{BaseUrl: f.baseURL}
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
	if ov.Clients, err = count("clients", f.clients); err != nil {
		return nil, err
	}
	if ov.MaxClients, err = count("max-clients", f.maxClients); err != nil {
		return nil, err
	}
	if changed("duration") {
		if f.duration <= 0 {
			return nil, fmt.Errorf("--duration %v: must be > 0", f.duration)
		}
		ov.DurationNanos = proto.Int64(int64(f.duration))
	}
	if f.rate != "" {
		r, err := load.ParseRate(f.rate, f.duration)
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		ov.Rate = rateMsg(r)
	}
	return ov, nil
}

// overridden returns the plan with the load overrides (see overrides)
// applied to a copy of its load, then validated as a plan file is, so that
// file and flags obey one set of rules: `fuka run plan.yaml --duration 10s`
// is refused when ramp_up is longer, as the same load in the file is.
// Errors about the load name the flags that made it.
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
		if rate, err = rateOf(ov.GetRate()); err != nil {
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
		l = plan.Load{Rate: stages, MaxClients: max(l.MaxClients, plan.DefaultMaxClients), Pos: l.Pos}
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

// loadConfig turns the plan's load (overrides applied: see overridden)
// into engine terms.
func loadConfig(c *compiled) (engine.Config, report.Meta, error) {
	var cfg engine.Config
	meta := report.Meta{Name: c.plan.Name, Target: c.plan.BaseURL.Value, Version: version()}
	l := c.plan.Load
	if l == nil {
		return cfg, meta, errors.New("no plan-level load") // per-scenario loads: see partsConfig
	}
	if l.Open() {
		stages := make([]load.Stage, len(l.Rate))
		for i, s := range l.Rate {
			stages[i] = load.Stage{Target: s.Target, Over: s.Over}
		}
		r, err := load.NewRate(0, stages)
		if err != nil {
			return cfg, meta, fmt.Errorf("%s: load: %w", l.Pos, err)
		}
		cfg.Rate, cfg.MaxClients = &r, max(l.MaxClients, 1)
		meta.Model, meta.LatencyFrom = report.ModelOpen, report.FromIntended
		meta.Planned, meta.Rate, meta.MaxClients = cfg.Rate.Duration(), cfg.Rate.String(), cfg.MaxClients
		return cfg, meta, nil
	}
	cfg.Clients, cfg.RampUp, cfg.Duration, cfg.Iterations, cfg.MaxRPS = l.Clients, l.RampUp, l.Duration, l.Iterations, l.MaxRPS
	meta.Model, meta.LatencyFrom = report.ModelClosed, report.FromSend
	meta.Clients, meta.RampUp, meta.Planned, meta.MaxRPS = cfg.Clients, cfg.RampUp, cfg.Duration, cfg.MaxRPS
	return cfg, meta, nil
}

// ownLoads reports whether any scenario has its own load or start: then
// each scenario runs as its own part (see partsConfig) instead of sharing
// the plan's load by weight.
func ownLoads(p *plan.Plan) bool {
	for _, sc := range p.Scenarios {
		if sc.Load != nil || sc.StartAfter.Value != "" {
			return true
		}
	}
	return false
}

// partsConfig builds a run of several parts, one per scenario with its own
// load, started at once, after a delay, or after another scenario ends.
func partsConfig(c *compiled, runner *scenario.Runner) (engine.Config, report.Meta, error) {
	meta := report.Meta{Name: c.plan.Name, Target: c.plan.BaseURL.Value, Version: version(), Model: "mixed"}
	var cfg engine.Config
	index := map[string]int{}
	for i, sc := range c.plan.Scenarios {
		index[sc.Name] = i
	}
	var ends []time.Duration // each part's planned end, when known
	for _, sc := range c.plan.Scenarios {
		l := sc.Load
		if l == nil {
			l = c.plan.Load // the plan's load is every such scenario's default
		}
		if l == nil {
			return cfg, meta, fmt.Errorf("%s: scenario %q has no load and the plan has none", sc.Pos, sc.Name)
		}
		var part engine.Part
		part.After = -1
		r, err := runner.Only(sc.Name, l.Open())
		if err != nil {
			return cfg, meta, err
		}
		part.Scenario = r
		if l.Open() {
			stages := make([]load.Stage, len(l.Rate))
			for i, s := range l.Rate {
				stages[i] = load.Stage{Target: s.Target, Over: s.Over}
			}
			rate, err := load.NewRate(0, stages)
			if err != nil {
				return cfg, meta, fmt.Errorf("%s: load: %w", l.Pos, err)
			}
			part.Rate, part.MaxClients = &rate, max(l.MaxClients, 1)
		} else {
			part.Clients, part.RampUp, part.Duration, part.Iterations, part.MaxRPS = l.Clients, l.RampUp, l.Duration, l.Iterations, l.MaxRPS
		}
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
		if d := part.Config.Duration; l.Open() {
			end = begin + part.Rate.Duration()
		} else if d > 0 && part.Iterations == 0 {
			end = begin + d
		}
		if begin < 0 {
			end = -1
		}
		ends = append(ends, end)
		meta.Clients += part.Clients
		meta.MaxClients += part.MaxClients
		cfg.Parts = append(cfg.Parts, part)
	}
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

// planConfig builds the engine configuration of a compiled plan with the
// load overrides; closeRunner releases the scenario runner after the run.
// A worker of a distributed run builds its configuration with it too
// (job.go).
func planConfig(c *compiled, ov *fukapb.Overrides, insecure, http2 bool) (cfg engine.Config, meta report.Meta, closeRunner func(), err error) {
	p, err := overridden(c.plan, ov)
	if err != nil {
		return cfg, meta, nil, err
	}
	cc := *c
	cc.plan = p
	c = &cc
	opts := scenario.Options{Insecure: insecure, HTTP2: http2, UserAgent: "fuka/" + version()}
	if c.plan.Load != nil && !ownLoads(c.plan) {
		cfg, meta, err = loadConfig(c)
		if err != nil {
			return cfg, meta, nil, err
		}
		opts.MaxConns = cfg.Clients
		if cfg.Rate != nil {
			opts.MaxConns = cfg.MaxClients
		}
		runner := scenario.NewRunner(c.prog, opts, cfg.Rate != nil)
		closeRunner = runner.Close
		cfg.Scenario = runner
	} else {
		opts.MaxConns = 1000
		runner := scenario.NewRunner(c.prog, opts, false)
		cfg, meta, err = partsConfig(c, runner)
		if err != nil {
			runner.Close()
			return cfg, meta, nil, err
		}
		closeRunner = runner.Close
	}
	cfg.Timeout = time.Minute // per-step timeouts apply; this bounds nothing in scenario mode
	cfg.HTTP2 = http2         // for Footprint: HTTP/2 multiplexes a client's requests
	return cfg, meta, closeRunner, nil
}

// preflight is everything `fuka run` checks before it sends anything, and
// what `fuka validate` checks, so that the two agree: the plan's monitor
// and profile settings, its load with the flags' overrides (planConfig),
// and whether this machine can hold that load (open files, memory; the
// workers of a distributed run check their own share). It does not reach
// monitor sources or the target: only run does.
func preflight(c *compiled, f *runFlags, changed func(string) bool) (cfg engine.Config, meta report.Meta, closeRunner func(), err error) {
	if err := (&run.Watch{}).FromPlan(c.plan); err != nil {
		return cfg, meta, nil, err
	}
	ov, err := f.overrides(changed)
	if err != nil {
		return cfg, meta, nil, err
	}
	cfg, meta, closeRunner, err = planConfig(c, ov, f.insecure, f.http2)
	if err != nil || f.cluster.distributed() {
		return cfg, meta, closeRunner, err
	}
	p, _ := overridden(c.plan, ov) // planConfig checked it
	var what string
	switch {
	case len(cfg.Parts) > 0:
		conns, _ := cfg.Footprint()
		what = fmt.Sprintf("%s: the scenarios' loads (%d clients at once)", p.Pos, conns)
	default:
		what = loadLabel(p.Load, changed, f)
	}
	if err := checkResources(&cfg, what); err != nil {
		closeRunner()
		return cfg, meta, nil, err
	}
	return cfg, meta, closeRunner, nil
}

func runPlan(ctx context.Context, stdio Stdio, c *compiled, f *runFlags, cmd *cobra.Command) error {
	cfg, meta, closeRunner, err := preflight(c, f, cmd.Flags().Changed)
	if err != nil {
		return planErrors(stdio, err)
	}
	defer closeRunner()
	out := f.out
	if err := out.watch.FromPlan(c.plan); err != nil {
		return err
	}
	var src run.Source
	if f.cluster.distributed() { // the workers send the load (cluster_run.go)
		if src, err = f.clusterSource(stdio, c, cmd.Flags().Changed, &cfg); err != nil {
			return err
		}
	}
	return execute(ctx, out.spec(stdio, cfg, meta, src, run.NewPlanJudge(c.runPlan())))
}

// runPlan is the plan as the run package takes it.
func (c *compiled) runPlan() *run.Plan {
	p := &run.Plan{Plan: c.plan, Prog: c.prog, Thresholds: c.thresholds, Source: c.source, Env: c.env}
	for _, a := range c.aborts {
		p.Aborts = append(p.Aborts, run.AbortRule{Expr: a.expr, For: a.for_})
	}
	return p
}
