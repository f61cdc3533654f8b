package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/findings"
	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/monitor/kube"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/profile"
	"github.com/fuka-load/fuka/report"
)

// Watch is what to monitor and profile during a run, from flags or the
// plan's monitor: and profile: lists. Run watches on the load's clock: the
// samples' and captures' offsets count from the load's t=0.
type Watch struct {
	Monitors []Monitor
	Profiles []profile.Spec
	// MonitorFlags and ProfileFlags are --monitor and --profile values
	// (with AgentTokenFile, --agent-token-file, for agent sources): Run
	// parses them into Monitors and Profiles, so a bad one is an input
	// error found before the load.
	MonitorFlags   []string
	ProfileFlags   []string
	AgentTokenFile string
	ProcRoot       string // /proc, or a fixture root in tests
}

// Monitor is one monitor source: kind and target as in the plan.
type Monitor struct {
	kind, target string
	keep         []string
	tokenFile    string
	kube         *kubeSpec // kind "kubernetes"; target is its namespace
	where        string    // "file:line:col" or "--monitor", for errors
}

// kubeSpec is a kubernetes source: what to watch, and how to reach the
// cluster (see monitor/kube).
type kubeSpec struct {
	cfg                 kube.Config
	kubeconfig, context string // "" = kubectl's defaults, or in-cluster
}

// parseKubeFlag parses the target of --monitor kubernetes=NAMESPACE/KEY=VALUE,…
// with keys deployment, statefulset, hpa, scaledobject, kubeconfig and
// context, e.g. kubernetes=shop/deployment=api,hpa=api.
func parseKubeFlag(target string) (*kubeSpec, error) {
	ns, rest, _ := strings.Cut(target, "/")
	if ns == "" {
		return nil, errors.New("want kubernetes=NAMESPACE/deployment=NAME,hpa=NAME,…")
	}
	k := &kubeSpec{cfg: kube.Config{Namespace: ns}}
	for kv := range strings.SplitSeq(rest, ",") {
		if kv == "" && rest == "" {
			break // kubernetes=NAMESPACE alone: nothing to watch, said below
		}
		key, val, ok := strings.Cut(kv, "=")
		if !ok || val == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE with KEY one of deployment, statefulset, hpa, scaledobject, kubeconfig, context", kv)
		}
		switch key {
		case "deployment":
			k.cfg.Deployment = val
		case "statefulset":
			k.cfg.StatefulSet = val
		case "hpa":
			k.cfg.HPA = val
		case "scaledobject":
			k.cfg.ScaledObject = val
		case "kubeconfig":
			k.kubeconfig = val
		case "context":
			k.context = val
		default:
			return nil, fmt.Errorf("unknown key %q; want deployment, statefulset, hpa, scaledobject, kubeconfig or context", key)
		}
	}
	if k.cfg.Deployment == "" && k.cfg.StatefulSet == "" && k.cfg.HPA == "" && k.cfg.ScaledObject == "" {
		return nil, errors.New("nothing to watch; name a deployment, statefulset, hpa or scaledobject, e.g. kubernetes=shop/deployment=api,hpa=api")
	}
	return k, nil
}

