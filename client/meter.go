package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// bytes_in and bytes_out mean the same on every path: the bytes of the
// response as they came off the connection (status line, headers, body with
// its chunked framing, and any interim 1xx responses before it) and the
// bytes of the request as written to it. The fast path counts them as its
// parser consumes them; net/http hides its connections, so Meter wraps each
// connection it dials in a counter, and the request that holds the
// connection (httptrace.GotConn makes it the owner) gets the bytes read and
// written while it does. An HTTP/1.1 connection carries one exchange at a
// time, and the next owner takes it before it writes, so every byte goes to
// its own request — even though net/http hands the connection on as soon as
// the body's last byte is read, before the reader of the body sees the end.
// Over TLS the counts are of the plaintext, like the fast path's. HTTP/2
// multiplexes requests on a connection and compresses headers, so there the
// figure is the HTTP/1.1 size of the same response: status line and
// headers as text, plus the body.

// countConn counts the bytes read from and written to a connection for the
// exchange that holds it. The transport's read and write loops use it from
// their own goroutines.
type countConn struct {
	net.Conn
	owner atomic.Pointer[Exchange]
	// dial is how long the connection took to open, by phase (DNS,
	// connect, TLS; Options.Phases), written before the transport has the
	// connection and read-only after: the first request on it reports them.
	dial  [metrics.NumPhases]time.Duration
	timed uint8 // the phases of dial measured (metrics.Phase.Bit)
}

// NetConn returns the connection under c (SendOnce peeks at its socket).
func (c *countConn) NetConn() net.Conn { return c.Conn }

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if e := c.owner.Load(); e != nil && n > 0 {
		e.in.Add(int64(n))
	}
	return n, err
}

// Write counts b before it is written: the server may answer, and the
// exchange read its count, before this goroutine runs again after the
// write. What was not written is taken back after.
func (c *countConn) Write(b []byte) (int, error) {
	e := c.owner.Load()
	if e != nil {
		e.out.Add(int64(len(b)))
	}
	n, err := c.Conn.Write(b)
	if e != nil && n < len(b) {
		e.out.Add(int64(n - len(b)))
	}
	return n, err
}

// Meter makes t count the bytes of each connection it dials, for
// [Exchange]. h2 tells whether t may speak HTTP/2: then t is left as it is
// (its connections carry many requests at once, and HTTP/2 over TLS needs
// the transport's own *tls.Conn), and exchanges give the HTTP/1.1 size.
func Meter(t *http.Transport, h2 bool) {
	if h2 {
		return
	}
	meter(t, false, false, nil)
}

// meter is Meter; with alpn, a TLS connection offers h2 and http/1.1, and
// one that agreed on h2 goes to the transport as the *tls.Conn it needs to
// speak HTTP/2 (uncounted: its exchanges give the HTTP/1.1 size). conns,
// if not nil, gives the TCP connections (see Conns). With phases, each
// connection it dials carries how long its DNS, connect and TLS took.
func meter(t *http.Transport, alpn, phases bool, conns *Conns) {
	d := &net.Dialer{}
	dial := func(ctx context.Context, network, addr string, cc *countConn) (net.Conn, error) {
		if !phases {
			return conns.dial(ctx, d, network, addr)
		}
		return dialTimed(ctx, conns, d, network, addr, cc)
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		cc := &countConn{}
		c, err := dial(ctx, network, addr, cc)
		if err != nil {
			return nil, err
		}
		cc.Conn = c
		return cc, nil
	}
	base := t.TLSClientConfig
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		cc := &countConn{}
		raw, err := dial(ctx, network, addr, cc)
		if err != nil {
			return nil, err
		}
		var conf *tls.Config
		if base != nil {
			conf = base.Clone()
		} else {
			conf = &tls.Config{}
		}
		if conf.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			conf.ServerName = host
		}
		conf.NextProtos = []string{"http/1.1"}
		if alpn {
			conf.NextProtos = []string{"h2", "http/1.1"}
		}
		tc := tls.Client(raw, conf)
		t0 := time.Now()
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		if phases {
			cc.dial[metrics.PhaseTLS] = time.Since(t0)
			cc.timed |= metrics.PhaseTLS.Bit()
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return tc, nil
		}
		cc.Conn = tc
		return cc, nil
	}
}

