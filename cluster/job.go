package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// jobRun is one job on the held workers.
type jobRun struct {
	h       *hold
	j       Job
	members []*member // the job's workers, by share index
	start   time.Time // the load's t=0
	t       *ticker

	stopping, interrupted bool
	stopBy                time.Time
}

// drive assigns the shares, merges the snapshots tick by tick, and ends
// when every worker is done or lost. The workers still held are held
// again for the next job.
func (h *hold) drive(ctx context.Context, j Job) (*Result, error) {
	r := &jobRun{h: h, j: j, members: h.members, start: time.Now().Add(h.c.startDelay())}
	if j.OnStart != nil {
		j.OnStart(r.start)
	}
	r.assign()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	ctxDone := ctx.Done()
	for !r.allEnded() {
		select {
		case <-tick.C:
		case <-h.kick:
		case se := <-h.joins:
			h.refuse(se)
		case ev := <-h.events:
			r.handle(ev)
		case <-ctxDone:
			ctxDone = nil
			r.interrupted = true
			r.stop("interrupted")
		}
		r.check(time.Now())
	}
	res, err := r.result()
	r.settle()
	return res, err
}

// assign gives each worker its share and the common start.
func (r *jobRun) assign() {
	c, j := r.h.c, r.j
	// One recorder takes every worker's snapshots: merges are exact and
	// nothing reads a worker's share apart, so a Stats per name per worker
	// (~374 KiB each) would only grow with the number of workers.
	rec := metrics.NewRecorder(len(j.Names)).WithChecks(len(j.Checks))
	for i, m := range r.members {
		m.share = engine.Share{Index: i, Count: len(r.members)}
		if j.Load != nil && m.share.Fraction(j.Load) == 0 {
			r.h.log.Warn(fmt.Sprintf("worker %s has no client in this load (fewer clients than workers): it sends nothing", m.name))
		}
		m.begin(len(j.Names), len(j.Checks), rec)
		// The worker's clock may differ from ours: its Hello said what
		// time it was when sent, and the start is given in its clock.
		skew := time.Unix(0, m.hello.GetUnixNanos()).Sub(m.helloAt)
		if skew > time.Second || skew < -time.Second {
			r.h.log.Warn("worker's clock differs from the controller's: compensating", "worker", m.name, "offset", skew.Round(time.Millisecond))
		}
		m.link.send(msgAssign(&fukapb.Assign{
			Job:        j.Work,
			ShareIndex: int32(i), ShareCount: int32(len(r.members)),
			StartAtUnixNanos: r.start.Add(skew).UnixNano(),
			Names:            j.Names,
			Echoes:           true,
			Version:          c.Version,
			Protocol:         ProtocolVersion,
		}))
	}
	col := metrics.NewCollector(j.Names, []*metrics.Recorder{rec})
	if len(j.Checks) > 0 {
		col.SetChecks(j.Checks)
	}
	// The workers count the connections of a quick-mode attack (as
	// engine.Run does), except over forced HTTP/2.
	if a := j.Work.GetAttack(); a != nil && !a.GetHttp2() {
		col.Run().CountsConnects = true
	}
	r.t = &ticker{col: col, rec: rec, members: r.members, onTick: j.OnTick, next: 1}
}

// begin resets a held worker for a new job.
func (m *member) begin(names, checks int, rec *metrics.Recorder) {
	m.mu.Lock()
	m.inJob, m.names, m.checks = true, names, checks
	m.pending, m.last, m.lastWhole, m.final = nil, 0, 0, false
	m.requests, m.active, m.peak = 0, 0, 0
	m.mu.Unlock()
	m.rec = rec
	m.state, m.reason, m.done, m.clients, m.wsOpen, m.seen, m.left = "ok", "", nil, 0, 0, time.Time{}, false
}

