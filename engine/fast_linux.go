//go:build linux

package engine

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
	"golang.org/x/sys/unix"
)

// The fast path: one event loop per CPU, each owning its sockets.
//
// A loop sleeps in epoll until the earliest of: a socket event, the next due
// start, the next timeout scan, or 50 ms (to notice cancellation). Sockets
// stay registered for EPOLLIN for their whole life (level-triggered), so a
// request is one write and one read; EPOLLOUT is added only while a connect
// or a large write is pending.

const (
	readBufSize  = 64 << 10
	maxEvents    = 256
	scanEvery    = 5 * time.Millisecond // timeout resolution
	maxSleep     = 50 * time.Millisecond
	maxReadBurst = 32 // reads per event before yielding to other sockets
)

type connState uint8

const (
	cIdle       connState = iota // no request
	cConnecting                  // non-blocking connect pending
	cWriting                     // request partly written
	cReading                     // waiting for the response
	cWaiting                     // closed model: waiting for the throughput cap
	cDone                        // closed model: this client has finished
	cThink                       // plan: pausing (think time), in fastLoop.thinkq
)

type conn struct {
	idx       int32
	gen       int32 // bumped on every new socket, so stale events are ignored
	fd        int
	state     connState
	outWant   bool // EPOLLOUT is registered
	served    int  // responses read on the current socket; -1: do not reuse it
	redialed  bool // the request in flight moved to a new socket once
	used      bool // open model: has carried a start (pre-connected ones may not have)
	p         client.Parser
	wrOff     int
	intended  time.Duration // open model: when the start was due
	sent      time.Duration // when the request began (connect included)
	deadline  time.Duration
	notBefore time.Duration // cWaiting, cThink: earliest send
	wire      []byte        // the request: the loop's in quick mode, the plan client's
	head      bool          // the request is a HEAD
	pc        *planConn     // a plan's client (fastplan_linux.go); nil in quick mode
	// The request's timestamps for its phases (Config.Phases): when its
	// connect began (newConn), when the connection was ready for it, and
	// when the first response byte came. Taking them costs a store of the
	// time each step already has.
	connAt, ready, first time.Duration
	newConn              bool
}

type fastLoop struct {
	cfg     *Config // the run's: its Lease
	timeout time.Duration
	planned time.Duration // when scheduling stops; 0: no time bound
	start   time.Time
	epfd    int
	rec     *metrics.Recorder
	sa      unix.Sockaddr
	family  int
	wire    []byte
	head    bool
	buf     []byte
	events  []unix.EpollEvent
	conns   []*conn
	open    bool
	phases  bool // time each request's phases (Config.Phases)

	// closed model
	ramp     load.Ramp
	clientAt []int    // global client indexes of this loop, in start order
	nextCli  int      // next index in clientAt to start
	budget   *counter // shared: total requests issued (for -n and the cap)
	requests int64    // this worker's share of Requests (-n); -1: no bound
	capper   load.Cap
	waitq    []*conn // cWaiting, in cap order

	// open model
	rate       load.Rate
	resolution time.Duration // Open.Resolution
	deal       load.Deal     // this worker's starts (load.Deal.Nth)
	nextK      int64         // this loop's next start: the worker's nextK-th
	loops      int64         // the worker's starts go round-robin to its loops

	late     time.Duration // starts overdue by more than this are dropped (Config.LateLimit)
	free     []*conn
	maxConns int

	inflight int

	// batch: open model with a Resolution, or the closed model's
	// throughput cap with one (while a client waits for the cap). The
	// loop then wakes once per
	// resolution step (not once per response), collects every socket event
	// at once, and takes each response's completion time from the kernel's
	// receive timestamp (SO_TIMESTAMPNS), so batching costs no accuracy.
	batch    bool
	msg      unix.Msghdr
	iov      unix.Iovec
	oob      [64]byte
	nextScan time.Duration // next timeout scan
	stopping bool
	noPwait2 bool
	nActive  atomic.Int64
	nSched   atomic.Int64
	wakes    int64        // passes through the loop (tests bound them)
	nConns   atomic.Int64 // clients used: started (closed model) or that carried a start (open)

	plan planLoop // a plan's clients (fastplan_linux.go)
}

