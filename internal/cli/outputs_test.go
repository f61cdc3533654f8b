package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
)

// These tests run the pipeline `fuka attack` and `fuka run`
// share, end to end in process: the results folder, the history, the
// dashboard's stop button, monitors, profiles and outputs.

// syncBuffer is a bytes.Buffer that a running command may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fullSummary decodes the last line of stdout (-o json) as a whole summary.
func fullSummary(t *testing.T, stdout string) *report.Summary {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var s report.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("stdout's last line is not the JSON summary (%v): %q", err, stdout)
	}
	return &s
}

// readSummary decodes a summary.json file.
func readSummary(t *testing.T, path string) *report.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &s
}

// entries lists dir's names; a missing dir has none.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func mustExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: want a non-empty file (%v)", p, err)
		}
	}
}

// isolateResults points $FUKA_RESULTS at a fresh folder for one test.
func isolateResults(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "results")
	t.Setenv("FUKA_RESULTS", dir)
	return dir
}

func TestResultsFolder(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		root := isolateResults(t)
		tg := newTarget(t)
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "200", "-c", "2", "-q")
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		dirs, _ := filepath.Glob(filepath.Join(root, "attack-*"))
		if len(dirs) != 1 {
			t.Fatalf("want one attack-* folder in %s, got %v", root, entries(t, root))
		}
		page := filepath.Join(dirs[0], "report.html")
		mustExist(t, page, filepath.Join(dirs[0], "summary.json"))
		s := readSummary(t, filepath.Join(dirs[0], "summary.json"))
		if s.Requests != 200 || tg.n.Load() != 200 {
			t.Errorf("summary.json requests %d, target served %d; want 200 both", s.Requests, tg.n.Load())
		}
		if !strings.Contains(r.out, "  report       "+page+"\n") {
			t.Errorf("stdout does not name the report %s:\n%s", page, r.out)
		}
	})
	t.Run("two runs in a second", func(t *testing.T) {
		// Folders are named by the second a run started: the second run
		// must not overwrite the first's report.
		root := isolateResults(t)
		tg := newTarget(t)
		for _, n := range []string{"10", "20"} {
			if r := runCLI(t, nil, "attack", tg.URL+"/", "-n", n, "-c", "1", "-q", "--no-history"); r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
		}
		dirs, _ := filepath.Glob(filepath.Join(root, "attack-*"))
		if len(dirs) != 2 {
			t.Fatalf("want two attack-* folders, got %v", entries(t, root))
		}
		var got []int64
		for _, d := range dirs {
			got = append(got, readSummary(t, filepath.Join(d, "summary.json")).Requests)
		}
		slices.Sort(got)
		if !slices.Equal(got, []int64{10, 20}) {
			t.Errorf("the folders' summaries have %v requests, want 10 and 20", got)
		}
	})
	t.Run("no report", func(t *testing.T) {
		root := isolateResults(t)
		tg := newTarget(t)
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "20", "-c", "2", "-q", "--no-report")
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		if got := entries(t, root); len(got) != 0 {
			t.Errorf("--no-report wrote %v", got)
		}
		if strings.Contains(r.out, "report ") {
			t.Errorf("stdout names a report:\n%s", r.out)
		}
	})
	t.Run("report file", func(t *testing.T) {
		root := isolateResults(t)
		tg := newTarget(t)
		dir := t.TempDir()
		page := filepath.Join(dir, "sub", "page.html")
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "20", "-c", "2", "-q", "--report", page)
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		b, err := os.ReadFile(page)
		if err != nil || !bytes.Contains(b, []byte("Content-Security-Policy")) {
			t.Errorf("--report: %v", err)
		}
		if got := entries(t, filepath.Join(dir, "sub")); !slices.Equal(got, []string{"page.html"}) {
			t.Errorf("--report folder holds %v, want only page.html", got)
		}
		if got := entries(t, root); len(got) != 0 {
			t.Errorf("--report also wrote a results folder: %v", got)
		}
		if !strings.Contains(r.out, "  report       "+page+"\n") {
			t.Errorf("stdout does not name %s:\n%s", page, r.out)
		}
	})
	t.Run("results dir", func(t *testing.T) {
		root := isolateResults(t)
		tg := newTarget(t)
		dir := filepath.Join(t.TempDir(), "mine")
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "20", "-c", "2", "-q", "--results", dir)
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		mustExist(t, filepath.Join(dir, "report.html"), filepath.Join(dir, "summary.json"))
		if s := readSummary(t, filepath.Join(dir, "summary.json")); s.Requests != 20 {
			t.Errorf("summary.json requests %d, want 20", s.Requests)
		}
		if got := entries(t, root); len(got) != 0 {
			t.Errorf("--results also wrote into $FUKA_RESULTS: %v", got)
		}
	})
}