// handle is an event during the job.
func (r *jobRun) handle(ev event) {
	h, m := r.h, ev.m
	switch {
	case ev.dialed != nil: // an address beyond the workers needed
		h.dialing--
		h.refuse(ev.dialed)
	case ev.dialErr != nil:
		h.dialing--
	case ev.hello != nil: // a late worker that joined the listener
		if m.state == "joining" {
			m.state = "lost"
			h.refuse(m.se)
		}
	case ev.done != nil && m.state == "ok":
		r.finished(m, ev.done)
	case ev.lost != nil:
		r.lose(m, ev.lost)
	}
}

// finished is a worker's Done.
func (r *jobRun) finished(m *member, d *fukapb.Done) {
	if e := d.GetError(); e != "" {
		r.lose(m, fmt.Errorf("failed: %s", e))
		return
	}
	m.state, m.done = "done", d
	m.mu.Lock()
	m.inJob = false
	last := m.last
	m.mu.Unlock()
	if !d.GetLeft() {
		return
	}
	// Interrupted on its host (a pod eviction): every request it sent is
	// in its snapshots, but its share after that is missing.
	m.left, m.reason, m.seen = true, "interrupted on its host", time.Now()
	r.h.log.Warn(fmt.Sprintf("worker %s left after interval %d (interrupted on its host; its final snapshot arrived): %s", m.name, last, r.lossWhat()))
	if r.h.c.OnLoss == LossStop {
		r.interrupted = true
		r.stop("worker " + m.name + " left")
	}
}

func (r *jobRun) lossWhat() string {
	if r.h.c.OnLoss == LossStop {
		return "stopping the run (on worker loss: stop)"
	}
	return "the run goes on without it; the report will be marked degraded"
}

// lose gives up a running worker.
func (r *jobRun) lose(m *member, err error) {
	if m.state != "ok" {
		return
	}
	m.state, m.reason = "lost", describe(err)
	m.seen = time.Unix(0, m.link.last.Load())
	m.mu.Lock()
	last := m.last
	m.mu.Unlock()
	r.h.log.Warn(fmt.Sprintf("worker %s lost after interval %d (%s): %s", m.name, last, m.reason, r.lossWhat()))
	m.link.fail(err)
	m.se.end()
	if r.h.c.OnLoss == LossStop {
		r.interrupted = true
		r.stop("worker " + m.name + " lost")
	}
}

// stop asks every running worker to end its run.
func (r *jobRun) stop(reason string) {
	if r.stopping {
		return
	}
	r.stopping, r.stopBy = true, time.Now().Add(r.h.c.stopGrace())
	for _, m := range r.members {
		if m.state == "ok" {
			m.link.send(msgStop(reason))
		}
	}
}

// check gives up silent workers and closes every interval that is due.
func (r *jobRun) check(now time.Time) {
	for _, m := range r.members {
		// A silent worker's link ends here; the loss itself comes as an
		// event, after anything the worker sent before it.
		m.link.checkSilence(now)
		if r.stopping && m.state == "ok" && now.After(r.stopBy) {
			r.lose(m, fmt.Errorf("no final snapshot within %v of Stop", r.h.c.stopGrace()))
		}
	}
	// Close every interval that is due and complete (or waited for long
	// enough: a late snapshot then counts in a later interval).
	t := r.t
	for {
		due := r.start.Add(time.Duration(t.next)*time.Second + tickLag)
		if now.Before(due) || (!t.ready(t.next) && now.Before(due.Add(tickWait))) {
			break
		}
		t.tick(t.next)
	}
}

func (r *jobRun) allEnded() bool {
	for _, m := range r.members {
		if m.state == "ok" {
			return false
		}
	}
	return true
}

// settle holds the workers that finished the job for the next one, and
// lets go of the others (lost, failed, or left: a worker that left ends
// its session).
func (r *jobRun) settle() {
	h := r.h
	held := make([]*member, 0, len(r.members))
	for _, m := range r.members {
		m.mu.Lock()
		m.inJob, m.pending = false, nil
		m.mu.Unlock()
		if m.state == "done" && !m.left {
			m.state = "ok"
			held = append(held, m)
			continue
		}
		h.drop(m, errors.New("left the run"))
	}
	h.members = held
}

