package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/report/html"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ResultsDir makes a new folder for a run's files under root ("" =
// $FUKA_RESULTS, else fuka-results): NAME-TIME, or NAME-TIME-2, -3, ... when
// a run started in the same second has one (the later would overwrite the
// earlier's report).
func ResultsDir(root, name string, started time.Time) (string, error) {
	if name == "" {
		name = "attack"
	}
	if root == "" {
		root = os.Getenv("FUKA_RESULTS")
	}
	if root == "" {
		root = "fuka-results"
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("results folder: %w", err)
	}
	base := filepath.Join(root, unsafeName.ReplaceAllString(name, "_")+"-"+started.Format("20060102-150405"))
	for i := 1; ; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("results folder: %w", err)
		}
	}
}

// resultsDir returns (creating it once) the folder for this run's files,
// so that profiles and reports share it: --results, else a new one.
func (r *runner) resultsDir() (string, error) {
	if r.dir != "" {
		return r.dir, nil
	}
	if dir := r.spec.Out.Results; dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("results folder: %w", err)
		}
		r.dir = dir
		return dir, nil
	}
	dir, err := ResultsDir("", r.meta.Name, r.meta.Started)
	if err != nil {
		return "", err
	}
	r.dir = dir
	return dir, nil
}

// writeResults writes the HTML report (and, in the results folder, the
// JSON summary next to it), and names the report in sum.ReportFile.
func (r *runner) writeResults(sum *report.Summary) error {
	path, dir := r.spec.Out.Report, ""
	if path == "" {
		var err error
		if dir, err = r.resultsDir(); err != nil {
			return err
		}
		path = filepath.Join(dir, "report.html")
	}
	// The summary names its HTML report (and so does its text) only once
	// the report is written.
	var htmlErr error
	if err := WriteFileAtomic(path, func(w io.Writer) error { return html.Write(w, sum) }); err != nil {
		htmlErr = fmt.Errorf("--report: %w", err)
	} else {
		sum.ReportFile = path
	}
	if dir != "" {
		if err := WriteFileAtomic(filepath.Join(dir, "summary.json"), sum.WriteJSON); err != nil {
			return errors.Join(err, htmlErr)
		}
	}
	return htmlErr
}

// WriteFileAtomic writes through a temporary file in the same folder,
// renamed into place when complete: a reader, or a run stopped mid-write
// by a second Ctrl-C, never finds half a file (an earlier file at path
// stays as it was until the rename).
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".fuka-*")
	if err != nil {
		return err
	}
	temps.add(f.Name())
	defer temps.remove(f.Name())
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// CheckWritable finds, before the run, that a results file cannot be
// written at path (a missing permission, a folder in the way), without
// touching a file already there: the results are written at the end, and
// atomically (WriteFileAtomic).
func CheckWritable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.CreateTemp(dir, ".fuka-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// temps are the temporary files being written, which a second Ctrl-C
// removes before the process exits (RemoveTemps). It is process state
// because the signal that needs it is.
var temps tempFiles

// RemoveTemps deletes the results files being written, whose writers are
// abandoned: the process is about to exit at once.
func RemoveTemps() { temps.removeAll() }

type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
}

func (t *tempFiles) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

func (t *tempFiles) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

func (t *tempFiles) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name := range t.names {
		os.Remove(name)
	}
}

// remember stores the run in the history, unless --no-history. A failure
// is a warning: the results are printed (and in --json-out), only the
// history entry is missing.
func (r *runner) remember(sum *report.Summary, v verdict) {
	if r.spec.Out.NoHistory {
		return
	}
	_, created, err := history.Save(r.spec.Out.History, sum, v.status())
	if err != nil {
		fmt.Fprintf(r.stderr, "fuka: warning: run not stored in history: %v\n", err)
	} else if created != "" && !r.spec.Out.Quiet {
		// Said once, by the run that creates the file: the history is
		// kept on the user's disk without being asked for.
		fmt.Fprintf(r.stderr, "fuka: run history started at %s (every run is stored there: fuka runs lists them, fuka compare A B compares two; --no-history leaves a run out)\n", created)
	}
}

// writeCI writes the CI files: --junit (report.WriteJUnit), --summary-md
// and, appended, the GitHub step summary (report.WriteMarkdown, with the
// comparison against the previous completed run of the same plan). It is
// called before the run is stored, so that run is the one before this. A
// flag's file that cannot be written is an error (the run must not exit
// 0); the step summary, which nobody asked for by name, only warns.
func (r *runner) writeCI(sum *report.Summary, v verdict) error {
	o := &r.spec.Out
	rv := report.Verdict{Code: v.code(), Status: v.status(), Why: v.why(sum)}
	var errs []error
	if o.JUnit != "" {
		if err := WriteFileAtomic(o.JUnit, func(w io.Writer) error { return report.WriteJUnit(w, sum, rv) }); err != nil {
			errs = append(errs, fmt.Errorf("--junit: %w", err))
		}
	}
	if o.SummaryMD == "" && o.StepSummary == "" {
		return errors.Join(errs...)
	}
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, sum, rv, r.previous(sum, rv.Status)); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if o.SummaryMD != "" {
		if err := WriteFileAtomic(o.SummaryMD, func(w io.Writer) error { _, err := w.Write(md.Bytes()); return err }); err != nil {
			errs = append(errs, fmt.Errorf("--summary-md: %w", err))
		}
	}
	if o.StepSummary != "" {
		if err := appendFile(o.StepSummary, md.Bytes()); err != nil {
			fmt.Fprintf(r.stderr, "fuka: warning: $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	return errors.Join(errs...)
}

// previous is the markdown summary's comparison with the previous
// completed run of the same plan in the history, or a line saying why
// there is none.
func (r *runner) previous(sum *report.Summary, status string) string {
	if r.spec.Out.NoHistory {
		return "History is off (--no-history): this run is not compared with earlier ones."
	}
	prev, err := history.Previous(r.spec.Out.History, sum)
	switch {
	case errors.Is(err, history.ErrNoHistory):
		return "No run history yet, so nothing to compare with: keep the history file (--history FILE) between CI jobs to compare each run with the one before."
	case errors.Is(err, history.ErrNotFound):
		return "No earlier completed run of this plan in the history: nothing to compare with yet."
	case err != nil:
		return "Not compared with earlier runs: " + report.MDEscape(err.Error())
	}
	c := history.Compare(prev.Sum, sum, prev.Run, history.RunOf(sum, status), history.DefaultNoise)
	var b strings.Builder
	if err := c.WriteMarkdown(&b); err != nil {
		return "Not compared with earlier runs: " + report.MDEscape(err.Error())
	}
	return b.String()
}

// appendFile appends b to the file at path in one write, creating it if
// needed: GitHub collects a step's summary from what its commands append.
func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
