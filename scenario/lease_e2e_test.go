package scenario_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// TestPlanLeaseAtWrite: a distributed worker's lease (engine.Lease) is
// asked at each request's write, not only when an iteration starts. The
// iteration's first request goes while the lease holds; its second comes
// after a think that outlasts the lease, and must not reach the target:
// the client waits for the lease, and when the load ends first the request
// is no request in the counts; when the lease is extended first, the
// request goes then, once. On the event loops (plain HTTP) and over
// net/http (HTTPS), in the closed and the open model.
func TestPlanLeaseAtWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
		open bool
		back bool // the lease is extended at 1 s
	}{
		{"loops/closed", false, false, false},
		{"loops/open", false, true, false},
		{"loops/closed/extended", false, false, true},
		{"net/http/closed", true, false, false},
		{"net/http/open", true, true, false},
		{"net/http/closed/extended", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			at := map[string][]time.Time{}
			h := func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at[r.URL.Path] = append(at[r.URL.Path], time.Now())
				mu.Unlock()
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(h))
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			loadSpec := "{clients: 1, duration: 1500ms}"
			if tc.open {
				loadSpec = "{rate: 1, duration: 1500ms, max_clients: 1}"
			}
			prog := compile(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /a
      - think: 600ms
      - get: /b
load: `+loadSpec+`
`, nil))
			runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 4, UserAgent: "fuka-test", Insecure: tc.tls}, tc.open)
			defer runner.Close()
			cfg := engine.Config{Load: engine.Closed{Clients: 1, Duration: 1500 * time.Millisecond}, Work: engine.Plan{Scenario: runner}, Loops: 1}
			if tc.open {
				r, err := plan.NewRate(prog.Plan.Load.Rate)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Load = engine.Open{Rate: r, MaxClients: 1}
			}
			lease := engine.NewLease()
			begin := time.Now()
			lease.Extend(begin.Add(300 * time.Millisecond))
			cfg.Lease = lease
			back := begin.Add(time.Second)
			if tc.back {
				ext := time.AfterFunc(time.Until(back), func() { lease.Extend(time.Now().Add(time.Hour)) })
				defer ext.Stop()
			}
			ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
			defer cancel()
			res, err := engine.Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{false: "fast", true: "net/http"}[tc.tls]; res.Transport != want {
				t.Fatalf("transport %s, want %s", res.Transport, want)
			}
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			served := int64(len(at["/a"]) + len(at["/b"]))
			if tc.back {
				// /b waited for the lease, went once it held again, and the
				// client went on with its next iteration.
				if len(at["/b"]) != 1 || at["/b"][0].Before(back) {
					t.Errorf("/b reached the target at %v after the start, want once, after the lease was extended at 1s", since(begin, at["/b"]))
				}
				if tot := res.Run.Total; tot.Requests != served || len(at["/a"]) < 2 {
					t.Errorf("%d requests in the counts, the target served %d (/a %d times), want equal, /a again after /b", tot.Requests, served, len(at["/a"]))
				}
				return
			}
			if len(at["/a"]) != 1 {
				t.Fatalf("/a reached the target %d times, want once (the iteration began while the lease held): the test tests nothing", len(at["/a"]))
			}
			if n := len(at["/b"]); n > 0 {
				t.Errorf("/b reached the target %d times, %v after the start: after the lease ran out at 300ms", n, at["/b"][0].Sub(begin))
			}
			if tot := res.Run.Total; tot.Requests != 1 {
				t.Errorf("%d requests in the counts, want 1 (/a): /b never left", tot.Requests)
			}
		})
	}
}

// since are times as durations after begin, for messages.
func since(begin time.Time, ts []time.Time) []time.Duration {
	var out []time.Duration
	for _, t := range ts {
		out = append(out, t.Sub(begin).Round(time.Millisecond))
	}
	return out
}
