package grpccall

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// clientsPerConn is how many clients share one HTTP/2 connection: gRPC
// multiplexes calls, and a few connections spread the load over the
// target's and fuka's cores as ghz's --connections does.
const clientsPerConn = 50

// Quick is quick mode's work for a gRPC target: every start makes the same
// unary call. It is an engine.Scenario run by the net/http goroutine pool
// (the event loops speak HTTP/1.1 only).
type Quick struct {
	Target  Target
	Method  *Method
	Request []byte      // the encoded message
	MD      metadata.MD // sent with every call
	Timeout time.Duration
	Name    string // the name calls are recorded under
	Open    bool   // open model: latency from the intended start
	Slots   int    // most clients at once: sizes the connection pool
	Phases  bool   // time each call's phases (--phases; phases.go)
	// EmptyBody says no message was given (-b): the empty message {} is
	// sent, the usual cause of InvalidArgument from every call.
	EmptyBody bool

	said atomic.Pointer[string] // the first failed call's status and server message (FailureHint)

	mu    sync.Mutex
	conns []*grpc.ClientConn
	times []*ConnTimes // by conn, with Phases
	err   error
	gc    bool // holds the raised GC target (gc.go) until CloseIdle
}

func (q *Quick) Names() []string      { return []string{q.Name} }
func (q *Quick) CheckNames() []string { return nil }

// Protocols says the name is a gRPC call's, for the reports' wording.
func (q *Quick) Protocols() []string { return []string{"grpc"} }

// NewClient returns client id, on connection id/clientsPerConn (of at
// most maxConns, by Slots). A connection is made with the first client on
// it: an open-model run sized for 10,000 clients that uses 300 makes 6,
// not 64. CloseIdle closes them, so a Quick may run again.
func (q *Quick) NewClient(id int, rec *metrics.Recorder, _ func()) engine.ScenarioClient {
	cc, ct, err := q.conn(id)
	return &quickClient{q: q, cc: cc, ct: ct, err: err, rec: rec, ctx: metadata.NewOutgoingContext(context.Background(), q.MD),
		msg: NewMessage(q.Request)}
}

// maxConns caps the connections of a Quick: more would not spread the
// load further and each holds the target's and fuka's memory.
const maxConns = 64

// conn is client id's connection and, with Phases, its timing.
func (q *Quick) conn(id int) (*grpc.ClientConn, *ConnTimes, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return nil, nil, q.err
	}
	if q.conns == nil {
		if !q.gc {
			holdGC()
			q.gc = true
		}
		n := min(max((q.Slots+clientsPerConn-1)/clientsPerConn, 1), maxConns)
		q.conns, q.times = make([]*grpc.ClientConn, n), make([]*ConnTimes, n)
	}
	i := (id / clientsPerConn) % len(q.conns)
	if q.conns[i] == nil {
		var ct *ConnTimes
		if q.Phases {
			ct = &ConnTimes{}
		}
		cc, err := DialTimed(q.Target, ct)
		if err != nil {
			q.err = err
			return nil, nil, err
		}
		q.conns[i], q.times[i] = cc, ct
	}
	return q.conns[i], q.times[i], nil
}

// CloseIdle closes the connections (the engine calls it when the run's
// clients are done).
func (q *Quick) CloseIdle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, cc := range q.conns {
		if cc != nil {
			_ = cc.Close()
		}
	}
	if q.gc {
		releaseGC()
	}
	q.conns, q.times, q.err, q.gc = nil, nil, nil, false
}

type quickClient struct {
	q   *Quick
	cc  grpc.ClientConnInterface
	ct  *ConnTimes // with Quick.Phases, the connection's
	err error
	rec *metrics.Recorder
	ctx context.Context // carries the metadata
	msg *Message        // q.Request, sent as it is
	out []byte          // the last response, reused
}

// Iterate makes one call. Like an HTTP request in quick mode it runs on a
// context that is not the run's: a call in flight when the load ends
// finishes within its deadline and is measured.
func (c *quickClient) Iterate(_ context.Context, _ int64, intended time.Time) bool {
	if c.err != nil { // grpc.NewClient fails only on a bad target, checked before the run
		c.rec.Record(0, metrics.Outcome{Err: metrics.ErrInvalid})
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.q.Timeout)
	sent := time.Now()
	var in int64
	var err error
	var times CallTimes
	if c.ct != nil {
		_, in, err = c.q.Method.CallTimed(ctx, c.cc, c.q.Request, &c.out, 0, &times, nil)
	} else {
		_, in, err = c.q.Method.CallMessage(ctx, c.cc, c.msg, &c.out, 0)
	}
	done := time.Now()
	status, kind := Classify(ctx, err)
	cancel()
	o := metrics.Outcome{Latency: done.Sub(sent), Service: done.Sub(sent), Status: status, Err: kind, BytesOut: int64(frame + len(c.q.Request))}
	if c.q.Open {
		o.Latency = done.Sub(intended)
	}
	if kind == metrics.ErrNone {
		o.BytesIn = in
		if c.ct != nil { // the server answered: a whole call to break down
			times.Put(&o, done)
			c.ct.Take(&o)
		}
	}
	if err != nil && kind == metrics.ErrNone && c.q.said.Load() == nil {
		c.q.noteFailure(err)
	}
	c.rec.Record(0, o)
	return true
}

// maxSaid bounds the bytes of a server's status message kept.
const maxSaid = 200

// noteFailure keeps the status message of the first call the server
// failed, for FailureHint.
func (q *Quick) noteFailure(err error) {
	said := Said(err)
	q.said.CompareAndSwap(nil, &said)
}

// Said is what the server answered a failed call, its code and status
// message (bounded): `the server said InvalidArgument "item is required"`.
func Said(err error) string {
	st, _ := status.FromError(err)
	msg := st.Message()
	if len(msg) > maxSaid {
		msg = strings.ToValidUTF8(msg[:maxSaid], "") + "…"
	}
	said := "the server said " + st.Code().String()
	if msg != "" {
		said += " " + strconv.Quote(msg)
	}
	return said
}

// FailureHint says what the server answered a failed call ("the server
// said InvalidArgument "item is required"") and, when no message was
// given, that the empty one was sent: what the summary adds when every
// call failed, since a status code alone rarely says what to change. It
// is "" when no call was answered with a failure.
func (q *Quick) FailureHint() string {
	p := q.said.Load()
	if p == nil {
		return ""
	}
	h := *p
	if q.EmptyBody {
		h += "; the message sent was empty ({}): give one with -b '{\"field\": …}'"
	}
	return h
}
