package load

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Stage is one piece of an open-model profile: ramp the arrival rate linearly
// from the previous stage's target (or the start rate) to Target starts/second over Over.
// Over == 0 is a jump: the rate becomes Target at once.
type Stage struct {
	Target float64       // starts per second, >= 0
	Over   time.Duration // >= 0
}

// segment is a Stage with everything Offset, Expected and At need
// precomputed. Within the segment, at x seconds after start,
//
//	rate(x) = r0 + 2*a*x
//	N(x)    = n0 + r0*x + a*x*x
type segment struct {
	start, dur time.Duration // where the stage begins and how long it lasts
	r0, r1     float64       // rate at the start and at the end, per second
	a          float64       // (r1-r0) / (2*dur in seconds)
	n0, n1     float64       // expected arrivals N at the start and at the end
}

// Rate is an open-model arrival profile made of stages.
//
// A Rate is immutable and safe for concurrent use. The zero Rate has no
// arrivals and a zero duration.
type Rate struct {
	start  float64 // rate at offset 0, before the first stage
	stages []Stage // as given, for String
	segs   []segment
	total  int64
	dur    time.Duration
}

// maxExpected bounds N(Duration()) so that every arrival index is exact as a
// float64 and Total fits in an int64.
const maxExpected = 1 << 53

// NewRate validates stages (at least one; targets >= 0 and finite; durations
// >= 0; total duration > 0 and fits in a time.Duration; at most 2^53 expected
// arrivals) and returns the profile, starting at rate start (>= 0 and finite).
// It copies stages.
func NewRate(start float64, stages []Stage) (Rate, error) {
	if math.IsNaN(start) || math.IsInf(start, 0) {
		return Rate{}, fmt.Errorf("start rate %v is not finite", start)
	}
	if start < 0 {
		return Rate{}, fmt.Errorf("start rate %v is negative", start)
	}
	if len(stages) == 0 {
		return Rate{}, errors.New("no stages")
	}
	r := Rate{start: start, stages: slices.Clone(stages), segs: make([]segment, len(stages))}
	prev, n := start, 0.0
	var at time.Duration
	for k, s := range stages {
		switch {
		case math.IsNaN(s.Target) || math.IsInf(s.Target, 0):
			return Rate{}, fmt.Errorf("stage %d: target %v is not finite", k+1, s.Target)
		case s.Target < 0:
			return Rate{}, fmt.Errorf("stage %d: target %v is negative", k+1, s.Target)
		case s.Over < 0:
			return Rate{}, fmt.Errorf("stage %d: duration %v is negative", k+1, s.Over)
		case s.Over > math.MaxInt64-at:
			return Rate{}, fmt.Errorf("stage %d: total duration is too long", k+1)
		}
		seg := segment{start: at, dur: s.Over, r0: prev, r1: s.Target, n0: n, n1: n}
		if s.Over > 0 {
			ns := float64(s.Over)
			seg.a = (s.Target - prev) * 1e9 / (2 * ns)
			// Multiply before dividing: integer rates over whole
			// nanoseconds then give exact counts.
			n = snap(n + (prev+s.Target)*ns/2e9)
			seg.n1 = n
		}
		r.segs[k] = seg
		prev, at = s.Target, at+s.Over
	}
	if at == 0 {
		return Rate{}, errors.New("total duration is 0")
	}
	if !(n <= maxExpected) {
		return Rate{}, fmt.Errorf("%.4g expected arrivals is too many (at most 2^53)", n)
	}
	r.dur = at
	// Arrival i exists when i < N(Duration()); there are ceil(N) of them.
	r.total = int64(math.Ceil(n))
	return r, nil
}

// snap takes a count within a relative 1e-12 (and at most 1e-4) of a whole
// number as that number, so that 100/m over 3m is 300 arrivals and not
// 300.00000000000006, which would make Total 301.
func snap(n float64) float64 {
	w := math.Round(n)
	if math.Abs(n-w) <= min(1e-12*max(1, w), 1e-4) {
		return w
	}
	return n
}

