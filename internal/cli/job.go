package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/feeder"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
)

// A run's load is a typed job (fukapb.Job): the command line turns its
// flags, or a plan with its files, environment and overrides, into one;
// the same job becomes the engine configuration through the same code on
// the controller (a local run) and on every worker (a distributed one).
// Flags are read once, on the controller; a worker never sees a flag name.

// attackConfig is an attack job's engine configuration. The job's values
// were checked when the flags became the job (attackFlags.job).
func attackConfig(j *fukapb.AttackJob) (engine.Config, error) {
	header := http.Header{}
	for _, h := range j.GetHeaders() {
		header.Add(h.GetKey(), h.GetValue())
	}
	req, err := client.NewRequest(j.GetMethod(), j.GetUrl(), header, j.GetBody())
	if err != nil {
		return engine.Config{}, err
	}
	cfg := engine.Config{Work: engine.Request{
		Request: req, Name: j.GetName(), Timeout: time.Duration(j.GetTimeoutNanos()),
		Insecure: j.GetInsecure(), HTTP2: j.GetHttp2(), UserAgent: j.GetUserAgent(),
	}}
	l := j.GetLoad()
	if r := l.GetRate(); r != nil {
		rate, err := rateOf(r)
		if err != nil {
			return engine.Config{}, fmt.Errorf("rate: %w", err)
		}
		cfg.Load = engine.Open{Rate: rate, MaxClients: int(l.GetMaxClients()), Resolution: time.Duration(l.GetResolutionNanos())}
		return cfg, nil
	}
	cfg.Load = engine.Closed{
		Clients: int(l.GetClients()), RampUp: time.Duration(l.GetRampUpNanos()), Requests: l.GetRequests(), MaxRPS: l.GetMaxRps(),
		Duration: time.Duration(l.GetDurationNanos()),
	}
	return cfg, nil
}

// rateMsg and rateOf carry a load.Rate exactly: its start and stages.
func rateMsg(r load.Rate) *fukapb.Rate {
	m := &fukapb.Rate{Start: r.Start()}
	for _, s := range r.StagesOnly() {
		m.Stages = append(m.Stages, &fukapb.RateStage{Target: s.Target, OverNanos: int64(s.Over)})
	}
	return m
}

func rateOf(m *fukapb.Rate) (load.Rate, error) {
	stages := make([]load.Stage, len(m.GetStages()))
	for i, s := range m.GetStages() {
		stages[i] = load.Stage{Target: s.GetTarget(), Over: time.Duration(s.GetOverNanos())}
	}
	return load.NewRate(m.GetStart(), stages)
}

// newPlanJob packs a compiled plan for the workers: its source and the
// environment values as they were compiled (compilePlan recorded them),
// the files it reads, and the overrides. Nothing is compiled again.
func newPlanJob(c *compiled, f *runFlags, changed func(string) bool) (*fukapb.PlanJob, error) {
	ov, err := f.overrides(changed)
	if err != nil {
		return nil, err
	}
	j := &fukapb.PlanJob{
		FileName: filepath.Base(c.plan.File), Source: c.source, Env: c.env,
		Files: map[string][]byte{}, Overrides: ov, Insecure: f.insecure, Http2: f.http2,
	}
	var paths []string
	for _, d := range c.plan.Data {
		paths = append(paths, d.CSV.Value, d.JSONL.Value)
	}
	data := len(paths)
	for _, sc := range c.plan.Scenarios {
		paths = append(paths, bodyFiles(sc.Steps)...)
	}
	for i, p := range paths {
		if p == "" {
			continue
		}
		if filepath.IsAbs(p) {
			return nil, fmt.Errorf("file %q: a distributed run ships the plan's files to the workers; name it relative to the plan file", p)
		}
		read := plan.ReadBodyFile
		if i < data {
			read = feeder.ReadFile
		}
		b, err := read(c.plan.Resolve(p))
		if err != nil {
			return nil, err
		}
		j.Files[filepath.ToSlash(filepath.Clean(p))] = b
	}
	return j, nil
}

