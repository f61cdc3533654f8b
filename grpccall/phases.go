package grpccall

import (
	"context"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/fuka-load/fuka/metrics"
)

// A gRPC call's phases (--phases), as an HTTP request's are timed
// (metrics.Phase): a call runs on an HTTP/2 connection that grpc-go opens
// for the ClientConn and shares between calls, so the connection's TCP
// connect and TLS handshake are timed where it is dialled (ConnTimes) and
// go to the first answered call after it opened, as an HTTP request that
// opened its connection carries them; every answered call has a time to
// first byte, from its stream being open on a ready connection to the
// response headers, and a transfer, from there to the end of the call
// (its answers and the status in the trailers). The name lookup is
// grpc-go's resolver's, once per ClientConn, and not timed.

// ConnTimes times the connections of one ClientConn and holds each one's
// times until a call takes them (Take).
type ConnTimes struct {
	mu      sync.Mutex
	pending []connPhases // opened, not yet taken by a call
}

// connPhases are one connection's connect and TLS handshake.
type connPhases struct {
	connect, tls time.Duration
	hasTLS       bool
}

// timedConn is a dialled connection, with how long its connect took, on
// its way to the handshake (timedCreds).
type timedConn struct {
	net.Conn
	connect time.Duration
}

// dial is the ClientConn's dialer: a TCP connect, timed.
func (ct *ConnTimes) dial(ctx context.Context, addr string) (net.Conn, error) {
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: c, connect: time.Since(start)}, nil
}

// opened records a connection that is ready for calls.
func (ct *ConnTimes) opened(p connPhases) {
	ct.mu.Lock()
	ct.pending = append(ct.pending, p)
	ct.mu.Unlock()
}

// Take puts the phases of the oldest connection no call has taken yet into
// o (connect, and TLS over grpcs) and marks o as the call that opened it;
// it does nothing when every connection is taken.
func (ct *ConnTimes) Take(o *metrics.Outcome) {
	if ct == nil {
		return
	}
	ct.mu.Lock()
	if len(ct.pending) == 0 {
		ct.mu.Unlock()
		return
	}
	p := ct.pending[0]
	ct.pending = ct.pending[1:]
	ct.mu.Unlock()
	o.NewConn = true
	o.Phases[metrics.PhaseConnect] = p.connect
	o.Timed |= metrics.PhaseConnect.Bit()
	if p.hasTLS {
		o.Phases[metrics.PhaseTLS] = p.tls
		o.Timed |= metrics.PhaseTLS.Bit()
	}
}

// timedCreds are the ClientConn's transport credentials, timing the
// handshake (TLS; plaintext's is none) of a connection ct dialled.
type timedCreds struct {
	credentials.TransportCredentials
	ct *ConnTimes
}

func (c timedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	start := time.Now()
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return conn, info, err
	}
	p := connPhases{hasTLS: c.Info().SecurityProtocol == "tls"}
	if p.hasTLS {
		p.tls = time.Since(start)
	}
	if tc, ok := raw.(*timedConn); ok {
		p.connect = tc.connect
	}
	c.ct.opened(p)
	return conn, info, nil
}

func (c timedCreds) Clone() credentials.TransportCredentials {
	return timedCreds{c.TransportCredentials.Clone(), c.ct}
}

// CallTimes are one call's instants: its stream open on a ready connection
// (Start) and the response headers come (Header; the status, when the
// server answered with trailers only).
type CallTimes struct{ Start, Header time.Time }

// Put puts the call's time to first byte and transfer, the call having
// ended at end, into o.
func (t *CallTimes) Put(o *metrics.Outcome, end time.Time) {
	if t.Start.IsZero() || t.Header.IsZero() {
		return
	}
	o.Phases[metrics.PhaseTTFB] = t.Header.Sub(t.Start)
	o.Phases[metrics.PhaseTransfer] = end.Sub(t.Header)
	o.Timed |= metrics.PhaseTTFB.Bit() | metrics.PhaseTransfer.Bit()
}

// CallTimed is Call with its instants in ct: the call goes out as a stream
// (grpc-go's Invoke does the same inside), so that the headers' arrival
// is seen apart from the answer's. md, when not nil, receives the call's
// metadata as CallMD's does.
func (m *Method) CallTimed(ctx context.Context, cc grpc.ClientConnInterface, req []byte, out *[]byte, expect int, ct *CallTimes, md *Metadata) (n int, in int64, err error) {
	*ct = CallTimes{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a stream read to expect
	server := m.Desc.IsStreamingServer()
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: server}, m.Path, rawCodec...)
	if err != nil {
		return 0, 0, err
	}
	ct.Start = time.Now()
	if err := st.SendMsg(&req); err != nil {
		return 0, 0, recvErr(st, err)
	}
	if err := st.CloseSend(); err != nil {
		return 0, 0, err
	}
	header, _ := st.Header() // waits for the headers, or the end of a call without them: RecvMsg has its status
	ct.Header = time.Now()
	if md != nil {
		md.Header = header
		defer func() {
			if err != nil || !server || expect <= 0 || n < expect {
				md.Trailer = st.Trailer() // the call ended: its trailer came
			}
		}()
	}
	if server {
		return recvAll(st, out, expect)
	}
	if err := st.RecvMsg(out); err != nil { // a unary answer: RecvMsg reads the status too
		return 0, 0, err
	}
	return 1, int64(frame + len(*out)), nil
}
