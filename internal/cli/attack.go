package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

// attackFlags are the quick-mode options of `fuka attack`.
type attackFlags struct {
	run.AttackFlags
	cpuProfile string
	preconnect int // --preconnect as given: -1 estimate, 0 none
	out        outputs
	cluster    clusterFlags // distributed run (cluster_run.go)
	ws         wsFlags      // a ws:// URL (ws.go)
}

func newAttack(stdio Stdio) *cobra.Command {
	var f attackFlags
	cmd := &cobra.Command{
		Use:   "attack URL",
		Short: "Load one URL: closed model (clients) or open model (arrival rate)",
		Long: `attack sends load to one URL and prints what it measured.

Closed model (default): --clients clients each send a request, wait for the
response and send the next, for --duration or until --requests are done;
--ramp-up starts them gradually and --max-rps caps the total throughput.
Latency is measured from the send.

Open model (--rate): starts arrive at the given rate whether or not the target
keeps up. --rate 5000 holds 5000/s for --duration; --rate 100:1m,5000:2m ramps
linearly from 0 to 100/s over 1m, then to 5000/s over 2m (a 0s stage jumps).
A start that finds all --max-clients busy is counted as dropped. Latency is
measured from the intended start, so a stalled target shows in the
percentiles (no coordinated omission).`,
		Example: `  fuka attack http://127.0.0.1:8080/ -c 64 -d 30s
  fuka attack http://127.0.0.1:8080/ -c 200 --ramp-up 10s -d 1m --max-rps 2000
  fuka attack http://127.0.0.1:8080/ -n 10000 -c 10
  fuka attack http://127.0.0.1:8080/ --rate 5000 -d 30s --max-clients 2000
  fuka attack http://127.0.0.1:8080/ --rate 100:1m,5000:2m
  fuka attack http://127.0.0.1:8080/api/login -m POST -H 'Content-Type: application/json' -b '{"user":"a","pass":"b"}'
  fuka attack https://127.0.0.1:8443/ --insecure --http2 -o json
  fuka attack grpc://127.0.0.1:9090 --call shop.Cart/Add -b '{"item":"x"}' -c 50 -d 30s
  fuka attack ws://127.0.0.1:8080/ws/echo --ws-send '{"ping":1}' --ws-expect ping -c 100 -d 30s`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("attack takes exactly one URL (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			fl := cmd.Flags()
			if f.Rate != "" && (fl.Changed("clients") || fl.Changed("requests") || fl.Changed("max-rps") || fl.Changed("ramp-up")) {
				return errors.New("--rate (open model) does not combine with --clients, --requests, --max-rps or --ramp-up (closed model)")
			}
			if f.Rate == "" && (fl.Changed("max-clients") || fl.Changed("resolution") && !fl.Changed("max-rps") || fl.Changed("preconnect")) {
				return errors.New("--max-clients, --preconnect and --resolution are for the open model: use them with --rate (--resolution also with --max-rps)")
			}
			if fl.Changed("preconnect") {
				f.Preconnect = &f.preconnect
			}
			var cfg engine.Config
			var meta report.Meta
			var job *fukapb.AttackJob
			var err error
			if run.IsWSURL(args[0]) {
				cfg, meta, job, err = f.wsConfig(args[0], fl)
			} else if err = wsFlagsWithoutWS(fl); err == nil {
				cfg, meta, job, err = f.Config(args[0], fl.Changed("duration"), version())
			}
			if err != nil {
				return err
			}
			if !f.cluster.distributed() { // else each worker checks its share
				note, err := run.AttackPreflight(&cfg, &meta, fl.Changed("max-clients"))
				if note != "" {
					fmt.Fprintf(stdio.Err, "fuka: note: %s\n", note)
				}
				if err != nil {
					return err
				}
			}
			if f.cpuProfile != "" {
				pf, err := os.Create(f.cpuProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			var src run.Source
			if f.cluster.distributed() { // the workers send the load (cluster_run.go)
				if src, err = f.cluster.source(stdio, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: job}}, &cfg, f.Timeout); err != nil {
					return err
				}
			}
			return execute(cmd.Context(), f.out.spec(stdio, cfg, meta, src))
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVarP(&f.Clients, "clients", "c", 10, "closed model: concurrent clients")
	fl.DurationVar(&f.RampUp, "ramp-up", 0, "closed model: start clients evenly over this period")
	fl.DurationVarP(&f.Duration, "duration", "d", 10*time.Second, "how long to send load (closed model, or a constant --rate)")
	fl.Int64VarP(&f.Requests, "requests", "n", 0, "closed model: total requests, then stop (with -d unset, no time limit)")
	fl.Float64Var(&f.MaxRPS, "max-rps", 0, "closed model: cap throughput across all clients (requests/s)")
	fl.StringVar(&f.Rate, "rate", "", "open model: arrival rate, e.g. 5000 or 100:1m,5000:2m")
	fl.IntVar(&f.MaxClients, "max-clients", plan.DefaultMaxClients, "open model: most clients (connections) in flight")
	fl.DurationVar(&f.Resolution, "resolution", time.Millisecond, "open model and --max-rps: starts due within one step are sent together (0: each on its own; in the open model lateness counts in latency)")
	fl.IntVar(&f.preconnect, "preconnect", -1, "open model: connections to open before the clock starts (-1: estimate from the rate and a connect probe; 0: none)")
	addRequestFlags(fl, &f.RequestFlags, "")
	fl.StringVar(&f.Call, "call", "", "gRPC: the method to call, pkg.Service/Method (with a grpc:// or grpcs:// URL; the message is --body, JSON)")
	fl.StringArrayVar(&f.Protos, "proto", nil, "gRPC: take the schema from this .proto `FILE` instead of server reflection (repeatable)")
	fl.StringArrayVar(&f.ImportPaths, "import-path", nil, "gRPC: a `DIR` where --proto files and their imports are found (repeatable; default: each file's directory)")
	fl.BoolVar(&f.Phases, "phases", false, phasesUsage)
	addWSFlags(fl, &f.ws)
	addOutputFlags(fl, &f.out, runWords)
	addClusterFlags(fl, &f.cluster)
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write fuka's own CPU profile to `FILE` (for fuka's developers)")
	_ = fl.MarkHidden("cpuprofile")
	return cmd
}
