package demo

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limited is a target with a known capacity, for testing capacity searches:
// it serves at most Rate requests a second, in arrival order, and queues
// the rest, so its latency is flat up to Rate and climbs without bound
// beyond it.
//
// Each request takes the next free slot, one every 1/Rate after the
// previous one, and waits for it (a token bucket that queues instead of
// refusing). Up to Burst slots may lie in the past, which absorbs the
// jitter of arrivals that are on average below Rate:
//
//	arrivals ≤ Rate:  a slot is free at once; latency ≈ 0
//	arrivals = A > Rate: the queue, and each request's wait, grow by
//	                  (A − Rate)/Rate seconds every second
type Limited struct {
	interval time.Duration // between slots: 1/Rate
	burst    time.Duration // how far in the past a slot may lie
	mu       sync.Mutex
	next     time.Time // the next free slot
	served   atomic.Int64
}

// NewLimited returns a handler that serves at most rate requests a second
// (rate > 0) with burst spare slots.
func NewLimited(rate float64, burst int) *Limited {
	iv := time.Duration(float64(time.Second) / rate)
	return &Limited{interval: iv, burst: time.Duration(max(burst, 0)) * iv}
}

// reserve takes the next free slot at now and returns it.
func (l *Limited) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if floor := now.Add(-l.burst); l.next.Before(floor) {
		l.next = floor
	}
	slot := l.next
	l.next = l.next.Add(l.interval)
	return slot
}

// ServeHTTP waits for the request's slot, then answers 200 "ok". A client
// that gives up still used its slot, as it would on a real server.
func (l *Limited) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if wait := l.reserve(now).Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	l.served.Add(1)
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// Served returns how many requests were answered.
func (l *Limited) Served() int64 { return l.served.Load() }
