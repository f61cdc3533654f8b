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
// got round to reading.
func TestBatchedOpenModel(t *testing.T) {
	const delay = 20 * time.Millisecond
	srv, served := countingServer(t, delay)
	rate, err := load.ParseRate("200", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 20ms steps would add ~10ms to the median if completion times were
	// taken when the loop woke rather than from the kernel.
	for _, res := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		t.Run(res.String(), func(t *testing.T) {
			before := served.Load()
			cfg := Config{
				Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 5 * time.Second,
				Rate: &rate, MaxClients: 50, Resolution: res,
			}
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
			lat := metrics.Percentile(tot.Latency, 50)
			// The handler sleeps 20ms: the service time is that plus
			// loopback costs, whatever the batching; latency adds at most
			// one step of lateness.
			if svc < delay || svc > delay+3*time.Millisecond {
				t.Errorf("p50 service time %v, want %v..%v", svc, delay, delay+3*time.Millisecond)
			}
			if lat < svc || lat > svc+res+3*time.Millisecond {
				t.Errorf("p50 latency %v with service %v and resolution %v", lat, svc, res)
			}
		})
	}
}
