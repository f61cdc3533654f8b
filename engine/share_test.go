package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
)

// TestSharesAddUp: workers that each run their Share of a load together run
// exactly the whole load, on both transports, also when there are fewer
// clients than workers (a worker without a client then gets no work).
func TestSharesAddUp(t *testing.T) {
	srv, served := countingServer(t, 0)
	rate300, err := load.ParseRate("300", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rate60, err := load.ParseRate("60", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	type totals struct{ requests, scheduled, dropped int64 }
	cases := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, got totals)
	}{
		{"closed request count", Config{Load: Closed{Clients: 5, Requests: 1000}}, func(t *testing.T, got totals) {
			if got.requests != 1000 {
				t.Errorf("requests %d, want 1000", got.requests)
			}
		}},
		{"closed request count, 2 clients", Config{Load: Closed{Clients: 2, Requests: 100}}, func(t *testing.T, got totals) {
			if got.requests != 100 {
				t.Errorf("requests %d, want 100", got.requests)
			}
		}},
		{"closed cap, 2 clients", Config{Load: Closed{Clients: 2, Duration: time.Second, MaxRPS: 300}}, func(t *testing.T, got totals) {
			// Starts i/300 s for i < 300 fall within the second; each
			// worker's start at exactly 1 s may race the end.
			if got.requests < 285 || got.requests > 302 {
				t.Errorf("requests %d in 1 s at max 300/s, want 285..302", got.requests)
			}
		}},
		{"open rate", Config{Load: Open{Rate: rate300, MaxClients: 30}}, func(t *testing.T, got totals) {
			if got.scheduled != 300 {
				t.Errorf("scheduled %d, want 300", got.scheduled)
			}
		}},
		{"open rate, 2 max clients", Config{Load: Open{Rate: rate60, MaxClients: 2}}, func(t *testing.T, got totals) {
			// A client answers in well under the 33 ms between its starts;
			// a worker without one would drop all its 20. A loaded machine
			// may delay a few answers.
			if got.scheduled != 60 || got.dropped >= 10 || got.requests != 60-got.dropped {
				t.Errorf("scheduled %d, dropped %d, requests %d; want 60 scheduled and sent, (nearly) none dropped", got.scheduled, got.dropped, got.requests)
			}
		}},
	}
	for _, std := range []bool{false, true} {
		for _, tc := range cases {
			for _, n := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/std=%v/%d workers", tc.name, std, n), func(t *testing.T) {
					before := served.Load()
					var mu sync.Mutex
					var got totals
					var wg sync.WaitGroup
					for w := 0; w < n; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							r, err := client.NewRequest("GET", srv.URL+"/", nil, nil)
							if err != nil {
								t.Error(err)
								return
							}
							cfg := tc.cfg
							cfg.Work, cfg.ForceStd = Request{Request: r, Timeout: 5 * time.Second}, std
							cfg.Share = Share{Index: w, Count: n}
							ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
							defer cancel()
							res, err := Run(ctx, cfg)
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							got.requests += res.Run.Total.Requests
							got.scheduled += res.Scheduled
							got.dropped += res.Run.Dropped
							mu.Unlock()
						}()
					}
					wg.Wait()
					tc.check(t, got)
					if s := served.Load() - before; s != got.requests {
						t.Errorf("server counted %d, workers %d", s, got.requests)
					}
				})
			}
		}
	}
}

// TestShareArithmetic: for every small load, the workers' shares add up
// exactly to the load's clients, requests, throughput cap and open-model
// starts, and every share that has work has a client to do it.
func TestShareArithmetic(t *testing.T) {
	rate, err := load.ParseRate("0:1s,97:2s", 0)
	if err != nil {
		t.Fatal(err)
	}
	for workers := 1; workers <= 8; workers++ {
		for clients := 1; clients <= 10; clients++ {
			t.Run(fmt.Sprintf("%d workers/%d clients", workers, clients), func(t *testing.T) {
				for _, maxRPS := range []float64{0, 1, 2, 7, 300, 1e9} {
					for requests := int64(0); requests <= 100; requests++ {
						closed := Config{Load: Closed{Clients: clients, Requests: requests, MaxRPS: maxRPS}}
						var sumClients int
						var sumReq int64
						var sumRPS float64
						for w := range workers {
							s := Share{Index: w, Count: workers}
							c, r, rps := s.Clients(&closed), s.Requests(&closed), s.MaxRPS(&closed)
							sumClients += c
							if requests == 0 && r != -1 {
								t.Fatalf("-n 0: worker %d has request bound %d, want none (-1)", w, r)
							}
							sumReq += max(r, 0)
							sumRPS += rps
							if c == 0 && (r > 0 || rps > 0) {
								t.Fatalf("-c %d -n %d --max-rps %g: worker %d has %d requests and %g/s but no client", clients, requests, maxRPS, w, r, rps)
							}
							// A worker's requests are its clients' (each client's
							// share of -n), so no client has more than the others'
							// plus one.
							if requests > 0 && c > 0 && (r < int64(c)*(requests/int64(clients)) || r > int64(c)*(requests/int64(clients)+1)) {
								t.Fatalf("-c %d -n %d: worker %d with %d clients has %d requests", clients, requests, w, c, r)
							}
						}
						if sumClients != clients {
							t.Fatalf("clients add up to %d, want %d", sumClients, clients)
						}
						if requests > 0 && sumReq != requests {
							t.Fatalf("-c %d -n %d: requests add up to %d", clients, requests, sumReq)
						}
						if d := sumRPS - maxRPS; d > 1e-9*maxRPS || d < -1e-9*maxRPS {
							t.Fatalf("-c %d --max-rps %g: caps add up to %g", clients, maxRPS, sumRPS)
						}
					}
				}
				open := Config{Load: Open{Rate: rate, MaxClients: clients}}
				for _, at := range []time.Duration{0, 1500 * time.Millisecond, 2 * time.Second, 3 * time.Second} {
					var sum int64
					for w := range workers {
						s := Share{Index: w, Count: workers}
						due := s.Due(&open, at)
						if s.Clients(&open) == 0 && due > 0 {
							t.Fatalf("--max-clients %d: worker %d has %d starts but no client", clients, w, due)
						}
						// Starts follow the clients: a worker's part of the
						// starts is its part of the max clients (up to one
						// round of slots).
						want := float64(rate.Due(at)) * s.Fraction(&open)
						if d := float64(due) - want; d > float64(clients) || d < -float64(clients) {
							t.Fatalf("--max-clients %d: worker %d has %d of %d starts, want about %.1f", clients, w, due, rate.Due(at), want)
						}
						sum += due
					}
					if sum != rate.Due(at) {
						t.Fatalf("--max-clients %d: starts due by %v add up to %d, want %d", clients, at, sum, rate.Due(at))
					}
				}
			})
		}
	}
}