func bodyFiles(steps []*plan.Step) []string {
	var out []string
	for _, s := range steps {
		if s.BodyFile.Value != "" {
			out = append(out, s.BodyFile.Value)
		}
		out = append(out, bodyFiles(s.Steps)...)
	}
	return out
}

// planJobConfig unpacks a plan job into a temporary folder laid out as the
// controller's (files above the plan's folder included: the plan and its
// feeders read files by path), compiles it once, and builds the
// configuration exactly as `fuka run` does. The data rows are this
// worker's share.
func planJobConfig(j *fukapb.PlanJob, share engine.Share) (engine.Config, func(), error) {
	var zero engine.Config
	name := j.GetFileName()
	if name == "" || !filepath.IsLocal(name) || strings.ContainsAny(name, `/\`) {
		return zero, nil, fmt.Errorf("bad plan file name %q", name)
	}
	tmp, err := os.MkdirTemp("", "fuka-job-")
	if err != nil {
		return zero, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	// The plan goes as deep as its files reach above it ("../../x.csv").
	depth := 0
	for p := range j.GetFiles() {
		n := 0
		for _, part := range strings.Split(p, "/") {
			if part != ".." {
				break
			}
			n++
		}
		depth = max(depth, n)
	}
	dir := tmp
	for i := range depth {
		dir = filepath.Join(dir, fmt.Sprintf("d%d", i))
	}
	write := func(rel string, b []byte) error {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if r, err := filepath.Rel(tmp, path); err != nil || !filepath.IsLocal(r) {
			return fmt.Errorf("file %q: outside the job's folder", rel)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o600)
	}
	// The plan's source is compiled from the job's bytes; it is written
	// too, for what reads the folder.
	if err := write(name, j.GetSource()); err != nil {
		cleanup()
		return zero, nil, err
	}
	for rel, b := range j.GetFiles() {
		if err := write(rel, b); err != nil {
			cleanup()
			return zero, nil, err
		}
	}
	fail := func(err error) (engine.Config, func(), error) {
		cleanup()
		// Errors name the plan as the controller's user knows it.
		return zero, nil, errors.New(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	}
	env := func(k string) (string, bool) { v, ok := j.GetEnv()[k]; return v, ok }
	ov := j.GetOverrides()
	c, err := compilePlanSource(filepath.Join(dir, name), j.GetSource(), ov.GetBaseUrl(), env)
	if err != nil {
		return fail(fmt.Errorf("plan: %w", err))
	}
	cfg, _, closeRunner, err := planConfig(c, ov, j.GetInsecure(), j.GetHttp2())
	if err != nil {
		return fail(err)
	}
	c.prog.SetShare(share.Rows(&cfg))
	return cfg, func() { closeRunner(); cleanup() }, nil
}

// prepareJob is a worker's cluster.Prepare: the job becomes an engine
// configuration through the same code as a local run.
func prepareJob(a cluster.Assignment) (engine.Config, func(), error) {
	switch w := a.Job.GetWork().(type) {
	case *fukapb.Job_Attack:
		cfg, err := attackConfig(w.Attack)
		if err == nil {
			err = checkShare(cfg, a.Share)
		}
		return cfg, nil, err
	case *fukapb.Job_Plan:
		cfg, cleanup, err := planJobConfig(w.Plan, a.Share)
		if err == nil {
			if err = checkShare(cfg, a.Share); err != nil {
				cleanup()
			}
		}
		return cfg, cleanup, err
	}
	return engine.Config{}, nil, errors.New("the job is neither an attack nor a plan")
}

// checkShare refuses a worker's share of a load that this machine cannot
// hold (see checkResources), before it sends anything.
func checkShare(cfg engine.Config, share engine.Share) error {
	cfg.Share = share
	conns, _ := cfg.Footprint()
	return checkResources(&cfg, fmt.Sprintf("worker %d of %d: %d clients", share.Index+1, share.Count, conns))
}
