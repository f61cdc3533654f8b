package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// pool runs the load through net/http with one goroutine per client: the
// path for TLS and HTTP/2, and for systems without the fast path.
type pool struct {
	cfg      *Config // the run's: its Share and Lease
	load     Load    // the pool's own: a part's in a run of parts
	open     bool    // load is Open
	start    time.Time
	rec      *metrics.Recorder
	std      *client.Std // the Request work; nil when running a Scenario
	scenario Scenario    // the Plan or Parts work
	endRun   func()      // ends the run early (a scenario's data ran out)
	budget   counter
	nAct     atomic.Int64
	nSched   atomic.Int64
	nPeak    atomic.Int64 // clients started
}

func newPool(cfg *Config, l Load, rec *metrics.Recorder, start time.Time) *pool {
	_, open := l.(Open)
	return &pool{cfg: cfg, load: l, open: open, rec: rec, start: start}
}

// withRequest makes p's clients send w's request.
func (p *pool) withRequest(w Request) *pool {
	p.std = client.NewStd(w.Request, client.Options{
		Timeout: w.Timeout, Insecure: w.Insecure, HTTP2: w.HTTP2, HTTP1: w.HTTP1, TLS: w.TLS,
		MaxConns: p.load.Slots(), UserAgent: w.UserAgent, Phases: p.cfg.Phases,
		Conns: &client.Conns{OnConnect: p.rec.Connect}, Gate: p.cfg.Lease.gate(),
	})
	return p
}

// preconnect opens n connections for the quick-mode request before the
// run's clock starts (open model; see Warmup).
func (p *pool) preconnect(ctx context.Context, n int, deadline time.Time) ([]time.Duration, int, error) {
	if p.std == nil || !p.open {
		return nil, 0, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return p.std.Preconnect(ctx, n)
}

// discard releases what preconnect opened, for a run that never ran.
func (p *pool) discard() {
	if p.std != nil {
		p.std.CloseIdle()
	}
}

// withScenario makes p's clients run sc's iterations. A scenario that
// can be gated (scenario.Runner) asks the run's lease at each request's
// write (see Lease.Holds).
func (p *pool) withScenario(sc Scenario, endRun func()) *pool {
	p.scenario, p.endRun = sc, endRun
	if g, ok := sc.(interface{ SetGate(func() bool) }); ok {
		g.SetGate(p.cfg.Lease.gate())
	}
	return p
}

// iterator is what one client goroutine runs each time it is given a start:
// one request in quick mode, one scenario iteration with a plan.
type iterator interface {
	Iterate(ctx context.Context, seq int64, intended time.Time) (more bool)
}

// newClient returns client id's iterator.
func (p *pool) newClient(id int) iterator {
	if p.scenario != nil {
		return p.scenario.NewClient(id, p.rec, p.endRun)
	}
	return quick{p}
}

// closeClient releases what a client holds when its load has ended: a
// scenario client that keeps a connection across iterations (a
// WebSocket) closes it.
func closeClient(cl iterator) {
	if c, ok := cl.(interface{ Close() }); ok {
		c.Close()
	}
}

// quick is a quick-mode client: the same request every time.
type quick struct{ p *pool }

func (q quick) Iterate(ctx context.Context, _ int64, intended time.Time) bool {
	q.p.do(ctx, intended.Sub(q.p.start))
	return true
}

func (p *pool) active() int          { return int(p.nAct.Load()) }
func (p *pool) scheduled() int64     { return p.nSched.Load() }
func (p *pool) peak() int            { return int(p.nPeak.Load()) }
func (p *pool) setStart(t time.Time) { p.start = t }

// sleepUntil waits until offset t or until stop is closed; false means stop.
func (p *pool) sleepUntil(t time.Duration, stop <-chan struct{}) bool {
	d := time.Until(p.start.Add(t))
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-stop:
		return false
	}
}

// stepEnd is the end of the resolution step holding offset t: the
// offset at which a start due at t is sent when starts are batched by
// res (<= 0: t itself).
func stepEnd(t, res time.Duration) time.Duration {
	if res <= 0 || t <= 0 {
		return t
	}
	return (t + res - 1) / res * res
}

// do sends one request due at intended and records it. Requests run on a
// context that is not the run's: a cancelled run lets in-flight requests
// finish within their timeout, so their outcome is measured, not lost.
// A request the lease refused at its write (see Lease.Holds) never left:
// it is no request in the counts. An open-model start is dropped; a
// closed-model client waits for the lease with its start, as on the fast
// path, until stop (the load's end) is cancelled.
func (p *pool) do(stop context.Context, intended time.Duration) {
	var o metrics.Outcome
	sent := time.Since(p.start)
	for !p.std.Send(context.Background(), &o) {
		if p.open {
			p.rec.Drop(1)
			return
		}
		// net/http closed the connection the refused write was for: look
		// at the lease before dialling another.
		for !p.cfg.Lease.Holds() {
			if !p.sleepUntil(time.Since(p.start)+leaseWait, stop.Done()) {
				return
			}
		}
		o, sent = metrics.Outcome{}, time.Since(p.start)
	}
	now := time.Since(p.start)
	o.Latency, o.Service = now-sent, now-sent
	if p.open {
		o.Latency = now - intended
	}
	p.rec.Record(0, o)
}

