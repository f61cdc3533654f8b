package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

// A distributed run is the same run as a local one: the same flags or plan
// become the same engine configuration, and the same pipeline (progress,
// thresholds, report, history) gets the result. Only where the load comes
// from differs: execute's runLoad hook hands the job to the workers and
// returns their merged result.

// clusterFlags are the distributed-run flags of attack and run.
type clusterFlags struct {
	workers    int
	dial       []string
	listen     string
	waitFor    time.Duration
	onLoss     string
	startDelay time.Duration
	tls        tlsFlags
}

// tlsFlags are the certificate flags shared by controller and worker.
type tlsFlags struct {
	certsDir, ca, cert, key string
	insecure, allowRemote   bool
}

func addClusterFlags(fl *pflag.FlagSet, f *clusterFlags) {
	fl.IntVar(&f.workers, "workers", 0, "distributed run: wait for `N` workers (started with fuka worker --controller) on --listen and split the load among them")
	fl.StringArrayVar(&f.dial, "worker", nil, "distributed run: dial a listening worker (started with fuka worker --listen) at `HOST:PORT` (repeatable)")
	fl.StringVar(&f.listen, "listen", ":7700", "distributed run: listen for workers on `ADDR`")
	fl.DurationVar(&f.waitFor, "wait-workers", time.Minute, "distributed run: how long to wait for the workers")
	fl.StringVar(&f.onLoss, "on-worker-loss", "continue", "distributed run: when a worker is lost, continue (report marked degraded) or stop")
	fl.DurationVar(&f.startDelay, "start-delay", 2*time.Second, "distributed run: from handing out the shares to the common start")
	_ = fl.MarkHidden("start-delay")
	addTLSFlags(fl, &f.tls)
}

func addTLSFlags(fl *pflag.FlagSet, f *tlsFlags) {
	fl.StringVar(&f.certsDir, "certs-dir", os.Getenv("FUKA_CERTS_DIR"), "`DIR` of files made by fuka certs: ca.pem, ROLE.pem, ROLE-key.pem (default $FUKA_CERTS_DIR)")
	fl.StringVar(&f.ca, "ca", "", "CA certificate `FILE` (default: ca.pem in --certs-dir)")
	fl.StringVar(&f.cert, "cert", "", "this side's certificate `FILE` (default: ROLE.pem in --certs-dir)")
	fl.StringVar(&f.key, "key", "", "this side's key `FILE` (default: ROLE-key.pem in --certs-dir)")
	fl.BoolVar(&f.insecure, "insecure-no-tls", false, "no TLS between controller and workers: anyone who can connect can run load or read results (loopback only unless --allow-insecure-remote)")
	fl.BoolVar(&f.allowRemote, "allow-insecure-remote", false, "allow --insecure-no-tls on non-loopback addresses")
}

// distributed reports whether the flags ask for workers.
func (f *clusterFlags) distributed() bool { return f.workers > 0 || len(f.dial) > 0 }

