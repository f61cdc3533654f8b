//go:build unix

package engine

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/pausetest"
	"github.com/fuka-load/fuka/metrics"
)

// The open model's latency counts from when a start was due, not from when
// it was sent. When the generator itself falls behind (a GC pause, a
// descheduled VM, a stopped process), the starts it owed go out late, and
// the wait is part of what a user would have seen. With enough free clients
// and a fast target, sending late is the only way the two clocks differ, so
// these tests pause the generator for real: the engine runs in a child
// process that the test stops with SIGSTOP and resumes with SIGCONT, while
// the target (in this process) stays fast. A run that measured from the send
// would show no slow request at all.

const (
	coChildEnv = "FUKA_TEST_CO_CHILD" // set in the child: the target's URL
	coStdEnv   = "FUKA_TEST_CO_STD"   // "1": the child uses net/http
	coResult   = "CO-RESULT "         // prefix of the child's result line
	coLate     = 200 * time.Millisecond
)

// coSummary is what the child reports of its run.
type coSummary struct {
	Transport                    string
	Scheduled, Requests, Dropped int64
	Failed                       int64
	LateLatency, LateService     int64 // samples >= coLate
	P99Latency, P99Service       time.Duration
}

// TestCoordinatedOmissionChild is the child process of
// TestCoordinatedOmissionPaused; run by itself it does nothing.
func TestCoordinatedOmissionChild(t *testing.T) {
	url := os.Getenv(coChildEnv)
	if url == "" {
		t.Skip("helper process of TestCoordinatedOmissionPaused")
	}
	tr := transports[0]
	if os.Getenv(coStdEnv) == "1" {
		tr = transports[1]
	}
	// 200/s for 2 s with clients to spare: a start can only be late because
	// the generator was, and no start is dropped for want of a client.
	res, _ := run(t, tr, Config{Load: Open{Rate: rate(t, "200", 2*time.Second), MaxClients: 300}, Work: Request{Request: newReq(t, "GET", url, nil, nil), Timeout: 5 * time.Second}})
	tot := res.Run.Total
	b, err := json.Marshal(coSummary{
		Transport: res.Transport, Scheduled: res.Scheduled, Requests: tot.Requests, Dropped: res.Run.Dropped,
		Failed:      tot.Failed,
		LateLatency: slowCount(tot.Latency, coLate), LateService: slowCount(tot.Service, coLate),
		P99Latency: metrics.Percentile(tot.Latency, 99), P99Service: metrics.Percentile(tot.Service, 99),
	})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("\n" + coResult + string(b) + "\n")
}

// TestCoordinatedOmissionPaused stops the generator for 500 ms a fifth of a
// second into a 200/s run: ~100 starts fall due while it sleeps and go out
// when it wakes, up to 500 ms late. Their latency must include that wait
// (about 60 of them wait >= 200 ms), on both transports and for both
// complete responses and failed requests, while the service time, measured
// from the send, stays short. Paused across the run's planned end, the
// generator must still account for every start that fell due before it.
func TestCoordinatedOmissionPaused(t *testing.T) {
	if os.Getenv(coChildEnv) != "" {
		t.Skip("in the child")
	}
	const (
		pauseAfter = 40 // requests served before the pause (~200 ms at 200/s)
		pause      = 500 * time.Millisecond
		wantLate   = 30 // of ~60 expected
	)
	cases := []struct {
		name       string
		outcome    string
		pauseAfter int64 // requests served before the pause
		wantLate   int64 // samples the pause must make late (of ~60 expected early, ~40 at the end)
	}{
		{"response", "response", pauseAfter, wantLate},
		{"failure", "failure", pauseAfter, wantLate},
		// Paused from 1.8 s to 2.3 s: the run's end falls due during the
		// pause. The starts due before the end are still sent (late), not
		// lost to the stop that is also overdue.
		{"across the end", "response", 360, 20},
	}
	for _, tr := range transports {
		for _, tc := range cases {
			outcome := tc.outcome
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				var served atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					served.Add(1)
					if outcome == "response" {
						_, _ = w.Write([]byte("ok"))
						return
					}
					// A reply no HTTP client can parse: the request fails
					// after the target processed it.
					conn, bw, err := w.(http.Hijacker).Hijack()
					if err != nil {
						return
					}
					_, _ = bw.WriteString("NOT HTTP\r\n\r\n")
					_ = bw.Flush()
					_ = conn.Close()
				}))
				defer srv.Close()
				sum := runPausedChild(t, tr, srv.URL+"/", &served, tc.pauseAfter, pause)
				t.Logf("%+v (served %d)", sum, served.Load())
				if sum.Scheduled != 400 || sum.Requests+sum.Dropped != sum.Scheduled {
					t.Errorf("scheduled %d (requests %d + dropped %d), want all 400 starts accounted for",
						sum.Scheduled, sum.Requests, sum.Dropped)
				}
				if sum.Requests != served.Load() {
					t.Errorf("requests %d, served %d", sum.Requests, served.Load())
				}
				if outcome == "failure" && sum.Failed != sum.Requests {
					t.Errorf("failed %d of %d requests, want every one", sum.Failed, sum.Requests)
				}
				// Latency >= service for every sample, so the difference in
				// late samples is the starts the pause delayed. Measuring
				// from the send makes the two histograms identical.
				if late := sum.LateLatency - sum.LateService; late < tc.wantLate {
					t.Errorf("%d samples >= %v in latency, %d in service time: %d late starts show, want >= %d "+
						"(latency must count from the intended start)", sum.LateLatency, coLate, sum.LateService,
						late, tc.wantLate)
				}
			})
		}
	}
}

// runPausedChild runs TestCoordinatedOmissionChild against url, stops it
// with SIGSTOP for pause once the target has served after requests, and
// returns what it measured.
func runPausedChild(t *testing.T, tr transport, url string, served *atomic.Int64, after int64, pause time.Duration) coSummary {
	t.Helper()
	res := pausetest.Run(t, pausetest.Child{Test: "TestCoordinatedOmissionChild", Env: []string{coChildEnv + "=" + url, coStdEnv + "=" + map[bool]string{true: "1", false: "0"}[tr.std]}, Prefix: coResult}, served, after, pause)
	var sum coSummary
	if err := json.Unmarshal([]byte(res), &sum); err != nil {
		t.Fatalf("child result %q: %v", res, err)
	}
	return sum
}
