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

// TestBatchedClosedCap: the closed model's throughput cap batches like the
// open model: with a Resolution the loop wakes about once per step, not once
// per capped start and once per response, and the cap still holds.
func TestBatchedClosedCap(t *testing.T) {
	srv, served := countingServer(t, 0)
	const capRPS = 2000
	for _, tc := range []struct {
		res       time.Duration
		maxWakes  int64 // per second
		minWakes  int64
		batchedOn bool
	}{
		// One wake per 10 ms step, the timeout scans (every 5 ms while
		// requests are in flight) and the wakes that collect the batch's
		// responses: ~300-700/s, well under one per capped start.
		{10 * time.Millisecond, capRPS / 2, 0, true},
		// Unbatched: a wake per start and per response, as fast as the
		// machine goes round the loop.
		{0, 1 << 40, capRPS / 2, false},
	} {
		t.Run(tc.res.String(), func(t *testing.T) {
			before := served.Load()
			cfg := Config{
				Load:  Closed{Clients: 8, Duration: time.Second, MaxRPS: capRPS, Resolution: tc.res},
				Work:  Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 5 * time.Second},
				Loops: 1,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := Prepare(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Transport != "fast" {
				t.Skipf("transport %s", r.Transport)
			}
			l := p.srcs[0].(*fastLoop)
			if l.batch != tc.batchedOn {
				t.Fatalf("batch = %v, want %v", l.batch, tc.batchedOn)
			}
			wakes := int64(float64(l.wakes) / r.Elapsed.Seconds())
			got := r.Run.Total.Requests
			t.Logf("%d requests, %d wakes/s", got, wakes)
			if served.Load()-before != got || got < capRPS*95/100 || got > capRPS+2 {
				t.Errorf("requests %d (served %d) in 1 s at max %d/s", got, served.Load()-before, capRPS)
			}
			if wakes > tc.maxWakes || wakes < tc.minWakes {
				t.Errorf("%d wakes/s, want %d..%d", wakes, tc.minWakes, tc.maxWakes)
			}
		})
	}
}
