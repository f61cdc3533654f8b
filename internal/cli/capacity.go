package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/run"
)

// capacityFlags are the options of `fuka capacity`.
type capacityFlags struct {
	req               run.AttackFlags // a URL's request and open-model options, as attack has them
	slo               []string
	min, max          float64
	precision, warmUp string
	step, cooldown    time.Duration
	confirm           int
	baseURL           string
	out               outputs
	cluster           clusterFlags // the workers that send each step (cluster_run.go)
}

func newCapacity(stdio Stdio) *cobra.Command {
	var f capacityFlags
	cmd := &cobra.Command{
		Use:   "capacity PLAN.yaml|URL --slo 'p99 < 200ms, error_rate < 1%'",
		Short: "Find the highest arrival rate the target sustains within an SLO",
		Long: `capacity searches for the highest open-model arrival rate that meets the
SLO (docs/capacity.md). It starts at --min and doubles the rate until a step
fails the SLO (or --max passes), then halves the interval between the last
pass and the first fail until the fail is within --precision of the pass.

Each step holds a constant rate for --step; its first --warm-up is not
measured, and the target rests --cooldown between steps. A step passes when
every SLO term holds, at most 1% of its starts were dropped and fuka itself
stayed below 90% CPU. A step that failed on latency alone while keeping up
with the rate may have met a stall of the host: it is measured again
(--confirm times) and passes if any measurement does. More than half of the
requests failing, or every connection refused, stops the search at once.

With a plan file, the plan's scenarios share each step's rate by weight and
--slo defaults to the plan's thresholds; with a URL, each start is one
request (attack's request flags apply).

Each step is a run like any other: --monitor (and a plan's monitor:) watch
the target on its clock, --dashboard shows it live, and it is stored in the
history (fuka runs lists it as NAME capacity step RATE/s; --no-history leaves
the steps out). With --workers N (or --worker HOST:PORT) the workers send
every step, held from the first step to the last.

The answer and each step go to stdout; an HTML report with charts and the
table of steps goes to capacity.html in a results folder (--report FILE,
--no-report), with the JSON result next to it.

Exit codes: 0 an answer was found, 1 even --min failed the SLO, 2 usage or
input error, 130 interrupted (what was found is still printed).`,
		Example: `  fuka capacity http://127.0.0.1:8080/ --slo 'p99 < 200ms, error_rate < 1%'
  fuka capacity plan.yaml --slo 'p99 < 300ms' --min 50 --max 5000 --json-out capacity.json
  fuka capacity http://127.0.0.1:8080/api --slo 'p95 < 100ms' --step 1m --precision 2% --monitor process=api
  fuka capacity http://10.0.0.9:8080/ --slo 'p99 < 200ms' --workers 2 --listen :7700 --certs-dir certs --monitor local`,
		Args: exactArgs(1, "capacity takes one plan file or URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			return runCapacity(cmd.Context(), stdio, &f, cmd, args[0])
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringArrayVar(&f.slo, "slo", nil, "what each step must meet, e.g. 'p99 < 200ms, error_rate < 1%' (repeatable; default: a plan's thresholds)")
	fl.Float64Var(&f.min, "min", 10, "first rate tried (starts/s)")
	fl.Float64Var(&f.max, "max", 0, "highest rate tried (starts/s); 0: no bound")
	fl.StringVar(&f.precision, "precision", "5%", "stop when the first fail is within this of the last pass")
	fl.DurationVar(&f.step, "step", 30*time.Second, "how long each rate is held, warm-up included")
	fl.StringVar(&f.warmUp, "warm-up", "20%", "first part of each step left out of its measurement")
	fl.DurationVar(&f.cooldown, "cooldown", 5*time.Second, "pause between steps, so the target drains its queues")
	fl.IntVar(&f.confirm, "confirm", 1, "measure a step again up to this many times when it failed on latency alone while keeping up with the rate (a stall, not saturation)")
	fl.IntVar(&f.req.MaxClients, "max-clients", plan.DefaultMaxClients, "most clients (connections) in flight; a plan's max_clients is the default with a plan")
	fl.DurationVar(&f.req.Resolution, "resolution", time.Millisecond, "starts due within one step are sent together (0: each on its own)")
	addRequestFlags(fl, &f.req.RequestFlags, "URL only: ")
	fl.StringVar(&f.baseURL, "base-url", "", "plan only: override the plan's base_url")
	addOutputFlags(fl, &f.out, capacityWords)
	addClusterFlags(fl, &f.cluster)
	return cmd
}

func runCapacity(ctx context.Context, stdio Stdio, f *capacityFlags, cmd *cobra.Command, arg string) error {
	c, closeRunner, err := f.search(stdio, cmd.Flags(), arg)
	if err != nil {
		return err
	}
	defer closeRunner()
	readingInput.Store(false) // from here a signal stops the search gracefully
	doc, serr := c.Run(ctx)
	switch {
	case doc == nil && errors.Is(serr, run.ErrInterrupted):
		return exitError{ExitInterrupted} // while waiting for the workers
	case doc == nil:
		return serr
	}
	f.out.StepSummary = stdio.StepSummary
	jsonErr, err := run.WriteCapacity(*doc, f.out.Outputs, stdio.Out, stdio.Err)
	switch {
	case err != nil:
		return err
	case doc.Interrupted:
		return exitError{ExitInterrupted}
	case serr != nil:
		return serr
	case jsonErr != nil:
		return jsonErr
	case !doc.Capacity.Found:
		return exitError{ExitThresholds}
	}
	return nil
}

// search is the capacity search the flags ask for.
func (f *capacityFlags) search(stdio Stdio, fl *pflag.FlagSet, arg string) (*run.Capacity, func(), error) {
	isURL := strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
	for _, urlOnly := range []string{"method", "header", "body", "body-file", "timeout", "name"} {
		if !isURL && fl.Changed(urlOnly) {
			return nil, nil, fmt.Errorf("--%s is for a URL; a plan sets its requests", urlOnly)
		}
	}
	if isURL && fl.Changed("base-url") {
		return nil, nil, errors.New("--base-url is for a plan file")
	}
	o := run.CapacityOptions{SLO: f.slo, Min: f.min, Max: f.max, Precision: f.precision, WarmUp: f.warmUp,
		Step: f.step, Cooldown: f.cooldown, Confirm: f.confirm, Resolution: f.req.Resolution, Request: f.req, BaseURL: f.baseURL}
	if fl.Changed("max-clients") {
		if o.MaxClients = f.req.MaxClients; o.MaxClients <= 0 {
			return nil, nil, fmt.Errorf("--max-clients %d: must be > 0", f.req.MaxClients)
		}
	}
	ro, err := f.req.Options(version())
	if err != nil {
		return nil, nil, err
	}
	c, closeRunner, err := run.NewCapacity(o, arg, ro)
	if err != nil {
		return nil, nil, planErrors(stdio, err)
	}
	if err := f.finish(stdio, c); err != nil {
		closeRunner()
		return nil, nil, err
	}
	return c, closeRunner, nil
}

// finish adds the outputs, the watch and the workers to the search.
func (f *capacityFlags) finish(stdio Stdio, c *run.Capacity) error {
	if err := c.Prepare(f.out.Outputs, f.out.watch, stdio.Err, stdio.CPUs); err != nil {
		return err
	}
	if !f.cluster.distributed() {
		return nil
	}
	cs, err := f.cluster.spec(stdio, c.Timeout())
	if err != nil {
		return err
	}
	return c.OnWorkers(cs)
}
