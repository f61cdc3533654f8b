package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
)

// ErrNotResent is the error of a request that was written on a reused
// keep-alive connection which then broke before any byte of a response came
// back. net/http would send such a request again on a new connection
// (for GET, HEAD, OPTIONS and TRACE, or any request with an Idempotency-Key
// header); fuka does not, because the server may have processed it: the
// request is one failed request of kind reset.
var ErrNotResent = errors.New("connection broke after the request was sent, before any response (not sent again)")

// SendOnce makes t send each request at most once: it returns the
// RoundTripper to use in t's place. t's DialContext, if set, still dials;
// SendOnce sets DialContext, DialTLSContext and Proxy.
//
// A request that broke after any byte of it was written is not sent again,
// and its error is ErrNotResent. A request of which nothing was written
// (the reused connection had been closed by the server while it sat idle)
// goes out on another connection: the server never saw it, so it is still
// one request. Before the first byte of a request goes into a reused
// connection, the socket is checked (a non-blocking peek): a connection the
// server closed, or spoke on, while idle is not written into.
//
// How: net/http decides to resend inside Transport.RoundTrip, where no
// option reaches (Transport.roundTrip and persistConn.shouldRetryRequest in
// net/http/transport.go): GET, HEAD, OPTIONS and TRACE, and any request with
// an Idempotency-Key header, are sent again after a write. What does reach
// inside is the Proxy function, which the transport calls before every
// attempt, and the connections it dials. SendOnce wraps those connections
// to see the bytes each request writes (an httptrace GotConn hook tells
// which request owns a connection), and makes Proxy fail any attempt after
// one that wrote: the transport returns that error at once. TLS for
// HTTP/1.1 is done by SendOnce's own DialTLSContext, so that the wrapped
// connection sees request bytes and not TLS records (a close_notify is not
// a request).
//
// HTTP/2 transports are returned as they are: HTTP/2 sends a request again
// only when the server said it did not process it (REFUSED_STREAM, or a
// GOAWAY below the stream's ID).
func SendOnce(t *http.Transport) http.RoundTripper { return sendOnce(t, nil) }

// ErrGated is the error of a request its Gate (Options.Gate) refused at
// its write: nothing of it was written, the server never saw it.
var ErrGated = errors.New("refused at the write: the run no longer allows requests")

// sendOnce is SendOnce; gate, if not nil, is asked before the first byte
// of each HTTP/1.x request is written (see Options.Gate).
func sendOnce(t *http.Transport, gate func() bool) http.RoundTripper {
	if t.Protocols != nil && (t.Protocols.UnencryptedHTTP2() || t.Protocols.HTTP2() && !t.Protocols.HTTP1()) {
		return t
	}
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	if gate != nil {
		// A refused write closes its connection; no other is opened
		// while the gate stays shut (a dial is rare: asking costs nothing
		// per request).
		inner := dial
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !gate() {
				return nil, ErrGated
			}
			return inner(ctx, network, addr)
		}
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &onceConn{Conn: c, raw: c, gate: gate}, nil
	}
	if tlsDial := t.DialTLSContext; tlsDial != nil {
		// Someone (Meter) already does TLS over their own connections:
		// keep it and watch what it hands the transport.
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if gate != nil && !gate() {
				return nil, ErrGated
			}
			c, err := tlsDial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if tc, ok := c.(*tls.Conn); ok {
				// h2 by ALPN (Meter hands those over bare): the
				// transport needs the *tls.Conn, and HTTP/2 resends
				// only what the server did not process.
				return tc, nil
			}
			return &onceConn{Conn: c, raw: c, gate: gate}, nil
		}
	} else {
		conf := t.TLSClientConfig
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cfg := &tls.Config{}
			if conf != nil {
				cfg = conf.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName, _, _ = net.SplitHostPort(addr)
			}
			cfg.NextProtos = []string{"http/1.1"}
			tc := tls.Client(raw, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return &onceConn{Conn: tc, raw: raw, gate: gate}, nil
		}
	}
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		a, _ := r.Context().Value(attemptKey{}).(*attempts)
		switch {
		case a != nil && a.wrote.Load():
			return nil, ErrNotResent
		case a != nil && a.gated.Load():
			return nil, ErrGated // nothing of it left: it goes on no other connection
		}
		return nil, nil // no proxy: a load test goes where it is pointed
	}
	return onceTransport{t}
}

// attempts is one request's state across the transport's attempts.
type attempts struct {
	wrote  atomic.Bool // some attempt wrote a byte of the request
	reused atomic.Bool // some attempt was given a reused connection
	h2     atomic.Bool // some attempt went on an HTTP/2 connection
	gated  atomic.Bool // the gate refused an attempt's write
}

