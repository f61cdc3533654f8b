package monitor

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// history keeps a Monitor's points for the report in a compact form, so that
// a run of a day costs what its values cost and no more: a table of series
// names, and per point one float64 for each series known when it was taken
// (NaN where the point has no value: a gap, or a series that did not exist
// yet). A map per point would cost ~40 bytes per value, and points appended
// to one slice would copy the whole history each time it doubles; rows and
// values live in fixed-size blocks instead, so memory grows by 8 bytes per
// value and 24 per point, linearly, with nothing copied.
type history struct {
	names []string       // series, in order of first appearance
	index map[string]int // name -> position in names
	rows  [][]row        // blocks of rowBlock rows
	vals  [][]float64    // blocks of at least valBlock values
	n     int            // points kept
}

// row is one point: its tick and where its values are.
type row struct {
	at       time.Duration
	blk, off int32 // vals[blk][off : off+n]
	n        int32
}

const (
	rowBlock = 1024
	valBlock = 8192
)

// absent marks a series a point has no value for. Values are never NaN
// (tick drops NaN and ±Inf), so it is free to mean "no value".
var absent = math.NaN()

func (h *history) add(p Point) {
	if h.index == nil {
		h.index = map[string]int{}
	}
	for name := range p.Values {
		if _, ok := h.index[name]; !ok {
			h.index[name] = len(h.names)
			h.names = append(h.names, name)
		}
	}
	w := len(h.names)
	if len(h.vals) == 0 || cap(h.vals[len(h.vals)-1])-len(h.vals[len(h.vals)-1]) < w {
		h.vals = append(h.vals, make([]float64, 0, max(valBlock, w)))
	}
	b := len(h.vals) - 1
	blk := h.vals[b]
	off := len(blk)
	blk = blk[:off+w]
	for i := off; i < off+w; i++ {
		blk[i] = absent
	}
	for name, v := range p.Values {
		blk[off+h.index[name]] = v
	}
	h.vals[b] = blk
	if h.n%rowBlock == 0 {
		h.rows = append(h.rows, make([]row, 0, rowBlock))
	}
	r := &h.rows[len(h.rows)-1]
	*r = append(*r, row{at: p.At, blk: int32(b), off: int32(off), n: int32(w)})
	h.n++
}

// each calls f with every point in order: its tick and its values by series
// index (absent where it has none). vals is only valid during the call.
func (h *history) each(f func(at time.Duration, vals []float64)) {
	for _, rs := range h.rows {
		for _, r := range rs {
			f(r.at, h.vals[r.blk][r.off:r.off+r.n])
		}
	}
}

// points rebuilds the points as Monitor.Points returns them.
func (h *history) points() []Point {
	if h.n == 0 {
		return nil
	}
	out := make([]Point, 0, h.n)
	h.each(func(at time.Duration, vals []float64) {
		n := 0
		for _, v := range vals {
			if !math.IsNaN(v) {
				n++
			}
		}
		m := make(map[string]float64, n)
		for i, v := range vals {
			if !math.IsNaN(v) {
				m[h.names[i]] = v
			}
		}
		out = append(out, Point{At: at, Values: m})
	})
	return out
}

// summary is Summarize of the points, computed without rebuilding them.
func (h *history) summary() []Stat {
	if len(h.names) == 0 {
		return nil
	}
	stats := make([]Stat, len(h.names))
	for i, name := range h.names {
		stats[i].Name = name
	}
	h.each(func(_ time.Duration, vals []float64) {
		for i, v := range vals {
			if math.IsNaN(v) {
				continue
			}
			s := &stats[i]
			if s.Samples == 0 {
				s.Peak = v
			}
			s.Peak = max(s.Peak, v)
			s.Mean += v // a sum until the division below
			s.Samples++
		}
	})
	return finishStats(stats)
}

// failureLog keeps a Monitor's failures as runs: a source that is down
// fails every tick with the same error, and a day of that is one run (when
// it started, how many ticks) rather than 86,400 entries. Failures expands
// the runs back into the list the report shows.
type failureLog struct {
	runs []failureRun
	open map[string]int // sampler -> its latest run, which the next tick may extend
	n    int            // failures, expanded
}

// failureRun is n failures of one sampler with one error, at ticks At,
// At+interval, …, last.
type failureRun struct {
	Failure
	last     time.Duration
	interval time.Duration
	n        int
}

func (l *failureLog) add(f Failure, interval time.Duration) {
	if l.open == nil {
		l.open = map[string]int{}
	}
	l.n++
	if i, ok := l.open[f.Sampler]; ok {
		r := &l.runs[i]
		if r.Err == f.Err && f.At == r.last+interval {
			r.last = f.At
			r.n++
			return
		}
		if r.Err == f.Err {
			f.Err = r.Err // a source that flaps keeps one copy of its message
		}
	}
	l.runs = append(l.runs, failureRun{Failure: f, last: f.At, interval: interval, n: 1})
	l.open[f.Sampler] = len(l.runs) - 1
}

// failures expands the runs, oldest first and, within a tick, by sampler
// (the order tick produces).
func (l *failureLog) failures() []Failure {
	if l.n == 0 {
		return nil
	}
	out := make([]Failure, 0, l.n)
	for _, r := range l.runs {
		for k := range r.n {
			f := r.Failure
			f.At += time.Duration(k) * r.interval
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Failure) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Sampler, b.Sampler)
	})
	return out
}
