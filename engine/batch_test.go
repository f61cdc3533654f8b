//go:build linux

package engine

import (
	"context"
	"testing"
	"time"

	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// TestBatchedOpenModel: with a Resolution the fast path wakes once per step
// and takes completion times from the kernel's receive timestamps, so it
// still counts exactly and measures what the target did, not when the loop
// got round to reading. Starts due within a step go out together at its end,
// so with a coarse step they are sent up to one step late, and the latency
// (from the intended start) must show it.
func TestBatchedOpenModel(t *testing.T) {
	const delay = 20 * time.Millisecond
	srv, served := countingServer(t, delay)
	rate, err := load.ParseRate("200", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []time.Duration{0, time.Millisecond, 100 * time.Millisecond} {
		t.Run(res.String(), func(t *testing.T) {
			before := served.Load()
			cfg := Config{Load: Open{Rate: rate, MaxClients: 50, Resolution: res}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 5 * time.Second}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Transport != "fast" {
				t.Skipf("transport %s", r.Transport)
			}
			tot := r.Run.Total
			if got := served.Load() - before; got != tot.Requests || tot.Requests+r.Run.Dropped != r.Scheduled || r.Scheduled != 200 {
				t.Fatalf("served %d, requests %d, dropped %d, scheduled %d", got, tot.Requests, r.Run.Dropped, r.Scheduled)
			}
			svc := metrics.Percentile(tot.Service, 50)
			// Lateness: how long after its intended time each start was
			// sent, on average. Every start of a step waits for the step's
			// end, so with starts spread evenly it averages half a step.
			late := time.Duration(tot.Latency.Mean()-tot.Service.Mean()) * time.Microsecond
			t.Logf("p50 service %v, mean lateness %v", svc, late)
			// The handler sleeps 20ms: the service time is that plus
			// loopback costs, whatever the batching. Had completions been
			// timed when the loop woke, a 100ms step would add ~50ms to it.
			// The bounds are generous: a loaded machine adds wake-up delays.
			if svc < delay || svc > delay+max(res/4, 15*time.Millisecond) {
				t.Errorf("p50 service time %v, want %v..%v", svc, delay, delay+max(res/4, 15*time.Millisecond))
			}
			// At 200/s starts are 5ms apart, on whole milliseconds: only the
			// coarse step delays them (by 47.5ms on average).
			lo := time.Duration(0)
			if res >= 100*time.Millisecond {
				lo = res / 4
			}
			if late < lo || late > res+30*time.Millisecond {
				t.Errorf("mean latency - mean service = %v at resolution %v, want %v..%v "+
					"(latency counts from the intended start, which is up to one step before the send)",
					late, res, lo, res+30*time.Millisecond)
			}
		})
	}
}