type attemptKey struct{}

// errPeerClosed fails a write into a connection the server has closed: the
// request is not written into it, so it can go out on another one.
var errPeerClosed = errors.New("the server closed the connection while it was idle")

// onceConn is a connection that tells its current request when that
// request's bytes are written, and that writes no request into a
// connection the server has already closed.
type onceConn struct {
	net.Conn
	raw     net.Conn // the TCP connection (under TLS, if any)
	owner   atomic.Pointer[attempts]
	closed  atomic.Bool  // a read ended (EOF or error): the server is gone
	readErr atomic.Value // the error that ended the read (a TLS alert says why)
	reused  atomic.Bool  // the next write is the first of a request on a reused connection
	gate    func() bool  // Options.Gate; nil: none
}

// NetConn returns the connection under c (Meter's counter looks through it).
func (c *onceConn) NetConn() net.Conn { return c.Conn }

func (c *onceConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.readErr.CompareAndSwap(nil, errBox{err})
		c.closed.Store(true)
	}
	return n, err
}

func (c *onceConn) Write(p []byte) (int, error) {
	if c.gate != nil {
		// Asked here, at the request's first write, not when it was
		// handed to the transport: the process may have been frozen in
		// between (see Options.Gate).
		if a := c.owner.Load(); a != nil && !a.wrote.Load() && !c.gate() {
			a.gated.Store(true)
			return 0, ErrGated
		}
	}
	if c.reused.Swap(false) && peerClosed(c.raw) {
		// The server closed (or spoke on) the connection while it sat
		// idle, and the transport's reader has not seen it yet.
		c.closed.Store(true)
	}
	if c.closed.Load() {
		// The transport's reader saw the server close this connection
		// (while it sat idle) but the request got it first. A byte written
		// now would reach a closed socket, never the server: fail with
		// nothing written, which the transport may send elsewhere. A
		// fresh connection closed this way was refused (a TLS 1.3 server
		// rejects a client certificate after the handshake): the read's
		// error says why.
		if b, ok := c.readErr.Load().(errBox); ok {
			return 0, fmt.Errorf("%w (%w)", errPeerClosed, b.err)
		}
		return 0, errPeerClosed
	}
	n, err := c.Conn.Write(p)
	if n > 0 {
		if a := c.owner.Load(); a != nil {
			a.wrote.Store(true)
		}
	}
	return n, err
}

// errBox holds errors of any type in one atomic.Value.
type errBox struct{ err error }

// onceTransport gives every request the state and trace hook SendOnce needs.
type onceTransport struct{ t *http.Transport }

func (o onceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := &attempts{}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		// An HTTP/1 connection carries one request at a time and the
		// transport writes a request only after handing it the
		// connection, so from here on the bytes written are this one's.
		c, ok := info.Conn.(*onceConn)
		if !ok {
			// An HTTP/2 connection (by ALPN): nothing here can tell
			// whether the request was written, so it is never sent
			// again from here.
			a.h2.Store(true)
			return
		}
		c.owner.Store(a)
		c.reused.Store(info.Reused)
		if info.Reused {
			a.reused.Store(true)
		}
	}}
	ctx := httptrace.WithClientTrace(context.WithValue(req.Context(), attemptKey{}, a), trace)
	r := req.WithContext(ctx)
	resp, err := o.t.RoundTrip(r)
	// Nothing of the request was written, on a connection that had served
	// others: the server closed it while it sat idle. net/http sends such a
	// request again only if it deems it replayable; the server never saw
	// it, so fuka sends any request again, as the fast path does. Each try
	// takes (and drops) one dead idle connection, so a few are enough.
	for try := 0; err != nil && !a.wrote.Load() && !a.h2.Load() && !a.gated.Load() && a.reused.Load() && ctx.Err() == nil && try < maxUnsentTries; try++ {
		if r.GetBody != nil {
			body, gerr := r.GetBody()
			if gerr != nil {
				break
			}
			r = r.Clone(ctx)
			r.Body = body
		} else if r.Body != nil && r.Body != http.NoBody {
			break // a body that cannot be read again
		}
		a.reused.Store(false)
		resp, err = o.t.RoundTrip(r)
	}
	return resp, err
}

// maxUnsentTries bounds the tries of a request that was never written
// (each on another connection the server had closed).
const maxUnsentTries = 8

// CloseIdleConnections lets http.Client.CloseIdleConnections reach t.
func (o onceTransport) CloseIdleConnections() { o.t.CloseIdleConnections() }
