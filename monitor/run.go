package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Monitor samples a set of samplers at a fixed interval and keeps the
// points. Each tick runs every sampler concurrently under a deadline of 80%
// of the interval; a sampler that errors, panics or misses the deadline
// leaves a gap (its series are absent from that point) and a Failure, and
// the loop carries on.
type Monitor struct {
	samplers []Sampler
	interval time.Duration
	log      *slog.Logger

	// busy[i] is set while samplers[i] is still running. A sampler that
	// ignores its context may outlive its tick; it is skipped (a gap) until
	// it returns, so no sampler is ever called by two goroutines at once.
	busy []atomic.Bool

	// history is false for the agent, which runs for days and only serves
	// the latest point: it keeps no points or failures.
	history bool

	// finish carries the end of the run from Finish to Run (buffered: Finish never waits).
	finish chan time.Time

	mu      sync.Mutex
	hist    history
	fails   failureLog
	latest  Point
	failing map[string]bool // sampler name -> failed at its last tick (to log transitions, not every tick)
}

// New returns a Monitor of samplers, sampled every interval. A nil log
// discards.
func New(samplers []Sampler, interval time.Duration, log *slog.Logger) *Monitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = time.Second
	}
	return &Monitor{
		samplers: slices.Clone(samplers),
		interval: interval,
		log:      log,
		busy:     make([]atomic.Bool, len(samplers)),
		history:  true,
		failing:  map[string]bool{},
		finish:   make(chan time.Time, 1),
	}
}

// Run samples until ctx ends. Ticks fall on whole intervals from start, so
// points line up with the load's per-interval results:
//
//	start        +1i          +2i          +3i
//	  |------------|------------|------------|
//	  [sample]     [sample]     [sample]        each within 0.8i, then idle
//
// A point's At is its tick's offset from start (when it was meant to be
// taken), not when the samplers happened to answer. Ticks that pass while
// the process is stalled are skipped, not made up. Run is called once.
//
// Run returns when ctx ends, dropping a tick in progress, or after Finish,
// once the run's last point is recorded (see Finish).
func (m *Monitor) Run(ctx context.Context, start time.Time) {
	for k := time.Duration(0); ; k++ {
		// The next tick at or after now: ceil((now-start)/interval). A tick
		// missed by less than a tenth of an interval (the first one, taken
		// right after start) is still taken: the baseline sample is what
		// the first rates are computed from.
		if late := time.Since(start); late > k*m.interval+m.interval/10 {
			k = (late + m.interval - 1) / m.interval
		}
		at := start.Add(k * m.interval)
		timer := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case end := <-m.finish:
			timer.Stop()
			m.finishAt(ctx, end.Sub(start), k*m.interval)
			return
		case <-timer.C:
		}
		p, fails := m.tick(ctx, k*m.interval, at.Add(m.interval*8/10))
		if ctx.Err() != nil {
			return // cut short by the end of the run: no point, no false failures
		}
		m.record(p, fails)
	}
}

// Finish tells Run that the run ended at end, so that the timeline ends
// where the load's does: a tick in progress is completed and recorded, and
// a tick due at end, or less than a tenth of an interval after it, is
// taken now and filed at its time. A run that ends between ticks has no
// point for its last partial interval: points stay on whole intervals.
// Run then returns. Finish does not wait for Run; only the first call
// counts.
func (m *Monitor) Finish(end time.Time) {
	select {
	case m.finish <- end:
	default:
	}
}

// finishAt takes the tick at next if the run, which ended at end, owes it.
func (m *Monitor) finishAt(ctx context.Context, end, next time.Duration) {
	if next > end+m.interval/10 {
		return
	}
	p, fails := m.tick(ctx, next, time.Now().Add(m.interval*8/10))
	if ctx.Err() != nil {
		return
	}
	m.record(p, fails)
}

