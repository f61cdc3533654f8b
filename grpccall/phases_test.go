package grpccall_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/metrics"
)

// Phase tests: a gRPC server with known delays (a wait before the
// response headers, a pause before the answer, a slow TLS handshake) puts
// each delay in its own phase; the connection's phases go to one call.

const (
	headDelay  = 50 * time.Millisecond  // before the response headers
	answerGap  = 400 * time.Millisecond // between the headers and the answer
	helloDelay = 80 * time.Millisecond  // before the TLS server's hello
)

// rawCodec passes messages through as bytes: the server answers any
// method with an empty message, which every message type reads.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// slowHello delays each connection's first write: over TLS, the server's
// hello.
type slowHello struct{ net.Listener }

func (l slowHello) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &slowHelloConn{Conn: c}, nil
}

type slowHelloConn struct {
	net.Conn
	wrote bool
}

func (c *slowHelloConn) Write(b []byte) (int, error) {
	if !c.wrote {
		c.wrote = true
		time.Sleep(helloDelay)
	}
	return c.Conn.Write(b)
}

// delayingServer answers every call headDelay late with its headers, then
// answerGap later with one empty message and OK; with conf, over TLS and
// helloDelay late in the handshake.
func delayingServer(t *testing.T, conf *tls.Config) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpc.ServerOption{grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, st grpc.ServerStream) error {
		var req []byte
		if err := st.RecvMsg(&req); err != nil {
			return err
		}
		time.Sleep(headDelay)
		if err := st.SendHeader(metadata.MD{}); err != nil {
			return err
		}
		time.Sleep(answerGap)
		return st.SendMsg(&[]byte{})
	})}
	if conf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
		lis = slowHello{lis}
	}
	s := grpc.NewServer(opts...)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// testCert is httptest's certificate (for 127.0.0.1) and a client
// configuration that trusts it.
func testCert(t *testing.T) (server, client *tls.Config) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return &tls.Config{Certificates: srv.TLS.Certificates}, &tls.Config{RootCAs: roots}
}

// within fails unless phase ph of p has count n and its p50 and max lie in [lo, hi).
func within(t *testing.T, p *metrics.Phases, ph metrics.Phase, n int64, lo, hi time.Duration) {
	t.Helper()
	if got := p.Count(ph); got != n {
		t.Errorf("%s: %d calls, want %d", ph, got, n)
		return
	}
	for _, q := range []float64{50, 100} {
		if d, _ := p.Percentile(ph, q); n > 0 && (d < lo || d >= hi) {
			t.Errorf("%s p%v = %v, want in [%v, %v)", ph, q, d, lo, hi)
		}
	}
}

func TestPhases(t *testing.T) {
	demo := startDemo(t)
	serverTLS, clientTLS := testCert(t)
	for _, tc := range []struct {
		name   string
		method string
		tls    bool
	}{
		{"unary", "fuka.demo.Cart/Add", false},
		{"server stream", "fuka.demo.Cart/Watch", false},
		{"unary over TLS", "fuka.demo.Cart/Add", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := resolve(t, demo, tc.method)
			if err != nil {
				t.Fatal(err)
			}
			url, sconf, cconf := "grpc://", (*tls.Config)(nil), (*tls.Config)(nil)
			if tc.tls {
				url, sconf, cconf = "grpcs://", serverTLS, clientTLS
			}
			target, err := grpccall.ParseTarget(url+delayingServer(t, sconf), cconf)
			if err != nil {
				t.Fatal(err)
			}
			const clients, calls = 2, 6
			q := &grpccall.Quick{Target: target, Method: m, Timeout: 5 * time.Second, Name: "call", Slots: clients, Phases: true}
			res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: clients, Requests: calls}, Work: engine.Plan{Scenario: q}})
			if err != nil {
				t.Fatal(err)
			}
			tot := res.Run.Total
			p := tot.Phases
			if tot.Status[200] != calls || p.Empty() || p.Timed != calls {
				t.Fatalf("%d OK of %d calls (errors %v), phases of %+v; want all %d timed", tot.Status[200], tot.Requests, tot.Errors, p, calls)
			}
			// Both clients share one HTTP/2 connection: one call carries
			// its connect (and TLS handshake).
			if p.New != 1 {
				t.Errorf("%d calls on a new connection, want 1", p.New)
			}
			slack := 500 * time.Millisecond
			within(t, p, metrics.PhaseDNS, 0, 0, 0)
			within(t, p, metrics.PhaseConnect, 1, 0, headDelay)
			if tc.tls {
				within(t, p, metrics.PhaseTLS, 1, helloDelay, helloDelay+slack)
			} else {
				within(t, p, metrics.PhaseTLS, 0, 0, 0)
			}
			within(t, p, metrics.PhaseTTFB, calls, headDelay, answerGap*9/10)
			within(t, p, metrics.PhaseTransfer, calls, answerGap*9/10, answerGap+slack)
			// The phases partition a call: its time to first byte and
			// transfer add up to its service time, less the wait for a
			// stream; every call waits the same here, so the medians add
			// up too (within 5 %: the phase histograms keep 1 %).
			ttfb, _ := p.Percentile(metrics.PhaseTTFB, 50)
			transfer, _ := p.Percentile(metrics.PhaseTransfer, 50)
			if svc := time.Duration(tot.Service.ValueAtPercentile(50)) * time.Microsecond; ttfb+transfer > svc*105/100 {
				t.Errorf("ttfb p50 %v + transfer p50 %v > the service time's p50 %v", ttfb, transfer, svc)
			}
		})
	}
}

// TestPhasesOffGRPC: without Phases a call is not timed, and the Stats
// carry no breakdown.
func TestPhasesOffGRPC(t *testing.T) {
	s := startDemo(t)
	m, err := resolve(t, s, "fuka.demo.Cart/Add")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := m.Encode([]byte(`{"item":"tea"}`))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, Timeout: 5 * time.Second, Name: "add", Slots: 1}
	res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: 1, Requests: 10}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Run.Total; tot.Status[200] != 10 || tot.Phases != nil {
		t.Fatalf("OK %d (status %v, errors %v), phases %+v; want 10 and none", tot.Status[200], tot.Status, tot.Errors, tot.Phases)
	}
}