// storedRuns lists the runs in the history at path, newest first.
func storedRuns(t *testing.T, path string) []history.Run {
	t.Helper()
	s, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.List(0, "")
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// checkStored checks that the history at path holds one run with status
// and requests, and that `fuka runs` lists it.
func checkStored(t *testing.T, path, status string, requests int64) {
	t.Helper()
	runs := storedRuns(t, path)
	if len(runs) != 1 || runs[0].Status != status || runs[0].Requests != requests {
		t.Fatalf("stored %+v, want one %s run of %d requests", runs, status, requests)
	}
	r := runCLI(t, nil, "runs", "--history", path)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if r.code != ExitOK || len(lines) != 2 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "1  ") || !strings.HasSuffix(lines[1], status) {
		t.Errorf("fuka runs: exit %d, stderr %q\n%s", r.code, r.err, r.out)
	}
}

func TestHistoryStatus(t *testing.T) {
	t.Run("completed", func(t *testing.T) {
		tg := newTarget(t)
		hist := filepath.Join(t.TempDir(), "history.db")
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "50", "-c", "2", "-q", "--no-report", "--history", hist)
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		checkStored(t, hist, history.StatusCompleted, 50)
	})
	t.Run("interrupted", func(t *testing.T) {
		tg := newTarget(t)
		hist := filepath.Join(t.TempDir(), "history.db")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			deadline := time.Now().Add(5 * time.Second)
			for tg.n.Load() < 50 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		r := runCLI(t, ctx, "attack", tg.URL+"/", "-c", "2", "-d", "30s", "-q", "-o", "json", "--no-report", "--history", hist)
		if r.code != ExitInterrupted {
			t.Fatalf("exit %d, want %d (stderr %q)", r.code, ExitInterrupted, r.err)
		}
		s := lastJSON(t, r.out)
		checkStored(t, hist, history.StatusInterrupted, s.Requests)
	})
	t.Run("failed thresholds", func(t *testing.T) {
		tg := newPlanTarget(t, always(200))
		dir := t.TempDir()
		hist := filepath.Join(dir, "history.db")
		path := writePlanFile(t, dir, "plan.yaml", tg.URL, `
base_url: BASE
scenarios:
  s:
    steps: [ { get: /x } ]
load: { clients: 1, iterations: 5 }
thresholds: ["p99 < 1us"]
`)
		r := fuka(t, "run", path, "-q", "--no-report", "--history", hist)
		if r.code != ExitThresholds {
			t.Fatalf("exit %d, want %d (stderr %q)", r.code, ExitThresholds, r.err)
		}
		checkStored(t, hist, history.StatusFailedThresholds, 5)
	})
	t.Run("no history", func(t *testing.T) {
		tg := newTarget(t)
		hist := filepath.Join(t.TempDir(), "history.db")
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "10", "-c", "1", "-q", "--no-report", "--history", hist, "--no-history")
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		if _, err := os.Stat(hist); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("--no-history: the history file exists (%v)", err)
		}
	})
	t.Run("the run that creates it says where, once", func(t *testing.T) {
		tg := newTarget(t)
		data := t.TempDir()
		t.Setenv("XDG_DATA_HOME", data)
		def := filepath.Join(data, "fuka", "history.db")
		named := filepath.Join(t.TempDir(), "mine.db")
		const said = "fuka: run history started at "
		for _, tt := range []struct {
			name string
			args []string
			want string // the path said, "" for nothing
		}{
			{"first run, default path", nil, def},
			{"second run", nil, ""},
			{"quiet first run", []string{"-q", "--history", filepath.Join(t.TempDir(), "q.db")}, ""},
			{"first run, --history", []string{"--history", named}, named},
			{"second run, --history", []string{"--history", named}, ""},
			{"no history", []string{"--no-history", "--history", filepath.Join(t.TempDir(), "n.db")}, ""},
		} {
			r := runCLI(t, nil, append([]string{"attack", tg.URL + "/", "-n", "5", "-c", "1", "-o", "json", "--no-report"}, tt.args...)...)
			if r.code != ExitOK {
				t.Fatalf("%s: exit %d, stderr %q", tt.name, r.code, r.err)
			}
			if tt.want == "" {
				if strings.Contains(r.err, said) {
					t.Errorf("%s: stderr %q says where the history is again", tt.name, r.err)
				}
				continue
			}
			if strings.Count(r.err, said) != 1 || !strings.Contains(r.err, said+tt.want+" (") {
				t.Errorf("%s: stderr %q does not say once %q", tt.name, r.err, said+tt.want)
			}
			if _, err := os.Stat(tt.want); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		tg := newTarget(t)
		hist := filepath.Join(t.TempDir(), "history.db")
		garbage := bytes.Repeat([]byte("garbage "), 1000)
		if err := os.WriteFile(hist, garbage, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "30", "-c", "1", "-q", "-o", "json", "--no-report", "--history", hist)
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		if s := lastJSON(t, r.out); s.Requests != 30 {
			t.Errorf("requests %d, want 30", s.Requests)
		}
		if !strings.Contains(r.err, "fuka: warning: run not stored in history: ") || !strings.Contains(r.err, "not a fuka history database") {
			t.Errorf("stderr %q, want a history warning", r.err)
		}
		if b, _ := os.ReadFile(hist); !bytes.Equal(b, garbage) {
			t.Error("the corrupt history file was changed")
		}
	})
}