// identity loads this side's certificates, or returns nil after checking
// that running without TLS is allowed on every address involved.
func (f *tlsFlags) identity(stdio Stdio, role cluster.Role, addrs ...string) (*cluster.Identity, error) {
	if f.insecure {
		for _, a := range addrs {
			if !loopbackAddr(a) && !f.allowRemote {
				return nil, fmt.Errorf("--insecure-no-tls: %q is not a loopback address; without TLS anyone who reaches it can send load or read results (add --allow-insecure-remote if the network is yours alone)", a)
			}
		}
		fmt.Fprintln(stdio.Err, "fuka: warning: --insecure-no-tls: controller and workers talk without encryption or authentication")
		return nil, nil
	}
	ca, cert, key := f.ca, f.cert, f.key
	if f.certsDir != "" {
		ca = cmp(ca, filepath.Join(f.certsDir, "ca.pem"))
		cert = cmp(cert, filepath.Join(f.certsDir, string(role)+".pem"))
		key = cmp(key, filepath.Join(f.certsDir, string(role)+"-key.pem"))
	}
	if ca == "" || cert == "" || key == "" {
		return nil, fmt.Errorf("controller and workers use mutual TLS: create certificates with `fuka certs init --dir DIR` and `fuka certs issue --dir DIR --role %s --name NAME`, then pass --certs-dir DIR (or --ca, --cert, --key); --insecure-no-tls works on loopback", role)
	}
	id, err := cluster.LoadIdentity(role, ca, cert, key)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	return id, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// loopbackAddr reports whether HOST:PORT (or HOST) is a loopback address.
// An empty host (":7700") listens on every interface: not loopback.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// attach makes out run the load on workers: execute then goes on as for a
// local run, and the summary names the workers (and is marked degraded
// when one was lost). timeout is the longest request timeout: how long
// stopped workers may take to finish in-flight requests.
func (f *clusterFlags) attach(stdio Stdio, out *outputs, job *fukapb.Job, cfg engine.Config, timeout time.Duration) error {
	if f.workers < 0 {
		return fmt.Errorf("--workers %d: must be > 0", f.workers)
	}
	policy := cluster.LossPolicy(f.onLoss)
	if policy != cluster.LossContinue && policy != cluster.LossStop {
		return fmt.Errorf("--on-worker-loss %q: want continue or stop", f.onLoss)
	}
	n := f.workers
	listen := n > len(f.dial)
	if n == 0 {
		n = len(f.dial)
	}
	addrs := slices.Clone(f.dial)
	if listen {
		addrs = append(addrs, f.listen)
	}
	id, err := f.tls.identity(stdio, cluster.RoleController, addrs...)
	if err != nil {
		return err
	}
	names, checks := cluster.Names(cfg)
	if slots := clientSlots(&cfg); slots < n {
		fmt.Fprintf(stdio.Err, "fuka: warning: %d client(s) for %d workers: %d worker(s) get no client and send nothing (each worker needs a client of its own)\n", slots, n, n-slots)
	}
	ctl := &cluster.Controller{
		Job: job, Names: names, Checks: checks, Load: &cfg,
		Workers: n, Dial: f.dial, Identity: id,
		WaitTimeout: f.waitFor, StartDelay: f.startDelay, StopGrace: timeout + 2*time.Second, OnLoss: policy,
		Log: newLineLogger(stdio.Err, slog.LevelInfo), Version: version(),
	}
	var workers []report.WorkerStatus
	var degraded bool
	out.runLoad = func(ctx context.Context, cfg engine.Config, started func(time.Time)) (*engine.Result, error) {
		if listen {
			ln, err := net.Listen("tcp", f.listen)
			if err != nil {
				return nil, fmt.Errorf("--listen: %w", err)
			}
			ctl.Listener = ln
			fmt.Fprintf(stdio.Err, "fuka: waiting for %d worker(s) on %s (fuka worker --controller HOST:%s)\n", n-len(f.dial), ln.Addr(), portOf(ln.Addr()))
		}
		ctl.OnTick, ctl.OnStart = cfg.OnTick, started
		res, err := ctl.Run(ctx)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(stdio.Err, "fuka: %v\n", err)
				return nil, exitError{ExitInterrupted}
			}
			return nil, err
		}
		degraded = res.Degraded
		for _, w := range res.Workers {
			ws := report.WorkerStatus{Name: w.Name, State: w.State, LastInterval: w.LastInterval, Requests: w.Requests, Reason: w.Reason,
				Share: round6(w.Share)}
			if w.State != "ok" {
				seen := round3(w.LastSeen.Seconds())
				ws.LastSeenS = &seen
			}
			if w.State == "lost" {
				n := w.Unreported
				ws.UnreportedMax, ws.UnreportedEstimated = &n, w.Estimated
			}
			workers = append(workers, ws)
		}
		return &res.Result, nil
	}
	// The summary learns about the workers before anything is written:
	// judge runs first (thresholds then see the same summary).
	judge := out.judge
	out.judge = func(sum *report.Summary, run *metrics.Run) bool {
		sum.Degraded, sum.Workers = degraded, workers
		for _, w := range workers {
			switch w.State {
			case "lost":
				sum.Warnings = append(sum.Warnings, fmt.Sprintf("degraded: worker %s (%s of the load) was lost after interval %d (%s); its load after that is missing from these results: up to %s requests it sent are not reported",
					w.Name, fmtShare(w.Share), w.LastInterval, w.Reason, unreportedText(w)))
			case "left":
				sum.Warnings = append(sum.Warnings, fmt.Sprintf("degraded: worker %s (%s of the load) left after interval %d (%s); every request it sent is reported, but its load after that is missing",
					w.Name, fmtShare(w.Share), w.LastInterval, w.Reason))
			}
		}
		if judge != nil {
			return judge(sum, run)
		}
		return false
	}
	return nil
}

// clientSlots is how many workers a load can keep busy: one per client
// (closed model) or max client (open), those of its largest scenario load.
func clientSlots(cfg *engine.Config) int {
	if len(cfg.Parts) > 0 {
		n := 0
		for i := range cfg.Parts {
			n = max(n, clientSlots(&cfg.Parts[i].Config))
		}
		return n
	}
	if cfg.Open() {
		return cfg.MaxClients
	}
	return cfg.Clients
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

// lineHandler prints log records as plain lines, "fuka: message k=v ...":
// the distributed run's news (joins, losses) on stderr.
type lineHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	level slog.Level
	attrs []slog.Attr
}

func newLineLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&lineHandler{w: w, mu: &sync.Mutex{}, level: level})
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

// attachCluster makes `fuka attack` a controller: the job its flags made
// is the workers' job.
func (f *attackFlags) attachCluster(stdio Stdio, job *fukapb.AttackJob, cfg engine.Config) error {
	return f.cluster.attach(stdio, &f.out, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: job}}, cfg, f.timeout)
}

// attachCluster makes `fuka run` a controller: the plan, its files and the
// overrides are the job.
func (f *runFlags) attachCluster(stdio Stdio, out *outputs, c *run.Plan, changed func(string) bool, cfg engine.Config) error {
	f.load.Changed = changed
	job, err := run.NewPlanJob(c, f.load, f.options())
	if err != nil {
		return err
	}
	return f.cluster.attach(stdio, out, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: job}}, cfg, c.Timeout())
}
