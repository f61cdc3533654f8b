package engine

import (
	"context"
	"math"
	"slices"
	"time"
)

// Pre-connecting: an open-model run opens connections before its clock
// starts, so that the target's first second is not measured through the
// generator's own connect burst. The pool of clients starts empty; at
// 50,000 starts a second the first second would otherwise open thousands of
// connections at once, and every start that waits behind a handshake (and
// the target's accept queue) counts that wait as the target's latency. wrk
// and bombardier connect before their clock starts too.
//
// How many: the concurrency the run is expected to need at its start,
//
//	n = ceil(peak rate over the first second × (Resolution + L)),
//	L = max(warmFloor, warmRTTs × the median connect time of a few probes),
//
// bounded by MaxClients (this worker's share of it in a distributed run).
// The probes are TCP connects only, nothing is written (a request the report
// does not contain is never sent); they join the pre-connected pool. L takes
// a request to cost a few round trips and never less than warmFloor: on
// loopback that is 10 ms (110 connections at 10,000/s with 1 ms batches), on
// a 40 ms link 400 ms. A wrong guess costs little either way: too few, and
// the rest are opened during the run and counted (connects per second);
// too many, and the idle ones are closed at the end. Open.Preconnect
// overrides the estimate.
//
// Pre-connecting is bounded by warmLimit (and the request timeout) and is
// not part of the run: its time is in neither the duration nor any latency.
// Its outcome is reported apart (Result.Warmup). A target that refuses every
// connection fails the pre-connect and then the run's requests, as it would
// without it.
const (
	warmFloor  = 10 * time.Millisecond
	warmRTTs   = 10
	warmProbes = 4
	warmLimit  = 5 * time.Second
)

// Warmup is what a run did before its clock started.
type Warmup struct {
	Wanted  int           // connections the estimate (or Open.Preconnect) asked for
	Opened  int           // connections established and handed to the run
	Failed  int           // connection attempts that failed
	Error   string        // the first failure, e.g. "connection refused"; "" when none
	Elapsed time.Duration // how long pre-connecting took (before the run's clock)
	// ConnectP50 and ConnectMax are the connect times of the opened
	// connections.
	ConnectP50, ConnectMax time.Duration
}

// warmCount is the connections an open-model run pre-connects: l.Preconnect
// when set (< 0: none), else the estimate above from rtt, the median probe
// connect time, for frac of the rate (a worker's share); both bounded by
// slots, the clients the run may hold.
func warmCount(l Open, rtt time.Duration, slots int, frac float64) int {
	if l.Preconnect != 0 {
		return min(max(l.Preconnect, 0), slots)
	}
	peak := frac * max(l.Rate.At(0), l.Rate.At(time.Second), l.Rate.Expected(time.Second))
	lat := max(warmFloor, warmRTTs*rtt)
	n := math.Ceil(peak * (max(l.Resolution, 0) + lat).Seconds())
	if !(n > 0) {
		return 0
	}
	return int(min(n, float64(slots)))
}

// warmStats fills w's connect times from the opened connections' durations.
func (w *Warmup) warmStats(d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	w.ConnectP50, w.ConnectMax = d[len(d)/2], d[len(d)-1]
}

// failText names a pre-connect failure for the report.
func failText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// warmer is a source that can open connections before the run's clock
// starts.
type warmer interface {
	// preconnect opens up to n connections by deadline (or until ctx is
	// cancelled) and keeps them for the run; it returns each opened one's
	// connect time, the failed attempts and the first failure.
	preconnect(ctx context.Context, n int, deadline time.Time) (opened []time.Duration, failed int, first error)
	// discard releases the source's connections when the run never runs.
	discard()
}

// warm pre-connects an open-model run's sources (see the rule above) and
// says what it did; nil when it did nothing.
func warm(ctx context.Context, cfg *Config, srcs []source) *Warmup {
	l, ok := cfg.Load.(Open)
	if !ok || l.Preconnect < 0 {
		return nil
	}
	var ws []warmer
	for _, s := range srcs {
		if w, ok := s.(warmer); ok {
			ws = append(ws, w)
		}
	}
	slots := cfg.Share.Clients(cfg)
	if len(ws) == 0 || slots <= 0 {
		return nil
	}
	began := time.Now()
	deadline := began.Add(warmLimit)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if r, ok := cfg.Work.(Request); ok && r.Timeout > 0 && began.Add(r.Timeout).Before(deadline) {
		deadline = began.Add(r.Timeout)
	}
	w := &Warmup{}
	var times []time.Duration
	var first error
	add := func(opened []time.Duration, failed int, err error) {
		times = append(times, opened...)
		w.Failed += failed
		if first == nil {
			first = err
		}
	}
	var rtt time.Duration
	if l.Preconnect == 0 {
		// Probe the connect time on one source; the probes stay open.
		w.Wanted = min(warmProbes, slots)
		add(ws[0].preconnect(ctx, w.Wanted, deadline))
		if len(times) == 0 && w.Failed == 0 {
			return nil // nothing to pre-connect (a plan, forced HTTP/2)
		}
		if len(times) == 0 {
			w.Error, w.Elapsed = failText(first), time.Since(began)
			return w
		}
		rtt = median(times)
	}
	w.Wanted = max(w.Wanted, warmCount(l, rtt, slots, cfg.Share.Fraction(cfg)))
	rest := w.Wanted - len(times)
	type got struct {
		opened []time.Duration
		failed int
		err    error
	}
	out := make(chan got, len(ws))
	for j, s := range ws {
		n := int(share(int64(max(rest, 0)), len(ws), j))
		go func() {
			o, f, err := s.preconnect(ctx, n, deadline)
			out <- got{o, f, err}
		}()
	}
	for range ws {
		g := <-out
		add(g.opened, g.failed, g.err)
	}
	if len(times) == 0 && w.Failed == 0 {
		return nil
	}
	w.Opened, w.Elapsed = len(times), time.Since(began)
	w.Error = failText(first)
	w.warmStats(times)
	return w
}

// median is the middle of d, which it sorts.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