// TestDashboardStop: the dashboard's stop button ends the run the way
// Ctrl-C does: in-flight requests finish, the report is complete and says
// interrupted, and the exit code is 130.
func TestDashboardStop(t *testing.T) {
	tg := newTarget(t)
	dir := filepath.Join(t.TempDir(), "results")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout bytes.Buffer // read only after the run
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"fuka", "attack", tg.URL + "/", "-c", "2", "-d", "30s", "-q", "--no-history",
			"--dashboard", "127.0.0.1:0", "--results", dir}, Stdio{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	}()

	dashRE := regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:(\d+)/)\n`)
	var page string
	waitFor(t, "the dashboard URL on stderr", func() bool {
		m := dashRE.FindStringSubmatch(stderr.String())
		if m != nil {
			page = m[1]
		}
		return m != nil
	})
	if strings.HasSuffix(page, ":0/") {
		t.Fatalf("the dashboard URL %s does not name the real port", page)
	}
	waitFor(t, "the target to serve requests", func() bool { return tg.n.Load() >= 100 })

	res, err := http.Get(page)
	if err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<html")) {
			t.Errorf("GET %s: %s", page, res.Status)
		}
	} else {
		t.Errorf("GET %s: %v", page, err)
	}

	// A page following the run gets its end: the final summary, with the
	// report's file: URL.
	final := make(chan string, 1)
	events, err := http.Get(page + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	go func() {
		defer close(final)
		sc := bufio.NewScanner(events.Body)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var ev struct {
				Final     bool   `json:"final"`
				ReportURL string `json:"report_url"`
			}
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &ev) == nil && ev.Final {
				final <- ev.ReportURL
				return
			}
		}
	}()

	// What a browser sends with the page's own fetch('/stop', {method: 'POST'}).
	req, _ := http.NewRequest(http.MethodPost, page+"stop", nil)
	req.Header.Set("Origin", strings.TrimSuffix(page, "/"))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /stop: %s", res.Status)
	}
	stopped := time.Now()
	var code int
	select {
	case code = <-done:
	case <-time.After(12 * time.Second):
		t.Fatalf("the run did not end within 12s of the stop button\nstderr: %s", stderr.String())
	}
	t.Logf("ended %v after the stop button", time.Since(stopped).Round(time.Millisecond))
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, stderr.String())
	}
	mustExist(t, filepath.Join(dir, "report.html"), filepath.Join(dir, "summary.json"))
	if u, want := <-final, "file://"+filepath.ToSlash(filepath.Join(dir, "report.html")); u != want {
		t.Errorf("the dashboard's last event names the report %q, want %q", u, want)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if !s.Interrupted || s.Requests == 0 || s.Requests != tg.n.Load() {
		t.Errorf("summary.json: interrupted %v, requests %d; target served %d", s.Interrupted, s.Requests, tg.n.Load())
	}
	if !strings.Contains(stdout.String(), "report       "+filepath.Join(dir, "report.html")) {
		t.Errorf("stdout does not name the report:\n%s", stdout.String())
	}
}

// TestDashboardStopRefused: a cross-site POST does not stop the run.
func TestDashboardStopRefused(t *testing.T) {
	tg := newTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"fuka", "attack", tg.URL + "/", "-c", "1", "-d", "30s", "-q", "--no-history", "--no-report",
			"--dashboard", "127.0.0.1:0"}, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
	}()
	dashRE := regexp.MustCompile(`dashboard: (http://\S+)\n`)
	var page string
	waitFor(t, "the dashboard URL on stderr", func() bool {
		m := dashRE.FindStringSubmatch(stderr.String())
		if m != nil {
			page = m[1]
		}
		return m != nil
	})
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		req, _ := http.NewRequest(http.MethodPost, page+"stop", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST /stop with %v: %s, want 403", h, res.Status)
		}
	}
	select {
	case code := <-done:
		t.Fatalf("the run ended (exit %d) after refused stops", code)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitInterrupted {
			t.Errorf("exit %d, want %d", code, ExitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end after the context was cancelled")
	}
}

func seriesNames(s *report.Summary) []string {
	if s.Resources == nil {
		return nil
	}
	var names []string
	for _, st := range s.Resources.Series {
		names = append(names, st.Name)
	}
	return names
}

func TestMonitorInSummary(t *testing.T) {
	tg := newTarget(t)
	pid := fmt.Sprint(os.Getpid())
	// 3s: ticks at 0s, 1s and 2s, and rates (cpu.user_pct) need two.
	r := runCLI(t, nil, "attack", tg.URL+"/", "-d", "3s", "-c", "2", "-q", "-o", "json", "--no-report", "--no-history",
		"--monitor", "local", "--monitor", "process="+pid)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	s := fullSummary(t, r.out)
	names := seriesNames(s)
	for _, want := range []string{"cpu.user_pct", "proc." + pid + ".rss_bytes", "proc." + pid + ".cpu_pct", "mem.total_bytes"} {
		if !slices.Contains(names, want) {
			t.Errorf("resources.series lacks %s: %v", want, names)
		}
	}
	if s.Resources != nil {
		if len(s.Resources.Timeline) < 2 {
			t.Errorf("%d resource points in a 3s run, want >= 2", len(s.Resources.Timeline))
		}
		for _, st := range s.Resources.Series {
			if st.Name == "proc."+pid+".rss_bytes" && (st.Peak < 1<<20 || st.Mean <= 0 || st.Samples < 2) {
				t.Errorf("%+v: want an RSS of at least 1 MiB over >= 2 samples", st)
			}
		}
	}

	// The text summary prints peak and mean next to the load results.
	r = runCLI(t, nil, "attack", tg.URL+"/", "-d", "1500ms", "-c", "2", "-q", "--no-report", "--no-history", "--monitor", "process="+pid)
	if r.code != ExitOK {
		t.Fatalf("text: exit %d, stderr %q", r.code, r.err)
	}
	if !regexp.MustCompile(`(?m)^  resources    series\s+peak\s+mean\n(\s{15}\S.*\n)*\s{15}proc\.` + pid + `\.rss_bytes\s+\d+\.\d MiB\s+\d`).MatchString(r.out) {
		t.Errorf("text output lacks the resources block with proc.%s.rss_bytes:\n%s", pid, r.out)
	}
}

// TestMonitorPostgresClosed: the postgres sampler holds a connection pool
// with a goroutine of its own; a run closes every pool it made, the trial
// one of the flag check included.
func TestMonitorPostgresClosed(t *testing.T) {
	tg := newTarget(t)
	dsn := "postgres://fuka@127.0.0.1:" + freePort(t) + "/fuka?connect_timeout=1"
	r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "20", "-c", "1", "-q", "--no-report", "--no-history", "--monitor", "postgres="+dsn)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	// A bad flag after the monitor ends the run before it starts.
	r = runCLI(t, nil, "attack", tg.URL+"/", "-n", "20", "-q", "--no-history", "--monitor", "postgres="+dsn, "--out", "bogus=1")
	oneLine(t, r, "bogus")
	waitFor(t, "no pgxpool goroutines", func() bool {
		buf := make([]byte, 1<<20)
		return !bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("pgxpool"))
	})
}

