//go:build unix

package ws

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/internal/pausetest"
	"github.com/fuka-load/fuka/load"
)

// In the open model (--rate) each start's handshake and round trip are
// timed from when the start was due: when the generator falls behind, the
// starts it owed go out late and the wait is part of what a user saw. The
// test pauses the generator for real: the run is in a child process that
// the test stops (SIGSTOP) and resumes, while the server here stays fast.

const (
	coChildEnv = "FUKA_TEST_WS_CO_CHILD" // set in the child: the server's ws:// URL
	coResult   = "CO-RESULT "
	coLate     = 200 * time.Millisecond
)

type coSummary struct {
	Scheduled, Dropped                 int64
	RoundTrips, Failed, Handshakes     int64
	LateLatency, LateService           int64 // round trips >= coLate
	LateConnectLatency, LateConnectSvc int64 // handshakes >= coLate
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

// TestQuickOpenModelChild is the child process of
// TestQuickOpenModelLatencyPaused; run by itself it does nothing.
func TestQuickOpenModelChild(t *testing.T) {
	raw := os.Getenv(coChildEnv)
	if raw == "" {
		t.Skip("helper process of TestQuickOpenModelLatencyPaused")
	}
	rate, err := load.ParseRate("200", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	q := &Quick{URL: mustURL(raw), Send: "hi", Expect: Match{Contains: "pong"}, Timeout: 2 * time.Second, PerStart: true}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := engine.Run(ctx, engine.Config{Load: engine.Open{Rate: rate, MaxClients: 300}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	rt, conn := res.Run.ByName[0], res.Run.ByName[1]
	b, err := json.Marshal(coSummary{
		Scheduled: res.Scheduled, Dropped: res.Run.Dropped,
		RoundTrips: rt.Requests, Failed: rt.Failed + conn.Failed, Handshakes: conn.Requests,
		LateLatency: lateCount(rt.Latency, coLate), LateService: lateCount(rt.Service, coLate),
		LateConnectLatency: lateCount(conn.Latency, coLate), LateConnectSvc: lateCount(conn.Service, coLate),
	})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("\n" + coResult + string(b) + "\n")
}

// TestQuickOpenModelLatencyPaused stops a 200/s quick-mode run for 500 ms
// a fifth of a second in: ~100 starts fall due while it sleeps and go out
// when it wakes, up to 500 ms late. Their handshakes' and round trips'
// latency must include that wait (about 60 at >= 200 ms); their service
// time, from the handshake's or the message's send, stays short.
func TestQuickOpenModelLatencyPaused(t *testing.T) {
	if os.Getenv(coChildEnv) != "" {
		t.Skip("in the child")
	}
	s, ts := start(t)
	res := pausetest.Run(t, pausetest.Child{Test: "TestQuickOpenModelChild",
		Env: []string{coChildEnv + "=" + wsURL(t, ts, "/echo").String()}, Prefix: coResult}, &s.accepted, 40, 500*time.Millisecond)
	var sum coSummary
	if err := json.Unmarshal([]byte(res), &sum); err != nil {
		t.Fatalf("child result %q: %v", res, err)
	}
	t.Logf("%+v (accepted %d, received %d)", sum, s.accepted.Load(), s.received.Load())
	if sum.Scheduled != 400 || sum.Handshakes+sum.Dropped != sum.Scheduled || sum.Failed != 0 ||
		sum.Handshakes != s.accepted.Load() || sum.RoundTrips != sum.Handshakes || sum.RoundTrips != s.received.Load() {
		t.Errorf("scheduled %d, dropped %d, handshakes %d, round trips %d (failed %d), server accepted %d received %d; "+
			"want every start one handshake and one round trip, or dropped", sum.Scheduled, sum.Dropped, sum.Handshakes,
			sum.RoundTrips, sum.Failed, s.accepted.Load(), s.received.Load())
	}
	for _, c := range []struct {
		what          string
		latency, serv int64
	}{
		{"round trips", sum.LateLatency, sum.LateService},
		{"handshakes", sum.LateConnectLatency, sum.LateConnectSvc},
	} {
		if late := c.latency - c.serv; late < 30 {
			t.Errorf("%d %s >= %v in latency, %d in service time: %d late starts show, want >= 30 "+
				"(latency must count from the intended start)", c.latency, c.what, coLate, c.serv, late)
		}
	}
}