func newFastSources(cfg *Config, req Request, loops int, start time.Time) ([]source, []*metrics.Recorder, error) {
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, req.Request.URL.Hostname())
	if err != nil || len(addrs) == 0 {
		// Let the standard path report DNS failures per request.
		return nil, nil, errNoFast
	}
	port := 80
	if p := req.Request.URL.Port(); p != "" {
		pn, _ := net.LookupPort("tcp", p)
		port = pn
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip4 := addrs[0].IP.To4(); ip4 != nil {
		a := &unix.SockaddrInet4{Port: port}
		copy(a.Addr[:], ip4)
		sa = a
	} else {
		a := &unix.SockaddrInet6{Port: port}
		copy(a.Addr[:], addrs[0].IP.To16())
		sa, family = a, unix.AF_INET6
	}
	wire := req.Request.Wire(req.UserAgent)
	// This worker's part of the load: its clients, connections and starts
	// are those of shards w, w+n, w+2n, ... where each loop is one shard.
	w, n := cfg.Share.of()
	clients := cfg.Share.Clients(cfg) // max clients in the open model
	// A loop with no client would drop every start it owned (open model)
	// while another loop's client sat free.
	if clients < loops {
		loops = max(clients, 1)
	}
	budget := &counter{}
	var srcs []source
	var recs []*metrics.Recorder
	for j := 0; j < loops; j++ {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			for _, s := range srcs {
				unix.Close(s.(*fastLoop).epfd)
			}
			return nil, nil, errNoFast
		}
		l := &fastLoop{
			cfg: cfg, timeout: req.Timeout, planned: cfg.Load.planned(), start: start, epfd: epfd, rec: metrics.NewRecorder(1),
			sa: copySockaddr(sa), family: family, wire: wire, head: req.Request.Head(),
			buf: make([]byte, readBufSize), events: make([]unix.EpollEvent, maxEvents),
			budget: budget, late: cfg.Load.late(), phases: cfg.Phases,
		}
		shard, shards := w+n*j, n*loops
		switch ld := cfg.Load.(type) {
		case Open:
			l.open, l.batch = true, ld.Resolution > 0
			l.rate, l.resolution = ld.Rate, ld.Resolution
			l.deal, l.nextK, l.loops = cfg.Share.deal(ld.MaxClients), int64(j), int64(loops)
			l.maxConns = int(share(int64(clients), loops, j))
		case Closed:
			l.ramp = load.Ramp{Clients: ld.Clients, Over: ld.RampUp}
			l.capper = load.Cap{PerSecond: cfg.Share.maxRPS(ld)}
			l.batch, l.resolution = ld.Resolution > 0 && l.capper.PerSecond > 0, ld.Resolution
			l.requests = cfg.Share.requests(ld)
			for k := shard; k < ld.Clients; k += shards {
				l.clientAt = append(l.clientAt, k)
			}
		}
		srcs = append(srcs, l)
		recs = append(recs, l.rec)
	}
	return srcs, recs, nil
}

// copySockaddr gives each loop its own address: unix.Connect encodes into
// the Sockaddr it is given, so loops sharing one would race.
func copySockaddr(sa unix.Sockaddr) unix.Sockaddr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		c := *a
		return &c
	case *unix.SockaddrInet6:
		c := *a
		return &c
	}
	return sa
}

func (l *fastLoop) now() time.Duration { return time.Since(l.start) }

func (l *fastLoop) active() int          { return int(l.nActive.Load()) }
func (l *fastLoop) peak() int            { return int(l.nConns.Load()) }
func (l *fastLoop) scheduled() int64     { return l.nSched.Load() }
func (l *fastLoop) setStart(t time.Time) { l.start = t }