func TestMonitorBadSource(t *testing.T) {
	tg := newTarget(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nginx ftp", []string{"--monitor", "nginx=ftp://x"}, "nginx"},
		{"unknown kind", []string{"--monitor", "bogus=1"}, `unknown source "bogus"`},
		{"no target", []string{"--monitor", "process"}, "want local or KIND=TARGET"},
		{"agent without token", []string{"--monitor", "agent=127.0.0.1:1"}, "--agent-token-file"},
		{"agent token missing", []string{"--monitor", "agent=127.0.0.1:1", "--agent-token-file", filepath.Join(t.TempDir(), "none")}, "agent"},
		{"process zero", []string{"--monitor", "process=0"}, "PID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"attack", tg.URL + "/", "-n", "10", "-q", "--no-history"}, tt.args...)...)
			oneLine(t, r, tt.want)
			if r.out != "" {
				t.Errorf("stdout %q", r.out)
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests; a bad source must send none", n)
	}
}

// burnFukaCLITestCPU spins until stop is closed, all in its own frame, so
// it has flat time of its own in a CPU profile.
//
//go:noinline
func burnFukaCLITestCPU(stop <-chan struct{}) uint64 {
	x := uint64(1)
	for {
		select {
		case <-stop:
			return x
		default:
		}
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
}

func TestProfile(t *testing.T) {
	tg := newTarget(t)
	mux := http.NewServeMux() // never the default mux: no global handlers
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	pp := httptest.NewServer(mux)
	defer pp.Close()
	stop := make(chan struct{})
	burnt := make(chan uint64, 1)
	go func() { burnt <- burnFukaCLITestCPU(stop) }()
	defer func() { close(stop); <-burnt }()

	// The default results folder: the profiles, made during the run, and
	// the report, made after it, land in the same one.
	root := isolateResults(t)
	r := runCLI(t, nil, "attack", tg.URL+"/", "-d", "3s", "-c", "2", "-q", "-o", "json", "--no-history",
		"--profile", pp.URL+",at=1s,seconds=1,kinds=cpu+goroutine")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "attack-*"))
	if len(dirs) != 1 {
		t.Fatalf("want one attack-* folder in %s, got %v", root, entries(t, root))
	}
	dir := dirs[0]
	mustExist(t, filepath.Join(dir, "report.html"), filepath.Join(dir, "summary.json"))
	s := fullSummary(t, r.out)
	var kinds []string
	for _, p := range s.Profiles {
		kinds = append(kinds, p.Kind)
		if p.Error != "" {
			t.Errorf("%s profile: %s", p.Kind, p.Error)
			continue
		}
		if fi, err := os.Stat(p.File); err != nil || fi.Size() == 0 || filepath.Dir(p.File) != dir {
			t.Errorf("%s profile file %q: want a file in %s (%v)", p.Kind, p.File, dir, err)
		}
		if p.Kind != "cpu" {
			continue
		}
		i := slices.IndexFunc(p.Top, func(f report.ProfileFunc) bool { return strings.Contains(f.Name, "burnFukaCLITestCPU") })
		if i < 0 {
			t.Errorf("burnFukaCLITestCPU is not in the CPU profile's top: %+v", p.Top)
		} else if p.StartedS < 0.4 || p.StartedS > 1 {
			// Its 1s window is centred on at=1s.
			t.Errorf("the CPU profile started at %.3fs, want ~0.5s", p.StartedS)
		}
	}
	if !slices.Equal(kinds, []string{"cpu", "goroutine"}) {
		t.Errorf("profiles %v, want cpu and goroutine", kinds)
	}
}

func TestProfileBadSpec(t *testing.T) {
	tg := newTarget(t)
	for _, spec := range []string{
		"ftp://127.0.0.1:6060",
		"http://127.0.0.1:6060,seconds=0",
		"http://127.0.0.1:6060,kinds=cpu+bogus",
		"http://127.0.0.1:6060,at=later",
		"http://127.0.0.1:6060,foo=1",
	} {
		t.Run(spec, func(t *testing.T) {
			r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "10", "-q", "--no-history", "--profile", spec)
			oneLine(t, r, "--profile ")
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests; a bad --profile must send none", n)
	}
}

// freePort returns a loopback port nobody listens on (for a moment).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func TestOutputs(t *testing.T) {
	t.Run("csv", func(t *testing.T) {
		tg := newTarget(t)
		dir := filepath.Join(t.TempDir(), "csv")
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "50", "-c", "2", "-q", "--no-report", "--no-history", "--csv", dir)
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		mustExist(t, filepath.Join(dir, "timeline.csv"), filepath.Join(dir, "summary.csv"))
	})
	t.Run("notify", func(t *testing.T) {
		var mu sync.Mutex
		var bodies []string
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" {
				bodies = append(bodies, string(b))
			}
		}))
		defer rcv.Close()
		tg := newTarget(t)
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "50", "-c", "2", "-q", "--no-report", "--no-history", "--notify", rcv.URL+"/hook")
		if r.code != ExitOK {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 1 {
			t.Fatalf("the receiver got %d JSON POSTs, want 1", len(bodies))
		}
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(bodies[0]), &msg); err != nil || !strings.Contains(msg.Text, "50 requests") {
			t.Errorf("message %s (%v): want a text naming 50 requests", bodies[0], err)
		}
	})
	t.Run("prometheus", func(t *testing.T) {
		tg := newTarget(t)
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "50", "-c", "2", "-q", "--no-report", "--no-history", "--out", "prometheus=127.0.0.1:0")
		if r.code != ExitOK || r.err != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("prometheus closed after a later error", func(t *testing.T) {
		// The endpoint listens from prepare on; an error found after it (a
		// dashboard off loopback without a token) must not leave it open.
		tg := newTarget(t)
		port := freePort(t)
		r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "10", "-q", "--no-history", "--out", "prometheus=127.0.0.1:"+port, "--dashboard", "192.0.2.1:0")
		oneLine(t, r, "--dashboard")
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("the prometheus endpoint of a run that never started is still open: %v", err)
		}
		ln.Close()
	})
	for _, tt := range []struct{ name, flag, value, want string }{
		{"unknown out", "--out", "bogus=1", `unknown kind "bogus"`},
		{"out without kind", "--out", "127.0.0.1:9464", "want KIND=TARGET"},
		{"prometheus off loopback", "--out", "prometheus=192.0.2.1:9464", "refusing"},
		{"notify ftp", "--notify", "ftp://x/hook", "--notify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "10", "-q", "--no-history", tt.flag, tt.value)
			oneLine(t, r, tt.want)
			if tt.flag == "--out" && (strings.Count(r.err, `"`+tt.value+`"`) != 1 || !strings.Contains(r.err, `--out "`+tt.value+`"`)) {
				t.Errorf("want the flag and its value named once; stderr %q", r.err)
			}
			if n := tg.n.Load(); n != 0 {
				t.Errorf("the target served %d requests", n)
			}
		})
	}
}
