package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

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
	load    run.LoadFlags
	opts    run.Options // --insecure, --http2
	out     outputs
	cluster clusterFlags  // distributed run (cluster_run.go)
	conn    run.ConnFlags // --client-cert, --client-key, --cacert, --http1
}

func newRun(stdio Stdio) *cobra.Command {
	f := runFlags{opts: run.Options{Version: version()}}
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
			c, err := run.CompileFile(args[0], f.load.BaseURL)
			if err != nil {
				return planErrors(stdio, err)
			}
			return runPlan(cmd.Context(), stdio, c, &f, cmd)
		},
	}
	fl := cmd.Flags()
	addLoadFlags(fl, &f)
	fl.BoolVar(&f.opts.Insecure, "insecure", false, "skip TLS certificate verification")
	fl.BoolVar(&f.opts.Phases, "phases", false, phasesUsage)
	addOutputFlags(fl, &f.out, runWords)
	addClusterFlags(fl, &f.cluster)
	return cmd
}

// addLoadFlags registers the flags run and validate share: what they
// change is checked by the same rules (see preflight).
func addLoadFlags(fl *pflag.FlagSet, f *runFlags) {
	fl.SortFlags = false
	fl.IntVarP(&f.load.Clients, "clients", "c", 0, "override: closed model clients")
	fl.DurationVarP(&f.load.Duration, "duration", "d", 0, "override: duration")
	fl.StringVar(&f.load.Rate, "rate", "", "override: open model arrival rate, e.g. 50 or 10:30s,200:2m")
	fl.IntVar(&f.load.MaxClients, "max-clients", 0, "override: open model cap on clients (default: the plan's max_clients, else "+strconv.Itoa(plan.DefaultMaxClients)+")")
	fl.StringVar(&f.load.BaseURL, "base-url", "", "override the plan's base_url")
	fl.BoolVar(&f.opts.HTTP2, "http2", false, "use HTTP/2")
	addConnFlags(fl, &f.conn)
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s (got %d arguments)", msg, len(args))
		}
		return nil
	}
}

// options are the flags' run.Options, with the certificate files read.
func (f *runFlags) options() (run.Options, error) {
	o := f.opts
	tf, err := f.conn.Files(o.HTTP2)
	o.HTTP1, o.TLS = f.conn.HTTP1, tf
	return o, err
}

// preflight is run.Preflight: what run and validate check before anything
// is sent.
func preflight(stdio Stdio, c *run.Plan, f *runFlags, changed func(string) bool) (engine.Config, report.Meta, func(), error) {
	f.load.Changed = changed
	o, err := f.options()
	if err != nil {
		return engine.Config{}, report.Meta{}, nil, err
	}
	cfg, meta, closeRunner, note, err := run.Preflight(c, f.load, o, f.cluster.distributed())
	if note != "" {
		fmt.Fprintf(stdio.Err, "fuka: note: %s\n", note)
	}
	return cfg, meta, closeRunner, err
}

func runPlan(ctx context.Context, stdio Stdio, c *run.Plan, f *runFlags, cmd *cobra.Command) error {
	cfg, meta, closeRunner, err := preflight(stdio, c, f, cmd.Flags().Changed)
	if err != nil {
		return planErrors(stdio, err)
	}
	defer closeRunner()
	// grpc: steps' schemas, from the targets, before anything is sent; a
	// distributed run's job carries them to the workers.
	o, _ := f.options() // preflight checked them
	if err := run.ResolvePlanGRPC(ctx, c, o); err != nil {
		return planErrors(stdio, err)
	}
	out := f.out
	if err := out.watch.FromPlan(c.Plan); err != nil {
		return err
	}
	var src run.Source
	if f.cluster.distributed() { // the workers send the load (cluster_run.go)
		if src, err = f.clusterSource(stdio, c, cmd.Flags().Changed, &cfg); err != nil {
			return err
		}
	}
	return execute(ctx, out.spec(stdio, cfg, meta, src, run.NewPlanJudge(c)))
}
