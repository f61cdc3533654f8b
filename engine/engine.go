// Package engine runs a load: it computes every start's intended time from
// the run's start, hands starts to clients, counts starts that find no free
// client as dropped, and feeds outcomes to metrics recorders.
//
// Two transports share that job. On Linux, plain-text HTTP/1.1 goes through
// event loops that own their sockets (epoll, non-blocking, one loop per CPU):
// a request costs a write, a read and a share of an epoll_wait, which is what
// lets one core keep up with C load generators. TLS and HTTP/2 go through
// net/http with one goroutine per client. Both measure the same way:
//
//	closed model:  client k starts at ramp.Start(k), then loops send→response→send;
//	               latency is measured from the send.
//	open model:    start i is due at rate.Offset(i), whether or not the target
//	               has answered earlier ones; latency is measured from that
//	               intended time, so a stall shows in the percentiles
//	               (no coordinated omission).
package engine

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// Result is what a run produced.
type Result struct {
	Run       *metrics.Run
	Elapsed   time.Duration
	Scheduled int64 // open model: starts that were due (sent + dropped + LostStarts)
	// LostStarts is, in a distributed run, the part of Scheduled that fell
	// in the shares of workers that were lost or left, after what they
	// reported: nobody knows whether those starts began.
	LostStarts  int64
	PeakClients int
	Interrupted bool   // the context was cancelled before the load ended
	Transport   string // "fast" or "net/http"
	// DataExhausted: a unique data feeder ran out and ended the run.
	DataExhausted bool
	// Warmup is the pre-connecting done before the run's clock started;
	// nil when there was none (the closed model, or Open.Preconnect < 0).
	Warmup *Warmup
}

// source is one independent producer of load: an event loop or a client pool.
type source interface {
	run(ctx context.Context) // returns when its share is done and in-flight requests ended
	active() int             // clients active now
	peak() int               // most clients ever active at once (open model) or started (closed)
	scheduled() int64        // starts that were due (open model)
	setStart(t time.Time)    // the run's clock starts at t; before run
}

// Run runs cfg until its load is done or ctx is cancelled. Cancelling stops
// scheduling; in-flight requests get up to their timeout to finish, and the
// result covers everything measured. An open-model run first pre-connects
// (see Warmup), before its clock starts.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	p, err := Prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// Prepared is a run whose sources are made and whose connections are
// opened, waiting for its clock to start: a distributed worker prepares
// before the agreed start, so its pre-connecting does not delay it.
type Prepared struct {
	cfg       Config
	srcs      []source
	recs      []*metrics.Recorder
	transport string
	warm      *Warmup
	endRun    context.CancelCauseFunc // set by Run; ends the run early
	mu        sync.Mutex
}

// Prepare validates cfg, makes its sources and pre-connects. ctx bounds
// the pre-connecting.
func Prepare(ctx context.Context, cfg Config) (*Prepared, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Prepared{cfg: cfg}
	srcs, recs, transport, err := p.cfg.sources(time.Now(), func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.endRun != nil {
			p.endRun(errDataExhausted)
		}
	})
	if err != nil {
		return nil, err
	}
	p.srcs, p.recs, p.transport = srcs, recs, transport
	p.warm = warm(ctx, &p.cfg, srcs)
	return p, nil
}

// Warmup is what Prepare's pre-connecting did; nil when it did none.
func (p *Prepared) Warmup() *Warmup { return p.warm }

// Close releases what Prepare opened, for a Prepared that will not Run.
func (p *Prepared) Close() {
	for _, s := range p.srcs {
		if w, ok := s.(warmer); ok {
			w.discard()
		}
	}
}

// Run starts the clock and runs the prepared load (see Run). A Prepared
// runs once.
func (p *Prepared) Run(ctx context.Context) (*Result, error) {
	cfg := &p.cfg
	ctx, endRun := context.WithCancelCause(ctx)
	defer endRun(nil)
	p.mu.Lock()
	p.endRun = endRun
	p.mu.Unlock()
	start := time.Now()
	for _, s := range p.srcs {
		s.setStart(start)
	}
	srcs := p.srcs
	names, checks := cfg.Names()
	col := metrics.NewCollector(names, p.recs)
	if len(checks) > 0 {
		col.SetChecks(checks)
	}
	// The event loops count the connections they open, and so does the
	// net/http quick-mode client, except over forced HTTP/2 (net/http's
	// own dialer); a plan's net/http clients do not.
	if w, ok := cfg.Work.(Request); ok && !w.HTTP2 || p.transport == "fast" {
		col.Run().CountsConnects = true
	}
	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := &ticks{cfg: cfg, col: col, srcs: srcs, start: start}
	t.until(done)
	elapsed := t.close()
	res := &Result{
		Run:           col.Run(),
		Elapsed:       elapsed,
		PeakClients:   peakOf(srcs, t.peak),
		Interrupted:   ctx.Err() != nil && !errors.Is(context.Cause(ctx), errDataExhausted),
		DataExhausted: errors.Is(context.Cause(ctx), errDataExhausted),
		Transport:     p.transport,
		Warmup:        p.warm,
	}
	for _, s := range srcs {
		res.Scheduled += s.scheduled()
	}
	return res, nil
}

