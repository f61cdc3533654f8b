package kube

import (
	"time"

	"github.com/fuka-load/fuka/monitor"
)

// LoadPoint is the load over one interval of the run's timeline.
type LoadPoint struct {
	At    time.Duration // end of the interval, from the run's start
	Value float64       // what marks the load: throughput (requests/s) unless the caller picks another series
	P99   time.Duration // p99 latency of the interval; 0 when nothing completed in it
}

// ReplicaPoint is a workload's replica counts at one tick of the timeline.
type ReplicaPoint struct {
	At      time.Duration // from the run's start
	Desired int           // what the autoscaler asked for (spec.replicas)
	Ready   int           // replicas that pass their readiness probe
}

// Options tune how a load step is found. The zero value means a rise of
// more than 50% over the mean of the previous 5 points.
type Options struct {
	Rise   float64 // a step rises by more than this fraction over the window's mean (0.5 = 50%)
	Window int     // points in the previous window
}

// ScaleEpisode is one scale-out and the load step that caused it.
type ScaleEpisode struct {
	Step     time.Duration // the load step: the first point of the rise
	ScaleOut time.Duration // the first point at which desired replicas exceeded From
	From, To int           // desired replicas before the scale-out, and the most asked for during it

	// Ready reports whether To replicas were ready before the run ended;
	// ReadyAt is when (0 if not), and TimeToScale is ReadyAt - Step.
	Ready       bool
	ReadyAt     time.Duration
	TimeToScale time.Duration

	// P99Max and P99Mean are the highest and the mean of the per-interval
	// p99 latencies from Step to ReadyAt (to the end of the run if never
	// ready), both ends included; intervals in which nothing completed are
	// left out. Zero when no interval had a p99.
	P99Max, P99Mean time.Duration
}

// TimeToScale finds the scale-outs in replicas, pairs each with the load
// step that preceded it, and measures how long the new replicas took to
// be ready and what latency was meanwhile. Both timelines are sorted by At
// and share one clock (offsets from the run's start); their resolution
// (a second) is the resolution of the answer.
//
// A load step is a point whose Value exceeds the mean Value of the
// opts.Window points before it by more than opts.Rise (the load before the
// first point counts as none, so a run's first busy second is a step).
// Consecutive step points are one rise: the step is the first of them.
//
// A scale-out starts at a replica point whose Desired exceeds the previous
// point's (From is that previous Desired) and lasts until the first point
// at which Ready ≥ Desired; To is the highest Desired in between. Desired
// going down never starts one: scale-downs are ignored.
//
// Each scale-out is paired with the last load step at or before its start:
//
//	load   ___/‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾
//	desired 1 1 1 4 4 4 4 4 4 4 4
//	ready   1 1 1 1 1 2 3 4 4 4 4
//	           ^Step ^ScaleOut   ^ReadyAt    TimeToScale = ReadyAt - Step
//
// If that step is not later than the end of the previous episode (no new
// step since), the scale-out continues the previous episode: an autoscaler
// that scales 1→2, then 2→4 after its stabilisation window, reacts to one
// step, and the episode ends when all 4 are ready. A scale-out with no load
// step before it (before the load began) is left out, and so is a step
// that no scale-out followed. A scale-out still in progress when the
// timeline ends is an episode with Ready false.
func TimeToScale(load []LoadPoint, replicas []ReplicaPoint, opts Options) []ScaleEpisode {
	steps := loadSteps(load, opts)
	var out []ScaleEpisode
	open := false // out[len(out)-1] is still waiting for its replicas
	for i, r := range replicas {
		if !open && i > 0 && r.Desired > replicas[i-1].Desired {
			s := lastAtOrBefore(steps, r.At)
			switch {
			case s < 0:
				// No load step yet: nothing to measure from.
			case len(out) > 0 && steps[s] <= out[len(out)-1].ReadyAt:
				// No new step since the last episode: the same
				// reaction, in another stage.
				e := &out[len(out)-1]
				e.Ready, e.ReadyAt, e.TimeToScale = false, 0, 0
				open = true
			default:
				out = append(out, ScaleEpisode{Step: steps[s], ScaleOut: r.At, From: replicas[i-1].Desired, To: r.Desired})
				open = true
			}
		}
		if !open {
			continue
		}
		e := &out[len(out)-1]
		e.To = max(e.To, r.Desired)
		if r.Ready >= r.Desired {
			e.Ready, e.ReadyAt, e.TimeToScale = true, r.At, r.At-e.Step
			open = false
		}
	}
	for i := range out {
		e := &out[i]
		end := time.Duration(1<<63 - 1)
		if e.Ready {
			end = e.ReadyAt
		}
		e.P99Max, e.P99Mean = p99Between(load, e.Step, end)
	}
	return out
}

// loadSteps returns the times at which the load stepped up, per the rule in
// TimeToScale's comment.
func loadSteps(load []LoadPoint, opts Options) []time.Duration {
	rise, window := opts.Rise, opts.Window
	if rise <= 0 {
		rise = 0.5
	}
	if window <= 0 {
		window = 5
	}
	var steps []time.Duration
	prev := false
	for i, p := range load {
		base := 0.0
		if lo := max(0, i-window); i > lo {
			for _, q := range load[lo:i] {
				base += q.Value
			}
			base /= float64(i - lo)
		}
		step := p.Value > 0 && p.Value > base*(1+rise)
		if step && !prev {
			steps = append(steps, p.At)
		}
		prev = step
	}
	return steps
}

// lastAtOrBefore returns the index of the last time in ts (sorted) that is
// ≤ at, or -1.
func lastAtOrBefore(ts []time.Duration, at time.Duration) int {
	i := -1
	for j, t := range ts {
		if t > at {
			break
		}
		i = j
	}
	return i
}

// p99Between returns the highest and the mean p99 of the load points in
// [from, to], leaving out points without one.
func p99Between(load []LoadPoint, from, to time.Duration) (peak, mean time.Duration) {
	var sum time.Duration
	n := 0
	for _, p := range load {
		if p.At < from || p.At > to || p.P99 <= 0 {
			continue
		}
		peak = max(peak, p.P99)
		sum += p.P99
		n++
	}
	if n > 0 {
		mean = sum / time.Duration(n)
	}
	return peak, mean
}

// Replicas reads a workload's replica timeline from monitor points: its
// replicas_desired and replicas_ready series (for an HPA watched without its
// workload, replicas_desired and replicas_current, which counts pods that
// exist rather than pods that are ready). Points where either series is
// missing (a gap) are left out.
func Replicas(points []monitor.Point, w Workload) []ReplicaPoint {
	desired, ready := w.Series("replicas_desired"), w.Series("replicas_ready")
	if w.Kind == KindHPA {
		ready = w.Series("replicas_current")
	}
	var out []ReplicaPoint
	for _, p := range points {
		d, ok1 := p.Values[desired]
		r, ok2 := p.Values[ready]
		if ok1 && ok2 {
			out = append(out, ReplicaPoint{At: p.At, Desired: int(d), Ready: int(r)})
		}
	}
	return out
}
