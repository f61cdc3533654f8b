package engine

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestLease: a run starts nothing while its lease has run out. Open-model
// starts due meanwhile are dropped and counted; closed-model clients wait,
// and go on once the lease is extended.
func TestLease(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			var mu sync.Mutex
			var hits []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits = append(hits, time.Now())
				mu.Unlock()
				w.Write([]byte("ok"))
			}))
			defer srv.Close()
			between := func(from, to time.Time) int {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, h := range hits {
					if h.After(from) && h.Before(to) {
						n++
					}
				}
				return n
			}

			t.Run("open", func(t *testing.T) {
				lease := NewLease()
				begin := time.Now()
				lease.Extend(begin.Add(time.Second))
				before := between(time.Time{}, time.Now().Add(time.Hour))
				res, _ := run(t, tr, Config{Load: Open{Rate: rate(t, "200", 2*time.Second), MaxClients: 50}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 2 * time.Second}, Lease: lease})
				served := int64(between(time.Time{}, time.Now().Add(time.Hour)) - before)
				if res.Scheduled != 400 || res.Run.Total.Requests+res.Run.Dropped != 400 || served != res.Run.Total.Requests {
					t.Errorf("scheduled %d, requests %d, dropped %d, served %d; want 400 = requests + dropped, all requests served", res.Scheduled, res.Run.Total.Requests, res.Run.Dropped, served)
				}
				// About the first second's 200 went; the second's were dropped.
				if res.Run.Dropped < 150 || res.Run.Dropped > 250 {
					t.Errorf("dropped %d, want about 200 (the starts after the lease ran out)", res.Run.Dropped)
				}
				if n := between(begin.Add(1100*time.Millisecond), time.Now().Add(time.Hour)); n > 0 {
					t.Errorf("%d requests reached the target after the lease ran out", n)
				}
			})

			t.Run("closed", func(t *testing.T) {
				lease := NewLease()
				begin := time.Now()
				lease.Extend(begin.Add(time.Second))
				ext := time.AfterFunc(1500*time.Millisecond, func() { lease.Extend(time.Now().Add(time.Hour)) })
				defer ext.Stop()
				res, _ := run(t, tr, Config{Load: Closed{Clients: 2, MaxRPS: 200, Duration: 2500 * time.Millisecond}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 2 * time.Second}, Lease: lease})
				paused := between(begin.Add(1100*time.Millisecond), begin.Add(1450*time.Millisecond))
				after := between(begin.Add(1550*time.Millisecond), time.Now().Add(time.Hour))
				if paused > 0 || after < 100 {
					t.Errorf("%d requests while the lease had run out (want 0), %d after it was extended (want the clients going on)", paused, after)
				}
				if res.Run.Dropped != 0 {
					t.Errorf("the closed model dropped %d", res.Run.Dropped)
				}
			})
		})
	}
}

// TestLeaseValid: a nil lease never runs out; a new one has run out until
// extended; Extend never moves the end earlier.
func TestLeaseValid(t *testing.T) {
	var none *Lease
	if !none.Valid(time.Now()) {
		t.Error("a nil lease ran out")
	}
	l := NewLease()
	now := time.Now()
	if l.Valid(now) {
		t.Error("a new lease is valid before any Extend")
	}
	l.Extend(now.Add(time.Second))
	l.Extend(now.Add(time.Millisecond)) // earlier: ignored
	if !l.Valid(now.Add(500*time.Millisecond)) || l.Valid(now.Add(time.Second)) {
		t.Error("the lease does not end at its latest extension")
	}
}

// BenchmarkLeaseHolds is the cost of asking the lease at a write: a
// monotonic clock read and an atomic load, no allocation.
func BenchmarkLeaseHolds(b *testing.B) {
	l := NewLease()
	l.Extend(time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if !l.Holds() {
			b.Fatal("the lease ran out")
		}
	}
}
