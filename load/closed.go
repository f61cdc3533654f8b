package load

import (
	"math"
	"math/bits"
	"time"
)

// Ramp is the closed model's ramp-up: Clients clients start evenly over Over.
//
//	clients
//	  C |               ┌────
//	    |           ┌───┘
//	    |       ┌───┘
//	    |   ┌───┘
//	  1 |───┘
//	    +───┴───┴───┴───┴────▶ offset
//	    0      Over*k/C    Over
//
// Client 0 starts at once and the last one a step before Over, so the
// clients are spread evenly and all of them run from Over on.
type Ramp struct {
	Clients int
	Over    time.Duration
}

// Start returns the offset at which client k (0-based) starts: Over*k/Clients
// rounded down (client 0 at 0). It computes with a 128-bit product, so any
// Over and Clients are exact. k < 0 gives 0 and k >= Clients, which is no
// client, gives Over; Clients <= 0 or Over <= 0 gives 0.
func (r Ramp) Start(k int) time.Duration {
	if k <= 0 || r.Clients <= 0 || r.Over <= 0 {
		return 0
	}
	if k >= r.Clients {
		return r.Over
	}
	hi, lo := bits.Mul64(uint64(r.Over), uint64(k))
	q, _ := bits.Div64(hi, lo, uint64(r.Clients)) // q < Over: no overflow
	return time.Duration(q)
}

// Active returns how many clients have started by offset t (inclusive): the
// number of k in [0, Clients) with Start(k) <= t. It is 0 before 0 and
// Clients from Over on (at once when Over <= 0).
func (r Ramp) Active(t time.Duration) int {
	if r.Clients <= 0 || t < 0 {
		return 0
	}
	if r.Over <= 0 || t >= r.Over {
		return r.Clients
	}
	// Start(k) = floor(Over*k/C) <= t  ⇔  Over*k < C*(t+1), so the count
	// of such k >= 0 is ceil(C*(t+1)/Over) = floor((C*(t+1)-1)/Over) + 1.
	hi, lo := bits.Mul64(uint64(r.Clients), uint64(t)+1)
	lo, borrow := bits.Sub64(lo, 1, 0)
	hi -= borrow
	q, _ := bits.Div64(hi, lo, uint64(r.Over)) // q < Clients: no overflow
	return int(min(q+1, uint64(r.Clients)))
}

// Cap is a throughput cap (the closed model's max_rps): start i may not happen before i/PerSecond.
// It is computed from the total starts expected by now, so a cap that fell behind catches up instead of drifting (like vegeta's pacer).
//
// A client that wants to start while Offset(i) is still in the future waits
// for it; one whose start is already due goes at once, so after a short
// stall the run makes up the starts it owes until it is back on schedule.
// (The engine moves the schedule back when it falls more than a second
// behind, so a long stall is never made up in one burst.)
type Cap struct{ PerSecond float64 }

// Offset returns the earliest offset for start i (0-based): i/PerSecond,
// rounded to the nearest nanosecond and saturating at the largest
// time.Duration. PerSecond <= 0 (or NaN or +Inf) means no cap (returns 0), as
// does i <= 0.
func (c Cap) Offset(i int64) time.Duration {
	if i <= 0 || !(c.PerSecond > 0) || math.IsInf(c.PerSecond, 1) {
		return 0
	}
	ns := float64(i) * 1e9 / c.PerSecond // multiply first: exact for whole rates
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(ns))
}
