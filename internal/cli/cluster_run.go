package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
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
	if !f.insecure {
		return cluster.IdentityFiles{Dir: f.certsDir, CA: f.ca, Cert: f.cert, Key: f.key}.Load(role)
	}
	if err := cluster.CheckInsecure(addrs, f.allowRemote); err != nil {
		return nil, err
	}
	fmt.Fprintln(stdio.Err, "fuka: warning: --insecure-no-tls: controller and workers talk without encryption or authentication")
	return nil, nil
}

// source is the cluster Source that runs job on the workers the flags
// name; timeout is the longest request timeout.
func (f *clusterFlags) source(stdio Stdio, job *fukapb.Job, cfg *engine.Config, timeout time.Duration) (run.Source, error) {
	cs, err := f.spec(stdio, timeout)
	if err != nil {
		return nil, err
	}
	cs.Job = job
	return run.NewCluster(cs, cfg, stdio.Err)
}

// spec is the controller the flags ask for, its job unset.
func (f *clusterFlags) spec(stdio Stdio, timeout time.Duration) (run.ClusterSpec, error) {
	cs := run.ClusterSpec{
		Workers: f.workers, Dial: f.dial, Listen: f.listen, WaitFor: f.waitFor, StartDelay: f.startDelay, OnLoss: f.onLoss,
		Timeout: timeout, Version: version(),
	}
	if err := cs.Check(); err != nil {
		return cs, err
	}
	id, err := f.tls.identity(stdio, cluster.RoleController, cs.Addrs()...)
	cs.Identity = id
	return cs, err
}

// clusterSource makes `fuka run` a controller: the plan, its files and the
// overrides are the job.
func (f *runFlags) clusterSource(stdio Stdio, c *run.Plan, changed func(string) bool, cfg *engine.Config) (run.Source, error) {
	f.load.Changed = changed
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	job, err := run.NewPlanJob(c, f.load, o)
	if err != nil {
		return nil, err
	}
	return f.cluster.source(stdio, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: job}}, cfg, c.Timeout())
}
