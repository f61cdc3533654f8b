package demo

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimited checks the known capacity: below the rate every request is
// answered at once; a burst above it is served one slot apart, so the last
// of n waits (n − burst − 1)/rate.
func TestLimited(t *testing.T) {
	cases := []struct {
		name     string
		rate     float64
		burst    int
		n        int
		every    time.Duration // between arrivals; 0: all at once
		lastWait time.Duration
	}{
		{"below the rate", 100, 0, 20, 20 * time.Millisecond, 0},
		{"at the rate", 100, 0, 20, 10 * time.Millisecond, 0},
		{"all at once", 100, 0, 20, 0, 190 * time.Millisecond},
		{"all at once with a burst", 100, 5, 20, 0, 140 * time.Millisecond},
		{"twice the rate", 100, 0, 21, 5 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimited(tc.rate, tc.burst)
				waits := make([]time.Duration, tc.n)
				var wg sync.WaitGroup
				for i := range tc.n {
					wg.Go(func() {
						time.Sleep(time.Duration(i) * tc.every)
						start := time.Now()
						rec := httptest.NewRecorder()
						l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
						if rec.Code != http.StatusOK {
							t.Errorf("status %d", rec.Code)
						}
						waits[i] = time.Since(start)
					})
					synctest.Wait() // arrivals in order, so slots are taken in order
				}
				wg.Wait()
				if got := waits[tc.n-1]; got != tc.lastWait {
					t.Errorf("last request waited %v, want %v (all: %v)", got, tc.lastWait, waits)
				}
				if l.Served() != int64(tc.n) {
					t.Errorf("served %d, want %d", l.Served(), tc.n)
				}
			})
		})
	}
}
