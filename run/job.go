package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/feeder"
	"github.com/fuka-load/fuka/plan"
)

// NewPlanJob packs a compiled plan for the workers: its source and the
// environment values as they were compiled (Compile recorded them), the
// files it reads, the overrides, and the schema of its grpc: steps (its
// protos: compiled, or what ResolvePlanGRPC learnt, which must have run).
// Nothing is compiled again.
func NewPlanJob(c *Plan, f LoadFlags, o Options) (*fukapb.PlanJob, error) {
	ov, err := f.Overrides()
	if err != nil {
		return nil, err
	}
	j := &fukapb.PlanJob{
		FileName: filepath.Base(c.Plan.File), Source: c.Source, Env: c.Env,
		Files: map[string][]byte{}, Overrides: ov, Insecure: o.Insecure, Http2: o.HTTP2,
		Http1: o.HTTP1, Cert: o.TLS.Cert, Key: o.TLS.Key, Ca: o.TLS.CA, Phases: o.Phases,
	}
	if j.GrpcSchema, err = planSchema(c); err != nil {
		return nil, err
	}
	var paths []string
	for _, d := range c.Plan.Data {
		paths = append(paths, d.CSV.Value, d.JSONL.Value)
	}
	data := len(paths)
	paths = append(paths, planFiles(c.Plan)...)
	for _, sc := range c.Plan.Scenarios {
		if sc.Script.Value != "" {
			paths = append(paths, sc.Script.Value) // a Starlark scenario
		}
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
		b, err := read(c.Plan.Resolve(p))
		if err != nil {
			return nil, err
		}
		j.Files[filepath.ToSlash(filepath.Clean(p))] = b
	}
	return j, nil
}

// planJobConfig unpacks a plan job into a temporary folder laid out as the
// controller's (files above the plan's folder included: the plan and its
// feeders read files by path), compiles it once, and builds the
// configuration exactly as `fuka run` does. The data rows are this
// worker's share.
func planJobConfig(j *fukapb.PlanJob, share engine.Share, version string) (engine.Config, func(), error) {
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
	protos, err := jobProtos(j)
	if err != nil {
		return fail(err)
	}
	env := func(k string) (string, bool) { v, ok := j.GetEnv()[k]; return v, ok }
	ov := j.GetOverrides()
	c, err := compile(filepath.Join(dir, name), j.GetSource(), ov.GetBaseUrl(), env, protos)
	if err != nil {
		return fail(fmt.Errorf("plan: %w", err))
	}
	if err := useJobSchema(c, j, protos); err != nil {
		return fail(err)
	}
	cfg, _, closeRunner, err := PlanConfig(c, ov, Options{
		Insecure: j.GetInsecure(), HTTP2: j.GetHttp2(), HTTP1: j.GetHttp1(),
		TLS: TLSFiles{Cert: j.GetCert(), Key: j.GetKey(), CA: j.GetCa()}, Version: version, Phases: j.GetPhases(),
	})
	if err != nil {
		return fail(err)
	}
	c.Prog.SetShare(share.Rows(&cfg))
	return cfg, func() { closeRunner(); cleanup() }, nil
}

// Prepare is a worker's cluster.Prepare for a worker of fuka version: the
// job becomes an engine configuration through the same code as a local
// run.
func Prepare(version string) func(cluster.Assignment) (engine.Config, func(), error) {
	return func(a cluster.Assignment) (engine.Config, func(), error) { return PrepareJob(a, version) }
}

// PrepareJob builds the engine configuration of a worker's assignment.
func PrepareJob(a cluster.Assignment, version string) (engine.Config, func(), error) {
	switch w := a.Job.GetWork().(type) {
	case *fukapb.Job_Attack:
		cfg, err := AttackConfig(w.Attack)
		if err == nil {
			err = checkShare(cfg, a.Share)
		}
		return cfg, nil, err
	case *fukapb.Job_Plan:
		cfg, cleanup, err := planJobConfig(w.Plan, a.Share, version)
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
// hold (see CheckResources), before it sends anything.
func checkShare(cfg engine.Config, share engine.Share) error {
	cfg.Share = share
	conns, _ := cfg.Footprint()
	return CheckResources(&cfg, fmt.Sprintf("worker %d of %d: %d clients", share.Index+1, share.Count, conns))
}

// Work runs w, a worker of w.Version (w.Name "" is the host's name): with
// listen, it waits for controllers there and runs their jobs one at a
// time until ctx ends; else it dials controller and runs one job. Every
// job becomes its engine configuration through PrepareJob. interrupted
// reports that ctx ended the wait or the job (a job's final snapshot went
// to its controller, but the share is not complete).
func Work(ctx context.Context, w *cluster.Worker, controller, listen string) (interrupted bool, err error) {
	if w.Name == "" {
		w.Name, _ = os.Hostname()
	}
	w.Prepare = Prepare(w.Version)
	log := w.Log.With("worker", w.Name)
	w.Log = log
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return false, fmt.Errorf("--listen: %w", err)
		}
		log.Info("waiting for a controller", "listen", ln.Addr().String())
		return false, w.Serve(ctx, ln)
	}
	log.Info("connecting", "controller", controller)
	err = w.Dial(ctx, controller)
	if ctx.Err() != nil {
		return true, err
	}
	if err == nil {
		log.Info("run done")
	}
	return false, err
}