func (l *fastLoop) run(ctx context.Context) {
	defer l.shutdown()
	planned := l.planned
	for {
		now := l.now()
		l.rec.Lock()
		if !l.stopping && (ctx.Err() != nil || (planned > 0 && now >= planned)) {
			// Starts that fell due while the loop was late (descheduled,
			// busy) are scheduled before stopping, so they are sent late
			// or counted as dropped: stopping first would leave them out
			// of Scheduled without a trace.
			if l.open {
				l.schedule(now)
			}
			l.stop()
		}
		// A closed model bounded only by Requests has no planned end, so
		// nothing above sets stopping: all of this loop's clients started
		// and finished means its share is done, and the loop must not
		// sleep until ctx is cancelled.
		if !l.stopping && !l.open && l.nextCli == len(l.clientAt) && l.nActive.Load() == 0 {
			l.stop()
		}
		if !l.stopping {
			l.schedule(now)
		}
		if l.inflight > 0 && now >= l.nextScan {
			// Timeouts are checked every scanEvery, not every wake-up: with
			// thousands of sockets a scan per epoll batch would cost more
			// than the requests.
			l.nextScan = now + scanEvery
			l.expire(now)
		}
		if l.stopping && l.inflight == 0 {
			l.rec.Unlock()
			return
		}
		wait := l.wakeThink(l.wake(now, planned)) - l.now()
		// The closed model batches only while a client waits for the
		// cap: otherwise every client is in flight, and each response
		// must move its client on at once.
		sleep := l.batch && (l.open || len(l.waitq) > 0)
		l.rec.Unlock()
		l.wakes++
		var n int
		if sleep {
			// Sleep to the next step whatever the sockets do, then take
			// everything that happened meanwhile in one go.
			if wait > 0 {
				ts := unix.NsecToTimespec(int64(wait))
				_ = unix.Nanosleep(&ts, nil)
			}
			n = l.wait(0)
		} else {
			n = l.wait(wait)
		}
		if n <= 0 {
			continue
		}
		l.rec.Lock()
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			if int(ev.Fd) >= len(l.conns) {
				continue
			}
			c := l.conns[ev.Fd]
			if c.gen != ev.Pad || c.fd < 0 {
				continue // the socket this event was for is gone
			}
			l.event(c, ev.Events)
		}
		l.rec.Unlock()
	}
}

// wake returns the offset at which the loop must look again without an event.
func (l *fastLoop) wake(now, planned time.Duration) time.Duration {
	w := now + maxSleep
	if planned > 0 && planned < w && !l.stopping {
		w = planned
	}
	if l.inflight > 0 && l.nextScan < w {
		w = l.nextScan
	}
	if l.stopping {
		return w
	}
	if l.open {
		if t, ok := l.arrival(); ok && t < w {
			w = t
			if res := l.resolution; res > 0 {
				// Wake at the end of the resolution step holding the next
				// start, and send every start due by then together: one
				// wake-up (ours, and the target's) per step instead of one
				// per start. Their lateness is at most one step, and it is
				// measured: latency counts from the intended time.
				w = (t + res - 1) / res * res
			}
		}
		return w
	}
	if l.nextCli < len(l.clientAt) {
		if t := l.ramp.Start(l.clientAt[l.nextCli]); t < w {
			w = t
		}
	}
	if len(l.waitq) > 0 {
		t := l.waitq[0].notBefore
		if res := l.resolution; l.batch {
			// As the open model: the clients whose capped start falls in
			// one resolution step go together at its end. The cap's
			// schedule is absolute, so the throughput is the same; the
			// closed model's latency counts from the send.
			t = (t + res - 1) / res * res
		}
		w = min(w, t)
	}
	return w
}

// wakeThink is w, or earlier when a plan client's pause ends before it.
func (l *fastLoop) wakeThink(w time.Duration) time.Duration {
	if q := l.plan.thinkq; len(q) > 0 && q[0].notBefore < w {
		return q[0].notBefore
	}
	return w
}

