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
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// Config is one load to run.
type Config struct {
	Request *client.Request
	Name    string // request name for metrics; defaults to "METHOD path"
	Timeout time.Duration
	// Insecure skips TLS verification; HTTP2 forces the standard path with HTTP/2.
	Insecure, HTTP2 bool
	UserAgent       string

	// Closed model (Rate == nil).
	Clients  int
	RampUp   time.Duration
	Duration time.Duration // 0: until Requests are done
	Requests int64         // total across clients; 0: until Duration ends
	MaxRPS   float64       // throughput cap across all clients; 0: none

	// Open model.
	Rate       *load.Rate
	MaxClients int
	// Resolution is how finely the fast path times open-model starts:
	// starts due within one step go out together at its end. 0: each start
	// at its own time (most wake-ups).
	Resolution time.Duration

	// Scenario, when set, replaces Request: each client runs iterations of
	// a plan's scenarios (net/http path). Iterations bounds them per client
	// in the closed model (0: until Duration ends).
	Scenario   Scenario
	Iterations int

	// Parts, when set (with Scenario), run several scenarios at once, each
	// with its own load and start: plans whose scenarios have their own
	// load and start_after. Each part's Scenario, load fields and Timeout
	// are used; the top-level load fields are ignored.
	Parts []Part

	// Share makes this run one worker's part of a distributed run (see
	// Share). Zero value: all of it.
	Share Share
	// Lease, if set, bounds when this run may start anything (see Lease).
	Lease *Lease

	// Loops is the number of event loops (fast path) ; 0 means GOMAXPROCS.
	Loops int
	// ForceStd sends through net/http even where the fast path could be used.
	ForceStd bool
	// OnTick is called once a second from one goroutine.
	OnTick func(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	// OnSnapshot, if set, gets each interval's measurements as a wire
	// snapshot, from the same goroutine, including the last partial one
	// (Final). A worker sends them to its controller; they are valid only
	// during the call.
	OnSnapshot func(s *metrics.Snapshot)
}

// Share is worker Index of Count's part of a load: the workers together
// run exactly the whole load, and each has the clients for its part.
//
// Clients are dealt like cards: client k (and its ramp-up slot) to worker
// k mod Count, in both models (max clients in the open model). Everything
// else follows the clients (load.Deal, with one slot per client): the
// open model's starts (worker w's share of the rate is its share of max
// clients), the closed model's -n requests (each client's share of them),
// its max_rps (each client's share of the cap) and the rows of unique
// data. A worker with no client (fewer clients than workers) gets nothing
// to do rather than work it cannot do.
type Share struct{ Index, Count int }

// of returns (index, count), count >= 1.
func (s Share) of() (int, int) {
	if s.Count <= 1 {
		return 0, 1
	}
	return s.Index, s.Count
}

// Part is one scenario's load within a run of several (see Config.Parts).
type Part struct {
	Config
	Delay time.Duration // start this long after the run starts
	After int           // or, when >= 0, when part After has ended
}

// Scenario makes the clients of a plan run. Implemented by scenario.Runner.
type Scenario interface {
	Names() []string      // request names, by the index clients record under
	CheckNames() []string // check names, by index
	// NewClient returns client id, which records into rec and may call
	// endRun to end the whole run early.
	NewClient(id int, rec *metrics.Recorder, endRun func()) ScenarioClient
}

// ScenarioClient is one client of a Scenario; one goroutine uses it.
type ScenarioClient interface {
	// Iterate runs one iteration: seq numbers the start, intended is when
	// it was due. It returns false when this client must stop.
	Iterate(ctx context.Context, seq int64, intended time.Time) (more bool)
}

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
}

// Open reports whether cfg uses the open model.
func (c *Config) Open() bool { return c.Rate != nil }

// Validate checks cfg and fills defaults. Errors are meant for the user.
func (c *Config) Validate() error {
	if len(c.Parts) > 0 {
		for i := range c.Parts {
			if c.Parts[i].Scenario == nil {
				return fmt.Errorf("part %d: no scenario", i)
			}
		}
		return nil
	}
	if c.Scenario != nil {
		if c.Open() && c.MaxClients <= 0 {
			return errors.New("max clients must be > 0")
		}
		if !c.Open() && (c.Clients <= 0 || (c.Duration <= 0 && c.Iterations <= 0 && c.Requests <= 0)) {
			return errors.New("closed model needs clients and a duration or iterations")
		}
		return nil
	}
	if c.Request == nil {
		return errors.New("no request")
	}
	if c.Timeout <= 0 {
		return errors.New("timeout must be > 0")
	}
	if c.Name == "" {
		c.Name = c.Request.Method + " " + c.Request.URL.Path
		if c.Request.URL.Path == "" {
			c.Name += "/"
		}
	}
	if c.Open() {
		if c.MaxClients <= 0 {
			return errors.New("max clients must be > 0")
		}
		return nil
	}
	switch {
	case c.Clients <= 0:
		return errors.New("clients must be > 0")
	case c.Duration <= 0 && c.Requests <= 0:
		return errors.New("need a duration or a request count")
	case c.Requests < 0:
		return errors.New("requests must be >= 0")
	case c.MaxRPS < 0:
		return errors.New("max rps must be >= 0")
	case c.RampUp < 0:
		return errors.New("ramp-up must be >= 0")
	}
	return nil
}