func (p *pool) run(ctx context.Context) {
	if p.std != nil {
		defer p.std.CloseIdle()
	}
	if c, ok := p.scenario.(interface{ CloseIdle() }); ok { // a gRPC scenario's connections
		defer c.CloseIdle()
	}
	stop := make(chan struct{})
	// Two goroutines may end the load (the deadline or cancellation, and
	// the end of every client's work): stop closes once.
	closeStop := sync.OnceFunc(func() { close(stop) })
	planned := p.load.planned()
	go func() {
		var end <-chan time.Time
		if planned > 0 {
			t := time.NewTimer(time.Until(p.start.Add(planned)))
			defer t.Stop()
			end = t.C
		}
		select {
		case <-ctx.Done():
		case <-end:
		case <-stop:
			return
		}
		closeStop()
	}()
	// Scenario iterations end between requests when the load stops.
	stopCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	var wg sync.WaitGroup
	switch l := p.load.(type) {
	case Open:
		p.runOpen(stopCtx, stop, &wg, l)
	case Closed:
		p.runClosed(stopCtx, stop, &wg, l)
	}
	wg.Wait()
	closeStop()
}

func (p *pool) runClosed(ctx context.Context, stop chan struct{}, wg *sync.WaitGroup, l Closed) {
	ramp := load.Ramp{Clients: l.Clients, Over: l.RampUp}
	w, n := p.cfg.Share.of()
	capper := load.Cap{PerSecond: p.cfg.Share.maxRPS(l)}
	requests := p.cfg.Share.requests(l)
	late := l.late()
	for k := w; k < l.Clients; k += n {
		if !p.sleepUntil(ramp.Start(k), stop) {
			return
		}
		wg.Add(1)
		p.nAct.Add(1)
		p.nPeak.Add(1)
		go func(k int) {
			defer wg.Done()
			defer p.nAct.Add(-1)
			cl := p.newClient(k)
			defer closeClient(cl)
			for n := 0; l.Iterations <= 0 || n < l.Iterations; n++ {
				i, ok := p.budget.take(requests)
				if !ok {
					return
				}
				// A start due at or after the run's end is not sent, even
				// when the end's timer fires late on a busy machine.
				t := p.budget.pace(capper, i, time.Since(p.start), late)
				if l.Duration > 0 && t >= l.Duration {
					return
				}
				// The clients whose capped start falls in one step wake
				// together at its end (as on the fast path); the cap's
				// schedule is absolute, so the throughput is the same. A
				// start in the run's last step keeps its own time, before
				// the end's timer.
				wake := stepEnd(t, l.Resolution)
				if l.Duration > 0 && wake >= l.Duration {
					wake = t
				}
				if !p.sleepUntil(wake, stop) {
					return
				}
				for !p.cfg.Lease.Valid(time.Now()) {
					if !p.sleepUntil(time.Since(p.start)+leaseWait, stop) {
						return
					}
				}
				if !cl.Iterate(ctx, i, time.Now()) {
					return
				}
			}
		}(k)
	}
}

func (p *pool) runOpen(ctx context.Context, stop chan struct{}, wg *sync.WaitGroup, l Open) {
	type start struct {
		seq int64
		t   time.Duration
	}
	work := make(chan start) // unbuffered: a send succeeds only if a client is free
	spawned := 0
	defer close(work)
	deal := p.cfg.Share.deal(l.MaxClients)
	maxClients := deal.PerRound()
	late := l.late()
	for k := int64(0); ; k++ {
		i, ok := deal.Nth(k)
		if !ok {
			return
		}
		t, ok := l.Rate.Offset(i)
		if !ok {
			return
		}
		// A start already due when the stop is seen (this goroutine ran
		// late) is still scheduled, not silently lost. With a Resolution
		// the wake-up is the end of the step holding the start, and every
		// start due by then goes without sleeping: one wake-up per step,
		// not per start, and the step's calls reach the clients together
		// (a gRPC connection writes them in one go). The lateness (under
		// one step) counts in latency, which is from the intended time.
		if !p.sleepUntil(stepEnd(t, l.Resolution), stop) && time.Since(p.start) < t {
			return
		}
		p.nSched.Add(1)
		if now := time.Now(); now.Sub(p.start)-t > late || !p.cfg.Lease.Valid(now) {
			p.rec.Drop(1) // overdue (a stall) or not allowed now: dropped, never sent late
			continue
		}
		select {
		case work <- start{i, t}:
			continue
		default:
		}
		if spawned >= maxClients {
			p.rec.Drop(1) // no free client: dropped, never delayed
			continue
		}
		spawned++
		p.nPeak.Store(int64(spawned))
		wg.Add(1)
		go func(id int, first start) {
			defer wg.Done()
			cl := p.newClient(id)
			defer closeClient(cl)
			for s := first; ; {
				p.nAct.Add(1)
				more := cl.Iterate(ctx, s.seq, p.start.Add(s.t))
				p.nAct.Add(-1)
				if !more {
					return // this client is done (its data ran out); others go on
				}
				var ok bool
				if s, ok = <-work; !ok {
					return
				}
			}
		}(spawned-1, start{i, t})
	}
}
