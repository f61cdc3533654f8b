package output

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// The files WriteCSV writes.
const (
	TimelineCSV  = "timeline.csv"
	SummaryCSV   = "summary.csv"
	ResourcesCSV = "resources.csv"
)

// CSV is a sink that writes the CSV files of the run into a directory at
// Close; everything it writes is in the summary, so Tick does nothing.
type CSV struct {
	dir string
}

// NewCSV returns a sink that writes into dir, creating it now so that a
// directory that cannot be written fails before the run rather than after.
func NewCSV(dir string) (*CSV, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	return &CSV{dir: dir}, nil
}

// Tick does nothing: the summary holds the timeline.
func (*CSV) Tick(time.Duration, metrics.Point, *metrics.Run) {}

// Close writes the files; see WriteCSV. A nil summary (the run never got
// going) writes nothing.
func (c *CSV) Close(_ context.Context, sum *report.Summary) error {
	if sum == nil {
		return nil
	}
	return WriteCSV(c.dir, sum)
}

// WriteCSV writes the run's tables into dir, one file each, with a header
// row and numbers in the units of the JSON summary (seconds, milliseconds,
// ratios 0..1):
//
//	timeline.csv   one row per interval: t_s, requests, rps, failed, dropped, clients,
//	               bytes_in, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, errors_<kind>...
//	summary.csv    one row per request name, then the total (name ""): name, requests,
//	               failed, error_rate, rps, min_ms, mean_ms, p50_ms ... p999_ms, max_ms
//	resources.csv  when resources were monitored: t_s, then one column per series;
//	               an empty cell is a gap (the sampler failed then)
//
// Each file is written under a temporary name and renamed, so a reader never
// sees half a file. Names are written as they are, quoted where CSV needs it.
func WriteCSV(dir string, sum *report.Summary) error {
	if sum == nil {
		return errors.New("csv: no summary")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	type file struct {
		name string
		rows [][]string
	}
	files := []file{{TimelineCSV, timelineRows(sum)}, {SummaryCSV, summaryRows(sum)}}
	if sum.Resources != nil {
		files = append(files, file{ResourcesCSV, resourceRows(sum.Resources)})
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.rows); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
	}
	return nil
}

func timelineRows(sum *report.Summary) [][]string {
	head := []string{"t_s", "requests", "rps", "failed", "dropped", "clients", "bytes_in",
		"p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms"}
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		head = append(head, "errors_"+k.String())
	}
	rows := [][]string{head}
	for _, p := range sum.Timeline {
		row := make([]string, 0, len(head))
		row = append(row, num(p.TS), integer(p.Requests), num(p.RPS), integer(p.Failed),
			integer(p.Dropped), integer(int64(p.Clients)), integer(p.BytesIn),
			optNum(p.P50MS), optNum(p.P90MS), optNum(p.P95MS), optNum(p.P99MS), optNum(p.MaxMS))
		for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
			row = append(row, integer(p.Errors[k]))
		}
		rows = append(rows, row)
	}
	return rows
}

func summaryRows(sum *report.Summary) [][]string {
	rows := [][]string{{"name", "requests", "failed", "error_rate", "rps",
		"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}}
	row := func(name string, requests, failed int64, errRate, rps float64, l report.Latency) []string {
		return []string{name, integer(requests), integer(failed), num(errRate), num(rps),
			num(l.MinMS), num(l.MeanMS), num(l.P50MS), num(l.P90MS), num(l.P95MS),
			num(l.P99MS), num(l.P999MS), num(l.MaxMS)}
	}
	for _, n := range sum.ByName {
		rows = append(rows, row(n.Name, n.Requests, n.Failed, errorRate(n.Failed, n.Requests), n.RPS, n.Latency))
	}
	return append(rows, row("", sum.Requests, sum.Failed, sum.ErrorRate, sum.RPS, sum.Latency))
}

// errorRate is failed/requests to six decimals, as the JSON summary rounds
// its own error_rate.
func errorRate(failed, requests int64) float64 {
	if requests <= 0 {
		return 0
	}
	return math.Round(float64(failed)/float64(requests)*1e6) / 1e6
}

// resourceRows lays the series out as columns: those the summary lists, in
// its order, then any the timeline holds beyond them, sorted.
func resourceRows(r *report.Resources) [][]string {
	var cols []string
	seen := make(map[string]bool)
	for _, s := range r.Series {
		if !seen[s.Name] {
			seen[s.Name] = true
			cols = append(cols, s.Name)
		}
	}
	var extra []string
	for _, p := range r.Timeline {
		for name := range p.Values {
			if !seen[name] {
				seen[name] = true
				extra = append(extra, name)
			}
		}
	}
	slices.Sort(extra)
	cols = append(cols, extra...)

	rows := [][]string{append([]string{"t_s"}, cols...)}
	for _, p := range r.Timeline {
		row := make([]string, 0, 1+len(cols))
		row = append(row, num(p.TS))
		for _, c := range cols {
			if v, ok := p.Values[c]; ok {
				row = append(row, num(v))
			} else {
				row = append(row, "")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// writeFile writes rows to a temporary file next to path and renames it.
func writeFile(path string, rows [][]string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil { // WriteAll flushes
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// num writes f in the shortest form that reads back exactly; non-finite
// values (which the summary never holds) are left empty.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// optNum is num for a value that may be absent: an empty cell, as JSON's null.
func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}

func integer(n int64) string { return strconv.FormatInt(n, 10) }
