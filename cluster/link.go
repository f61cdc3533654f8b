package cluster

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// The liveness rules, both ways: a heartbeat every second, and a peer that
// has sent nothing (heartbeat or otherwise) for 3 s is gone. Checking four
// times a second reports a loss within 3.25 s, inside the promised 5 s.
//
// A worker's lease (see Heartbeat in proto/fuka.proto) lasts leaseFor
// after it sent the last heartbeat its controller answered: less than the
// silence limit, so it runs out before the controller can have given the
// worker up.
const (
	heartbeatEvery = time.Second
	silenceLimit   = 3 * time.Second
	livenessCheck  = 250 * time.Millisecond
	leaseFor       = 2500 * time.Millisecond
)

// ErrSilent is the loss of a peer that stopped talking without closing
// the stream (a partition, a frozen host).
var ErrSilent = errors.New("no heartbeat for 3s")

// stream is what both ends of a gRPC bidirectional stream offer.
type stream interface {
	Send(*fukapb.Msg) error
	Recv() (*fukapb.Msg, error)
}

// link runs one session's I/O: one goroutine sends (gRPC streams take one
// sender at a time) and beats the heart, one receives. The owner reads
// what arrives through onMsg and learns of the end through dead.
type link struct {
	s       stream
	out     chan *fukapb.Msg
	dead    chan struct{} // closed when the stream failed or ended
	once    sync.Once
	err     error         // why, set before dead is closed
	last    atomic.Int64  // unix nanos of the last message received
	heard   atomic.Bool   // the peer has sent something
	stop    chan struct{} // closed by close: flush what is queued, then stop sending
	stopped chan struct{} // the sender has returned
	closing sync.Once
	// Heartbeats carry unix_nanos on a monotonic clock anchored at base,
	// so an echoed one maps back to a monotonic instant (clockOf).
	base     time.Time
	baseUnix int64
}

// newLink starts the link's goroutines. onMsg gets every message except
// heartbeats, from the receiving goroutine; an error from it ends the link.
// onBeat, if not nil, gets the heartbeats, from the same goroutine.
func newLink(s stream, onMsg func(*fukapb.Msg) error, onBeat func(*link, *fukapb.Heartbeat)) *link {
	now := time.Now()
	l := &link{
		s:       s,
		out:     make(chan *fukapb.Msg, 64),
		dead:    make(chan struct{}),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		base:    now,
		// The wall clock without its monotonic reading: UnixNano is the same.
		baseUnix: now.UnixNano(),
	}
	l.last.Store(now.UnixNano())
	go l.sendLoop()
	go l.recvLoop(onMsg, onBeat)
	return l
}

// beat is a heartbeat stamped now (echo: the peer's heartbeat it answers).
func (l *link) beat(echo int64) *fukapb.Msg {
	now := l.baseUnix + int64(time.Since(l.base))
	return &fukapb.Msg{Kind: &fukapb.Msg_Heartbeat{Heartbeat: &fukapb.Heartbeat{UnixNanos: now, EchoUnixNanos: echo}}}
}

// clockOf maps a heartbeat stamp of this link's back to the instant it
// was taken.
func (l *link) clockOf(unixNanos int64) time.Time {
	return l.base.Add(time.Duration(unixNanos - l.baseUnix))
}

// echo answers the peer's heartbeat hb at once, unless the queue is full
// (the next one will be answered).
func (l *link) echo(hb *fukapb.Heartbeat) {
	if hb.GetEchoUnixNanos() != 0 {
		return // an answer itself (a controller dialed by a controller?): no ping-pong
	}
	select {
	case l.out <- l.beat(hb.GetUnixNanos()):
	default:
	}
}

func (l *link) fail(err error) {
	l.once.Do(func() {
		l.err = err
		close(l.dead)
	})
}

// failed reports whether the link has ended, and why.
func (l *link) failed() (bool, error) {
	select {
	case <-l.dead:
		return true, l.err
	default:
		return false, nil
	}
}