// Offset returns the intended start offset of arrival i (0-based): the time t
// at which the expected cumulative count of arrivals N(t) reaches i. Where N
// stays flat (a zero-rate stage) the arrival waits for the end of the flat
// part: precisely, t = inf{t : N(t) > i}, so no arrival falls inside a
// zero-rate stage. Arrival 0 is at t=0 when the rate just after 0 is positive. ok is false when i < 0 or arrival i
// falls at or after the end of the profile (N(Duration()) <= i), which is
// exactly when i >= Total().
//
// Within a linear ramp N is quadratic; Offset solves it in closed form with
// the numerically stable t = 2d / (b + sqrt(b*b + 4*a*d)), where d = i -
// N(stage start), b = rate at the stage start and a = (r1-r0)/(2*T), and
// rounds to the nearest nanosecond. There is no iteration and no state, so
// nothing drifts. Offset is non-decreasing in i, takes O(log stages) time
// and does not allocate.
func (r Rate) Offset(i int64) (t time.Duration, ok bool) {
	if i < 0 || i >= r.total {
		return 0, false
	}
	x := float64(i)
	// The first segment whose end count passes x. One exists because
	// x < N(Duration()), the last segment's n1.
	lo, hi := 0, len(r.segs)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.segs[m].n1 > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	s := &r.segs[lo]
	d := x - s.n0
	if d <= 0 {
		return s.start, true
	}
	disc := s.r0*s.r0 + 4*s.a*d
	if disc < 0 { // rounding, at the very end of a ramp down to 0
		disc = 0
	}
	ns := 2e9 * d / (s.r0 + math.Sqrt(disc))
	if !(ns < float64(s.dur)) {
		return s.start + s.dur, true
	}
	return s.start + min(time.Duration(math.Round(ns)), s.dur), true
}

// Total returns the number of arrivals in the whole profile: the number of
// whole i with 0 <= i < N(Duration()), which is ceil(N(Duration())). An
// arrival exactly at the end is not included: 10/s for 1s has N = 10 and
// Total 10 (offsets 0 to 900ms; the one at 1s belongs to whatever comes
// next), while 10.5/s for 1s has Total 11 (the last one at about 952ms).
// Offset(i) is ok exactly when 0 <= i < Total().
func (r Rate) Total() int64 { return r.total }

// Expected returns N(t), the expected cumulative arrivals by offset t (t
// clamps to [0, Duration()]). It is non-decreasing in t.
func (r Rate) Expected(t time.Duration) float64 {
	if len(r.segs) == 0 || t <= 0 {
		return 0
	}
	if t >= r.dur {
		return r.segs[len(r.segs)-1].n1
	}
	s := &r.segs[r.segmentAt(t)]
	x := float64(t - s.start) // nanoseconds
	return min(s.n0+x*(s.r0+s.a*x/1e9)/1e9, s.n1)
}

// At returns the instantaneous target rate, in starts per second, at offset
// t. A jump at t has already happened at t, so At(Duration()) is the last
// stage's target. Outside [0, Duration()] the rate is 0.
func (r Rate) At(t time.Duration) float64 {
	if len(r.segs) == 0 || t < 0 || t > r.dur {
		return 0
	}
	s := &r.segs[r.segmentAt(t)]
	if el := t - s.start; el < s.dur {
		return s.r0 + (s.r1-s.r0)*float64(el)/float64(s.dur)
	}
	return s.r1
}

// segmentAt returns the index of the last segment that starts at or before
// t; t must be >= 0 and r must have segments.
func (r Rate) segmentAt(t time.Duration) int {
	lo, hi := 0, len(r.segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.segs[m].start > t {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// Duration returns the length of the profile: the sum of the stages'
// durations.
func (r Rate) Duration() time.Duration { return r.dur }