// dialTimed dials through conns with d and puts into cc how long the name
// lookup (when there was one: not for a literal IP) and the TCP connect
// took; a connection opened before the run (Conns.Preconnect) times
// neither.
func dialTimed(ctx context.Context, conns *Conns, d *net.Dialer, network, addr string, cc *countConn) (net.Conn, error) {
	var k dialClock
	c, err := conns.dial(httptrace.WithClientTrace(ctx, k.trace()), d, network, addr)
	if err != nil {
		return nil, err
	}
	k.into(cc)
	return c, nil
}

// dialClock times one dial through the net package's trace hooks: the
// name lookup, and the connect from its first attempt to the one that
// succeeded (a name with several addresses may try two at once, so the
// hooks take a lock). A dial that opens no socket fires no hook and times
// nothing.
type dialClock struct {
	mu                sync.Mutex
	dnsAt, connAt     time.Time
	dns, connect      time.Duration
	looked, connected bool
}

func (k *dialClock) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) {
			k.mu.Lock()
			k.dnsAt = time.Now()
			k.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			k.mu.Lock()
			if !k.dnsAt.IsZero() {
				k.dns, k.looked = time.Since(k.dnsAt), true
			}
			k.mu.Unlock()
		},
		ConnectStart: func(string, string) {
			k.mu.Lock()
			if k.connAt.IsZero() {
				k.connAt = time.Now()
			}
			k.mu.Unlock()
		},
		ConnectDone: func(_, _ string, err error) {
			k.mu.Lock()
			if err == nil && !k.connected && !k.connAt.IsZero() {
				k.connect, k.connected = time.Since(k.connAt), true
			}
			k.mu.Unlock()
		},
	}
}

// into puts what k timed into cc.
func (k *dialClock) into(cc *countConn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.looked {
		cc.dial[metrics.PhaseDNS] = k.dns
		cc.timed |= metrics.PhaseDNS.Bit()
	}
	if k.connected {
		cc.dial[metrics.PhaseConnect] = k.connect
		cc.timed |= metrics.PhaseConnect.Bit()
	}
}

// Exchange measures the bytes of one request and its response on a
// transport that [Meter] set up. Get one with NewExchange, send the request
// with the context Trace gives, read Bytes once the body is read, Release.
//
// With TimePhases, it also times the request's phases (see Phases).
type Exchange struct {
	trace   httptrace.ClientTrace
	ptrace  httptrace.ClientTrace // trace with the phase hooks
	conn    *countConn
	got     bool         // the request got a connection
	in, out atomic.Int64 // bytes read and written while it held conn

	phases  bool // TimePhases
	done    bool // Phases read a whole response: no hook can run for e any more
	reused  bool // the connection had carried a request before
	gotAt   time.Time
	firstAt time.Time // first response byte (the transport's read loop; before the response is handed over)
}

var exchanges = sync.Pool{New: func() any {
	e := &Exchange{}
	e.trace.GotConn = e.gotConn
	e.ptrace.GotConn = e.gotConn
	e.ptrace.GotFirstResponseByte = e.gotFirstByte
	return e
}}

// NewExchange returns an Exchange from a pool (the trace hook is built once
// per Exchange, not per request).
func NewExchange() *Exchange {
	e := exchanges.Get().(*Exchange)
	e.conn, e.got = nil, false
	e.in.Store(0)
	e.out.Store(0)
	e.phases, e.done, e.reused = false, false, false
	e.gotAt, e.firstAt = time.Time{}, time.Time{}
	return e
}

// TimePhases makes e time the request's phases when on (before Trace).
func (e *Exchange) TimePhases(on bool) { e.phases = on }

// Release lets go of the connection and returns e to the pool; e must not
// be used after. An exchange that timed phases and got no whole response
// is left to the collector instead: the transport's read loop may still
// call its first-byte hook (a request that timed out), and must not write
// into an exchange another request holds.
func (e *Exchange) Release() {
	e.disown()
	if e.phases && !e.done {
		return
	}
	exchanges.Put(e)
}

