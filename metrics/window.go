package metrics

import (
	"time"
)

// Window keeps the last few intervals of a run so that a rule such as
// "p99 > 1s for 10s" (abort_when) reads the exact distribution of those
// seconds: the intervals' histograms merged, not a stand-in built from each
// second's percentiles (a worst-second p99 is not the p99 of ten seconds,
// and no per-second figure gives the window's min or mean).
//
// Each interval is kept sparse (the histogram's non-empty buckets only), so
// a long window of a quiet run costs little; merging rebuilds one histogram.
// A Window is used by one goroutine (the collector's).
type Window struct {
	slots []windowSlot // ring, oldest at next once full
	next  int
	n     int // slots filled
}

type windowSlot struct {
	span    time.Duration
	dropped int64
	names   []sparseStats // by request name index
	checks  [][2]int64    // by check index
}

// sparseStats is one name's interval: the counts thresholds read, and the
// latency histogram's non-empty buckets.
type sparseStats struct {
	requests, failed int64
	latency          []bucket
}

type bucket struct{ v, n int64 }

// NewWindow returns a Window of the last n intervals (at least 1).
func NewWindow(n int) *Window {
	return &Window{slots: make([]windowSlot, max(n, 1))}
}

// Add appends the interval a Tick closed: p, its stats by name and its
// check counts (see Run.Interval and Run.IntervalChecks). The oldest
// interval falls out once the window is full.
func (w *Window) Add(p Point, byName []*Stats, checks [][2]int64) {
	s := &w.slots[w.next]
	w.next = (w.next + 1) % len(w.slots)
	w.n = min(w.n+1, len(w.slots))
	s.span, s.dropped = p.Span, p.Dropped
	if cap(s.names) < len(byName) {
		s.names = make([]sparseStats, len(byName))
	}
	s.names = s.names[:len(byName)]
	for i, st := range byName {
		d := &s.names[i]
		d.latency = d.latency[:0]
		if st == nil {
			d.requests, d.failed = 0, 0
			continue
		}
		d.requests, d.failed = st.Requests, st.Failed
		if st.Latency.TotalCount() > 0 {
			for _, b := range st.Latency.Distribution() {
				if b.Count > 0 {
					d.latency = append(d.latency, bucket{b.From, b.Count})
				}
			}
		}
	}
	s.checks = append(s.checks[:0], checks...)
}

// Len is the number of intervals held, at most the window's size.
func (w *Window) Len() int { return w.n }

// last calls f for each of the last k intervals held.
func (w *Window) last(k int, f func(s *windowSlot)) {
	k = min(k, w.n)
	for j := 1; j <= k; j++ {
		f(&w.slots[(w.next-j+len(w.slots))%len(w.slots)])
	}
}

// Span is the length of time the last k intervals cover.
func (w *Window) Span(k int) time.Duration {
	var d time.Duration
	w.last(k, func(s *windowSlot) { d += s.span })
	return d
}

// Dropped is the number of starts dropped in the last k intervals.
func (w *Window) Dropped(k int) int64 {
	var n int64
	w.last(k, func(s *windowSlot) { n += s.dropped })
	return n
}

// Merged returns the last k intervals of the given request names (nil: all
// names) merged: Requests, Failed and Latency are exact; the other fields
// are not kept by a Window and stay empty.
func (w *Window) Merged(k int, names []int) *Stats {
	st := NewStats()
	add := func(d *sparseStats) {
		st.Requests += d.requests
		st.Failed += d.failed
		for _, b := range d.latency {
			st.Latency.RecordValues(b.v, b.n)
		}
	}
	w.last(k, func(s *windowSlot) {
		if names == nil {
			for i := range s.names {
				add(&s.names[i])
			}
			return
		}
		for _, i := range names {
			if i >= 0 && i < len(s.names) {
				add(&s.names[i])
			}
		}
	})
	return st
}

// Checks returns the {passes, failures} of the given checks (nil: all) over
// the last k intervals.
func (w *Window) Checks(k int, idx []int) [2]int64 {
	var c [2]int64
	w.last(k, func(s *windowSlot) {
		if idx == nil {
			for _, v := range s.checks {
				c[0], c[1] = c[0]+v[0], c[1]+v[1]
			}
			return
		}
		for _, i := range idx {
			if i >= 0 && i < len(s.checks) {
				c[0], c[1] = c[0]+s.checks[i][0], c[1]+s.checks[i][1]
			}
		}
	})
	return c
}