// sources makes the run's producers of load and their recorders: the fast
// path's event loops for plain-text HTTP/1.1 requests where it can be
// used, else net/http client pools, one per part in a run of parts.
// endRun ends the whole run early (a scenario's data ran out).
func (c *Config) sources(start time.Time, endRun func()) ([]source, []*metrics.Recorder, string, error) {
	switch w := c.Work.(type) {
	case Parts:
		if c.fastParts(w) {
			srcs, recs, err := newFastPartSources(c, w, c.loops(), start, endRun)
			if err == nil {
				return srcs, recs, "fast", nil
			}
		}
		srcs, recs := c.partSources(w, start, endRun)
		return srcs, recs, "net/http", nil
	case Plan:
		if ls, ok := c.fastPlan(w); ok {
			srcs, recs, err := newFastPlanSources(c, ls, c.loops(), start, endRun)
			if err == nil {
				return srcs, recs, "fast", nil
			}
		}
		rec := newRecorder(w)
		return []source{newPool(c, c.Load, rec, start).withScenario(w.Scenario, endRun)}, []*metrics.Recorder{rec}, "net/http", nil
	}
	w := c.Work.(Request) // Validate let no other work through
	if c.fast(w) {
		srcs, recs, err := newFastSources(c, w, c.loops(), start)
		if err == nil {
			return srcs, recs, "fast", nil
		}
		if !errors.Is(err, errNoFast) {
			return nil, nil, "", err
		}
	}
	rec := metrics.NewRecorder(1)
	return []source{newPool(c, c.Load, rec, start).withRequest(w)}, []*metrics.Recorder{rec}, "net/http", nil
}

// loops is the number of event loops the fast path runs.
func (c *Config) loops() int {
	if c.Loops > 0 {
		return c.Loops
	}
	return min(runtime.GOMAXPROCS(0), runtime.NumCPU())
}

// newRecorder records a plan's requests and checks.
func newRecorder(w Work) *metrics.Recorder {
	names, checks := w.names()
	return metrics.NewRecorder(len(names)).WithChecks(len(checks))
}

// partSources makes a pool per part, each started by its delay or when the
// part it waits for has ended.
func (c *Config) partSources(w Parts, start time.Time, endRun func()) ([]source, []*metrics.Recorder) {
	done := make([]chan struct{}, len(w.Parts))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var srcs []source
	var recs []*metrics.Recorder
	for i, p := range w.Parts {
		rec := newRecorder(w)
		pl := newPool(c, p.Load, rec, start).withScenario(p.Scenario, endRun)
		ps := &partSource{pool: pl, delay: p.Delay, done: done[i]}
		if a := p.After; a >= 0 && a < len(done) && a != i {
			ps.after = done[a]
		}
		srcs = append(srcs, ps)
		recs = append(recs, rec)
	}
	return srcs, recs
}

// ticks closes the run's one-second intervals and hands them to OnTick
// and OnSnapshot.
type ticks struct {
	cfg   *Config
	col   *metrics.Collector
	srcs  []source
	start time.Time
	next  time.Duration // the end of the interval being measured
	peak  int           // most clients active at a tick
}

// active is the clients active now, summed over the sources.
func (t *ticks) active() int {
	n := 0
	for _, s := range t.srcs {
		n += s.active()
	}
	t.peak = max(t.peak, n)
	return n
}

// until ticks until done is closed. Ticks land on whole seconds from the
// start so intervals line up with the timeline.
func (t *ticks) until(done <-chan struct{}) {
	t.next = time.Second
	tick := time.NewTimer(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p := t.col.Tick(t.next, t.active())
			snapshot(t.cfg, t.col, p, int(t.next/time.Second), false)
			if t.cfg.OnTick != nil {
				t.cfg.OnTick(t.next, p, t.col.Run())
			}
			t.next += time.Second
			tick.Reset(time.Until(t.start.Add(t.next)))
		case <-done:
			return
		}
	}
}

// close closes the last, partial interval, which holds what finished
// after the last whole second (in-flight requests after the end, or a
// request-count bound), and returns the run's length. It is measured, but
// not shown as progress: a rate over a few milliseconds would mislead.
func (t *ticks) close() time.Duration {
	elapsed := time.Since(t.start)
	interval := int(t.next / time.Second)
	if elapsed > t.next-time.Second {
		p := t.col.Tick(elapsed, t.active())
		snapshot(t.cfg, t.col, p, interval, true)
	} else {
		snapshot(t.cfg, t.col, metrics.Point{}, interval, true) // nothing left: just say so
	}
	return elapsed
}

