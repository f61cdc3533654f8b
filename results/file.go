package results

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fuka-load/fuka/report"
)

// ImportFile imports the result file at path ("-" = stdin, read from in).
//
// Two things only a file can tell are added: a Locust _stats.csv takes its
// timeline and start from the _stats_history.csv beside it, when there is
// one; and a summary with no start time (wrk, hey, bombardier, Locust and
// k6 summaries) is dated by the file's modification time, when the tool
// wrote it at the run's end, less the run's duration.
func ImportFile(path string, in io.Reader, opt Options) (*report.Summary, error) {
	opt.File = path
	if opt.Format != "" && !slices.Contains(Formats, opt.Format) {
		return nil, formatErr(opt.Format)
	}
	var mtime time.Time
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return nil, fmt.Errorf("%s: a directory, not a result file", path)
			}
			mtime = st.ModTime()
		}
		in = f
	}
	sum, err := Import(in, opt)
	if err != nil {
		return nil, err
	}
	if sum.Imported.Format == LocustStats {
		if err := locustSibling(sum, path); err != nil {
			return nil, err
		}
	}
	if sum.Started.IsZero() && !mtime.IsZero() {
		sum.Started = mtime.Add(-time.Duration(sum.DurationS * float64(time.Second))).Round(time.Millisecond)
		sum.Imported.NotMeasured = deleteKey(sum.Imported.NotMeasured, "started")
		note := "the start time is the file's modification time less the run's duration: " + sum.Imported.Tool + "'s output has none"
		sum.Imported.Notes = append(sum.Imported.Notes, note)
		sum.Warnings = append(sum.Warnings, note)
	}
	return sum, nil
}

// locustSibling adds the timeline of PREFIX_stats_history.csv to the
// summary of PREFIX_stats.csv.
func locustSibling(sum *report.Summary, path string) error {
	prefix, ok := strings.CutSuffix(path, "_stats.csv")
	if !ok {
		return nil
	}
	hist := prefix + "_stats_history.csv"
	f, err := os.Open(hist)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := Import(f, Options{Format: LocustHistory, File: hist})
	if err != nil {
		return err
	}
	sum.Timeline = h.Timeline
	sum.Started = h.Started
	if h.Clients > 0 {
		sum.Clients = h.Clients
	}
	sum.Imported.NotMeasured = deleteKey(deleteKey(sum.Imported.NotMeasured, "timeline"), "started")
	sum.Imported.File += " (and " + hist + ")"
	return nil
}
