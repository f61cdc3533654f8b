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
	cfg    *Config
	start  time.Time
	rec    *metrics.Recorder
	std    *client.Std
	budget counter
	nAct   atomic.Int64
	nSched atomic.Int64
	nPeak  atomic.Int64 // clients started
}

func newPool(cfg *Config, rec *metrics.Recorder, start time.Time) *pool {
	conns := cfg.Clients
	if cfg.Open() {
		conns = cfg.MaxClients
	}
	return &pool{cfg: cfg, start: start, rec: rec, std: client.NewStd(cfg.Request, client.Options{
		Timeout: cfg.Timeout, Insecure: cfg.Insecure, HTTP2: cfg.HTTP2, MaxConns: conns, UserAgent: cfg.UserAgent,
	})}
}

func (p *pool) active() int      { return int(p.nAct.Load()) }
func (p *pool) scheduled() int64 { return p.nSched.Load() }
func (p *pool) peak() int        { return int(p.nPeak.Load()) }

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

// do sends one request due at intended and records it. Requests run on a
// context that is not the run's: a cancelled run lets in-flight requests
// finish within their timeout, so their outcome is measured, not lost.
func (p *pool) do(intended time.Duration) {
	sent := time.Since(p.start)
	status, in, out, kind := p.std.Do(context.Background())
	now := time.Since(p.start)
	lat := now - sent
	if p.cfg.Open() {
		lat = now - intended
	}
	p.rec.Record(0, metrics.Outcome{Latency: lat, Service: now - sent, Status: status, Err: kind, BytesIn: in, BytesOut: out})
}

func (p *pool) run(ctx context.Context) {
	defer p.std.CloseIdle()
	stop := make(chan struct{})
	planned := p.cfg.planned()
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
		close(stop)
	}()
	var wg sync.WaitGroup
	if p.cfg.Open() {
		p.runOpen(stop, &wg)
	} else {
		p.runClosed(stop, &wg)
	}
	wg.Wait()
	select {
	case <-stop:
	default:
		close(stop)
	}
}

func (p *pool) runClosed(stop chan struct{}, wg *sync.WaitGroup) {
	ramp := load.Ramp{Clients: p.cfg.Clients, Over: p.cfg.RampUp}
	capper := load.Cap{PerSecond: p.cfg.MaxRPS}
	for k := 0; k < p.cfg.Clients; k++ {
		if !p.sleepUntil(ramp.Start(k), stop) {
			return
		}
		wg.Add(1)
		p.nAct.Add(1)
		p.nPeak.Add(1)
		go func() {
			defer wg.Done()
			defer p.nAct.Add(-1)
			for {
				i, ok := p.budget.take(p.cfg.Requests)
				if !ok || !p.sleepUntil(capper.Offset(i), stop) {
					return
				}
				p.do(0)
			}
		}()
	}
}

func (p *pool) runOpen(stop chan struct{}, wg *sync.WaitGroup) {
	work := make(chan time.Duration) // unbuffered: a send succeeds only if a client is free
	spawned := 0
	defer close(work)
	for i := int64(0); ; i++ {
		t, ok := p.cfg.Rate.Offset(i)
		if !ok || !p.sleepUntil(t, stop) {
			return
		}
		p.nSched.Add(1)
		select {
		case work <- t:
			continue
		default:
		}
		if spawned >= p.cfg.MaxClients {
			p.rec.Drop(1) // no free client: dropped, never delayed
			continue
		}
		spawned++
		p.nPeak.Store(int64(spawned))
		wg.Add(1)
		go func(first time.Duration) {
			defer wg.Done()
			for t := first; ; {
				p.nAct.Add(1)
				p.do(t)
				p.nAct.Add(-1)
				var ok bool
				if t, ok = <-work; !ok {
					return
				}
			}
		}(t)
	}
}
