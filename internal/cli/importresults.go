package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/results"
)

func newImportResults(stdio Stdio) *cobra.Command {
	var path, format, name, output string
	cmd := &cobra.Command{
		Use:   "import-results FILE",
		Short: "Store another load tool's results in the history, to compare with fuka's runs",
		Long: `import-results reads a result file written by another load tool and stores
it in fuka's history as a run, so that fuka runs lists it and fuka compare
(and its --html page) sets it beside fuka's own runs.

Formats (detected from the content, or named with --format):
  jtl-csv, jtl-xml   JMeter results (.jtl), CSV with its header line or XML
  locust-stats       Locust --csv PREFIX: PREFIX_stats.csv (the timeline
                     comes from PREFIX_stats_history.csv when it is beside it)
  locust-history     Locust PREFIX_stats_history.csv
  k6-summary         k6 run --summary-export FILE
  k6-json            k6 run --out json=FILE
  vegeta-gob         vegeta attack's output (binary)
  vegeta-json        vegeta encode --to json
  wrk, hey           their text output
  bombardier         bombardier -o json -p r (or -p i,r)

Where the file has every request (JMeter, vegeta, k6 JSON lines), fuka
records them in its own histograms: percentiles and the per-second timeline
are recomputed. Otherwise the tool's figures are kept as given, and what it
did not report is marked "not measured", never shown as 0. The notes (for
example, that a closed-model tool's latencies miss coordinated omission)
are stored with the run. See docs/import-results.md. FILE "-" is stdin.`,
		Example: `  fuka import-results results.jtl --name shop-jmeter
  fuka import-results wrk.txt && fuka compare last-completed last
  vegeta attack -rate 100 -duration 30s < targets | fuka import-results -
  fuka import-results k6.json --format k6-json -o json`,
		Args: exactArgs(1, "import-results takes one result file (or - for stdin)"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := report.CheckFormat(output); err != nil {
				return err
			}
			sum, err := results.ImportFile(args[0], stdio.In, results.Options{Format: format, Name: name, Version: version()})
			if err != nil {
				return err
			}
			id, created, err := history.Save(path, sum, "")
			if err != nil {
				return err
			}
			if created != "" {
				fmt.Fprintf(stdio.Err, "fuka: run history started at %s\n", created)
			}
			if output == "json" {
				return sum.WriteJSON(stdio.Out)
			}
			return writeImported(stdio, id, sum)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	addHistoryFlag(fl, &path)
	fl.StringVar(&format, "format", "", "the file's format: "+strings.Join(results.Formats, ", ")+" (default: detected)")
	fl.StringVar(&name, "name", "", "the run's name in the history (default: the tool's name)")
	fl.StringVarP(&output, "output", "o", "text", "what to print: text (a line and the notes) or json (the stored summary)")
	return cmd
}

// writeImported says what was stored and what the numbers are worth.
func writeImported(stdio Stdio, id int64, sum *report.Summary) error {
	im := sum.Imported
	fmt.Fprintf(stdio.Out, "stored run #%d %q from %s (%s): %s requests, %s failed, p99 %s, percentiles %s\n",
		id, sum.Name, im.Tool, im.Format, report.FormatInt(sum.Requests), report.FormatInt(sum.Failed), p99(sum), im.Percentiles)
	if len(im.NotMeasured) > 0 {
		fmt.Fprintf(stdio.Out, "not measured: %s\n", strings.Join(im.NotMeasured, ", "))
	}
	for _, n := range im.Notes {
		fmt.Fprintf(stdio.Out, "note: %s\n", n)
	}
	_, err := fmt.Fprintf(stdio.Out, "compare it: fuka compare RUN %d\n", id)
	return err
}

func p99(sum *report.Summary) string {
	if sum.Imported.Missing("latency.p99_ms") {
		return "not measured"
	}
	return report.FormatFixed(sum.Latency.P99MS, 2) + "ms"
}
