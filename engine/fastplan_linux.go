//go:build linux

package engine

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
	"golang.org/x/sys/unix"
)

// Plans on the event loops: each client of a plain-HTTP/1.1 plan is a
// conn of a loop whose requests come from a LoopClient (the plan's state
// machine) instead of the one quick-mode request. The loop sends what the
// client asks for, hands it the response, and keeps its pauses as timers
// (a heap of conns in cThink), so a client costs no goroutine, no timer
// object and no allocation per request; the rules of the quick path hold
// unchanged: a request once written is never sent again, a failure is
// recorded, and latency counts from the intended time of an open-model
// iteration's first request (the client decides which request that is).

// planLoop is a loop's plan state; sc is nil in quick mode.
type planLoop struct {
	sc         LoopScenario
	endRun     func()
	iterations int     // closed model: iterations per client; 0: no bound
	thinkq     []*conn // clients in cThink, a min-heap on notBefore
	res        LoopResult
	ids        int // open model: this loop's clients so far
	loop       int // this loop's number, and how many loops there are
	loops      int
	depth      int // nested steps without a wait (see planStep)
}

// planConn is a plan client's state on its conn.
type planConn struct {
	cl     LoopClient
	seq    int64 // closed model: the start's number taken from the budget
	iters  int   // iterations begun
	keep   int   // body bytes the request in flight keeps
	resume bool  // cThink: true when the pause ends an iteration (LoopPause)
	// cThink: the request the client asked for waits for the lease
	// (planRefused); timeout is its Timeout.
	refused bool
	timeout time.Duration
}

// newFastPlanSources makes the event loops that run plan sc's clients.
func newFastPlanSources(cfg *Config, sc LoopScenario, loops int, start time.Time, endRun func()) ([]source, []*metrics.Recorder, error) {
	host, port, _ := sc.LoopAddr()
	sa, family, err := resolve(host, port)
	if err != nil {
		return nil, nil, err
	}
	ls, err := newPlanLoops(cfg, cfg.Load, sc, loops, start, endRun, sa, family)
	if err != nil {
		return nil, nil, err
	}
	var srcs []source
	var recs []*metrics.Recorder
	for _, l := range ls {
		srcs = append(srcs, l)
		recs = append(recs, l.rec)
	}
	return srcs, recs, nil
}

// newFastPartSources makes a group of event loops per part of w, each
// started by its delay or when the part it waits for has ended, as the
// net/http path's parts are.
func newFastPartSources(cfg *Config, w Parts, loops int, start time.Time, endRun func()) ([]source, []*metrics.Recorder, error) {
	done := make([]chan struct{}, len(w.Parts))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var srcs []source
	var recs []*metrics.Recorder
	for i, p := range w.Parts {
		sc := p.Scenario.(LoopScenario) // fastParts checked
		host, port, _ := sc.LoopAddr()
		sa, family, err := resolve(host, port)
		if err == nil {
			var ls []*fastLoop
			if ls, err = newPlanLoops(cfg, p.Load, sc, loops, start, endRun, sa, family); err == nil {
				lp := &loopPart{loops: ls, at: start.Add(p.Delay), delay: p.Delay, done: done[i]}
				if a := p.After; a >= 0 && a < len(done) && a != i {
					lp.after = done[a]
				}
				srcs = append(srcs, lp)
				for _, l := range ls {
					recs = append(recs, l.rec)
				}
				continue
			}
		}
		for _, s := range srcs {
			s.(*loopPart).close()
		}
		return nil, nil, err
	}
	return srcs, recs, nil
}