// ParseMonitorFlag parses --monitor values: local, process=NAME|PID,
// nginx=URL[,worker_connections=N,workers=N] (see monitor.NewNginx),
// postgres=DSN, redis=ADDR, prometheus=URL[|keep,keep],
// agent=HOST:PORT (with --agent-token-file),
// kubernetes=NAMESPACE/deployment=NAME,hpa=NAME,… (see parseKubeFlag).
func ParseMonitorFlag(v, agentToken string) (Monitor, error) {
	if v == "local" {
		return Monitor{kind: "local", where: "--monitor"}, nil
	}
	kind, target, ok := strings.Cut(v, "=")
	if !ok || target == "" {
		return Monitor{}, fmt.Errorf("--monitor %q: want local or KIND=TARGET with KIND one of %s", v, strings.Join(plan.MonitorKinds[1:], ", "))
	}
	ms := Monitor{kind: kind, target: target, where: "--monitor"}
	switch kind {
	case "agent":
		if agentToken == "" {
			return ms, fmt.Errorf("--monitor %q: an agent needs --agent-token-file", v)
		}
		ms.tokenFile = agentToken
	case "prometheus":
		if u, keep, ok := strings.Cut(target, "|"); ok {
			ms.target, ms.keep = u, strings.Split(keep, ",")
		}
	case "kubernetes":
		k, err := parseKubeFlag(target)
		if err != nil {
			return ms, fmt.Errorf("--monitor %q: %w", v, err)
		}
		ms.kube, ms.target = k, k.cfg.Namespace
	case "process", "nginx", "postgres", "redis":
	default:
		return ms, fmt.Errorf("--monitor %q: unknown source %q; want local or one of %s", v, kind, strings.Join(plan.MonitorKinds[1:], ", "))
	}
	return ms, nil
}

// FromPlan adds the plan's monitor: and profile: lists.
func (w *Watch) FromPlan(p *plan.Plan) error {
	for _, m := range p.Monitor {
		tf := ""
		if m.TokenFile.Value != "" {
			tf = p.Resolve(m.TokenFile.Value)
		}
		ms := Monitor{kind: m.Kind, target: m.Target.Value, keep: m.Keep, tokenFile: tf, where: m.Pos.String()}
		if k := m.Kube; k != nil { // kubernetes: {namespace, deployment, …}
			ms.kube = &kubeSpec{
				cfg: kube.Config{Namespace: k.Namespace.Value, Deployment: k.Deployment.Value, StatefulSet: k.StatefulSet.Value,
					HPA: k.HPA.Value, ScaledObject: k.ScaledObject.Value},
				context: k.Context.Value,
			}
			if k.Kubeconfig.Value != "" {
				ms.kube.kubeconfig = p.Resolve(k.Kubeconfig.Value)
			}
		}
		w.Monitors = append(w.Monitors, ms)
	}
	for _, ps := range p.Profile {
		sp := profile.Spec{URL: ps.URL.Value, Seconds: ps.Seconds, Kinds: ps.Kinds}
		if sp.Seconds == 0 {
			sp.Seconds = 10
		}
		if len(sp.Kinds) == 0 {
			sp.Kinds = profile.DefaultKinds()
		}
		at := ps.At.Value
		if at == "" {
			at = "peak"
		}
		a, err := profile.ParseAt(at)
		if err != nil {
			return fmt.Errorf("%s: profile at: %w", ps.At.Pos, err)
		}
		sp.At = a
		w.Profiles = append(w.Profiles, sp)
	}
	return nil
}

// KubeClients reaches a kubernetes source's cluster; tests hand out
// client-go's fakes instead (a test hook: nothing else sets it).
var KubeClients = kube.FromKubeconfig

