package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// These tests pin figures the report shows that the counting tests leave
// alone: peak and active clients, the per-interval snapshots a worker sends,
// each worker's share of the caps, and how long a timed-out request is said
// to have taken. Each was written against a mutant that survived the other
// tests (bench/mutants.txt).

// TestPeakClients: the peak is the number of clients that ran, never more
// than allowed and, under overload, all of them; once the load is over no
// client is counted active. Runs are shorter than a second, so the peak
// comes from the sources' own counts and not from the once-a-second sample.
func TestPeakClients(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("closed", func(t *testing.T) {
				t.Parallel()
				srv, _ := countingServer(t, 0)
				res, _ := run(t, tr, Config{Load: Closed{Clients: 5, Requests: 300}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
				if res.PeakClients != 5 {
					t.Errorf("peak clients %d, want the 5 clients", res.PeakClients)
				}
				checkLastClients(t, res)
			})
			t.Run("open overloaded", func(t *testing.T) {
				t.Parallel()
				// 3 clients over 2 event loops (2 + 1), each request 100 ms,
				// at 200 starts a second: every client is busy all the time.
				srv, _ := countingServer(t, 100*time.Millisecond)
				res, _ := run(t, tr, Config{Load: Open{Rate: rate(t, "200", 500*time.Millisecond), MaxClients: 3}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}, Loops: 2})
				if res.PeakClients != 3 || res.Run.Dropped == 0 {
					t.Errorf("peak clients %d, dropped %d; want all 3 clients busy and starts dropped",
						res.PeakClients, res.Run.Dropped)
				}
				checkLastClients(t, res)
			})
		})
	}
}

// checkLastClients: the run's last timeline point, taken after every client
// ended, has no active client.
func checkLastClients(t *testing.T, res *Result) {
	t.Helper()
	tl := res.Run.Timeline
	if len(tl) == 0 {
		t.Fatal("no timeline point")
	}
	if c := tl[len(tl)-1].Clients; c != 0 {
		t.Errorf("%d clients active after the run ended, want 0", c)
	}
}

// TestSnapshotsAddUp: the snapshots a worker sends its controller (one a
// second, then a final one) add up to exactly the run's own totals:
// requests, drops and latency samples. A run shorter than a second has only
// the final, partial snapshot, and it must carry that second's requests.
func TestSnapshotsAddUp(t *testing.T) {
	for _, tr := range transports {
		for _, d := range []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v", tr.name, d), func(t *testing.T) {
				t.Parallel()
				srv, _ := countingServer(t, 20*time.Millisecond)
				var req, samples, dropped int64
				var intervals []int
				finals := 0
				cfg := Config{Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)},
					Load: Open{Rate: rate(t, "400", d), MaxClients: 4}, // ~200/s served, the rest dropped
					OnSnapshot: func(s *metrics.Snapshot) {
						intervals = append(intervals, s.Interval)
						if s.Final {
							finals++
						} else if s.Clients < 1 || s.Clients > 4 {
							// Every client is busy nearly all the time.
							t.Errorf("interval %d: %d clients active, want 1..4", s.Interval, s.Clients)
						}
						dropped += s.Dropped
						for _, st := range s.Stats {
							req += st.Requests
							samples += st.Latency.TotalCount()
						}
					}}
				res, _ := run(t, tr, cfg)
				tot := res.Run.Total
				t.Logf("intervals %v, requests %d/%d, dropped %d/%d", intervals, req, tot.Requests, dropped, res.Run.Dropped)
				if req != tot.Requests || samples != tot.Latency.TotalCount() || dropped != res.Run.Dropped {
					t.Errorf("snapshots: %d requests, %d samples, %d dropped; run: %d, %d, %d",
						req, samples, dropped, tot.Requests, tot.Latency.TotalCount(), res.Run.Dropped)
				}
				if tot.Requests == 0 || res.Run.Dropped == 0 {
					t.Errorf("requests %d, dropped %d: the test needs both", tot.Requests, res.Run.Dropped)
				}
				if finals != 1 || len(intervals) == 0 {
					t.Fatalf("%d final snapshots of %d, want exactly one, the last", finals, len(intervals))
				}
				for i, k := range intervals {
					if k != i+1 {
						t.Errorf("snapshot %d is interval %d, want %d", i, k, i+1)
					}
				}
			})
		}
	}
}