// wait sleeps in epoll for at most d and returns the number of events.
func (l *fastLoop) wait(d time.Duration) int {
	if d < 0 {
		d = 0
	}
	if !l.noPwait2 {
		ts := unix.NsecToTimespec(int64(d))
		var r1 uintptr
		var e syscall.Errno
		if d == 0 {
			// A poll that cannot block skips the runtime's syscall
			// bookkeeping. Waits that can block go through Syscall6 so the
			// scheduler can run other goroutines meanwhile (the ticker, and
			// an in-process target such as fuka demo's); the cost of that
			// hand-off is why open-model starts are batched by Resolution.
			r1, _, e = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd),
				uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		} else {
			r1, _, e = unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd),
				uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		}
		switch e {
		case 0:
			return int(r1)
		case unix.ENOSYS:
			l.noPwait2 = true // kernels before 5.11: millisecond sleeps
		default:
			return 0 // EINTR
		}
	}
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	n, err := unix.EpollWait(l.epfd, l.events, ms)
	if err != nil {
		return 0
	}
	return n
}

// stop ends scheduling: waiting clients finish, in-flight requests may end.
func (l *fastLoop) stop() {
	l.stopping = true
	for _, c := range l.waitq {
		l.finish(c)
	}
	l.waitq = l.waitq[:0]
	l.nextCli = len(l.clientAt)
	l.planStop()
}

// arrival returns the offset of this loop's next start; false when it
// has no more.
func (l *fastLoop) arrival() (time.Duration, bool) {
	i, ok := l.deal.Nth(l.nextK)
	if !ok {
		return 0, false
	}
	return l.rate.Offset(i)
}

// schedule starts whatever is due at now.
func (l *fastLoop) schedule(now time.Duration) {
	l.resume(now)
	if l.open {
		for {
			t, ok := l.arrival()
			if !ok || t > now {
				return
			}
			seq := l.nextK
			if l.plan.sc != nil {
				seq, _ = l.deal.Nth(l.nextK) // the start's number in the run, as the pool's
			}
			l.nextK += l.loops
			l.nSched.Add(1)
			var c *conn
			switch {
			case now-t > l.late || !l.cfg.Lease.Valid(l.start.Add(now)):
				l.rec.DropLocked(1) // overdue (a stall) or not allowed now: dropped, never sent late
				continue
			case len(l.free) > 0:
				c = l.free[len(l.free)-1]
				l.free = l.free[:len(l.free)-1]
			case len(l.conns) < l.maxConns:
				c = l.newConn()
			default:
				l.rec.DropLocked(1) // no free client: dropped, never delayed
				continue
			}
			if !c.used {
				c.used = true
				l.nConns.Add(1)
			}
			l.nActive.Add(1)
			if l.plan.sc != nil {
				l.planBegin(c, seq, t, now)
				continue
			}
			l.begin(c, t, now)
		}
	}
	for l.nextCli < len(l.clientAt) && l.ramp.Start(l.clientAt[l.nextCli]) <= now {
		l.nextCli++
		c := l.newConn()
		l.nActive.Add(1)
		if l.plan.sc != nil {
			l.planClient(c, l.clientAt[l.nextCli-1])
			l.planIterate(c, now)
			continue
		}
		l.next(c, now)
	}
	for len(l.waitq) > 0 && l.waitq[0].notBefore <= now {
		c := l.waitq[0]
		l.waitq = l.waitq[1:]
		l.send(c, now)
	}
}

func (l *fastLoop) newConn() *conn {
	c := &conn{idx: int32(len(l.conns)), fd: -1, wire: l.wire, head: l.head}
	l.conns = append(l.conns, c)
	if !l.open {
		l.nConns.Store(int64(len(l.conns)))
	}
	return c
}

// next gives a closed-model client its next request, or finishes it.
func (l *fastLoop) next(c *conn, now time.Duration) {
	if l.stopping {
		l.finish(c)
		return
	}
	i, ok := l.budget.take(l.requests)
	if !ok {
		l.finish(c)
		return
	}
	if t := l.budget.pace(l.capper, i, now, l.late); t > now {
		l.hold(c, t)
		return
	}
	l.send(c, now)
}

// send begins a closed-model client's request now, unless the lease has
// run out: then the client waits and looks again.
func (l *fastLoop) send(c *conn, now time.Duration) {
	if !l.cfg.Lease.Valid(l.start.Add(now)) {
		l.hold(c, now+leaseWait)
		return
	}
	if c.pc != nil {
		l.planBegin(c, c.pc.seq, now, now)
		return
	}
	l.begin(c, now, now)
}