func (l *link) sendLoop() {
	defer close(l.stopped)
	hb := time.NewTicker(heartbeatEvery)
	defer hb.Stop()
	send := func(m *fukapb.Msg) bool {
		if err := l.s.Send(m); err != nil {
			l.fail(err)
			return false
		}
		return true
	}
	// The first heartbeat goes at once: its echo gives a worker its lease
	// before the run starts.
	if !send(l.beat(0)) {
		return
	}
	for {
		select {
		case m := <-l.out:
			if !send(m) {
				return
			}
		case <-hb.C:
			if !send(l.beat(0)) {
				return
			}
		case <-l.stop:
			for {
				select {
				case m := <-l.out:
					if !send(m) {
						return
					}
				default:
					return
				}
			}
		case <-l.dead:
			return
		}
	}
}

func (l *link) recvLoop(onMsg func(*fukapb.Msg) error, onBeat func(*link, *fukapb.Heartbeat)) {
	for {
		m, err := l.s.Recv()
		if err != nil {
			l.fail(err)
			return
		}
		l.last.Store(time.Now().UnixNano())
		l.heard.Store(true)
		if hb := m.GetHeartbeat(); hb != nil {
			if onBeat != nil {
				onBeat(l, hb)
			}
			continue
		}
		if err := onMsg(m); err != nil {
			l.fail(err)
			return
		}
	}
}

// send queues m; false if the link has ended (or is closing).
func (l *link) send(m *fukapb.Msg) bool {
	select {
	case l.out <- m:
		return true
	case <-l.dead:
		return false
	case <-l.stop:
		return false
	}
}

// silent is how long the peer has said nothing.
func (l *link) silent(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, l.last.Load()))
}

// checkSilence ends the link if the peer has been silent too long, and
// reports whether the link has ended (for that or any other reason).
func (l *link) checkSilence(now time.Time) bool {
	if l.silent(now) > silenceLimit {
		l.fail(ErrSilent)
	}
	dead, _ := l.failed()
	return dead
}

// close sends what is queued and stops the sender (and heartbeats). It
// waits at most wait for the queue to drain.
func (l *link) close(wait time.Duration) {
	l.closing.Do(func() { close(l.stop) })
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-l.stopped:
	case <-t.C:
	}
}

// describe says why a link ended, for people: gRPC's wording of a cut
// connection ("code = Canceled desc = context canceled") says little.
func describe(err error) string {
	switch {
	case err == nil:
		return "ended"
	case errors.Is(err, ErrSilent):
		return err.Error()
	case errors.Is(err, io.EOF):
		return "disconnected"
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Canceled, codes.Unavailable:
			if d := st.Message(); d != "" && d != "context canceled" {
				return "connection lost: " + d
			}
			return "connection lost"
		}
		return st.Message()
	}
	return err.Error()
}

// Message constructors.

func msgHello(h *fukapb.Hello) *fukapb.Msg { return &fukapb.Msg{Kind: &fukapb.Msg_Hello{Hello: h}} }
func msgAssign(a *fukapb.Assign) *fukapb.Msg {
	return &fukapb.Msg{Kind: &fukapb.Msg_Assign{Assign: a}}
}
func msgSnapshot(b []byte) *fukapb.Msg {
	return &fukapb.Msg{Kind: &fukapb.Msg_Snapshot{Snapshot: &fukapb.Snapshot{Data: b}}}
}
func msgStop(reason string) *fukapb.Msg {
	return &fukapb.Msg{Kind: &fukapb.Msg_Stop{Stop: &fukapb.Stop{Reason: reason}}}
}
func msgDone(d *fukapb.Done) *fukapb.Msg { return &fukapb.Msg{Kind: &fukapb.Msg_Done{Done: d}} }

// msgEnd ends a session: no job follows.
func msgEnd() *fukapb.Msg {
	return &fukapb.Msg{Kind: &fukapb.Msg_Stop{Stop: &fukapb.Stop{Reason: "the controller is done", End: true}}}
}
