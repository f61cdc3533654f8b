package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
	reporthtml "github.com/fuka-load/fuka/report/html"
	"github.com/fuka-load/fuka/run"
)

// ExitRegression is compare's exit code with --fail-on-regression when a
// metric regressed beyond the noise.
const ExitRegression = 1

// addHistoryFlag adds --history FILE.
func addHistoryFlag(fl *pflag.FlagSet, path *string) {
	fl.StringVar(path, "history", "", "run history database `FILE` (default $XDG_DATA_HOME/fuka/history.db, else ~/.local/share/fuka/history.db)")
}

func newRuns(stdio Stdio) *cobra.Command {
	var path, name string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the stored runs, newest first",
		Example: `  fuka runs
  fuka runs --name shop -n 5`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return history.WriteList(stdio.Out, path, limit, name)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	addHistoryFlag(fl, &path)
	fl.StringVar(&name, "name", "", "only the runs of this plan")
	fl.IntVarP(&limit, "limit", "n", 20, "how many runs to list (0 = all)")
	return cmd
}

func newReport(stdio Stdio) *cobra.Command {
	var path, format, htmlOut string
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Show a stored run's results again",
		Long: `report re-renders a stored run's summary, as text or as the canonical JSON
(docs/json.md), and with --html as the HTML report. RUN is a run id from
fuka runs, or last / last-completed.`,
		Example: `  fuka report 12
  fuka report last -o json | jq .latency.p99_ms
  fuka report 12 --html run12.html`,
		Args: exactArgs(1, "report takes one run id"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := report.CheckFormat(format); err != nil {
				return err
			}
			sum, err := history.Load(path, args[0])
			if err != nil {
				return err
			}
			if htmlOut != "" {
				if err := run.WriteFileAtomic(htmlOut, func(w io.Writer) error { return reporthtml.Write(w, sum) }); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			return sum.Write(stdio.Out, format)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	addHistoryFlag(fl, &path)
	fl.StringVarP(&format, "output", "o", "text", "output format: text or json")
	fl.StringVar(&htmlOut, "html", "", "also write the HTML report to `FILE`")
	return cmd
}

func newCompare(stdio Stdio) *cobra.Command {
	var path, name, noise, htmlOut string
	var failOnRegression bool
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare run B (new) against run A (baseline), request by request",
		Long: `compare shows, for the whole run and for each request name, how p95, p99,
throughput and error % changed from A to B, and calls a change a regression
(▲ latency or errors, ▼ throughput) or an improvement only when it is beyond
the noise: --noise relative to A, and at least 0.1 ms for latencies and
0.1 percentage point for error %. When A and B are not the same test
(another plan, target, method or load model), it says so first.

A and B are run ids (fuka runs), or last / last-completed (the newest run,
the newest completed run; for A, the newest before B; of --name's plan, or
else of B's), or JSON summary files (--json-out), so CI can compare
against a stored result. With --fail-on-regression, compare exits 1 when
anything regressed.`,
		Example: `  fuka compare 12 13
  fuka compare last-completed last --fail-on-regression
  fuka compare baseline.json last --noise 10% --html compare.html`,
		Args: exactArgs(2, "compare takes two runs, A (baseline) and B (new)"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := history.CompareArgs(path, name, args[0], args[1], noise)
			if err != nil {
				return err
			}
			if htmlOut != "" {
				if err := run.WriteFileAtomic(htmlOut, c.WriteHTML); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			if err := c.WriteText(stdio.Out); err != nil {
				return err
			}
			if failOnRegression && c.Regressions > 0 {
				return exitError{ExitRegression}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	addHistoryFlag(fl, &path)
	fl.StringVar(&noise, "noise", "5%", "relative change that counts as noise, e.g. 5% or 10%")
	fl.StringVar(&name, "name", "", "last and last-completed pick from this plan's runs")
	fl.StringVar(&htmlOut, "html", "", "also write the comparison as an HTML page to `FILE`")
	fl.BoolVar(&failOnRegression, "fail-on-regression", false, "exit 1 when any metric regressed beyond the noise")
	return cmd
}