// planned is when scheduling stops; 0 means no time bound.
func (c *Config) planned() time.Duration {
	if c.Open() {
		return c.Rate.Duration()
	}
	return c.Duration
}

// source is one independent producer of load: an event loop or a client pool.
type source interface {
	run(ctx context.Context) // returns when its share is done and in-flight requests ended
	active() int             // clients active now
	peak() int               // most clients ever active at once (open model) or started (closed)
	scheduled() int64        // starts that were due (open model)
}

// Run runs cfg until its load is done or ctx is cancelled. Cancelling stops
// scheduling; in-flight requests get up to their timeout to finish, and the
// result covers everything measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loops := cfg.Loops
	if loops <= 0 {
		loops = min(runtime.GOMAXPROCS(0), runtime.NumCPU())
	}
	ctx, endRun := context.WithCancelCause(ctx)
	defer endRun(nil)
	start := time.Now()
	var srcs []source
	var recs []*metrics.Recorder
	transport := "net/http"
	names := []string{cfg.Name}
	var checks []string
	if len(cfg.Parts) > 0 {
		names, checks = cfg.Parts[0].Scenario.Names(), cfg.Parts[0].Scenario.CheckNames()
		done := make([]chan struct{}, len(cfg.Parts))
		for i := range done {
			done[i] = make(chan struct{})
		}
		for i := range cfg.Parts {
			pc := &cfg.Parts[i].Config
			if err := pc.Validate(); err != nil {
				return nil, fmt.Errorf("part %d: %w", i, err)
			}
			pc.UserAgent = cfg.UserAgent
			rec := metrics.NewRecorder(len(names)).WithChecks(len(checks))
			pl := newPool(pc, rec, start, func() { endRun(errDataExhausted) })
			ps := &partSource{pool: pl, delay: cfg.Parts[i].Delay, done: done[i]}
			if a := cfg.Parts[i].After; a >= 0 && a < len(done) && a != i {
				ps.after = done[a]
			}
			srcs = append(srcs, ps)
			recs = append(recs, rec)
		}
	} else if cfg.Scenario != nil {
		names, checks = cfg.Scenario.Names(), cfg.Scenario.CheckNames()
		rec := metrics.NewRecorder(len(names)).WithChecks(len(checks))
		srcs = []source{newPool(&cfg, rec, start, func() { endRun(errDataExhausted) })}
		recs = []*metrics.Recorder{rec}
	} else if !cfg.ForceStd && !cfg.HTTP2 && cfg.Request.URL.Scheme == "http" {
		fs, frecs, err := newFastSources(&cfg, loops, start)
		if err == nil {
			srcs, recs, transport = fs, frecs, "fast"
		} else if !errors.Is(err, errNoFast) {
			return nil, err
		}
	}
	if srcs == nil {
		rec := metrics.NewRecorder(1)
		srcs = []source{newPool(&cfg, rec, start, nil)}
		recs = []*metrics.Recorder{rec}
	}
	col := metrics.NewCollector(names, recs)
	if len(checks) > 0 {
		col.SetChecks(checks)
	}

	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	peak := 0
	activeNow := func() int {
		n := 0
		for _, s := range srcs {
			n += s.active()
		}
		if n > peak {
			peak = n
		}
		return n
	}
	// Ticks land on whole seconds from the start so intervals line up with
	// the timeline; the last, partial interval is closed when the load ends.
	tick := time.NewTimer(time.Second)
	defer tick.Stop()
	next := time.Second