// newPlanLoops makes the loops that run ld's part of plan sc's clients.
func newPlanLoops(cfg *Config, ld Load, sc LoopScenario, loops int, start time.Time, endRun func(), sa unix.Sockaddr, family int) ([]*fastLoop, error) {
	names, checks := sc.Names(), sc.CheckNames()
	w, n := cfg.Share.of()
	clients := cfg.Share.deal(slotsOf(ld)).PerRound()
	if clients < loops {
		loops = max(clients, 1)
	}
	budget := &counter{}
	var out []*fastLoop
	for j := 0; j < loops; j++ {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			for _, l := range out {
				unix.Close(l.epfd)
			}
			return nil, errNoFast
		}
		l := &fastLoop{
			cfg: cfg, planned: ld.planned(), start: start, epfd: epfd,
			rec: metrics.NewRecorder(len(names)).WithChecks(len(checks)),
			sa:  copySockaddr(sa), family: family,
			buf: make([]byte, readBufSize), events: make([]unix.EpollEvent, maxEvents),
			budget: budget, late: ld.late(), phases: cfg.Phases,
			plan: planLoop{sc: sc, endRun: endRun, loop: j, loops: loops},
		}
		shard, shards := w+n*j, n*loops
		switch ld := ld.(type) {
		case Open:
			l.open, l.batch = true, ld.Resolution > 0
			l.rate, l.resolution = ld.Rate, ld.Resolution
			l.deal, l.nextK, l.loops = cfg.Share.deal(ld.MaxClients), int64(j), int64(loops)
			l.maxConns = int(share(int64(clients), loops, j))
		case Closed:
			l.ramp = load.Ramp{Clients: ld.Clients, Over: ld.RampUp}
			l.capper = load.Cap{PerSecond: cfg.Share.maxRPS(ld)}
			l.requests = cfg.Share.requests(ld)
			l.plan.iterations = ld.Iterations
			for k := shard; k < ld.Clients; k += shards {
				l.clientAt = append(l.clientAt, k)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// loopPart is one part of a run of parts on the event loops: its loops
// start together once the part's turn has come, on the part's own clock.
type loopPart struct {
	loops []*fastLoop
	at    time.Time       // start no earlier (the part's delay)
	delay time.Duration   // the part's delay, from the run's start
	after <-chan struct{} // nor before this part has ended, if set
	done  chan struct{}
}

func (p *loopPart) run(ctx context.Context) {
	defer close(p.done)
	if !partWait(ctx, p.after, p.at) {
		p.close()
		return
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range p.loops {
		l.start = start
		wg.Add(1)
		go func() { defer wg.Done(); l.run(ctx) }()
	}
	wg.Wait()
}

// close releases the loops of a part that never ran.
func (p *loopPart) close() {
	for _, l := range p.loops {
		unix.Close(l.epfd)
	}
}

func (p *loopPart) active() int {
	n := 0
	for _, l := range p.loops {
		n += l.active()
	}
	return n
}

func (p *loopPart) peak() int {
	n := 0
	for _, l := range p.loops {
		n += l.peak()
	}
	return n
}

func (p *loopPart) setStart(t time.Time) { p.at = t.Add(p.delay) }

func (p *loopPart) scheduled() int64 {
	var n int64
	for _, l := range p.loops {
		n += l.scheduled()
	}
	return n
}

// resolve looks host up (its first address) for the loops' sockets.
func resolve(host, port string) (unix.Sockaddr, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil, 0, errNoFast // the net/http path reports it per request
	}
	pn, err := net.LookupPort("tcp", port)
	if err != nil {
		return nil, 0, errNoFast
	}
	if ip4 := addrs[0].IP.To4(); ip4 != nil {
		a := &unix.SockaddrInet4{Port: pn}
		copy(a.Addr[:], ip4)
		return a, unix.AF_INET, nil
	}
	a := &unix.SockaddrInet6{Port: pn}
	copy(a.Addr[:], addrs[0].IP.To16())
	return a, unix.AF_INET6, nil
}

// planClient makes c the plan's client id.
func (l *fastLoop) planClient(c *conn, id int) {
	c.wire, c.head = nil, false
	c.pc = &planConn{cl: l.plan.sc.NewLoopClient(id, l.rec, l.plan.endRun)}
}

// planIterate starts a closed-model client's next iteration, or finishes
// the client: the same bounds as the net/http pool's (iterations per
// client, the run's budget, the throughput cap, the lease).
func (l *fastLoop) planIterate(c *conn, now time.Duration) {
	if l.stopping || l.plan.iterations > 0 && c.pc.iters >= l.plan.iterations {
		l.finish(c)
		return
	}
	i, ok := l.budget.take(l.requests)
	if !ok {
		l.finish(c)
		return
	}
	c.pc.seq = i
	if t := l.budget.pace(l.capper, i, now, l.late); t > now {
		l.hold(c, t)
		return
	}
	l.send(c, now) // the lease, then planBegin
}

// planBegin begins an iteration numbered seq, due at intended.
func (l *fastLoop) planBegin(c *conn, seq int64, intended, now time.Duration) {
	if c.pc == nil {
		// An open-model conn's first start: its client is made now.
		l.planClient(c, l.plan.loop+l.plan.loops*l.plan.ids)
		l.plan.ids++
	}
	c.pc.iters++
	if !c.pc.cl.Begin(seq, intended) {
		l.planRetire(c)
		return
	}
	l.planStep(c, now)
}

// maxDepth bounds how many steps one client runs in a row without
// waiting for the network or a timer (a target that refuses every
// connection at once fails each request inside dispatch): past it the
// client goes on at the loop's next turn, so a loop never recurses
// without bound and still looks at the clock.
const maxDepth = 32

// planStep asks c's client for its next move and makes it.
func (l *fastLoop) planStep(c *conn, now time.Duration) {
	if l.plan.depth >= maxDepth {
		l.think(c, now, false)
		return
	}
	l.plan.depth++
	l.move(c, c.pc.cl.Next(now, l.stopping), now)
	l.plan.depth--
}

// move makes c's client's next move st.
func (l *fastLoop) move(c *conn, st LoopStep, now time.Duration) {
	switch st.Action {
	case LoopSend:
		c.wire, c.head, c.pc.keep, c.pc.timeout = st.Wire, st.Head, st.KeepBody, st.Timeout
		l.planSend(c, now)
	case LoopThink:
		l.think(c, now+st.Think, false)
	case LoopPause:
		l.think(c, now+st.Think, true)
	case LoopEnd:
		l.planEnd(c, now)
	case LoopStop:
		l.planRetire(c)
	}
}

// planSend sends the request c's client asked for.
func (l *fastLoop) planSend(c *conn, now time.Duration) {
	c.intended, c.sent = now, now
	c.deadline = now + c.pc.timeout
	c.redialed = false
	l.inflight++
	l.dispatch(c, now)
}

// planRefused parks c's client, whose request was refused at its write
// because the lease had run out: it sends the same request once the lease
// holds again (the loop looks every leaseWait), and none if the load ends
// first. Nothing of it was written, so the client hears nothing of it.
func (l *fastLoop) planRefused(c *conn, now time.Duration) {
	if l.stopping {
		l.planRetire(c)
		return
	}
	l.think(c, now+leaseWait, false)
	c.pc.refused = true
}

// planEnd ends an iteration: a closed-model client begins its next, an
// open-model one waits for a start.
func (l *fastLoop) planEnd(c *conn, now time.Duration) {
	if l.open {
		c.state = cIdle
		l.nActive.Add(-1)
		l.free = append(l.free, c)
		return
	}
	l.planIterate(c, now)
}

// planRetire ends a client for good: its data ran out, or on_failure
// stopped it.
func (l *fastLoop) planRetire(c *conn) {
	if l.open {
		c.state = cDone
		l.nActive.Add(-1)
		l.closeSocket(c)
		return
	}
	l.finish(c)
}

// planResult hands the outcome of c's request to its client (kind
// ErrNone: a complete response, out bytes written), then moves it on.
func (l *fastLoop) planResult(c *conn, kind metrics.ErrorKind, out int64, now time.Duration) {
	r := &l.plan.res
	*r = LoopResult{Err: kind, BytesIn: c.p.Bytes, BytesOut: out, Sent: c.sent, Done: now, Stop: l.stopping}
	if kind == metrics.ErrNone {
		r.Status, r.Head, r.Body = c.p.Status, c.p.Head, c.p.Body
		if l.phases {
			var o metrics.Outcome
			c.timePhases(&o, now)
			r.Phases, r.Timed, r.NewConn = o.Phases, o.Timed, o.NewConn
		}
	}
	c.state = cIdle
	c.pc.cl.Response(r)
	*r = LoopResult{}
	l.planStep(c, now)
}

// think parks c until t; end says the pause ends the iteration.
func (l *fastLoop) think(c *conn, t time.Duration, end bool) {
	c.state, c.notBefore, c.pc.resume = cThink, t, end
	q := append(l.plan.thinkq, c)
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].notBefore <= q[i].notBefore {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
	l.plan.thinkq = q
}

// popThink removes the client whose pause ends first.
func (l *fastLoop) popThink() *conn {
	q := l.plan.thinkq
	c := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q[n] = nil
	q = q[:n]
	for i := 0; ; {
		m, a, b := i, 2*i+1, 2*i+2
		if a < n && q[a].notBefore < q[m].notBefore {
			m = a
		}
		if b < n && q[b].notBefore < q[m].notBefore {
			m = b
		}
		if m == i {
			break
		}
		q[m], q[i] = q[i], q[m]
		i = m
	}
	l.plan.thinkq = q
	return c
}

// resume moves on the clients whose pause has ended.
func (l *fastLoop) resume(now time.Duration) {
	for len(l.plan.thinkq) > 0 && l.plan.thinkq[0].notBefore <= now {
		c := l.popThink()
		c.state = cIdle
		switch {
		case c.pc.refused:
			c.pc.refused = false
			l.planSend(c, now)
		case c.pc.resume:
			l.planEnd(c, now)
		default:
			l.planStep(c, now)
		}
	}
}

// planStop ends the pauses when the load stops: a pausing client's
// iteration ends (Next with stop) and the client with it.
func (l *fastLoop) planStop() {
	now := l.now()
	for len(l.plan.thinkq) > 0 {
		c := l.popThink()
		c.state = cIdle
		if c.pc.refused {
			c.pc.refused = false
			l.planRetire(c) // its request never left
			continue
		}
		if c.pc.resume {
			l.planEnd(c, now)
			continue
		}
		l.planStep(c, now)
	}
}