// partSource runs a pool once its start condition holds.
type partSource struct {
	*pool
	delay time.Duration
	after <-chan struct{}
	done  chan struct{}
}

func (s *partSource) run(ctx context.Context) {
	defer close(s.done)
	if !partWait(ctx, s.after, s.start.Add(s.delay)) {
		return
	}
	// The part's own clock starts now: its ramp-up, rate stages and duration
	// are measured from here.
	s.start = time.Now()
	s.pool.run(ctx)
}

// partWait waits until the part a part waits for (after, if any) has
// ended, then until at; false when ctx ended first.
func partWait(ctx context.Context, after <-chan struct{}, at time.Time) bool {
	if after != nil {
		select {
		case <-after:
		case <-ctx.Done():
			return false
		}
	}
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// snapshot hands the interval the collector just closed to OnSnapshot.
func snapshot(cfg *Config, col *metrics.Collector, p metrics.Point, interval int, final bool) {
	if cfg.OnSnapshot == nil {
		return
	}
	s := &metrics.Snapshot{Interval: interval, Dropped: p.Dropped, Connects: p.Connects, Clients: p.Clients, Final: final,
		WS: col.Run().WebSocket, WSOpen: p.WSOpen, WSPeak: p.WSPeak}
	if p.At > 0 {
		s.Stats, s.Checks = col.Interval(), col.IntervalChecks()
	}
	cfg.OnSnapshot(s)
}

// peakOf is the larger of the sampled peak and what the sources counted.
func peakOf(srcs []source, sampled int) int {
	n := 0
	for _, s := range srcs {
		n += s.peak()
	}
	return max(n, sampled)
}

var errDataExhausted = errors.New("data rows exhausted")

var errNoFast = errors.New("fast path unavailable")

// A Lease bounds when a run may start requests. A distributed worker holds
// one and extends it each time its controller confirms that the worker is
// still in the run; a worker cut off from its controller, or frozen and
// then thawed after the controller gave it up, finds its lease run out and
// starts nothing the controller does not count. Open-model starts due
// while it has run out are dropped (and counted); closed-model clients
// wait for it. A nil *Lease never runs out.
type Lease struct {
	base  time.Time
	until atomic.Int64 // nanoseconds after base; 0: not yet extended
}

// NewLease returns a lease that has run out until it is extended.
func NewLease() *Lease { return &Lease{base: time.Now()} }

// Extend moves the end of the lease to until, if that is later.
func (l *Lease) Extend(until time.Time) {
	d := int64(until.Sub(l.base))
	for {
		cur := l.until.Load()
		if d <= cur || l.until.CompareAndSwap(cur, d) {
			return
		}
	}
}

// Valid reports whether the lease allows a start at t.
func (l *Lease) Valid(t time.Time) bool {
	return l == nil || int64(t.Sub(l.base)) < l.until.Load()
}

// Holds reports whether the lease allows a request's first byte to be
// written now. The transports ask it at the write itself, not only when
// they take a start: a worker frozen between the two (SIGSTOP, a stalled
// VM) and thawed after its controller gave it up would otherwise send
// the request it had begun, one its controller's report does not contain.
// It costs a monotonic clock read and an atomic load.
func (l *Lease) Holds() bool {
	return l == nil || int64(time.Since(l.base)) < l.until.Load()
}

// gate is Holds as a client.Options Gate: nil without a lease.
func (l *Lease) gate() func() bool {
	if l == nil {
		return nil
	}
	return l.Holds
}

// leaseWait is how long a closed-model client waits before it looks at a
// run-out lease again.
const leaseWait = 10 * time.Millisecond

// counter is an atomic count that several loops may share, and the time
// the throughput cap has been moved back after a stall (see pace).
type counter struct {
	n   atomic.Int64
	lag atomic.Int64
}

// take returns the next start's index; false once limit (>= 0) starts were
// taken.
func (c *counter) take(limit int64) (int64, bool) {
	i := c.n.Add(1) - 1
	if limit >= 0 && i >= limit {
		return i, false
	}
	return i, true
}

// pace returns the offset before which capped start i may not go: the
// cap's offset, moved back by the time the run fell behind it by more than
// late, so that a stall is made up for at most late's worth of starts in
// a burst, never all of it.
func (c *counter) pace(cp load.Cap, i int64, now, late time.Duration) time.Duration {
	if !(cp.PerSecond > 0) {
		return 0
	}
	base := cp.Offset(i)
	for {
		lag := c.lag.Load()
		t := base + time.Duration(lag)
		if now-t <= late {
			return t
		}
		if c.lag.CompareAndSwap(lag, int64(now-late-base)) {
			return now - late
		}
	}
}