// result closes the last intervals and sums up the workers.
func (r *jobRun) result() (*Result, error) {
	elapsed := r.closeLast()
	res := &Result{Result: engine.Result{Run: r.t.col.Run(), Elapsed: elapsed, Interrupted: r.interrupted}}
	var failed []string
	for _, m := range r.members {
		ws := r.status(m, res, elapsed)
		if ws.State == "lost" && strings.HasPrefix(m.reason, "failed: ") {
			failed = append(failed, m.name+": "+strings.TrimPrefix(m.reason, "failed: "))
		}
		res.Degraded = res.Degraded || ws.State != "ok"
		res.Workers = append(res.Workers, ws)
	}
	if res.Transport == "" {
		res.Transport = "unknown (no worker finished)"
	}
	if len(failed) == len(r.members) {
		// Nothing ran: the job itself is wrong (or the workers cannot run it).
		return nil, fmt.Errorf("every worker failed: %s", strings.Join(failed, "; "))
	}
	return res, nil
}

// closeLast closes the whole intervals the workers closed but the
// controller has not yet, then what is left (the final partial intervals)
// up to the end, and returns the load's elapsed time.
func (r *jobRun) closeLast() time.Duration {
	t := r.t
	whole := 0
	var elapsed time.Duration
	for _, m := range r.members {
		m.mu.Lock()
		whole = max(whole, m.lastWhole)
		m.mu.Unlock()
		if m.done != nil {
			elapsed = max(elapsed, time.Duration(m.done.GetElapsedNanos()))
		}
	}
	for t.next <= whole {
		t.tick(t.next)
	}
	rest := t.mergeAll()
	lastAt := time.Duration(t.next-1) * time.Second
	if elapsed <= lastAt && rest {
		elapsed = lastAt + time.Millisecond
	}
	if elapsed > lastAt {
		t.col.Tick(elapsed, t.clients())
	} else {
		elapsed = max(elapsed, lastAt)
	}
	if elapsed == 0 {
		elapsed = max(0, time.Since(r.start))
	}
	return elapsed
}

// status is how worker m's part of the job went; its Done's figures are
// added to res.
func (r *jobRun) status(m *member, res *Result, elapsed time.Duration) WorkerStatus {
	m.mu.Lock()
	ws := WorkerStatus{Name: m.name, Addr: m.se.addr, State: "ok", LastInterval: m.last, Requests: m.requests}
	m.mu.Unlock()
	load := r.j.Load
	if load != nil {
		ws.Share = m.share.Fraction(load)
	}
	switch {
	case m.state == "lost":
		ws.State, ws.Reason, ws.LastSeen = "lost", m.reason, max(m.seen.Sub(r.start), 0)
		ws.Unreported, ws.Estimated = r.unreported(m, elapsed)
	case m.left:
		ws.State, ws.Reason, ws.LastSeen = "left", m.reason, max(m.seen.Sub(r.start), 0)
	}
	var scheduled int64
	if d := m.done; d != nil {
		scheduled = d.GetScheduled()
		res.PeakClients += int(d.GetPeakClients())
		// A worker interrupted on its own host does not make the run
		// interrupted: it is degraded.
		res.Interrupted = res.Interrupted || (d.GetInterrupted() && !d.GetLeft())
		res.DataExhausted = res.DataExhausted || d.GetDataExhausted()
		if res.Transport == "" {
			res.Transport = d.GetTransport()
		}
	}
	if ws.State != "ok" && load != nil {
		// The plan's starts, not the ones that happened: the requested
		// rate stays the plan's, and the lost share shows as missing.
		reported := scheduled
		scheduled = max(scheduled, m.share.Due(load, elapsed))
		res.LostStarts += scheduled - reported
	}
	res.Scheduled += scheduled
	return ws
}