// tick samples every sampler once and returns what arrived by deadline.
func (m *Monitor) tick(ctx context.Context, at time.Duration, deadline time.Time) (Point, []Failure) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	type result struct {
		i    int
		vals []Value
		err  error
	}
	// Buffered for every sampler, so one that answers after the tick has
	// moved on never blocks.
	results := make(chan result, len(m.samplers))
	var fails []Failure
	pending := map[int]bool{}
	for i, s := range m.samplers {
		if !m.busy[i].CompareAndSwap(false, true) {
			fails = append(fails, Failure{At: at, Sampler: s.Name(), Err: "still busy with an earlier tick"})
			continue
		}
		pending[i] = true
		go func() {
			vals, err := sampleSafely(ctx, s)
			m.busy[i].Store(false)
			results <- result{i, vals, err}
		}()
	}

	p := Point{At: at, Values: map[string]float64{}}
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
collect:
	for len(pending) > 0 {
		select {
		case r := <-results:
			delete(pending, r.i)
			if r.err != nil {
				if errors.Is(r.err, context.DeadlineExceeded) {
					r.err = fmt.Errorf("timed out after %v: %w", m.interval*8/10, r.err)
				}
				fails = append(fails, Failure{At: at, Sampler: m.samplers[r.i].Name(), Err: r.err.Error()})
				continue
			}
			for _, v := range r.vals {
				// JSON cannot carry NaN or ±Inf, and neither means anything on a chart.
				if !math.IsNaN(v.V) && !math.IsInf(v.V, 0) {
					p.Values[v.Name] = v.V
				}
			}
		case <-wait.C:
			break collect
		}
	}
	for i := range pending {
		fails = append(fails, Failure{At: at, Sampler: m.samplers[i].Name(), Err: fmt.Sprintf("timed out after %v", m.interval*8/10)})
	}
	// Map iteration above is random; keep failures in sampler order.
	slices.SortStableFunc(fails, func(a, b Failure) int { return cmp.Compare(a.Sampler, b.Sampler) })
	return p, fails
}

// sampleSafely calls s.Sample, turning a panic into an error.
func sampleSafely(ctx context.Context, s Sampler) (vals []Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			vals, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return s.Sample(ctx)
}

// record publishes a tick's point and failures and logs changes of state:
// the first failure of a sampler is a warning, a recovery is info, repeats
// are debug (a dead source would otherwise log once a second).
func (m *Monitor) record(p Point, fails []Failure) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.latest = p
	if m.history {
		m.hist.add(p)
		for _, f := range fails {
			m.fails.add(f, m.interval)
		}
	}
	failed := map[string]bool{}
	for _, f := range fails {
		failed[f.Sampler] = true
		if m.failing[f.Sampler] {
			m.log.Debug("monitor: sampler failed", "sampler", f.Sampler, "at", f.At, "err", f.Err)
		} else {
			m.log.Warn("monitor: sampler failed; its series have a gap until it recovers", "sampler", f.Sampler, "at", f.At, "err", f.Err)
		}
	}
	for name := range m.failing {
		if !failed[name] {
			m.log.Info("monitor: sampler recovered", "sampler", name, "at", p.At)
		}
	}
	m.failing = failed
}

// Points returns the points sampled so far, oldest first. Safe to call
// while Run runs. They are rebuilt from the compact history each call: a
// report calls it once, at the end.
func (m *Monitor) Points() []Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hist.points()
}

// Summary is Summarize(m.Points()) without building the points.
func (m *Monitor) Summary() []Stat {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hist.summary()
}

// Failures returns the sampler failures so far, oldest first.
func (m *Monitor) Failures() []Failure {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fails.failures()
}

// Latest returns the most recent point (the zero Point before the first
// tick). Its map is shared and must not be modified.
func (m *Monitor) Latest() Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest
}

// Stat is the peak and mean of one series over a run, for the summary.
type Stat struct {
	Name       string
	Peak, Mean float64
	Samples    int // points that have a value for the series (gaps excluded)
}

// Summarize returns the peak and mean of every series in points, sorted by
// name. Gaps are left out of the mean, not counted as zero.
func Summarize(points []Point) []Stat {
	idx := map[string]int{}
	var stats []Stat
	for _, p := range points {
		for name, v := range p.Values {
			i, ok := idx[name]
			if !ok {
				i = len(stats)
				idx[name] = i
				stats = append(stats, Stat{Name: name, Peak: v})
			}
			s := &stats[i]
			s.Peak = max(s.Peak, v)
			s.Mean += v // a sum until the division below
			s.Samples++
		}
	}
	return finishStats(stats)
}

// finishStats turns the sums in Mean into means and sorts by name.
func finishStats(stats []Stat) []Stat {
	for i := range stats {
		stats[i].Mean /= float64(stats[i].Samples)
	}
	slices.SortFunc(stats, func(a, b Stat) int { return cmp.Compare(a.Name, b.Name) })
	return stats
}
