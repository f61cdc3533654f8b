package results

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// tool finds a load tool on PATH. wrk and Locust are Debian packages that
// CI installs: with FUKA_INTEGRATION=1 their absence fails the test.
// vegeta, hey and bombardier come from the Go module proxy (.ci/run
// installs them when it can): their absence skips.
func tool(t *testing.T, name string, required bool) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if required && os.Getenv("FUKA_INTEGRATION") == "1" {
		t.Fatalf("%s is required (FUKA_INTEGRATION=1) but not installed", name)
	}
	t.Skipf("%s not installed", name)
	return ""
}

// counted is a loopback target that counts what it answered: 200 after
// 2 ms, every tenth request 500.
type counted struct {
	srv       *httptest.Server
	n, failed atomic.Int64
}

func newCounted(t *testing.T) *counted {
	c := &counted{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		if c.n.Add(1)%10 == 0 {
			c.failed.Add(1)
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// runTool runs a tool (bounded in time) and returns its standard output.
// Locust exits 1 when any request failed, as the target makes some do.
func runTool(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && filepath.Base(name) == "locust" {
		err = nil
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, errb.String())
	}
	return out.Bytes()
}

// TestRealTools runs each installed tool against a counting target and
// imports its output: the imported counts must be the target's (exactly
// for a tool told how many requests to send; within the connections still
// open at the end for a timed one), and the latencies at least the
// target's 2 ms.
func TestRealTools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load tools")
	}
	for _, tc := range []struct {
		name     string
		required bool
		exact    bool // the tool was told the number of requests
		// lagging: the file is written once a second, not at the end
		// (Locust 2.12's _stats.csv): it may miss the last second.
		lagging bool
		run     func(t *testing.T, path, url, dir string) []byte
	}{
		{"wrk", true, false, false, func(t *testing.T, path, url, _ string) []byte {
			return runTool(t, "", path, "-t", "1", "-c", "4", "-d", "1s", "--latency", url)
		}},
		{"hey", false, true, false, func(t *testing.T, path, url, _ string) []byte {
			return runTool(t, "", path, "-n", "200", "-c", "4", url)
		}},
		{"bombardier", false, true, false, func(t *testing.T, path, url, _ string) []byte {
			return runTool(t, "", path, "-c", "4", "-n", "200", "-l", "-o", "json", "-p", "r", url)
		}},
		{"vegeta", false, true, false, func(t *testing.T, path, url, dir string) []byte {
			targets := filepath.Join(dir, "targets")
			os.WriteFile(targets, []byte("GET "+url+"\n"), 0o644)
			return runTool(t, "", path, "attack", "-rate", "200", "-duration", "1s", "-targets", targets)
		}},
		{"locust", true, false, true, func(t *testing.T, path, url, dir string) []byte {
			lf := filepath.Join(dir, "locustfile.py")
			os.WriteFile(lf, []byte("from locust import HttpUser, task, constant\n\nclass U(HttpUser):\n    wait_time = constant(0.01)\n\n    @task\n    def home(self):\n        self.client.get(\"/\", name=\"home\")\n"), 0o644)
			runTool(t, dir, path, "-f", lf, "--headless", "-u", "2", "-r", "2", "-t", "4s", "--host", url, "--csv", "run", "--only-summary")
			data, err := os.ReadFile(filepath.Join(dir, "run_stats.csv"))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tool(t, tc.name, tc.required)
			target := newCounted(t)
			out := tc.run(t, path, target.srv.URL+"/", t.TempDir())
			sum, err := Import(bytes.NewReader(out), Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			served, failed := target.n.Load(), target.failed.Load()
			if tc.exact && (sum.Requests != served || sum.Failed != failed) {
				t.Errorf("imported %d requests, %d failed; the target answered %d, %d of them 500", sum.Requests, sum.Failed, served, failed)
			}
			if tc.lagging && (sum.Requests > served || sum.Requests < served*6/10) {
				t.Errorf("imported %d requests; the target answered %d: more than the last second is missing", sum.Requests, served)
			}
			if !tc.exact && !tc.lagging && (sum.Requests > served || sum.Requests < served-4 || sum.Failed > failed || sum.Failed < failed-4) {
				t.Errorf("imported %d requests, %d failed; the target answered %d, %d of them 500 (up to 4 may be cut off at the end)", sum.Requests, sum.Failed, served, failed)
			}
			if p50 := sum.Latency.P50MS; p50 < 2 && !sum.Imported.Missing("latency.p50_ms") {
				t.Errorf("p50 %v ms: below the target's 2 ms", p50)
			}
			t.Logf("%s: %d requests (target %d), %d failed, p50 %.3f ms, p99 %.3f ms, %s",
				tc.name, sum.Requests, served, sum.Failed, sum.Latency.P50MS, sum.Latency.P99MS, sum.Imported.Percentiles)
		})
	}
}