// disown stops the counting of e's connection into e, unless another
// exchange holds the connection already.
func (e *Exchange) disown() {
	if e.conn != nil {
		e.conn.owner.CompareAndSwap(e, nil)
	}
}

// Trace returns ctx with e's trace attached, for the request.
func (e *Exchange) Trace(ctx context.Context) context.Context {
	if e.phases {
		return httptrace.WithClientTrace(ctx, &e.ptrace)
	}
	return httptrace.WithClientTrace(ctx, &e.trace)
}

func (e *Exchange) gotFirstByte() { e.firstAt = time.Now() }

// Phases puts the phases of e's request into o, its whole response read at
// end (the caller read the body to its end): time to first byte from when
// the request had its connection, transfer from there to end, and, for
// the request that opened its connection, how long the connection's DNS,
// connect and TLS took. HTTP/2 connections are the transport's own (see
// Meter): their requests have time to first byte and transfer only.
func (e *Exchange) Phases(o *metrics.Outcome, end time.Time) {
	if !e.phases || !e.got || e.firstAt.IsZero() {
		return
	}
	e.done = true
	o.Phases[metrics.PhaseTTFB] = e.firstAt.Sub(e.gotAt)
	o.Phases[metrics.PhaseTransfer] = end.Sub(e.firstAt)
	o.Timed |= metrics.PhaseTTFB.Bit() | metrics.PhaseTransfer.Bit()
	if c := e.conn; c != nil && !e.reused && c.timed != 0 {
		o.NewConn = true
		for p := range metrics.NumPhases {
			if c.timed&p.Bit() != 0 {
				o.Phases[p] = c.dial[p]
			}
		}
		o.Timed |= c.timed
	}
}

// gotConn makes e the owner of its connection. A request the transport
// retries on another connection counts the bytes of its last one.
func (e *Exchange) gotConn(info httptrace.GotConnInfo) {
	e.disown()
	e.got = true
	if e.phases {
		e.gotAt, e.reused, e.firstAt = time.Now(), info.Reused, time.Time{}
	}
	c := findCountConn(info.Conn)
	e.conn = c
	e.in.Store(0)
	e.out.Store(0)
	if c != nil {
		c.owner.Store(e)
	}
}

// findCountConn finds Meter's counter in c or under its wrappers (SendOnce's).
func findCountConn(c net.Conn) *countConn {
	for c != nil {
		if cc, ok := c.(*countConn); ok {
			return cc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// Bytes returns the bytes the exchange read and wrote (see the package
// comment): resp is the response (nil when none came), body the body bytes
// read from it, wire the request's size as HTTP/1.1 text, used where the
// connection cannot tell (HTTP/2).
func (e *Exchange) Bytes(resp *http.Response, body, wire int64) (in, out int64) {
	switch {
	case resp != nil && (resp.ProtoMajor == 2 || e.conn == nil):
		// HTTP/2, or a connection Meter did not make: the HTTP/1.1 size.
		return headerBytes(resp) + body, wire
	case e.conn != nil:
		return e.in.Load(), e.out.Load()
	case e.got:
		return 0, wire // sent on a connection that cannot tell; no response
	}
	return 0, 0 // no connection: nothing reached the wire
}

// headerBytes is the size of resp's status line and headers as HTTP/1.1
// text: "HTTP/1.1 200 OK\r\n", "Name: value\r\n" each, "\r\n".
func headerBytes(resp *http.Response) int64 {
	n := len("HTTP/1.1 ") + len(resp.Status) + 2
	for k, vs := range resp.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}

// WireSize is the size of req as HTTP/1.1 text with a body of n bytes: the
// request line, Host, the headers, Content-Length when there is a body, and
// the body. It is bytes_out where the connection cannot tell (HTTP/2).
func WireSize(req *http.Request, n int64) int64 {
	size := len(req.Method) + 1 + len(req.URL.RequestURI()) + len(" HTTP/1.1\r\n")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	size += len("Host: \r\n") + len(host)
	for k, vs := range req.Header {
		for _, v := range vs {
			size += len(k) + 2 + len(v) + 2
		}
	}
	if n > 0 {
		size += len("Content-Length: \r\n") + len(strconv.FormatInt(n, 10))
	}
	return int64(size+2) + n
}
