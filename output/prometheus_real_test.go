package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/cli"
	"github.com/fuka-load/fuka/output"
)

// prometheusBinary finds Debian's prometheus; it skips when absent,
// unless FUKA_INTEGRATION=1 demands it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if os.Getenv("FUKA_INTEGRATION") == "1" {
		t.Fatal("prometheus is required (FUKA_INTEGRATION=1) but not installed: apt-get install prometheus")
	}
	t.Skip("prometheus not installed (apt-get install prometheus; FUKA_INTEGRATION=1 makes this a failure)")
	return ""
}

// startPrometheus runs a Prometheus server with the remote-write receiver
// on a free loopback port, its data in a temporary directory, and returns
// its base URL.
func startPrometheus(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready after 60s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// promResult is one series of an instant query's answer.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant PromQL query at time at.
func query(t *testing.T, base, q string, at time.Time) ([]promResult, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.PostForm(base+"/api/v1/query", url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", q, r.Error)
	}
	return r.Data.Result, nil
}

// scalar runs a query that must answer one number.
func scalar(t *testing.T, base, q string, at time.Time) float64 {
	t.Helper()
	res, err := query(t, base, q, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%s: %d series, want 1: %v", q, len(res), res)
	}
	s, _ := res[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: value %v", q, res[0].Value)
	}
	return v
}

// bucketOf returns the bounds (lo, hi] of the latency bucket holding v.
func bucketOf(v float64) (lo, hi float64) {
	lo = 0
	for _, b := range output.LatencyBounds {
		if v <= b {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(1)
}

// TestRealPrometheusRemoteWrite runs fuka attack with --out prometheus-rw
// into a real Prometheus and reads the run back with PromQL: the request
// count is the summary's, the p50 and p99 from histogram_quantile are in
// the bucket of fuka's exact ones, and every query of the Grafana
// dashboard runs and (but for checks, which quick mode has none of)
// returns data.
func TestRealPrometheusRemoteWrite(t *testing.T) {
	base := startPrometheus(t, prometheusBinary(t))

	// A target whose latency spreads over 0-10 ms, so the quantiles fall
	// in different buckets.
	var n atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		time.Sleep(time.Duration(i%50) * 200 * time.Microsecond)
		if i%97 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		io.WriteString(w, "ok")
	}))
	defer target.Close()

	runID := "real-prom-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := cli.Main(ctx, []string{"fuka", "attack", target.URL + "/x", "-c", "4", "-d", "4s",
		"-q", "-o", "json", "--no-report", "--no-history", "--monitor", "local", "--run-id", runID,
		"--out", "prometheus-rw=" + base + "/api/v1/write|batch=500"},
		cli.Stdio{Out: &stdout, Err: &stderr})
	if code != 0 {
		t.Fatalf("fuka attack exit %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
	end := time.Now()
	var sum struct {
		Requests int64            `json:"requests"`
		Status   map[string]int64 `json:"status"`
		Latency  struct {
			P50MS float64 `json:"p50_ms"`
			P99MS float64 `json:"p99_ms"`
		} `json:"latency"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, stdout.String())
	}
	for _, w := range sum.Warnings {
		if strings.Contains(w, "prometheus-rw") {
			t.Errorf("warning %q: every sample should have been delivered", w)
		}
	}
	if strings.Contains(stderr.String(), "prometheus-rw") {
		t.Errorf("stderr: %s", stderr.String())
	}
	t.Logf("fuka: %d requests, p50 %.3f ms, p99 %.3f ms", sum.Requests, sum.Latency.P50MS, sum.Latency.P99MS)

	sel := `{run_id="` + runID + `"}`
	if got := scalar(t, base, "sum(fuka_requests_total"+sel+")", end); int64(got) != sum.Requests || sum.Requests == 0 {
		t.Errorf("PromQL sum(fuka_requests_total) = %v, fuka's summary %d", got, sum.Requests)
	}
	for status, want := range sum.Status {
		q := `sum(fuka_responses_total{run_id="` + runID + `", status="` + status + `"})`
		if got := scalar(t, base, q, end); int64(got) != want {
			t.Errorf("%s = %v, fuka's summary %d", q, got, want)
		}
	}
	if got := scalar(t, base, "sum(fuka_latency_seconds_count"+sel+")", end); int64(got) != sum.Requests {
		t.Errorf("sum(fuka_latency_seconds_count) = %v, want %d", got, sum.Requests)
	}
	for _, c := range []struct {
		q    float64
		fuka float64 // ms
	}{{0.5, sum.Latency.P50MS}, {0.99, sum.Latency.P99MS}} {
		q := fmt.Sprintf("histogram_quantile(%v, sum by (le) (fuka_latency_seconds_bucket%s))", c.q, sel)
		got := scalar(t, base, q, end)
		lo, hi := bucketOf(got)
		exact := c.fuka / 1000
		t.Logf("%s = %.6f s; fuka %.6f s; bucket (%v, %v]", q, got, exact, lo, hi)
		if exact > lo && exact <= hi {
			continue
		}
		// fuka ranks a percentile at round(q·N), Prometheus at q·N: when
		// the buckets up to lo hold exactly fuka's rank, fuka's value is
		// the last one at or below lo and Prometheus reads the next
		// bucket. Both are right; anything further apart is not.
		rank := max(1, math.Floor(c.q*float64(sum.Requests)+0.5))
		below, _ := bucketOf(lo)
		cum := scalar(t, base, `sum(fuka_latency_seconds_bucket{run_id="`+runID+`", le="`+strconv.FormatFloat(lo, 'g', -1, 64)+`"})`, end)
		if exact > below && exact <= lo && cum >= rank && cum < c.q*float64(sum.Requests) {
			t.Logf("fuka's rank %v is the count up to %v (%v): its value is in the bucket below", rank, lo, cum)
			continue
		}
		t.Errorf("%s = %.6f s, in the bucket (%v, %v], but fuka's is %.6f s (count up to %v: %v)", q, got, lo, hi, exact, lo, cum)
	}
	if res, err := query(t, base, `fuka_monitor_value{run_id="`+runID+`", source="host", series="cpu.user_pct"}`, end); err != nil || len(res) != 1 {
		t.Errorf("host CPU from --monitor local: %v %v", res, err)
	}

	// Every query of the dashboard runs against what fuka wrote.
	qs := output.DashboardQueries(t, "../deploy/grafana/fuka-dashboard.json")
	vars := strings.NewReplacer("$run_id", runID, "$__rate_interval", "10s", "$name", ".*", "$source", ".*")
	for _, q := range qs {
		if strings.HasPrefix(q, "label_values(") {
			continue // Grafana's, not PromQL
		}
		res, err := query(t, base, vars.Replace(q), end)
		switch {
		case err != nil:
			t.Errorf("dashboard query %s: %v", q, err)
		case len(res) == 0 && !strings.Contains(q, "fuka_checks_total"):
			t.Errorf("dashboard query %s: no data", q)
		}
	}
}
