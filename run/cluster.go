package run

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/report"
)

// A distributed run is the same Run as a local one: the same flags or plan
// become the same engine configuration, and the same pipeline (progress,
// watchers, judges, report, history) gets the result, on the same clock
// (t=0 is the load's common start, not the controller's). Only where the
// load comes from differs: the Cluster Source hands the job to the
// workers and returns their merged result.

// ClusterSpec is a distributed run's controller: the workers it waits
// for, and what it gives them.
type ClusterSpec struct {
	Workers    int      // how many; 0: one per Dial address
	Dial       []string // listening workers to dial
	Listen     string   // where the others connect
	WaitFor    time.Duration
	StartDelay time.Duration // from handing out the shares to the common start
	OnLoss     string        // continue or stop (cluster.LossPolicy)
	Identity   *cluster.Identity
	Job        *fukapb.Job
	// Timeout is the longest request timeout: how long stopped workers
	// may take to finish their requests in flight.
	Timeout time.Duration
	Version string
}

// Check finds bad values before anything is sent.
func (s *ClusterSpec) Check() error {
	if s.Workers < 0 {
		return fmt.Errorf("--workers %d: must be > 0", s.Workers)
	}
	if p := cluster.LossPolicy(s.OnLoss); p != cluster.LossContinue && p != cluster.LossStop {
		return fmt.Errorf("--on-worker-loss %q: want continue or stop", s.OnLoss)
	}
	return nil
}

// listens reports whether some workers connect to Listen (the others are
// dialed).
func (s *ClusterSpec) listens() bool { return s.Workers > len(s.Dial) }

// Addrs are the addresses the controller talks on: the dialed workers',
// and Listen when some workers connect.
func (s *ClusterSpec) Addrs() []string {
	addrs := slices.Clone(s.Dial)
	if s.listens() {
		addrs = append(addrs, s.Listen)
	}
	return addrs
}

// Cluster is the Source of a distributed run: a controller's workers send
// the load.
type Cluster struct {
	ctl    *cluster.Controller
	listen string // where to listen for workers; "" when every one is dialed
	stderr io.Writer
	job    *fukapb.Job // the job on held workers (Workers.Source); nil: the controller's Job

	workers  []report.WorkerStatus
	degraded bool
}

var (
	_ Source    = (*Cluster)(nil)
	_ Describer = (*Cluster)(nil)
)

// NewCluster returns the Source that runs s.Job on its workers, the load
// cfg split among them. It warns on stderr when the load has fewer clients
// than workers: the others would send nothing.
func NewCluster(s ClusterSpec, cfg *engine.Config, stderr io.Writer) (*Cluster, error) {
	ctl, listen, err := newController(s, cfg, stderr)
	if err != nil {
		return nil, err
	}
	ctl.Job, ctl.Load = s.Job, cfg
	ctl.Names, ctl.Checks = cluster.Names(*cfg)
	return &Cluster{stderr: ctl.stderr, ctl: ctl.Controller, listen: listen}, nil
}

// controller is a cluster.Controller and where its news go.
type controller struct {
	*cluster.Controller
	stderr io.Writer
}

// newController is the controller of s; listen is where it listens for
// workers ("" when every one is dialed). cfg (a load, for the warning
// about workers without a client) may be nil.
func newController(s ClusterSpec, cfg *engine.Config, stderr io.Writer) (controller, string, error) {
	if err := s.Check(); err != nil {
		return controller{}, "", err
	}
	if stderr == nil {
		stderr = io.Discard
	}
	n := s.Workers
	if n == 0 {
		n = len(s.Dial)
	}
	if slots := clientSlots(cfg); cfg != nil && slots < n {
		fmt.Fprintf(stderr, "fuka: warning: %d client(s) for %d workers: %d worker(s) get no client and send nothing (each worker needs a client of its own)\n", slots, n, n-slots)
	}
	ctl := &cluster.Controller{
		Workers: n, Dial: s.Dial, Identity: s.Identity,
		WaitTimeout: s.WaitFor, StartDelay: s.StartDelay, StopGrace: s.Timeout + 2*time.Second, OnLoss: cluster.LossPolicy(s.OnLoss),
		Log: LineLogger(stderr, slog.LevelInfo), Version: s.Version,
	}
	listen := ""
	if s.listens() {
		listen = s.Listen
	}
	return controller{ctl, stderr}, listen, nil
}

// listen opens the listener the workers connect to, if some do.
func (c controller) listen(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	c.Listener = ln
	fmt.Fprintf(c.stderr, "fuka: waiting for %d worker(s) on %s (fuka worker --controller HOST:%s)\n", c.Workers-len(c.Dial), ln.Addr(), portOf(ln.Addr()))
	return nil
}