// hold makes a closed-model client wait until t.
func (l *fastLoop) hold(c *conn, t time.Duration) {
	c.state = cWaiting
	c.notBefore = t
	l.waitq = append(l.waitq, c)
}

// finish retires a closed-model client.
func (l *fastLoop) finish(c *conn) {
	c.state = cDone
	l.nActive.Add(-1)
	l.closeSocket(c)
}

// begin starts a request on c that was due at intended.
func (l *fastLoop) begin(c *conn, intended, now time.Duration) {
	c.intended, c.sent = intended, now
	c.deadline = now + l.timeout
	c.redialed = false
	l.inflight++
	l.dispatch(c, now)
}

// dispatch connects if needed, then writes the request.
func (l *fastLoop) dispatch(c *conn, now time.Duration) {
	c.p.Reset(c.head)
	if c.pc != nil {
		c.p.Keep(true, c.pc.keep)
	}
	c.wrOff = 0
	if c.fd >= 0 {
		c.ready, c.newConn = now, false
		c.state = cWriting
		l.write(c, now)
		return
	}
	c.connAt, c.newConn = now, true
	fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.fail(c, metrics.ErrOther, now)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if l.batch {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}
	c.fd, c.gen, c.served = fd, c.gen+1, 0
	err = unix.Connect(fd, l.sa)
	switch {
	case err == nil:
		if l.ctl(c, unix.EPOLL_CTL_ADD, false) != nil {
			l.fail(c, metrics.ErrOther, now)
			return
		}
		l.rec.ConnectLocked()
		c.ready = now
		c.state = cWriting
		l.write(c, now)
	case err == unix.EINPROGRESS:
		if l.ctl(c, unix.EPOLL_CTL_ADD, true) != nil {
			l.fail(c, metrics.ErrOther, now)
			return
		}
		c.state = cConnecting
	default:
		l.fail(c, connectKind(err), now)
	}
}

func connectKind(err error) metrics.ErrorKind {
	var e syscall.Errno
	if errors.As(err, &e) {
		return client.ClassifyErrno(e)
	}
	return metrics.ErrOther
}

func (l *fastLoop) ctl(c *conn, op int, out bool) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: c.idx, Pad: c.gen}
	if out {
		ev.Events |= unix.EPOLLOUT
	}
	c.outWant = out
	return unix.EpollCtl(l.epfd, op, c.fd, &ev)
}

// write sends what is left of the request. Its first byte goes only
// while the lease holds, asked here, right before the write: the loop may
// have been frozen since the start was taken (a pass of the loop, a
// connect; see Lease.Holds).
func (l *fastLoop) write(c *conn, now time.Duration) {
	for c.wrOff < len(c.wire) {
		if c.wrOff == 0 && !l.cfg.Lease.Holds() {
			l.refuse(c)
			return
		}
		b := c.wire[c.wrOff:]
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == unix.EAGAIN {
			if !c.outWant {
				_ = l.ctl(c, unix.EPOLL_CTL_MOD, true)
			}
			return
		}
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			l.broken(c, client.ClassifyErrno(e), now)
			return
		}
		c.wrOff += int(n)
	}
	if c.outWant {
		_ = l.ctl(c, unix.EPOLL_CTL_MOD, false)
	}
	c.state = cReading
}

// refuse takes back c's request, refused at its write because the lease
// has run out: not a byte of it left, so it is no request in the counts.
// An open-model start is dropped, as one due while the lease is out; a
// closed-model client waits for the lease, its start kept; a plan's
// client waits to send the same request (planRefused).
func (l *fastLoop) refuse(c *conn) {
	now := l.now()
	l.inflight--
	if c.outWant {
		_ = l.ctl(c, unix.EPOLL_CTL_MOD, false)
	}
	c.state = cIdle
	switch {
	case c.pc != nil:
		l.planRefused(c, now)
	case l.open:
		l.rec.DropLocked(1)
		l.nActive.Add(-1)
		l.free = append(l.free, c)
	default:
		l.hold(c, now+leaseWait)
	}
}

