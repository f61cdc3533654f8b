package cli

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/run"
)

// A distributed run is the same run.Run as a local one, with a cluster
// Source (run/cluster.go): here are its flags and certificates.

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

// source is the cluster Source that runs job on the workers the flags
// name: the run then goes on as a local one, and the summary names the
// workers (and is marked degraded when one was lost). timeout is the
// longest request timeout: how long stopped workers may take to finish
// in-flight requests.
func (f *clusterFlags) source(stdio Stdio, job *fukapb.Job, cfg *engine.Config, timeout time.Duration) (run.Source, error) {
	if f.workers < 0 {
		return nil, fmt.Errorf("--workers %d: must be > 0", f.workers)
	}
	policy := cluster.LossPolicy(f.onLoss)
	if policy != cluster.LossContinue && policy != cluster.LossStop {
		return nil, fmt.Errorf("--on-worker-loss %q: want continue or stop", f.onLoss)
	}
	n := f.workers
	listen := ""
	if n > len(f.dial) {
		listen = f.listen
	}
	if n == 0 {
		n = len(f.dial)
	}
	addrs := slices.Clone(f.dial)
	if listen != "" {
		addrs = append(addrs, listen)
	}
	id, err := f.tls.identity(stdio, cluster.RoleController, addrs...)
	if err != nil {
		return nil, err
	}
	names, checks := cluster.Names(*cfg)
	ctl := &cluster.Controller{
		Job: job, Names: names, Checks: checks, Load: cfg,
		Workers: n, Dial: f.dial, Identity: id,
		WaitTimeout: f.waitFor, StartDelay: f.startDelay, StopGrace: timeout + 2*time.Second, OnLoss: policy,
		Log: run.LineLogger(stdio.Err, slog.LevelInfo), Version: version(),
	}
	return run.NewCluster(ctl, listen, stdio.Err), nil
}

// planTimeout is the longest request timeout of a plan.
func planTimeout(p *plan.Plan) time.Duration {
	t := p.Defaults.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	var walk func([]*plan.Step)
	walk = func(steps []*plan.Step) {
		for _, s := range steps {
			t = max(t, s.Timeout)
			walk(s.Steps)
		}
	}
	for _, sc := range p.Scenarios {
		walk(sc.Steps)
	}
	return t
}

// clusterSource makes `fuka run` a controller: the plan, its files and the
// overrides are the job.
func (f *runFlags) clusterSource(stdio Stdio, c *compiled, changed func(string) bool, cfg *engine.Config) (run.Source, error) {
	job, err := newPlanJob(c, f, changed)
	if err != nil {
		return nil, err
	}
	return f.cluster.source(stdio, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: job}}, cfg, planTimeout(c.plan))
}