// samplers builds the samplers, failing early on a bad source.
func (w *Watch) samplers() ([]monitor.Sampler, error) {
	root := w.ProcRoot
	if root == "" {
		root = "/proc"
	}
	var out []monitor.Sampler
	for _, m := range w.Monitors {
		var s monitor.Sampler
		var err error
		switch m.kind {
		case "local":
			out = append(out, monitor.Local(root)...)
			continue
		case "process":
			s, err = monitor.NewProcess(root, m.target)
		case "agent":
			var tok []byte
			tok, err = os.ReadFile(m.tokenFile)
			if err == nil {
				s = monitor.NewAgentSampler(m.target, strings.TrimSpace(string(tok)))
			}
		case "nginx":
			s, err = monitor.NewNginx(m.target)
		case "postgres":
			s, err = monitor.NewPostgres(m.target)
		case "redis":
			s, err = monitor.NewRedis(m.target)
		case "prometheus":
			s, err = monitor.NewPrometheus(m.target, m.keep)
		case "kubernetes":
			// Informers start here and sync before the run (at most 10s);
			// stop closes the watcher.
			var c kube.Clients
			if c, err = KubeClients(m.kube.kubeconfig, m.kube.context); err == nil {
				s, err = kube.New(m.kube.cfg, c)
			}
		default:
			err = fmt.Errorf("unknown source %q", m.kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: monitor %s %q: %w", m.where, m.kind, m.target, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseFlags adds the --monitor and --profile values to the lists.
func (w *Watch) parseFlags() error {
	for _, m := range w.MonitorFlags {
		ms, err := ParseMonitorFlag(m, w.AgentTokenFile)
		if err != nil {
			return err
		}
		w.Monitors = append(w.Monitors, ms)
	}
	for _, p := range w.ProfileFlags {
		sp, err := profile.ParseSpec(p)
		if err != nil {
			return fmt.Errorf("--profile %q: %w", p, err)
		}
		w.Profiles = append(w.Profiles, sp)
	}
	w.MonitorFlags, w.ProfileFlags = nil, nil
	return nil
}

// Check builds the samplers once and closes them: a bad source fails
// before any load. They only check the sources (a postgres one holds a
// pool with a goroutine of its own); Start builds the ones a run uses.
func (w *Watch) Check() error {
	ss, err := w.samplers()
	if err != nil {
		return err
	}
	for _, s := range ss {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}
	return nil
}

// Watcher runs the monitor and profile captures next to the load.
type Watcher struct {
	samplers []monitor.Sampler
	mon      *monitor.Monitor
	selfMon  *monitor.Monitor // fuka's own CPU, to tell when the generator is the bottleneck
	profiles []profile.Profile
	wg       sync.WaitGroup
	monWG    sync.WaitGroup // the monitors' Run, which Stop lets finish
	start    time.Time      // the load's t=0, from Begin
	ctx      context.Context
	cancel   context.CancelFunc
	begun    bool

	specs         []profile.Spec
	planned, peak time.Duration
	dir           string // for profiles
}

// Start prepares monitoring and profiling (a bad source fails here); they
// wait for Begin, which the load's Source calls with its t=0. planned and
// peak place profile captures; resultsDir gives the profiles' folder.
func (w *Watch) Start(ctx context.Context, planned, peak time.Duration, resultsDir func() (string, error), log *slog.Logger) (*Watcher, error) {
	samplers, err := w.samplers()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	wt := &Watcher{ctx: ctx, cancel: cancel, samplers: samplers, specs: w.Profiles, planned: planned, peak: peak}
	root := w.ProcRoot
	if root == "" {
		root = "/proc"
	}
	if self, err := monitor.NewProcess(root, fmt.Sprint(os.Getpid())); err == nil {
		// Its CPU, and its threads' wait for a CPU: a generator that
		// waits sends late (see findings.Generator).
		wait := monitor.NewSchedWait(root, os.Getpid(), "fuka")
		wt.selfMon = monitor.New([]monitor.Sampler{self, wait}, time.Second, log)
	}
	if len(samplers) > 0 {
		wt.mon = monitor.New(samplers, time.Second, log)
	}
	if len(w.Profiles) > 0 {
		if wt.dir, err = resultsDir(); err != nil {
			cancel()
			wt.closeSamplers()
			return nil, err
		}
	}
	return wt, nil
}

// Points are the target's samples so far: nil without monitors.
func (wt *Watcher) Points() []monitor.Point {
	if wt.mon == nil {
		return nil
	}
	return wt.mon.Points()
}

// Latest is the target's latest sample: the zero Point before the first
// and without monitors. Its map must not be modified.
func (wt *Watcher) Latest() monitor.Point {
	if wt == nil || wt.mon == nil {
		return monitor.Point{}
	}
	return wt.mon.Latest()
}

// SelfPoints are the samples of fuka's own process so far: nil when it
// cannot be read.
func (wt *Watcher) SelfPoints() []monitor.Point {
	if wt.selfMon == nil {
		return nil
	}
	return wt.selfMon.Points()
}

// Begin starts monitoring and profiling, their offsets measured from
// start (once; later calls do nothing).
func (wt *Watcher) Begin(start time.Time) {
	if wt == nil || wt.begun {
		return
	}
	wt.begun, wt.start = true, start
	ctx := wt.ctx
	if wt.selfMon != nil {
		wt.monWG.Add(1)
		go func() { defer wt.monWG.Done(); wt.selfMon.Run(ctx, start) }()
	}
	if wt.mon != nil {
		wt.monWG.Add(1)
		go func() { defer wt.monWG.Done(); wt.mon.Run(ctx, start) }()
	}
	if len(wt.specs) > 0 {
		wt.wg.Add(1)
		go func() {
			defer wt.wg.Done()
			wt.profiles = profile.Run(ctx, wt.specs, start, wt.planned, wt.peak, wt.dir)
		}()
	}
}

// Stop ends monitoring (profiles in progress are cut short) and waits.
// The monitors first take their point for the load's last second (at most
// one more tick's deadline), so the resources timeline ends where the
// load's does.
func (wt *Watcher) Stop() {
	if wt == nil {
		return
	}
	if wt.begun {
		end := time.Now()
		for _, m := range []*monitor.Monitor{wt.selfMon, wt.mon} {
			if m != nil {
				m.Finish(end)
			}
		}
		wt.monWG.Wait()
	}
	wt.cancel()
	wt.wg.Wait()
	wt.closeSamplers()
}

func (wt *Watcher) closeSamplers() {
	for _, s := range wt.samplers {
		if c, ok := s.(io.Closer); ok {
			c.Close() // samplers with a connection of their own (postgres, redis) or informers (kubernetes)
		}
	}
}

// Fill adds what was watched to the summary: resources, profiles, and a
// warning when fuka itself ran out of CPU.
func (wt *Watcher) Fill(sum *report.Summary, cpus int) {
	if wt == nil {
		return
	}
	if wt.mon != nil {
		pts := wt.mon.Points()
		res := &report.Resources{}
		for _, st := range wt.mon.Summary() {
			res.Series = append(res.Series, report.ResourceStat{Name: st.Name, Peak: Round3(st.Peak), Mean: Round3(st.Mean), Samples: st.Samples})
		}
		for _, p := range pts {
			vals := make(map[string]float64, len(p.Values))
			for k, v := range p.Values {
				vals[k] = Round3(v)
			}
			res.Timeline = append(res.Timeline, report.ResourcePoint{TS: Round3(p.At.Seconds()), Values: vals})
		}
		for _, f := range wt.mon.Failures() {
			res.Failures = append(res.Failures, report.ResourceFailure{TS: Round3(f.At.Seconds()), Source: f.Sampler, Error: f.Err})
		}
		sum.Resources = res
		sum.Scaling = scaling(wt.samplers, pts, sum.Timeline)
	}
	for _, p := range wt.profiles {
		ps := report.ProfileSummary{Kind: p.Kind, URL: p.URL, File: p.File, StartedS: Round3(p.Started.Seconds()), Error: p.Err}
		for _, f := range p.Top {
			ps.Top = append(ps.Top, report.ProfileFunc{Name: f.Name, Flat: Round3(f.Flat), Cum: Round3(f.Cum), FlatPct: Round3(f.FlatPct), CumPct: Round3(f.CumPct)})
		}
		sum.Profiles = append(sum.Profiles, ps)
	}
	if wt.selfMon != nil {
		// A generator that used (nearly) all its CPUs measured itself: its
		// latencies include its own queueing, and the target may have had
		// more to give.
		var peak, total float64
		n := 0
		for _, st := range wt.selfMon.Summary() {
			if strings.HasSuffix(st.Name, ".cpu_pct") {
				peak = max(peak, st.Peak)
				total += st.Mean * float64(st.Samples)
				n += st.Samples
			}
		}
		if n > 0 && cpus > 0 {
			mean := total / float64(n)
			if mean >= 90*float64(cpus) {
				sum.Warnings = append(sum.Warnings, fmt.Sprintf(
					"fuka itself used %.0f%% CPU on average (peak %.0f%%) of %d CPU(s): the load generator was the bottleneck, so these numbers describe fuka more than the target; use fewer clients, more CPUs, or more workers", mean, peak, cpus))
			}
		}
	}
}

// Generator is what fuka measured of itself, for the findings: its own
// CPU and its wait for a CPU per second (100 = one core) and the CPUs it
// may use.
func (wt *Watcher) Generator(cpus int) findings.Generator {
	g := findings.Generator{CPUs: cpus}
	if wt == nil {
		return g
	}
	for _, p := range wt.SelfPoints() {
		for k, v := range p.Values {
			switch {
			case strings.HasSuffix(k, ".cpu_pct"):
				g.CPU = append(g.CPU, findings.Sample{TS: Round3(p.At.Seconds()), V: v})
			case strings.HasSuffix(k, ".cpu_wait_pct"):
				g.Wait = append(g.Wait, findings.Sample{TS: Round3(p.At.Seconds()), V: v})
			}
		}
	}
	return g
}

// scaling measures the time to scale of every workload a kubernetes source
// watched: its replicas on the resources timeline against the load's
// throughput and p99 (see kube.TimeToScale). An HPA counts only when it was
// watched without its Deployment or StatefulSet.
func scaling(samplers []monitor.Sampler, pts []monitor.Point, timeline []report.Interval) []report.ScaleEpisode {
	load := make([]kube.LoadPoint, len(timeline))
	for i, iv := range timeline {
		load[i] = kube.LoadPoint{At: time.Duration(iv.TS * float64(time.Second)), Value: iv.RPS, P99: msDuration(iv.P99MS)}
	}
	var out []report.ScaleEpisode
	for _, s := range samplers {
		kw, ok := s.(*kube.Watcher)
		if !ok {
			continue
		}
		var targets []kube.Workload
		for _, w := range kw.Workloads() {
			if w.Kind == kube.KindDeployment || w.Kind == kube.KindStatefulSet {
				targets = append(targets, w)
			}
		}
		if len(targets) == 0 {
			for _, w := range kw.Workloads() {
				if w.Kind == kube.KindHPA {
					targets = append(targets, w)
				}
			}
		}
		for _, w := range targets {
			for _, e := range kube.TimeToScale(load, kube.Replicas(pts, w), kube.Options{}) {
				se := report.ScaleEpisode{
					Workload: w.String(), FromReplicas: e.From, ToReplicas: e.To,
					LoadStepS: Round3(e.Step.Seconds()), ScaleOutS: Round3(e.ScaleOut.Seconds()),
					P99DuringMS: Round3(float64(e.P99Max) / float64(time.Millisecond)), P99MeanDuringMS: Round3(float64(e.P99Mean) / float64(time.Millisecond)),
				}
				if e.Ready {
					ready, tts := Round3(e.ReadyAt.Seconds()), Round3(e.TimeToScale.Seconds())
					se.ReadyS, se.TimeToScaleS = &ready, &tts
				}
				out = append(out, se)
			}
		}
	}
	return out
}

// Round3 rounds v to 3 decimals, half away from zero: the precision of
// the summary's seconds and resource values.
func Round3(v float64) float64 {
	return float64(int64(v*1000+0.5*sign(v))) / 1000
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// peakOf returns when a load is at its peak: the end of the ramp-up in the
// closed model, the first time the highest rate is reached in the open one.
func peakOf(l engine.Load) time.Duration {
	open, ok := l.(engine.Open)
	if !ok {
		closed, _ := l.(engine.Closed)
		return closed.RampUp
	}
	rate := open.Rate
	best, at := -1.0, time.Duration(0)
	d := rate.Duration()
	step := max(d/1000, time.Millisecond)
	for t := time.Duration(0); t <= d; t += step {
		if r := rate.At(t); r > best {
			best, at = r, t
		}
	}
	return at
}

// msDuration converts an interval's latency in milliseconds to a duration;
// an interval without responses (nil) reads as 0.
func msDuration(ms *float64) time.Duration {
	if ms == nil {
		return 0
	}
	return time.Duration(*ms * float64(time.Millisecond))
}