// event handles epoll's news for c.
func (l *fastLoop) event(c *conn, ev uint32) {
	now := l.now()
	switch c.state {
	case cConnecting:
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil || soerr != 0 {
			kind := metrics.ErrOther
			if soerr != 0 {
				kind = client.ClassifyErrno(syscall.Errno(soerr))
			}
			l.fail(c, kind, now)
			return
		}
		l.rec.ConnectLocked()
		c.ready = now
		c.state = cWriting
		l.write(c, now)
	case cWriting:
		if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.read(c, ev, now) // collect the error or an early response
			return
		}
		if ev&unix.EPOLLOUT != 0 {
			l.write(c, now)
		}
		if c.state == cReading && ev&unix.EPOLLIN != 0 {
			l.read(c, ev, now)
		}
	case cReading:
		l.read(c, ev, now)
	default:
		// An idle keep-alive socket became readable: the server closed it
		// (or sent garbage). Either way it cannot carry the next request.
		l.closeSocket(c)
	}
}

// read drains what the socket has for the response in flight; ev is the
// epoll event that woke it.
func (l *fastLoop) read(c *conn, ev uint32, now time.Duration) {
	for burst := 0; burst < maxReadBurst; burst++ {
		var n uintptr
		var e syscall.Errno
		if l.batch {
			var rx time.Duration
			n, rx, e = l.recv(c.fd)
			if rx > 0 {
				now = rx // when the bytes arrived, not when the loop got to them
			}
		} else {
			n, _, e = unix.RawSyscall(unix.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(&l.buf[0])), uintptr(len(l.buf)))
		}
		switch {
		case e == unix.EAGAIN:
			return
		case e == unix.EINTR:
			continue
		case e != 0:
			l.broken(c, client.ClassifyErrno(e), now)
			return
		case n == 0:
			if done, _ := c.p.EOF(); done {
				l.complete(c, now)
				return
			}
			l.broken(c, metrics.ErrReset, now)
			return
		}
		if !c.p.Started() {
			c.first = now
		}
		used, done, err := c.p.Feed(l.buf[:n])
		if err != nil {
			l.fail(c, metrics.ErrOther, now)
			return
		}
		if done {
			if used < int(n) || ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				// Unsolicited bytes, or the server already closed its
				// side (a FIN right behind the response, without a
				// Connection: close): the socket cannot carry the next
				// request, and a request written into it would be lost
				// without the server ever reading it.
				c.served = -1
			}
			l.complete(c, now)
			return
		}
		if int(n) < len(l.buf) {
			return // the socket is probably drained; epoll says when there is more
		}
	}
}

// recv reads into the loop's buffer with recvmsg and returns, with the byte
// count, the kernel's receive time of the last bytes read as an offset from
// the run's start (0 when the kernel gave none). The timestamp is wall-clock
// time; it is mapped to the monotonic offset through one fresh reading of
// both clocks, so clock steps before this moment do not matter and the
// mapping error is the drift since the bytes arrived — microseconds.
func (l *fastLoop) recv(fd int) (uintptr, time.Duration, syscall.Errno) {
	l.iov.Base = &l.buf[0]
	l.iov.SetLen(len(l.buf))
	l.msg.Iov = &l.iov
	l.msg.SetIovlen(1)
	l.msg.Control = &l.oob[0]
	l.msg.SetControllen(len(l.oob))
	l.msg.Flags = 0
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&l.msg)), 0)
	if e != 0 || n == 0 {
		return n, 0, e
	}
	hdr := unix.CmsgLen(0)
	for off := 0; off+hdr <= int(l.msg.Controllen); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&l.oob[off]))
		if uint64(h.Len) < uint64(hdr) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && int(h.Len) >= hdr+int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&l.oob[off+hdr]))
			t := time.Now() // one reading gives both clocks
			ago := time.Duration(t.UnixNano() - ts.Nano())
			if ago >= 0 && ago < time.Second {
				return n, t.Sub(l.start) - ago, 0
			}
			return n, 0, 0
		}
		off += unix.CmsgSpace(int(h.Len) - hdr)
	}
	return n, 0, 0
}

