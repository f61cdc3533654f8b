package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// LossPolicy is what a run does when it loses a worker.
type LossPolicy string

// The loss policies.
const (
	LossContinue LossPolicy = "continue" // go on with the others; the report is marked degraded
	LossStop     LossPolicy = "stop"     // stop every worker; the report covers what ran
)

// tickLag is how long after each whole second of the run the controller
// closes that interval: long enough for the workers' snapshots of it to
// arrive. tickWait bounds how much longer it waits for a late worker.
const (
	tickLag  = 250 * time.Millisecond
	tickWait = 2 * time.Second
	poll     = 50 * time.Millisecond
)

// Controller hands a job to workers and merges what they measure into one
// run, as if one process had run the whole load.
type Controller struct {
	Job *fukapb.Job // the whole load; each worker runs its share of it
	// Names and Checks are the request and check names the job records
	// under, by index (see Names).
	Names, Checks []string

	Workers  int          // how many workers the run needs
	Listener net.Listener // accept workers here (closed when Run returns); may be nil
	Dial     []string     // listening workers to dial
	Identity *Identity    // nil: no TLS

	WaitTimeout time.Duration // how long to wait for the workers (default 1m)
	StartDelay  time.Duration // from assignment to the common start (default 2s)
	// StopGrace bounds the wait for workers' final snapshots after Stop
	// (the request timeout + 2 s is right: in-flight requests finish).
	StopGrace time.Duration
	OnLoss    LossPolicy

	// Load, if set, is the whole load the job compiles to (as a local run
	// would run it): it says what each worker's share was meant to send,
	// so that a lost worker's share is reported as such.
	Load *engine.Config
	// OnStart, if set, is called with the load's common start (its t=0,
	// in this process's clock, still in the future) when the shares go
	// out: what else watches the run (monitors) starts its clock there.
	OnStart func(start time.Time)
	// OnTick is called once a second with the merged interval, like
	// engine.Config.OnTick.
	OnTick func(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	Log    *slog.Logger
	// Version is this fuka's version: a worker of another version (or
	// protocol) is refused (see VersionError).
	Version string
}

// WorkerStatus is how one worker's part of the run went.
type WorkerStatus struct {
	Name         string
	Addr         string
	State        string  // "ok", "lost", or "left" (interrupted on its host; its final snapshot arrived)
	Reason       string  // why it was lost or left
	LastInterval int     // the last interval of its that arrived
	Requests     int64   // requests in its snapshots that arrived
	Share        float64 // its part of the load, 0 to 1 (0 when Controller.Load is not set)
	// LastSeen is when its last message arrived, from the load's start
	// (lost and left workers).
	LastSeen time.Duration
	// Unreported bounds the requests a lost worker sent that none of its
	// snapshots reported: those in flight at its last snapshot and those
	// it could have started since, until it must have stopped (its lease,
	// see Heartbeat in proto/fuka.proto). Estimated: the load does not
	// bound its rate (a closed model without max_rps, or a plan's
	// iterations of several requests), so its fastest second so far is
	// taken as its rate.
	Unreported int64
	Estimated  bool
}

// Result is a distributed run's result: the merged engine result and how
// each worker fared.
type Result struct {
	engine.Result
	Workers []WorkerStatus
	// Degraded: a worker was lost, so the results miss part of the load.
	Degraded bool
}

// ErrNoWorkers is returned when the workers did not all come in time.
var ErrNoWorkers = errors.New("not enough workers")

// Names returns the request and check names a configuration records
// under, by index: what controller and workers agree on.
func Names(cfg engine.Config) (names, checks []string) { return cfg.Names() }

// member is one worker in a run.
type member struct {
	se   *session
	link *link
	rec  *metrics.Recorder // the run's one recorder, shared by all its members

	// set by the receiving goroutine
	mu        sync.Mutex
	pending   []*metrics.Snapshot
	last      int  // highest interval received
	lastWhole int  // highest interval of a non-final snapshot
	final     bool // the final snapshot arrived
	requests  int64
	active    int   // active clients at its latest snapshot
	peak      int64 // most requests in one whole interval

	// owned by the controller's loop
	name    string
	hello   *fukapb.Hello
	helloAt time.Time
	state   string // joining, ok, done, lost
	reason  string
	done    *fukapb.Done
	clients int
	share   engine.Share
	seen    time.Time // its last message, when it was lost or left
	left    bool      // it ended its run on its own (Done.Left)
}

type event struct {
	m       *member
	hello   *fukapb.Hello
	helloAt time.Time
	done    *fukapb.Done
	lost    error
	dialErr error
}

// run is one Controller.Run.
type run struct {
	c       *Controller
	log     *slog.Logger
	events  chan event
	kick    chan struct{}
	quit    chan struct{}
	joins   chan *session
	members []*member // joined (state != joining), by share index once assigned
	all     []*member // every session, for shutdown
	srv     *grpc.Server
	refused []string // why workers of another version were refused
}

// Run waits for the workers, assigns each its share and a common start,
// merges their snapshots into one timeline (calling OnTick each second),
// and returns when every worker is done or lost. Cancelling ctx stops the
// workers: Run still waits (up to StopGrace) for their final snapshots and
// returns the complete result, marked interrupted.
func (c *Controller) Run(ctx context.Context) (*Result, error) {
	if c.Workers < 1 {
		return nil, errors.New("cluster: need at least one worker")
	}
	if c.Listener == nil && len(c.Dial) == 0 {
		return nil, errors.New("cluster: nowhere to find workers (no listener, no worker addresses)")
	}
	if len(c.Dial) > 0 && len(c.Dial) < c.Workers && c.Listener == nil {
		return nil, fmt.Errorf("cluster: %d workers needed, %d addresses given", c.Workers, len(c.Dial))
	}
	r := &run{
		c: c, log: c.Log,
		events: make(chan event, 64), kick: make(chan struct{}, 1),
		quit: make(chan struct{}), joins: make(chan *session),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	// Sessions outlive ctx: after a Ctrl-C the workers still get Stop and
	// still send their final snapshots.
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer r.shutdown()
	if c.Listener != nil {
		r.srv = serve(c.Listener, c.Identity, func(se *session) {
			select {
			case r.joins <- se:
			case <-r.quit:
				se.end()
			}
		})
	}
	for _, addr := range c.Dial {
		go func() {
			se, err := dial(sctx, addr, c.Identity, c.waitTimeout())
			if err != nil {
				r.emit(event{dialErr: fmt.Errorf("worker %s: %w", addr, err)})
				return
			}
			select {
			case r.joins <- se:
			case <-r.quit:
				se.end()
			}
		}()
	}
	if err := r.gather(ctx); err != nil {
		return nil, err
	}
	return r.drive(ctx)
}

func (c *Controller) waitTimeout() time.Duration {
	if c.WaitTimeout > 0 {
		return c.WaitTimeout
	}
	return time.Minute
}

// emit hands an event to the loop unless the run is over.
func (r *run) emit(ev event) {
	select {
	case r.events <- ev:
	case <-r.quit:
	}
}

func (r *run) shutdown() {
	close(r.quit)
	for _, m := range r.all {
		m.link.close(time.Second)
		m.se.end()
	}
	if r.srv != nil {
		r.srv.Stop()
	}
}

// admit starts a session's I/O; its Hello comes as an event.
func (r *run) admit(se *session) *member {
	m := &member{se: se, state: "joining", name: se.addr}
	// Every heartbeat is answered at once: the echo extends the worker's
	// lease (see Heartbeat in proto/fuka.proto).
	m.link = newLink(se.s, func(msg *fukapb.Msg) error { return r.receive(m, msg) }, (*link).echo)
	go func() {
		select {
		case <-m.link.dead:
			r.emit(event{m: m, lost: m.link.err})
		case <-r.quit:
		}
	}()
	r.all = append(r.all, m)
	return m
}

// receive handles a worker's message on its receiving goroutine.
// Snapshots are decoded (checked, not trusted) and queued for the loop.
func (r *run) receive(m *member, msg *fukapb.Msg) error {
	switch k := msg.Kind.(type) {
	case *fukapb.Msg_Hello:
		r.emit(event{m: m, hello: k.Hello, helloAt: time.Now()})
	case *fukapb.Msg_Snapshot:
		var s metrics.Snapshot
		if err := s.UnmarshalBinary(k.Snapshot.GetData()); err != nil {
			return err
		}
		if len(s.Stats) > len(r.c.Names) || len(s.Checks) > len(r.c.Checks) {
			return fmt.Errorf("%w: %d request names and %d checks, want at most %d and %d",
				metrics.ErrBadSnapshot, len(s.Stats), len(s.Checks), len(r.c.Names), len(r.c.Checks))
		}
		var n int64
		for _, st := range s.Stats {
			if st != nil {
				n += st.Requests
			}
		}
		m.mu.Lock()
		m.pending = append(m.pending, &s)
		m.last = max(m.last, s.Interval)
		if s.Final {
			m.final = true
		} else {
			m.lastWhole = max(m.lastWhole, s.Interval)
			m.peak = max(m.peak, n)
		}
		m.requests += n
		m.active = s.Clients
		m.mu.Unlock()
		select {
		case r.kick <- struct{}{}:
		default:
		}
	case *fukapb.Msg_Done:
		r.emit(event{m: m, done: k.Done})
	case *fukapb.Msg_Assign, *fukapb.Msg_Stop:
		return errors.New("the peer sent a controller's message: it is not a worker")
	}
	return nil
}

// gather waits for Workers workers to say Hello.
func (r *run) gather(ctx context.Context) error {
	c := r.c
	deadline := time.NewTimer(c.waitTimeout())
	defer deadline.Stop()
	check := time.NewTicker(livenessCheck)
	defer check.Stop()
	dialFailed := 0
	for len(r.members) < c.Workers {
		select {
		case se := <-r.joins:
			r.admit(se)
		case ev := <-r.events:
			switch {
			case ev.dialErr != nil:
				r.log.Warn("cannot reach worker", "err", ev.dialErr)
				dialFailed++
				if c.Listener == nil && len(c.Dial)-dialFailed < c.Workers {
					return fmt.Errorf("%w: %v", ErrNoWorkers, ev.dialErr)
				}
			case ev.hello != nil:
				if err := r.join(ev); err != nil && c.Listener == nil {
					// A dialed worker is not dialed again: the run cannot
					// have them all.
					return fmt.Errorf("%w: %w", ErrNoWorkers, err)
				}
			case ev.lost != nil || ev.done != nil:
				if r.leave(ev.m, ev.lost) && c.Listener == nil {
					// Dialed workers are not dialed again: the run cannot
					// have them all.
					return fmt.Errorf("%w: worker %s left before the start (%s)", ErrNoWorkers, ev.m.name, describe(ev.lost))
				}
			}
		case <-check.C:
			for _, m := range r.all {
				m.link.checkSilence(time.Now())
			}
		case <-deadline.C:
			return fmt.Errorf("%w: waited %v for %d workers, %d joined%s%s", ErrNoWorkers, c.waitTimeout(), c.Workers, len(r.members), r.joinedNames(), r.refusedText())
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for workers (%d of %d joined): %w", len(r.members), c.Workers, ctx.Err())
		}
	}
	return nil
}

func (r *run) joinedNames() string {
	if len(r.members) == 0 {
		return ""
	}
	names := make([]string, len(r.members))
	for i, m := range r.members {
		names[i] = m.name
	}
	return " (" + strings.Join(names, ", ") + ")"
}

func (r *run) refusedText() string {
	if len(r.refused) == 0 {
		return ""
	}
	return "; refused: " + strings.Join(r.refused, "; ")
}

// join admits a worker that said Hello, under a unique name, or refuses
// one of another fuka version (the error says why).
func (r *run) join(ev event) error {
	m, h := ev.m, ev.hello
	if m.state != "joining" {
		m.link.fail(errors.New("a second Hello"))
		return nil
	}
	if !sameVersion(r.c.Version, h.GetVersion(), h.GetProtocol()) {
		e := &VersionError{Worker: h.GetVersion(), WorkerProtocol: h.GetProtocol(), Controller: r.c.Version, ControllerProtocol: ProtocolVersion}
		who := cmp.Or(h.GetName(), m.se.addr)
		r.log.Warn(fmt.Sprintf("worker %s refused: %v", who, e), "worker", who, "addr", m.se.addr)
		r.refused = append(r.refused, "worker "+who+": "+e.Error())
		m.state = "lost"
		// Through the link (one sender per stream), flushed before the
		// stream ends.
		m.link.send(msgRefuse(e))
		go func() {
			m.link.close(time.Second)
			time.Sleep(200 * time.Millisecond)
			m.se.end()
		}()
		return fmt.Errorf("worker %s: %w", who, e)
	}
	name := h.GetName()
	if name == "" {
		name = m.se.addr
	}
	base := name
	for i := 2; r.named(name); i++ {
		name = base + "#" + strconv.Itoa(i)
	}
	m.name, m.hello, m.helloAt, m.state = name, h, ev.helloAt, "ok"
	r.members = append(r.members, m)
	r.log.Info("worker joined", "worker", name, "addr", m.se.addr, "cpus", h.GetCpus(), "joined", len(r.members), "of", r.c.Workers)
	return nil
}

func (r *run) named(name string) bool {
	return slices.ContainsFunc(r.members, func(m *member) bool { return m.name == name })
}

// leave drops a worker that went away before the run started, and
// reports whether it was one (not a session that never said Hello).
func (r *run) leave(m *member, err error) bool {
	was := m.state == "joining" || m.state == "ok"
	if i := slices.Index(r.members, m); i >= 0 {
		r.members = slices.Delete(r.members, i, i+1)
		r.log.Warn("worker left before the start", "worker", m.name, "why", describe(err))
	}
	m.state = "lost"
	m.se.end()
	return was
}

// refuse turns away a worker that came when the run had all it needed.
func (r *run) refuse(se *session) {
	go func() {
		_ = se.s.Send(msgStop("the run has all its workers"))
		time.Sleep(100 * time.Millisecond)
		se.end()
	}()
}

// drive assigns the shares, merges the snapshots tick by tick, and ends
// when every worker is done or lost.
func (r *run) drive(ctx context.Context) (*Result, error) {
	c := r.c
	start := time.Now().Add(c.startDelay())
	if c.OnStart != nil {
		c.OnStart(start)
	}
	// One recorder takes every worker's snapshots: merges are exact and
	// nothing reads a worker's share apart, so a Stats per name per worker
	// (~374 KiB each) would only grow with the number of workers.
	rec := metrics.NewRecorder(len(c.Names)).WithChecks(len(c.Checks))
	for j, m := range r.members {
		m.share = engine.Share{Index: j, Count: len(r.members)}
		if c.Load != nil && m.share.Fraction(c.Load) == 0 {
			r.log.Warn(fmt.Sprintf("worker %s has no client in this load (fewer clients than workers): it sends nothing", m.name))
		}
		m.rec = rec
		// The worker's clock may differ from ours: its Hello said what
		// time it was when sent, and the start is given in its clock.
		skew := time.Unix(0, m.hello.GetUnixNanos()).Sub(m.helloAt)
		if skew > time.Second || skew < -time.Second {
			r.log.Warn("worker's clock differs from the controller's: compensating", "worker", m.name, "offset", skew.Round(time.Millisecond))
		}
		m.link.send(msgAssign(&fukapb.Assign{
			Job:        c.Job,
			ShareIndex: int32(j), ShareCount: int32(len(r.members)),
			StartAtUnixNanos: start.Add(skew).UnixNano(),
			Names:            c.Names,
			Echoes:           true,
			Version:          c.Version,
			Protocol:         ProtocolVersion,
		}))
	}
	col := metrics.NewCollector(c.Names, []*metrics.Recorder{rec})
	if len(c.Checks) > 0 {
		col.SetChecks(c.Checks)
	}
	t := &ticker{col: col, members: r.members, onTick: c.OnTick, next: 1}

	tick := time.NewTicker(poll)
	defer tick.Stop()
	ctxDone := ctx.Done()
	var stopping, interrupted bool
	var stopBy time.Time
	stop := func(reason string) {
		if stopping {
			return
		}
		stopping, stopBy = true, time.Now().Add(c.stopGrace())
		for _, m := range r.members {
			if m.state == "ok" {
				m.link.send(msgStop(reason))
			}
		}
	}
	lose := func(m *member, err error) {
		if m.state != "ok" {
			return
		}
		m.state, m.reason = "lost", describe(err)
		m.seen = time.Unix(0, m.link.last.Load())
		m.mu.Lock()
		last := m.last
		m.mu.Unlock()
		what := "the run goes on without it; the report will be marked degraded"
		if c.OnLoss == LossStop {
			what = "stopping the run (on worker loss: stop)"
		}
		r.log.Warn(fmt.Sprintf("worker %s lost after interval %d (%s): %s", m.name, last, m.reason, what))
		m.link.fail(err)
		m.se.end()
		if c.OnLoss == LossStop {
			interrupted = true
			stop("worker " + m.name + " lost")
		}
	}
	for !r.allEnded() {
		select {
		case <-tick.C:
		case <-r.kick:
		case se := <-r.joins:
			r.refuse(se)
		case ev := <-r.events:
			m := ev.m
			switch {
			case ev.hello != nil: // a late worker that joined the listener
				if m.state == "joining" {
					m.state = "lost"
					r.refuse(m.se)
				}
			case ev.done != nil && m.state == "ok":
				if e := ev.done.GetError(); e != "" {
					lose(m, fmt.Errorf("failed: %s", e))
					continue
				}
				m.state, m.done = "done", ev.done
				m.link.close(time.Second)
				m.se.end()
				if ev.done.GetLeft() {
					// Interrupted on its host (a pod eviction): every request
					// it sent is in its snapshots, but its share after that
					// is missing.
					m.left, m.reason, m.seen = true, "interrupted on its host", time.Now()
					m.mu.Lock()
					last := m.last
					m.mu.Unlock()
					what := "the run goes on without it; the report will be marked degraded"
					if c.OnLoss == LossStop {
						what = "stopping the run (on worker loss: stop)"
					}
					r.log.Warn(fmt.Sprintf("worker %s left after interval %d (interrupted on its host; its final snapshot arrived): %s", m.name, last, what))
					if c.OnLoss == LossStop {
						interrupted = true
						stop("worker " + m.name + " left")
					}
				}
			case ev.lost != nil:
				lose(m, ev.lost)
			}
		case <-ctxDone:
			ctxDone = nil
			interrupted = true
			stop("interrupted")
		}
		now := time.Now()
		for _, m := range r.members {
			// A silent worker's link ends here; the loss itself comes as
			// an event, after anything the worker sent before it.
			m.link.checkSilence(now)
			if stopping && m.state == "ok" && now.After(stopBy) {
				lose(m, fmt.Errorf("no final snapshot within %v of Stop", c.stopGrace()))
			}
		}
		// Close every interval that is due and complete (or waited for
		// long enough: a late snapshot then counts in a later interval).
		for {
			due := start.Add(time.Duration(t.next)*time.Second + tickLag)
			if now.Before(due) || (!t.ready(t.next) && now.Before(due.Add(tickWait))) {
				break
			}
			t.tick(t.next)
		}
	}
	return r.result(t, start, interrupted)
}

func (c *Controller) startDelay() time.Duration {
	if c.StartDelay > 0 {
		return c.StartDelay
	}
	return 2 * time.Second
}

func (c *Controller) stopGrace() time.Duration {
	if c.StopGrace > 0 {
		return c.StopGrace
	}
	return 12 * time.Second
}

func (r *run) allEnded() bool {
	for _, m := range r.members {
		if m.state == "ok" {
			return false
		}
	}
	return true
}

// result closes the last intervals and sums up the workers.
func (r *run) result(t *ticker, start time.Time, interrupted bool) (*Result, error) {
	// Whole intervals the workers closed but the controller has not yet,
	// then what is left (the final partial intervals) up to the end.
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
		elapsed = max(0, time.Since(start))
	}

	res := &Result{Result: engine.Result{Run: t.col.Run(), Elapsed: elapsed, Interrupted: interrupted}}
	var failed []string
	load := r.c.Load
	for _, m := range r.members {
		m.mu.Lock()
		ws := WorkerStatus{Name: m.name, Addr: m.se.addr, State: "ok", LastInterval: m.last, Requests: m.requests}
		m.mu.Unlock()
		if load != nil {
			ws.Share = m.share.Fraction(load)
		}
		switch {
		case m.state == "lost":
			ws.State, ws.Reason, ws.LastSeen = "lost", m.reason, max(m.seen.Sub(start), 0)
			ws.Unreported, ws.Estimated = r.unreported(m, start, elapsed)
			res.Degraded = true
			if strings.HasPrefix(m.reason, "failed: ") {
				failed = append(failed, m.name+": "+strings.TrimPrefix(m.reason, "failed: "))
			}
		case m.left:
			ws.State, ws.Reason, ws.LastSeen = "left", m.reason, max(m.seen.Sub(start), 0)
			res.Degraded = true
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

// unreported bounds the requests lost worker m sent that none of its
// snapshots reported (see WorkerStatus.Unreported): the requests in flight
// at its last snapshot, plus those it may have started since, in the open
// model from a second before its last snapshot (a late start may still go)
// until it must have stopped: its lease ran out at most leaseFor after its
// last message (and the run ended at elapsed).
func (r *run) unreported(m *member, start time.Time, elapsed time.Duration) (n int64, estimated bool) {
	m.mu.Lock()
	last, inflight, peak, reported := time.Duration(m.last)*time.Second, int64(m.active), m.peak, m.requests
	m.mu.Unlock()
	until := min(m.seen.Sub(start)+leaseFor, max(elapsed, last))
	if until < last {
		until = last
	}
	load := r.c.Load
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
// into its recorder and reports whether there were any.
func (t *ticker) merge(k int) bool {
	found := false
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
		for _, s := range take {
			_ = m.rec.MergeSnapshot(s) // sizes were checked on arrival
			if m.state != "lost" {
				m.clients = s.Clients
			}
			found = found || len(s.Stats) > 0 || s.Dropped > 0
		}
		if m.state == "lost" {
			m.clients = 0
		}
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
