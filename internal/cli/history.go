package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

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

// SaveRun stores a finished (or interrupted) run's summary in the history
// at path ("" = history.DefaultPath()) and returns its id. The run commands
// call it after the results are written; on an error they print a warning
// and carry on, so a corrupt or locked history never loses a run's JSON.
func SaveRun(path string, sum *report.Summary, status string) (id int64, err error) {
	if path == "" {
		if path, err = history.DefaultPath(); err != nil {
			return 0, err
		}
	}
	s, err := history.Open(path)
	if err != nil {
		return 0, err
	}
	id, err = s.Save(sum, status)
	if cerr := s.Close(); err == nil && cerr != nil {
		return 0, cerr
	}
	return id, err
}

// addHistoryFlag adds --history FILE.
func addHistoryFlag(fl *pflag.FlagSet, path *string) {
	fl.StringVar(path, "history", "", "run history database `FILE` (default $XDG_DATA_HOME/fuka/history.db, else ~/.local/share/fuka/history.db)")
}

// historyPath is --history, or the default path.
func historyPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return history.DefaultPath()
}

// errNoHistory: the history file does not exist yet.
var errNoHistory = errors.New("no run history yet")

// openHistory opens an existing history for reading. Reading never creates
// one: a missing file is errNoHistory, said plainly.
func openHistory(flag string) (*history.Store, error) {
	path, err := historyPath(flag)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("history %s: %w (fuka run and fuka attack store each run there; or pass --history FILE)", path, errNoHistory)
	}
	return history.Open(path)
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
			s, err := openHistory(path)
			if errors.Is(err, errNoHistory) {
				fmt.Fprintln(stdio.Out, "no runs yet")
				return nil
			}
			if err != nil {
				return err
			}
			defer s.Close()
			runs, err := s.List(limit, name)
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				if name != "" {
					fmt.Fprintf(stdio.Out, "no runs of %q yet\n", name)
				} else {
					fmt.Fprintln(stdio.Out, "no runs yet")
				}
				return nil
			}
			return history.WriteRuns(stdio.Out, runs)
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
			if format != "text" && format != "json" {
				return fmt.Errorf("-o %q: want text or json", format)
			}
			s, err := openHistory(path)
			if err != nil {
				return err
			}
			defer s.Close()
			sd, err := resolveStored(s, args[0], "", 0)
			if err != nil {
				return err
			}
			if sd == nil {
				return fmt.Errorf("report: %q is not a run id, last or last-completed", args[0])
			}
			if htmlOut != "" {
				if err := run.WriteFileAtomic(htmlOut, func(w io.Writer) error { return reporthtml.Write(w, sd.sum) }); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			if format == "json" {
				return sd.sum.WriteJSON(stdio.Out)
			}
			return sd.sum.WriteText(stdio.Out)
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
			nf, err := parseNoise(noise)
			if err != nil {
				return err
			}
			a, b, err := resolvePair(path, name, args[0], args[1])
			if err != nil {
				return err
			}
			c := history.Compare(a.sum, b.sum, a.run, b.run, nf)
			c.SourceA, c.SourceB = a.source, b.source
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

// parseNoise reads "5%" or "5" (both percent) as 0.05.
func parseNoise(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1000 {
		return 0, fmt.Errorf("--noise %q: want a percentage such as 5%%", s)
	}
	return v / 100, nil
}

// side is one run of a comparison: stored (run.ID > 0) or read from a file.
type side struct {
	sum    *report.Summary
	run    history.Run
	source string // the file it was read from
}

// keyword tells last / last-completed apart from ids and files, and gives
// the status it selects.
func keyword(arg string) (status string, ok bool) {
	switch arg {
	case "last":
		return "", true
	case "last-completed":
		return history.StatusCompleted, true
	}
	return "", false
}

// runID parses a run id: a positive integer.
func runID(arg string) (int64, bool) {
	id, err := strconv.ParseInt(arg, 10, 64)
	return id, err == nil && id > 0
}

// resolveStored reads arg as a run id or a keyword from s; nil, nil when it
// is neither. A keyword picks the newest matching run of plan name ("" =
// any) older than run before (0 = any).
func resolveStored(s *history.Store, arg, name string, before int64) (*side, error) {
	id, isID := runID(arg)
	if !isID {
		status, ok := keyword(arg)
		if !ok {
			return nil, nil
		}
		var err error
		if id, err = s.LatestBefore(name, status, before); err != nil {
			return nil, err
		}
	}
	sum, run, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	return &side{sum: sum, run: run}, nil
}

// resolvePair reads compare's two arguments. Ids and files are read first;
// then a keyword B is the newest run, and a keyword A the newest before B,
// so that "last-completed last" compares the run just made with the good
// one before it, even when the run just made is itself completed.
func resolvePair(path, name, argA, argB string) (a, b *side, err error) {
	var s *history.Store
	store := func() (*history.Store, error) {
		if s != nil {
			return s, nil
		}
		st, err := openHistory(path)
		if err != nil {
			return nil, err
		}
		s = st
		return s, nil
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()

	fixed := func(arg string) (*side, error) {
		if _, ok := keyword(arg); ok {
			return nil, nil
		}
		if _, ok := runID(arg); ok {
			st, err := store()
			if err != nil {
				return nil, err
			}
			return resolveStored(st, arg, "", 0)
		}
		return readSummaryFile(arg)
	}
	if a, err = fixed(argA); err != nil {
		return nil, nil, err
	}
	if b, err = fixed(argB); err != nil {
		return nil, nil, err
	}
	if b == nil {
		st, err := store()
		if err != nil {
			return nil, nil, err
		}
		if b, err = resolveStored(st, argB, name, 0); err != nil {
			return nil, nil, err
		}
	}
	if a == nil {
		st, err := store()
		if err != nil {
			return nil, nil, err
		}
		plan := name
		if plan == "" {
			plan = b.run.Name
		}
		if a, err = resolveStored(st, argA, plan, b.run.ID); err != nil {
			return nil, nil, err
		}
	}
	return a, b, nil
}

// readSummaryFile reads a JSON summary written by --json-out or -o json.
func readSummaryFile(path string) (*side, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q is not a run id, last, last-completed or a JSON summary file (no such file)", path)
		}
		return nil, err
	}
	// A summary has fuka_version; checking for it tells a summary from
	// any other JSON (a plan, a HAR) before numbers are compared.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (%v)", path, err)
	}
	if _, ok := keys["fuka_version"]; !ok {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (no fuka_version key)", path)
	}
	var sum report.Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, fmt.Errorf("%s: not a fuka JSON summary (%v)", path, err)
	}
	return &side{sum: &sum, run: history.RunOf(&sum, ""), source: path}, nil
}