// broken handles a socket that failed while a request was on it.
//
// If no byte of the request was written, the request never left: on a
// reused keep-alive socket (the server closed it while it sat idle) it goes
// out once on a new socket, and nothing is counted twice. Once any byte was
// written the server may have read and processed it, so the break is one
// failed request and the request is never sent again: a load tester that
// replays a POST can create duplicate orders on a real system, and a re-sent
// request the report does not show makes every count wrong.
func (l *fastLoop) broken(c *conn, kind metrics.ErrorKind, now time.Duration) {
	if c.wrOff == 0 && c.served > 0 && !c.redialed {
		c.redialed = true
		l.closeSocket(c)
		l.dispatch(c, now)
		return
	}
	if c.p.HeadersDone() {
		kind = metrics.ErrBodyRead
	}
	l.fail(c, kind, now)
}

// complete records a full response and moves the client on.
func (l *fastLoop) complete(c *conn, now time.Duration) {
	l.inflight--
	lat := now - c.sent
	if l.open {
		lat = now - c.intended
	}
	if c.pc == nil {
		o := metrics.Outcome{
			Latency: lat, Service: now - c.sent, Status: c.p.Status,
			BytesIn: c.p.Bytes, BytesOut: int64(len(c.wire)),
		}
		if l.phases {
			c.timePhases(&o, now)
		}
		l.rec.RecordLocked(0, o)
	}
	if c.served >= 0 && c.p.KeepAlive() {
		c.served++
	} else {
		l.closeSocket(c)
	}
	if c.pc != nil {
		l.planResult(c, metrics.ErrNone, int64(len(c.wire)), now)
		return
	}
	l.after(c, now)
}

// timePhases puts the phases of c's request, complete at now, into o. The
// loop resolved the host once before the run, so no request has a DNS
// phase, and plain HTTP has no TLS.
func (c *conn) timePhases(o *metrics.Outcome, now time.Duration) {
	o.Phases[metrics.PhaseTTFB] = c.first - c.ready
	o.Phases[metrics.PhaseTransfer] = now - c.first
	o.Timed = metrics.PhaseTTFB.Bit() | metrics.PhaseTransfer.Bit()
	if c.newConn {
		o.NewConn = true
		o.Phases[metrics.PhaseConnect] = c.ready - c.connAt
		o.Timed |= metrics.PhaseConnect.Bit()
	}
}

// fail records a request that got no complete response.
func (l *fastLoop) fail(c *conn, kind metrics.ErrorKind, now time.Duration) {
	l.inflight--
	lat := now - c.sent
	if l.open {
		lat = now - c.intended
	}
	var out int64
	if c.wrOff > 0 {
		out = int64(c.wrOff)
	}
	l.closeSocket(c)
	if c.pc != nil {
		l.planResult(c, kind, out, now)
		return
	}
	l.rec.RecordLocked(0, metrics.Outcome{Latency: lat, Service: now - c.sent, Err: kind, BytesIn: c.p.Bytes, BytesOut: out})
	l.after(c, now)
}

func (l *fastLoop) after(c *conn, now time.Duration) {
	if l.open {
		c.state = cIdle
		l.nActive.Add(-1)
		l.free = append(l.free, c)
		return
	}
	l.next(c, now)
}

// expire fails requests past their deadline.
func (l *fastLoop) expire(now time.Duration) {
	for _, c := range l.conns {
		switch c.state {
		case cConnecting, cWriting, cReading:
			if now >= c.deadline {
				l.fail(c, metrics.ErrTimeout, now)
			}
		}
	}
}

func (l *fastLoop) closeSocket(c *conn) {
	if c.fd >= 0 {
		unix.Close(c.fd) // closing also removes it from the epoll set
		c.fd = -1
		c.outWant = false
	}
}

func (l *fastLoop) shutdown() {
	for _, c := range l.conns {
		l.closeSocket(c)
	}
	unix.Close(l.epfd)
}