// TestSharesOfCaps: workers that each run their Share of a load keep, all
// together, to the run's throughput cap and its client limit.
func TestSharesOfCaps(t *testing.T) {
	const workers = 3
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("max rps", func(t *testing.T) {
				t.Parallel()
				srv, served := countingServer(t, 0)
				// 300/s for 1 s: ~300 requests whatever the number of
				// workers (900 if each worker took the whole cap).
				rs := runShares(t, tr, workers, Config{Load: Closed{Clients: 6, Duration: time.Second, MaxRPS: 300}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
				var n int64
				for _, r := range rs {
					n += r.Run.Total.Requests
				}
				if n > 330 || n < 100 || n != served.Load() {
					t.Errorf("%d workers sent %d requests (served %d) under a 300/s cap for 1s, want ~300",
						workers, n, served.Load())
				}
			})
			t.Run("max clients", func(t *testing.T) {
				t.Parallel()
				srv, _ := countingServer(t, 100*time.Millisecond)
				rs := runShares(t, tr, workers, Config{Load: Open{Rate: rate(t, "200", 500*time.Millisecond), MaxClients: 3}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
				peak := 0
				for _, r := range rs {
					peak += r.PeakClients
				}
				if peak != 3 {
					t.Errorf("%d workers ran %d clients at their peaks, want max clients 3", workers, peak)
				}
			})
		})
	}
}

// runShares runs cfg as n workers' shares at once and returns their results.
func runShares(t *testing.T, tr transport, n int, cfg Config) []*Result {
	t.Helper()
	rs := make([]*Result, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cfg
			c.Share, c.ForceStd = Share{Index: w, Count: n}, tr.std
			if r, ok := c.Work.(Request); ok {
				r.Timeout, r.UserAgent = 5*time.Second, "fuka-test"
				c.Work = r
			}
			ctx, cancel := context.WithTimeout(context.Background(), runBound)
			defer cancel()
			res, err := Run(ctx, c)
			if err != nil {
				t.Error(err)
				return
			}
			rs[w] = res
		}()
	}
	wg.Wait()
	for _, r := range rs {
		if r == nil {
			t.FailNow()
		}
	}
	return rs
}

// TestTimeoutLatency: a request that got no answer is recorded as a timeout
// that took its timeout, not much more (the fast path checks deadlines every
// few milliseconds; the bound allows for a busy machine).
func TestTimeoutLatency(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, hang)
			res, _ := run(t, tr, Config{Load: Closed{Clients: 2, Duration: 500 * time.Millisecond}, Work: Request{Request: newReq(t, "GET", srv.URL()+"/", nil, nil), Timeout: timeout}})
			tot := res.Run.Total
			lo := time.Duration(tot.Latency.Min()) * time.Microsecond
			hi := time.Duration(tot.Latency.Max()) * time.Microsecond
			t.Logf("%d timeouts of %d, latency %v..%v", tot.Errors[metrics.ErrTimeout], tot.Requests, lo, hi)
			if tot.Requests == 0 || tot.Errors[metrics.ErrTimeout] != tot.Requests {
				t.Fatalf("timeouts %d of %d requests (errors %v)", tot.Errors[metrics.ErrTimeout], tot.Requests, errorsOf(tot))
			}
			if lo < timeout-time.Millisecond || hi > timeout+300*time.Millisecond {
				t.Errorf("timed-out requests took %v..%v, want about the %v timeout", lo, hi, timeout)
			}
		})
	}
}

// TestBytesOut: bytes_out is the request's bytes on the wire, once per
// request, whether the response came or the request failed after it was
// written.
func TestBytesOut(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Run("responses", func(t *testing.T) {
				t.Parallel()
				srv, _ := countingServer(t, 0)
				req := newReq(t, "POST", srv.URL+"/orders", nil, []byte(`{"n":1}`))
				res, _ := run(t, tr, Config{Load: Closed{Clients: 2, Requests: 50}, Work: Request{Request: req}})
				checkBytesOut(t, res, int64(len(req.Wire("fuka-test"))))
			})
			t.Run("failures", func(t *testing.T) {
				t.Parallel()
				srv := newRawServer(t, once("GARBAGE RESPONSE\r\n\r\n"))
				req := newReq(t, "POST", srv.URL()+"/orders", nil, []byte(`{"n":1}`))
				res, _ := run(t, tr, Config{Load: Closed{Clients: 2, Requests: 50}, Work: Request{Request: req}})
				if f := res.Run.Total.Failed; f != 50 {
					t.Fatalf("%d of 50 requests failed, want all (errors %v)", f, errorsOf(res.Run.Total))
				}
				checkBytesOut(t, res, int64(len(req.Wire("fuka-test"))))
			})
		})
	}
}

func checkBytesOut(t *testing.T, res *Result, wire int64) {
	t.Helper()
	tot := res.Run.Total
	if tot.Requests != 50 || tot.BytesOut != tot.Requests*wire {
		t.Errorf("bytes out %d for %d requests, want %d x %d", tot.BytesOut, tot.Requests, tot.Requests, wire)
	}
}