loop:
	for {
		select {
		case <-tick.C:
			p := col.Tick(next, activeNow())
			snapshot(&cfg, col, p, int(next/time.Second), false)
			if cfg.OnTick != nil {
				cfg.OnTick(next, p, col.Run())
			}
			next += time.Second
			tick.Reset(time.Until(start.Add(next)))
		case <-done:
			break loop
		}
	}
	// The last, partial interval holds what finished after the last whole
	// second (in-flight requests after the end, or a request-count bound).
	// It is measured, but not shown as progress: a rate over a few
	// milliseconds would mislead.
	elapsed := time.Since(start)
	if elapsed > next-time.Second {
		p := col.Tick(elapsed, activeNow())
		snapshot(&cfg, col, p, int(next/time.Second), true)
	} else {
		snapshot(&cfg, col, metrics.Point{}, int(next/time.Second), true) // nothing left: just say so
	}
	res := &Result{
		Run:           col.Run(),
		Elapsed:       elapsed,
		PeakClients:   peakOf(srcs, peak),
		Interrupted:   ctx.Err() != nil && !errors.Is(context.Cause(ctx), errDataExhausted),
		DataExhausted: errors.Is(context.Cause(ctx), errDataExhausted),
		Transport:     transport,
	}
	for _, s := range srcs {
		res.Scheduled += s.scheduled()
	}
	return res, nil
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
	if s.after != nil {
		select {
		case <-s.after:
		case <-ctx.Done():
			return
		}
	}
	if s.delay > 0 {
		t := time.NewTimer(time.Until(s.start.Add(s.delay)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
	// The part's own clock starts now: its ramp-up, rate stages and duration
	// are measured from here.
	s.start = time.Now()
	s.pool.run(ctx)
}

// snapshot hands the interval the collector just closed to OnSnapshot.
func snapshot(cfg *Config, col *metrics.Collector, p metrics.Point, interval int, final bool) {
	if cfg.OnSnapshot == nil {
		return
	}
	s := &metrics.Snapshot{Interval: interval, Dropped: p.Dropped, Clients: p.Clients, Final: final}
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

// share splits total into n parts whose sum is total; part j of n.
func share(total int64, n, j int) int64 { return load.Part(total, n, j) }

// deal is the share's part of items handled by slots clients.
func (s Share) deal(slots int) load.Deal {
	w, n := s.of()
	return load.Deal{Slots: slots, N: n, W: w}
}

// Clients is how many of the load's clients (closed model) or max clients
// (open model) are the share's.
func (s Share) Clients(c *Config) int {
	if c.Open() {
		return s.deal(c.MaxClients).PerRound()
	}
	return s.deal(c.Clients).PerRound()
}

// Requests is the share's part of the closed model's request count (-n):
// the requests of its clients. -1 when there is no bound.
func (s Share) Requests(c *Config) int64 {
	if c.Requests <= 0 {
		return -1
	}
	return s.deal(c.Clients).Of(c.Requests)
}

// MaxRPS is the share's part of the closed model's throughput cap: its
// clients' part. 0: no cap.
func (s Share) MaxRPS(c *Config) float64 {
	if c.MaxRPS <= 0 || c.Clients <= 0 {
		return 0
	}
	return c.MaxRPS * float64(s.deal(c.Clients).PerRound()) / float64(c.Clients)
}

// Fraction is the share's part of the load, 0 to 1: its part of the
// clients (closed) or of the starts and max clients (open); in a run of
// several scenario loads, of the largest one.
func (s Share) Fraction(c *Config) float64 {
	d := s.Rows(c)
	if d.Slots <= 0 {
		return 0
	}
	return float64(d.PerRound()) / float64(d.Slots)
}

// Rows is how the share's data rows are dealt: like its clients (see
// Share), those of the largest scenario load in a run of several.
func (s Share) Rows(c *Config) load.Deal {
	if len(c.Parts) > 0 {
		best := 0
		var d load.Deal
		for i := range c.Parts {
			p := &c.Parts[i].Config
			if n := max(p.Clients, p.MaxClients); n > best {
				best, d = n, s.Rows(p)
			}
		}
		return d
	}
	if c.Open() {
		return s.deal(c.MaxClients)
	}
	return s.deal(c.Clients)
}

// Due returns how many open-model starts of the share were due by offset t
// from the run's start (closed model: 0). In a run of several scenario
// loads, a load that starts after another is taken to start when that one
// was planned to end.
func (s Share) Due(c *Config, t time.Duration) int64 {
	if len(c.Parts) == 0 {
		if !c.Open() {
			return 0
		}
		return s.deal(c.MaxClients).Of(c.Rate.Due(t))
	}
	var n int64
	for i := range c.Parts {
		p := &c.Parts[i]
		if p.Open() {
			if at := partStart(c.Parts, i, 0); t >= at {
				n += s.deal(p.MaxClients).Of(p.Rate.Due(t - at))
			}
		}
	}
	return n
}

// partStart is when part i is planned to start: its delay, or the planned
// end of the part it waits for if later. depth guards against cycles.
func partStart(parts []Part, i, depth int) time.Duration {
	p := &parts[i]
	at := max(p.Delay, 0)
	if a := p.After; a >= 0 && a < len(parts) && a != i && depth < len(parts) {
		at = max(at, partStart(parts, a, depth+1)+parts[a].planned())
	}
	return at
}

// LateLimit is how overdue a start may be and still be sent: one heartbeat
// of a distributed run (a second), plus the resolution's batching. Only a
// stalled generator (a frozen process or host, a worker paused and
// resumed) falls further behind: a busy target never delays a start (the
// open model drops a start that finds no free client). Sending such starts
// late would fire the stall's backlog in one burst, a load the plan never
// asked for, and their latency would be the generator's stall; so they are
// dropped and counted as dropped, in local and distributed runs alike.
// The closed model's throughput cap likewise makes up at most this much.
func (c *Config) LateLimit() time.Duration { return time.Second + max(c.Resolution, 0) }

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

func (c *Config) String() string {
	if c.Open() {
		return fmt.Sprintf("open model, rate %s, max %d clients", c.Rate, c.MaxClients)
	}
	return fmt.Sprintf("closed model, %d clients", c.Clients)
}
