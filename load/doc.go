// Package load holds fuka's load shapes: the pure functions that say when
// each start is meant to happen.
//
// Nothing here reads a clock, sleeps, does I/O or starts a goroutine. Every
// offset is a time.Duration measured from the start of the run; the engine
// adds it to the run's start time itself. The functions the engine calls per
// start (Rate.Offset, Share.Offset, Ramp.Start, Cap.Offset) do not allocate
// and take O(log stages) time or better.
//
// # Open model: Rate
//
// A Rate is an arrival-rate profile made of stages. Each stage ramps the rate
// linearly from where the previous stage ended to its target over its
// duration; a zero duration is a jump. The profile below is
// "100:10s,100:20s,200:10s,200:20s,0:10s":
//
//	rate (starts/s)
//	 200 |                    .---------.
//	     |                 /             \
//	 100 |     .---------'                \
//	     |   /                             \
//	   0 +-'--------------------------------'---> offset
//	     0     10s      30s  40s       60s 70s
//
// N(t), the expected number of arrivals by offset t, is the area under that
// curve. Arrival i (0-based) is meant to start at the first offset at which
// N passes i. Within a stage N is quadratic, so Offset solves it in closed
// form; a zero-rate stage adds no area, so no arrival falls inside it.
//
// # Why every offset is computed from the start
//
// A scheduler that adds 1/rate to the previous start accumulates rounding
// drift over millions of starts, and one that sleeps "until the next tick"
// quietly pushes every later start back whenever it fell behind. Both hide a
// slow target: the load drops exactly when the target struggles, and the
// latency of the starts that should have happened during the stall is never
// measured (coordinated omission).
//
// Here the intended offset of start i is a function of i and the profile
// only. When the engine falls behind, the starts it owes are already due: it
// starts them at once or counts them as dropped, and it measures latency
// from the intended offset, so a stall shows up in the percentiles.
//
// # Closed model: Ramp and Cap
//
// A Ramp starts a fixed number of clients evenly over the ramp-up. A Cap
// limits a closed model's throughput (max_rps); like Rate it is computed from
// the total starts expected by now, so a capped run that fell behind catches
// up instead of drifting.
//
// # Many event loops or workers: Split
//
// Rate.Split deals a profile out to n independent event loops or workers
// without coordination: share j owns arrivals j, j+n, j+2n, ... Each share's
// offsets are exact offsets of the whole profile, and together the shares
// are the whole profile.
package load
