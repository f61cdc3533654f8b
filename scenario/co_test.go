//go:build unix

package scenario_test

import (
	"encoding/json"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/fuka-load/fuka/internal/pausetest"
	"github.com/fuka-load/fuka/metrics"
)

// In the open model an iteration's first request is timed from when the
// iteration was due. When the generator falls behind (a GC pause, a
// descheduled VM), starts go out late and the wait belongs in the latency.
// The test pauses the generator for real: the plan runs in a child process
// that the test stops (SIGSTOP) and resumes (SIGCONT), while the target in
// this process stays fast.

const (
	coPlanEnv = "FUKA_TEST_CO_PLAN" // set in the child: the plan's path
	coResult  = "CO-RESULT "
	coLate    = 200 * time.Millisecond
)

type coSummary struct {
	Scheduled, Dropped       int64
	Requests, Failed         int64 // of the first step
	LateLatency, LateService int64 // first step's samples >= coLate
}

func lateCount(h *hdrhistogram.Histogram, d time.Duration) int64 {
	var n int64
	for _, b := range h.Distribution() {
		if b.From >= d.Microseconds() {
			n += b.Count
		}
	}
	return n
}

// TestOpenModelLatencyChild is the child process of
// TestOpenModelLatencyPaused; run by itself it does nothing.
func TestOpenModelLatencyChild(t *testing.T) {
	path := os.Getenv(coPlanEnv)
	if path == "" {
		t.Skip("helper process of TestOpenModelLatencyPaused")
	}
	res := runPlan(t, path)
	var first *metrics.Stats
	for i, n := range res.Run.Names {
		if n == "first" {
			first = res.Run.ByName[i]
		}
	}
	if first == nil {
		t.Fatalf("no request named first in %q", res.Run.Names)
	}
	b, err := json.Marshal(coSummary{
		Scheduled: res.Scheduled, Dropped: res.Run.Dropped, Requests: first.Requests, Failed: first.Failed,
		LateLatency: lateCount(first.Latency, coLate), LateService: lateCount(first.Service, coLate),
	})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("\n" + coResult + string(b) + "\n")
}

// TestOpenModelLatencyPaused stops a 200/s plan's generator for 500 ms a
// fifth of a second in: ~100 iterations fall due while it sleeps and start
// when it wakes, up to 500 ms late. Their first request's latency must
// include that wait (about 60 wait >= 200 ms) for a response and for a
// failed request alike; its service time, from the send, stays short.
func TestOpenModelLatencyPaused(t *testing.T) {
	if os.Getenv(coPlanEnv) != "" {
		t.Skip("in the child")
	}
	for _, outcome := range []string{"response", "failure"} {
		t.Run(outcome, func(t *testing.T) {
			var served atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				if outcome == "response" {
					_, _ = w.Write([]byte("ok"))
					return
				}
				// A reply no HTTP client can parse: the request fails.
				conn, bw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				_, _ = bw.WriteString("NOT HTTP\r\n\r\n")
				_ = bw.Flush()
				_ = conn.Close()
			})
			path := writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /first
        name: first
load:
  rate: [ { target: 200, over: 0s }, { target: 200, over: 2s } ]
  max_clients: 300
`, nil)
			sum := runPausedPlan(t, path, &served, 40, 500*time.Millisecond)
			t.Logf("%+v (served %d)", sum, served.Load())
			if sum.Scheduled != 400 || sum.Requests+sum.Dropped != sum.Scheduled || sum.Requests != served.Load() {
				t.Errorf("scheduled %d, requests %d, dropped %d, served %d; want all 400 starts accounted for",
					sum.Scheduled, sum.Requests, sum.Dropped, served.Load())
			}
			if outcome == "failure" && sum.Failed != sum.Requests {
				t.Errorf("failed %d of %d, want every one", sum.Failed, sum.Requests)
			}
			if late := sum.LateLatency - sum.LateService; late < 30 {
				t.Errorf("%d samples >= %v in latency, %d in service time: %d late starts show, want >= 30 "+
					"(the first request's latency must count from the intended start)",
					sum.LateLatency, coLate, sum.LateService, late)
			}
		})
	}
}

// runPausedPlan runs TestOpenModelLatencyChild on the plan at path, stops it
// for pause once the target has served after requests, and returns what it
// measured.
func runPausedPlan(t *testing.T, path string, served *atomic.Int64, after int64, pause time.Duration) coSummary {
	t.Helper()
	res := pausetest.Run(t, pausetest.Child{Test: "TestOpenModelLatencyChild", Env: []string{coPlanEnv + "=" + path}, Prefix: coResult}, served, after, pause)
	var sum coSummary
	if err := json.Unmarshal([]byte(res), &sum); err != nil {
		t.Fatalf("child result %q: %v", res, err)
	}
	return sum
}

// TestOpenModelWebSocketLatencyPaused is TestOpenModelLatencyPaused for a
// WebSocket iteration: its first step, the handshake, is timed from when
// the iteration was due, so the starts the pause made late show in its
// latency and not in its service time.
func TestOpenModelWebSocketLatencyPaused(t *testing.T) {
	if os.Getenv(coPlanEnv) != "" {
		t.Skip("in the child")
	}
	s := &wsCounter{}
	srv := server(t, s.handler)
	path := writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /echo
        name: first
        timeout: 2s
      - send: hi
        expect: { contains: hi }
        timeout: 2s
      - close: 1000
load:
  rate: [ { target: 200, over: 0s }, { target: 200, over: 2s } ]
  max_clients: 300
`, nil)
	sum := runPausedPlan(t, path, &s.accepted, 40, 500*time.Millisecond)
	t.Logf("%+v (accepted %d, received %d)", sum, s.accepted.Load(), s.received.Load())
	if sum.Scheduled != 400 || sum.Requests+sum.Dropped != sum.Scheduled || sum.Requests != s.accepted.Load() || sum.Failed != 0 {
		t.Errorf("scheduled %d, handshakes %d (failed %d), dropped %d, accepted %d; want all 400 starts accounted for",
			sum.Scheduled, sum.Requests, sum.Failed, sum.Dropped, s.accepted.Load())
	}
	if late := sum.LateLatency - sum.LateService; late < 30 {
		t.Errorf("%d handshakes >= %v in latency, %d in service time: %d late starts show, want >= 30 "+
			"(the first step's latency must count from the intended start)",
			sum.LateLatency, coLate, sum.LateService, late)
	}
}