// unreported bounds the requests lost worker m sent that none of its
// snapshots reported (see WorkerStatus.Unreported): the requests in flight
// at its last snapshot, plus those it may have started since, in the open
// model from a second before its last snapshot (a late start may still go)
// until it must have stopped: its lease ran out at most leaseFor after its
// last message (and the run ended at elapsed).
func (r *jobRun) unreported(m *member, elapsed time.Duration) (n int64, estimated bool) {
	m.mu.Lock()
	last, inflight, peak, reported := time.Duration(m.last)*time.Second, int64(m.active), m.peak, m.requests
	m.mu.Unlock()
	until := min(m.seen.Sub(r.start)+leaseFor, max(elapsed, last))
	if until < last {
		until = last
	}
	load := r.j.Load
	var quick, open, capped bool
	if load != nil {
		_, quick = load.Work.(engine.Request)
		_, open = load.Load.(engine.Open)
		closed, ok := load.Load.(engine.Closed)
		capped = ok && closed.MaxRPS > 0
	}
	switch {
	case quick && open:
		from := max(last-load.LateLimit(), 0)
		n = m.share.Due(load, until) - m.share.Due(load, from)
	case quick && capped:
		from := max(last-load.LateLimit(), 0)
		n = int64(math.Ceil(m.share.MaxRPS(load) * (until - from).Seconds()))
	default:
		// Nothing bounds its rate: its fastest second so far stands in.
		n, estimated = int64(math.Ceil(float64(peak)*(until-last).Seconds())), true
	}
	n += inflight
	if quick && !open {
		if req := m.share.Requests(load); req >= 0 {
			n = min(n, max(req-reported, 0))
		}
	}
	return n, estimated
}

// ticker closes the merged intervals.
type ticker struct {
	col     *metrics.Collector
	rec     *metrics.Recorder // every member's snapshots merge into it
	members []*member
	onTick  func(time.Duration, metrics.Point, *metrics.Run)
	next    int // the next interval to close, 1-based
}

// ready reports whether every running worker's snapshot of interval k
// has arrived.
func (t *ticker) ready(k int) bool {
	for _, m := range t.members {
		if m.state != "ok" {
			continue
		}
		m.mu.Lock()
		ok := m.last >= k || m.final
		m.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// merge moves each worker's snapshots up to interval k (all, for k < 0)
// into the recorder and reports whether there were any. The WebSocket
// connections open are a gauge per worker: a snapshot sets its worker's,
// and the recorder holds their sum, and the sum of the workers' peaks
// (each the most of its snapshots merged now, or its count held since
// the last) as the most open at once.
func (t *ticker) merge(k int) bool {
	found := false
	var wsOpen, wsPeak int64
	ws := false
	for _, m := range t.members {
		m.mu.Lock()
		var take []*metrics.Snapshot
		keep := m.pending[:0]
		for _, s := range m.pending {
			if k < 0 || s.Interval <= k {
				take = append(take, s)
			} else {
				keep = append(keep, s)
			}
		}
		clear(m.pending[len(keep):])
		m.pending = keep
		m.mu.Unlock()
		peak := m.wsOpen
		for _, s := range take {
			_ = m.rec.MergeSnapshot(s) // sizes were checked on arrival
			if m.state != "lost" {
				m.clients = s.Clients
				if s.WS {
					m.wsOpen, peak = s.WSOpen, max(peak, s.WSPeak, s.WSOpen)
				}
			}
			found = found || len(s.Stats) > 0 || s.Dropped > 0 || s.Connects > 0
			ws = ws || s.WS
		}
		if m.state == "lost" {
			// a lost worker holds no connection the run knows of
			m.clients, m.wsOpen, peak = 0, 0, 0
		}
		wsOpen, wsPeak = wsOpen+m.wsOpen, wsPeak+peak
	}
	if ws || wsOpen != 0 || wsPeak != 0 {
		t.rec.SetWS(wsOpen, wsPeak)
	}
	return found
}

func (t *ticker) mergeAll() bool { return t.merge(-1) }

func (t *ticker) clients() int {
	n := 0
	for _, m := range t.members {
		n += m.clients
	}
	return n
}

// tick closes interval k of the merged run.
func (t *ticker) tick(k int) {
	t.merge(k)
	at := time.Duration(k) * time.Second
	p := t.col.Tick(at, t.clients())
	if t.onTick != nil {
		t.onTick(at, p, t.col.Run())
	}
	t.next = k + 1
}
