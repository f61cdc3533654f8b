package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// Controller hands jobs to workers and merges what they measure into one
// run per job, as if one process had run the whole load. Run runs one job;
// Join, RunJob (any number of times, one at a time) and Close run a
// sequence of jobs on the same workers (a capacity search's steps).
type Controller struct {
	Job *fukapb.Job // Run's job: the whole load; each worker runs its share of it
	// Names and Checks are the request and check names Run's job records
	// under, by index (see Names).
	Names, Checks []string

	Workers  int          // how many workers each job needs
	Listener net.Listener // accept workers here (closed by Close); may be nil
	Dial     []string     // listening workers to dial
	Identity *Identity    // nil: no TLS

	WaitTimeout time.Duration // how long to wait for the workers (default 1m)
	StartDelay  time.Duration // from assignment to the common start (default 2s)
	// StopGrace bounds the wait for workers' final snapshots after Stop
	// (the request timeout + 2 s is right: in-flight requests finish).
	StopGrace time.Duration
	OnLoss    LossPolicy

	// Load, OnStart and OnTick are Run's job's (see Job).
	Load    *engine.Config
	OnStart func(start time.Time)
	OnTick  func(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	Log     *slog.Logger
	// Version is this fuka's version: a worker of another version (or
	// protocol) is refused (see VersionError).
	Version string

	mu sync.Mutex
	h  *hold // the workers held between Join and Close
}

// Job is one load for the held workers (see RunJob).
type Job struct {
	Work *fukapb.Job // the whole load; each worker runs its share of it
	// Names and Checks are the request and check names the job records
	// under, by index (see Names).
	Names, Checks []string
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

// member is one worker held by the controller.
type member struct {
	se     *session
	link   *link
	dialed string // the address the controller dialed it at ("": it dialed in)

	// set by the receiving goroutine; reset by the controller's goroutine
	// when a job starts
	mu            sync.Mutex
	inJob         bool // its job was assigned and its Done has not come
	names, checks int  // the job's request and check names: a snapshot has no more
	pending       []*metrics.Snapshot
	last          int  // highest interval received
	lastWhole     int  // highest interval of a non-final snapshot
	final         bool // the final snapshot arrived
	requests      int64
	active        int   // active clients at its latest snapshot
	peak          int64 // most requests in one whole interval

	// owned by the controller's goroutine
	name    string
	hello   *fukapb.Hello
	helloAt time.Time
	state   string // joining, ok (held; running its job, if one is on), done (its job), lost
	// the job's, reset when a job starts
	rec     *metrics.Recorder // the job's one recorder, shared by all its members
	reason  string
	done    *fukapb.Done
	clients int
	wsOpen  int64 // WebSocket connections open at its latest snapshot
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
	dialed  *session // a listening worker this controller dialed
	addr    string   // the address dialed (dialed and dialErr)
	dialErr error
}

// hold is the controller's workers between Join and Close.
type hold struct {
	c       *Controller
	log     *slog.Logger
	events  chan event
	kick    chan struct{}
	quit    chan struct{}
	joins   chan *session
	members []*member // held (state != joining); by share index during a job
	all     []*member // every session, for shutdown
	srv     *grpc.Server
	refused []string // why workers of another version were refused
	// Sessions outlive the contexts of Join and RunJob: after a Ctrl-C
	// the workers still get Stop and still send their final snapshots.
	sctx    context.Context
	cancel  context.CancelFunc
	dialing int      // dials in flight
	redial  []string // addresses of dialed workers lost since the last job
	busy    sync.Mutex
}

// Run waits for the workers, assigns each its share of the Job and a
// common start, merges their snapshots into one timeline (calling OnTick
// each second), and returns when every worker is done or lost. Cancelling
// ctx stops the workers: Run still waits (up to StopGrace) for their final
// snapshots and returns the complete result, marked interrupted. It is
// Join, one RunJob and Close.
func (c *Controller) Run(ctx context.Context) (*Result, error) {
	if err := c.Join(ctx); err != nil {
		return nil, err
	}
	defer c.Close()
	return c.RunJob(ctx, Job{Work: c.Job, Names: c.Names, Checks: c.Checks, Load: c.Load, OnStart: c.OnStart, OnTick: c.OnTick})
}

// Join waits (up to WaitTimeout) for the workers and holds them for jobs
// until Close. Cancelling ctx gives up the wait; it does not end the
// sessions of workers that joined (Close does).
func (c *Controller) Join(ctx context.Context) error {
	if c.Workers < 1 {
		return errors.New("cluster: need at least one worker")
	}
	if c.Listener == nil && len(c.Dial) == 0 {
		return errors.New("cluster: nowhere to find workers (no listener, no worker addresses)")
	}
	if len(c.Dial) > 0 && len(c.Dial) < c.Workers && c.Listener == nil {
		return fmt.Errorf("cluster: %d workers needed, %d addresses given", c.Workers, len(c.Dial))
	}
	h := &hold{
		c: c, log: c.Log,
		events: make(chan event, 64), kick: make(chan struct{}, 1),
		quit: make(chan struct{}), joins: make(chan *session),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	c.mu.Lock()
	if c.h != nil {
		c.mu.Unlock()
		return errors.New("cluster: Join while the controller holds workers (Close first)")
	}
	c.h = h
	c.mu.Unlock()
	h.sctx, h.cancel = context.WithCancel(context.Background())
	if c.Listener != nil {
		h.srv = serve(c.Listener, c.Identity, func(se *session) {
			select {
			case h.joins <- se:
			case <-h.quit:
				se.end()
			}
		})
	}
	for _, addr := range c.Dial {
		h.dial(addr)
	}
	if err := h.gather(ctx); err != nil {
		c.Close()
		return err
	}
	return nil
}

// RunJob runs one job on the held workers, as Run does, and holds them
// again for the next. Workers lost since the last job are replaced first:
// the job waits (up to WaitTimeout) for others to join, or dials the lost
// ones' addresses again. One job at a time.
func (c *Controller) RunJob(ctx context.Context, j Job) (*Result, error) {
	c.mu.Lock()
	h := c.h
	c.mu.Unlock()
	if h == nil {
		return nil, errors.New("cluster: RunJob without Join")
	}
	if !h.busy.TryLock() {
		return nil, errors.New("cluster: a job is running")
	}
	defer h.busy.Unlock()
	if err := h.refill(ctx); err != nil {
		return nil, err
	}
	return h.drive(ctx, j)
}

// Close ends every worker's session (a worker run by `fuka worker
// --controller` then exits) and the listener. A job in progress ends first
// (cancel its context to stop it).
func (c *Controller) Close() {
	c.mu.Lock()
	h := c.h
	c.h = nil
	c.mu.Unlock()
	if h == nil {
		return
	}
	h.busy.Lock()
	defer h.busy.Unlock()
	h.shutdown()
}

func (c *Controller) waitTimeout() time.Duration {
	if c.WaitTimeout > 0 {
		return c.WaitTimeout
	}
	return time.Minute
}

// emit hands an event to the controller's goroutine unless the controller
// is closed.
func (h *hold) emit(ev event) {
	select {
	case h.events <- ev:
	case <-h.quit:
	}
}

// dial reaches the listening worker at addr; the session comes as an event.
func (h *hold) dial(addr string) {
	h.dialing++
	go func() {
		se, err := dial(h.sctx, addr, h.c.Identity, h.c.waitTimeout())
		if err != nil {
			h.emit(event{addr: addr, dialErr: fmt.Errorf("worker %s: %w", addr, err)})
			return
		}
		select {
		case h.events <- event{dialed: se, addr: addr}:
		case <-h.quit:
			se.end()
		}
	}()
}

// shutdown ends the sessions. A held worker is told the session ends, and
// is given a moment to end the stream its side: the stream's end then
// cannot overtake the message.
func (h *hold) shutdown() {
	var wg sync.WaitGroup
	for _, m := range h.members {
		if m.state == "ok" && m.link.send(msgEnd()) {
			wg.Go(func() {
				m.link.close(time.Second)
				m.se.closeSend()
				select {
				case <-m.link.dead:
				case <-time.After(2 * time.Second):
				}
			})
		}
	}
	wg.Wait()
	close(h.quit)
	for _, m := range h.all {
		m.link.close(time.Second)
		m.se.end()
	}
	h.cancel()
	if h.srv != nil {
		h.srv.Stop()
	}
}

// admit starts a session's I/O; its Hello comes as an event.
func (h *hold) admit(se *session, dialed string) *member {
	m := &member{se: se, state: "joining", name: se.addr, dialed: dialed}
	// Every heartbeat is answered at once: the echo extends the worker's
	// lease (see Heartbeat in proto/fuka.proto).
	m.link = newLink(se.s, func(msg *fukapb.Msg) error { return h.receive(m, msg) }, (*link).echo)
	go func() {
		select {
		case <-m.link.dead:
			h.emit(event{m: m, lost: m.link.err})
		case <-h.quit:
		}
	}()
	h.all = append(h.all, m)
	return m
}

// receive handles a worker's message on its receiving goroutine.
// Snapshots are decoded (checked, not trusted) and queued for the
// controller's goroutine.
func (h *hold) receive(m *member, msg *fukapb.Msg) error {
	switch k := msg.Kind.(type) {
	case *fukapb.Msg_Hello:
		h.emit(event{m: m, hello: k.Hello, helloAt: time.Now()})
	case *fukapb.Msg_Snapshot:
		var s metrics.Snapshot
		if err := s.UnmarshalBinary(k.Snapshot.GetData()); err != nil {
			return err
		}
		var n int64
		for _, st := range s.Stats {
			if st != nil {
				n += st.Requests
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.inJob {
			return errors.New("a snapshot outside a job")
		}
		if len(s.Stats) > m.names || len(s.Checks) > m.checks {
			return fmt.Errorf("%w: %d request names and %d checks, want at most %d and %d",
				metrics.ErrBadSnapshot, len(s.Stats), len(s.Checks), m.names, m.checks)
		}
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
		select {
		case h.kick <- struct{}{}:
		default:
		}
	case *fukapb.Msg_Done:
		h.emit(event{m: m, done: k.Done})
	case *fukapb.Msg_Assign, *fukapb.Msg_Stop:
		return errors.New("the peer sent a controller's message: it is not a worker")
	}
	return nil
}

// refill drops the workers lost since the last job and, if that leaves too
// few, waits for others: new ones on the listener, or the lost ones dialed
// again.
func (h *hold) refill(ctx context.Context) error {
	now := time.Now()
	held := h.members[:0]
	for _, m := range h.members {
		if m.link.checkSilence(now) {
			_, err := m.link.failed()
			h.log.Warn(fmt.Sprintf("worker %s lost between jobs (%s)", m.name, describe(err)), "worker", m.name)
			h.drop(m, err)
			continue
		}
		held = append(held, m)
	}
	clear(h.members[len(held):])
	h.members = held
	if len(h.members) >= h.c.Workers {
		return nil
	}
	for _, addr := range h.redial {
		h.dial(addr)
	}
	h.redial = nil
	return h.gather(ctx)
}

// drop ends a worker's session; a dialed worker's address is dialed again
// before the next job that needs it.
func (h *hold) drop(m *member, err error) {
	m.state = "lost"
	m.link.fail(err)
	m.se.end()
	if m.dialed != "" {
		h.redial = append(h.redial, m.dialed)
	}
}

// gather waits for Workers workers to say Hello.
func (h *hold) gather(ctx context.Context) error {
	c := h.c
	deadline := time.NewTimer(c.waitTimeout())
	defer deadline.Stop()
	check := time.NewTicker(livenessCheck)
	defer check.Stop()
	for len(h.members) < c.Workers {
		var why error
		select {
		case se := <-h.joins:
			h.admit(se, "")
		case ev := <-h.events:
			why = h.gathered(ev)
		case <-check.C:
			for _, m := range h.all {
				m.link.checkSilence(time.Now())
			}
		case <-deadline.C:
			return fmt.Errorf("%w: waited %v for %d workers, %d joined%s%s", ErrNoWorkers, c.waitTimeout(), c.Workers, len(h.members), h.joinedNames(), h.refusedText())
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for workers (%d of %d joined): %w", len(h.members), c.Workers, ctx.Err())
		}
		// Dialed workers are not dialed again while the controller waits:
		// without a listener, it cannot have them all.
		if why != nil && c.Listener == nil && len(h.members)+h.dialing+h.joining() < c.Workers {
			return fmt.Errorf("%w: %w", ErrNoWorkers, why)
		}
	}
	return nil
}

// gathered handles an event while the controller waits for workers, and
// says why a worker the controller counted on did not join.
func (h *hold) gathered(ev event) error {
	switch {
	case ev.dialErr != nil:
		h.dialing--
		h.log.Warn("cannot reach worker", "err", ev.dialErr)
		if ev.addr != "" {
			h.redial = append(h.redial, ev.addr)
		}
		return ev.dialErr
	case ev.dialed != nil:
		h.dialing--
		h.admit(ev.dialed, ev.addr)
	case ev.hello != nil:
		return h.join(ev)
	case ev.lost != nil || ev.done != nil:
		if m := ev.m; h.leave(m, ev.lost) {
			return fmt.Errorf("worker %s left before the start (%s)", m.name, describe(ev.lost))
		}
	}
	return nil
}

func (h *hold) joining() int {
	n := 0
	for _, m := range h.all {
		if m.state == "joining" {
			n++
		}
	}
	return n
}

func (h *hold) joinedNames() string {
	if len(h.members) == 0 {
		return ""
	}
	names := make([]string, len(h.members))
	for i, m := range h.members {
		names[i] = m.name
	}
	return " (" + strings.Join(names, ", ") + ")"
}

func (h *hold) refusedText() string {
	if len(h.refused) == 0 {
		return ""
	}
	return "; refused: " + strings.Join(h.refused, "; ")
}

// join admits a worker that said Hello, under a unique name, or refuses
// one of another fuka version (the error says why).
func (h *hold) join(ev event) error {
	m, hi := ev.m, ev.hello
	if m.state != "joining" {
		m.link.fail(errors.New("a second Hello"))
		return nil
	}
	if !sameVersion(h.c.Version, hi.GetVersion(), hi.GetProtocol()) {
		e := &VersionError{Worker: hi.GetVersion(), WorkerProtocol: hi.GetProtocol(), Controller: h.c.Version, ControllerProtocol: ProtocolVersion}
		who := cmp.Or(hi.GetName(), m.se.addr)
		h.log.Warn(fmt.Sprintf("worker %s refused: %v", who, e), "worker", who, "addr", m.se.addr)
		h.refused = append(h.refused, "worker "+who+": "+e.Error())
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
	name := hi.GetName()
	if name == "" {
		name = m.se.addr
	}
	base := name
	for i := 2; h.named(name); i++ {
		name = base + "#" + strconv.Itoa(i)
	}
	m.name, m.hello, m.helloAt, m.state = name, hi, ev.helloAt, "ok"
	h.members = append(h.members, m)
	h.log.Info("worker joined", "worker", name, "addr", m.se.addr, "cpus", hi.GetCpus(), "joined", len(h.members), "of", h.c.Workers)
	return nil
}

func (h *hold) named(name string) bool {
	return slices.ContainsFunc(h.members, func(m *member) bool { return m.name == name })
}

// leave drops a worker that went away before a job started, and reports
// whether it was one (not a session that never said Hello).
func (h *hold) leave(m *member, err error) bool {
	was := m.state == "joining" || m.state == "ok"
	if i := slices.Index(h.members, m); i >= 0 {
		h.members = slices.Delete(h.members, i, i+1)
		h.log.Warn("worker left before the start", "worker", m.name, "why", describe(err))
	}
	if was {
		h.drop(m, err)
	}
	return was
}

// refuse turns away a worker that came when the job had all it needed.
func (h *hold) refuse(se *session) {
	go func() {
		_ = se.s.Send(msgStop("the run has all its workers"))
		time.Sleep(100 * time.Millisecond)
		se.end()
	}()
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