// Workers is a controller that holds its workers for a sequence of runs (a
// capacity search's steps): Join waits for them once, each Source runs
// one job on them, Close lets them go.
type Workers struct {
	ctl    controller
	listen string
}

// NewWorkers returns the controller of s, its Job unset: each Source
// gives one.
func NewWorkers(s ClusterSpec, stderr io.Writer) (*Workers, error) {
	ctl, listen, err := newController(s, nil, stderr)
	if err != nil {
		return nil, err
	}
	return &Workers{ctl: ctl, listen: listen}, nil
}

// Join listens (if some workers connect) and waits for the workers.
func (w *Workers) Join(ctx context.Context) error {
	if err := w.ctl.listen(w.listen); err != nil {
		return err
	}
	if err := w.ctl.Join(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		return err
	}
	return nil
}

// Source is the Source of one run of job on the held workers.
func (w *Workers) Source(job *fukapb.Job) *Cluster {
	return &Cluster{ctl: w.ctl.Controller, stderr: w.ctl.stderr, job: job}
}

// Close ends the workers' sessions.
func (w *Workers) Close() { w.ctl.Close() }

// Load waits for the workers, runs the job on them and merges what they
// measured, tick by tick (cfg.OnTick sees the merged intervals). On held
// workers (Workers.Source) it runs the one job.
func (c *Cluster) Load(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
	ctl := c.ctl
	var res *cluster.Result
	var err error
	if c.job != nil {
		names, checks := cluster.Names(cfg)
		res, err = ctl.RunJob(ctx, cluster.Job{Work: c.job, Names: names, Checks: checks, Load: &cfg, OnStart: started, OnTick: cfg.OnTick})
	} else {
		if err := (controller{ctl, c.stderr}).listen(c.listen); err != nil {
			return nil, err
		}
		ctl.OnTick, ctl.OnStart = cfg.OnTick, started
		res, err = ctl.Run(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(c.stderr, "fuka: %v\n", err)
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		return nil, err
	}
	c.degraded = res.Degraded
	for _, w := range res.Workers {
		ws := report.WorkerStatus{Name: w.Name, State: w.State, LastInterval: w.LastInterval, Requests: w.Requests, Reason: w.Reason,
			Share: round6(w.Share)}
		if w.State != "ok" {
			seen := Round3(w.LastSeen.Seconds())
			ws.LastSeenS = &seen
		}
		if w.State == "lost" {
			n := w.Unreported
			ws.UnreportedMax, ws.UnreportedEstimated = &n, w.Estimated
		}
		c.workers = append(c.workers, ws)
	}
	return &res.Result, nil
}

// Describe names the workers in the summary, marks it degraded when one
// was lost or left, and says what is missing.
func (c *Cluster) Describe(sum *report.Summary) {
	sum.Degraded, sum.Workers = c.degraded, c.workers
	for _, w := range c.workers {
		switch w.State {
		case "lost":
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("degraded: worker %s (%s of the load) was lost after interval %d (%s); its load after that is missing from these results: up to %s requests it sent are not reported",
				w.Name, fmtShare(w.Share), w.LastInterval, w.Reason, unreportedText(w)))
		case "left":
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("degraded: worker %s (%s of the load) left after interval %d (%s); every request it sent is reported, but its load after that is missing",
				w.Name, fmtShare(w.Share), w.LastInterval, w.Reason))
		}
	}
}

// clientSlots is how many workers a load can keep busy: one per client
// (closed model) or max client (open), those of its largest scenario load.
func clientSlots(cfg *engine.Config) int {
	if cfg == nil {
		return 0
	}
	return engine.Share{}.Rows(cfg).Slots
}

// fmtShare writes a worker's part of the load, e.g. "33.3%".
func fmtShare(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// unreportedText is a lost worker's bound on unreported requests, e.g.
// "1234" or "about 1234" when estimated from its observed rate.
func unreportedText(w report.WorkerStatus) string {
	if w.UnreportedMax == nil {
		return "an unknown number of"
	}
	n := strconv.FormatInt(*w.UnreportedMax, 10)
	if w.UnreportedEstimated {
		return "about " + n
	}
	return n
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func portOf(a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "PORT"
	}
	return port
}

// LineLogger prints log records as plain lines, "fuka: message k=v ...":
// a distributed run's news (joins, losses) on stderr.
func LineLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&lineHandler{w: w, mu: &sync.Mutex{}, level: level})
}

type lineHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	level slog.Level
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("fuka: ")
	if r.Level >= slog.LevelWarn {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clone(h.attrs), as...)
	return &c
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
