package engine

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// Phase tests: a target with known delays (a wait before the headers, a
// pause in the middle of the body, a slow TLS handshake) puts each delay
// in its own phase, on both transports; a reused connection has no
// connection phases.

const (
	headDelay  = 50 * time.Millisecond  // before the response's first byte
	trickleGap = 400 * time.Millisecond // between the two halves of the body
)

// tricklingServer answers each request headDelay late, with half its body,
// then the other half trickleGap later, on a keep-alive connection.
func tricklingServer(t *testing.T) *rawServer {
	return newRawServer(t, func(s *rawServer, c net.Conn) {
		s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
			time.Sleep(headDelay)
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"); err != nil {
				return false
			}
			time.Sleep(trickleGap)
			_, err := io.WriteString(c, "cd")
			return err == nil
		})
	})
}

// within fails unless phase ph of p has count n and its p50 and max lie in [lo, hi).
func within(t *testing.T, p *metrics.Phases, ph metrics.Phase, n int64, lo, hi time.Duration) {
	t.Helper()
	if got := p.Count(ph); got != n {
		t.Errorf("%s: %d requests, want %d", ph, got, n)
		return
	}
	if n == 0 {
		return
	}
	for _, q := range []float64{50, 100} {
		d, _ := p.Percentile(ph, q)
		if d < lo || d >= hi {
			t.Errorf("%s p%v = %v, want in [%v, %v)", ph, q, d, lo, hi)
		}
	}
}

func TestPhases(t *testing.T) {
	srv := tricklingServer(t)
	const clients, requests = 2, 8
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			res, _ := run(t, tr, Config{Phases: true, Load: Closed{Clients: clients, Requests: requests},
				Work: Request{Request: newReq(t, "GET", srv.URL()+"/", nil, nil), Timeout: 5 * time.Second}})
			tot := res.Run.Total
			if tot.Status[200] != requests {
				t.Fatalf("200s = %d of %d (errors %v)", tot.Status[200], tot.Requests, errorsOf(tot))
			}
			p := tot.Phases
			if p.Empty() || p.Timed != requests {
				t.Fatalf("phases of %+v requests, want %d", p, requests)
			}
			// Each client opens one connection and keeps it; net/http may
			// open one more while a connection returns to its pool.
			if p.New < clients || p.New > 2*clients {
				t.Errorf("%d requests on a new connection, want %d to %d", p.New, clients, 2*clients)
			}
			// Bounds leave a loaded machine 300 ms of slack or more, and
			// still tell the two delays apart: swapped, both phases fail.
			slack := 500 * time.Millisecond
			within(t, p, metrics.PhaseDNS, 0, 0, 0) // a literal IP: no lookup
			within(t, p, metrics.PhaseConnect, p.New, 0, headDelay)
			within(t, p, metrics.PhaseTLS, 0, 0, 0)
			within(t, p, metrics.PhaseTTFB, requests, headDelay, trickleGap*9/10)
			within(t, p, metrics.PhaseTransfer, requests, trickleGap*9/10, trickleGap+slack)
		})
	}
}

// TestPhasesOff: without Config.Phases nothing is timed, and the Stats
// carry no breakdown (no memory for it either).
func TestPhasesOff(t *testing.T) {
	srv, _ := countingServer(t, 0)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			res, _ := run(t, tr, Config{Load: Closed{Clients: 2, Requests: 20},
				Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
			if tot := res.Run.Total; tot.Status[200] != 20 || tot.Phases != nil || res.Run.ByName[0].Phases != nil {
				t.Fatalf("200s %d, phases %+v; want 20 and none", tot.Status[200], tot.Phases)
			}
		})
	}
}

// slowHelloListener delays each connection's first write, the TLS
// server's hello, so the handshake takes at least helloDelay.
type slowHelloListener struct{ net.Listener }

const helloDelay = 80 * time.Millisecond

func (l slowHelloListener) Accept() (net.Conn, error) {
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

// TestPhasesTLS: the TLS handshake is its own phase, apart from the TCP
// connect, and a name's lookup is timed where there is one (net/http).
func TestPhasesTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(headDelay)
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Listener = slowHelloListener{srv.Listener}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	tests := []struct {
		name, host string
		dns        bool
		http2      bool
	}{
		{"ip", "127.0.0.1", false, false},
		{"name", "localhost", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const requests = 6
			res, _ := run(t, transports[1], Config{Phases: true, Load: Closed{Clients: 1, Requests: requests},
				Work: Request{Request: newReq(t, "GET", "https://"+tt.host+":"+port+"/", nil, nil), Insecure: true, HTTP1: true}})
			tot := res.Run.Total
			p := tot.Phases
			if tot.Status[200] != requests || p.Empty() {
				t.Fatalf("200s = %d of %d, phases %+v (errors %v)", tot.Status[200], tot.Requests, p, errorsOf(tot))
			}
			if p.New != 1 || p.Timed != requests {
				t.Fatalf("%d timed, %d on a new connection; want %d and 1", p.Timed, p.New, requests)
			}
			within(t, p, metrics.PhaseConnect, 1, 0, helloDelay/2)
			within(t, p, metrics.PhaseTLS, 1, helloDelay, helloDelay+time.Second)
			within(t, p, metrics.PhaseTTFB, requests, headDelay, headDelay+time.Second)
			dns := int64(0)
			if tt.dns {
				dns = 1
			}
			within(t, p, metrics.PhaseDNS, dns, 0, time.Second)
		})
	}
}

// TestPhasesRawRead reads the fast path's response in one piece: the
// time to first byte and the transfer of a response that arrives whole
// are the wait and ~0.
func TestPhasesRawRead(t *testing.T) {
	srv := newRawServer(t, func(s *rawServer, c net.Conn) {
		s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
			time.Sleep(headDelay)
			_, err := io.WriteString(c, okResponse)
			return err == nil
		})
	})
	res, _ := run(t, transports[0], Config{Phases: true, Load: Closed{Clients: 1, Requests: 3},
		Work: Request{Request: newReq(t, "GET", srv.URL()+"/", nil, nil)}})
	p := res.Run.Total.Phases
	if p.Empty() || p.Timed != 3 || p.New != 1 {
		t.Fatalf("phases %+v, want 3 timed, 1 new", p)
	}
	within(t, p, metrics.PhaseTTFB, 3, headDelay, headDelay+time.Second)
	within(t, p, metrics.PhaseTransfer, 3, 0, headDelay/2)
}

// TestPhasesHTTP2: over HTTP/2 the transport's own connections carry the
// requests at once; each still has its time to first byte and transfer,
// none is claimed to have opened a connection.
func TestPhasesHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(headDelay)
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	const requests = 8
	res, _ := run(t, transports[1], Config{Phases: true, Load: Closed{Clients: 2, Requests: requests},
		Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Insecure: true, HTTP2: true}})
	tot := res.Run.Total
	p := tot.Phases
	if tot.Status[200] != requests || p.Empty() || p.Timed != requests || p.New != 0 {
		t.Fatalf("200s = %d, phases %+v; want %d timed, 0 new (errors %v)", tot.Status[200], p, requests, errorsOf(tot))
	}
	within(t, p, metrics.PhaseConnect, 0, 0, 0)
	within(t, p, metrics.PhaseTLS, 0, 0, 0)
	within(t, p, metrics.PhaseTTFB, requests, headDelay, headDelay+time.Second)
	within(t, p, metrics.PhaseTransfer, requests, 0, headDelay)
}

// TestPhasesPreconnect: a connection opened before the run's clock
// started has no connect phase in the run: only the requests that opened
// a connection during the run count as new, at most the run's connects.
func TestPhasesPreconnect(t *testing.T) {
	srv, _ := countingServer(t, 0)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			res, _ := run(t, tr, Config{Phases: true,
				Load: Open{Rate: rate(t, "100", 500*time.Millisecond), MaxClients: 20, Resolution: time.Millisecond, Preconnect: 20},
				Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
			if res.Warmup == nil || res.Warmup.Opened == 0 {
				t.Fatalf("Warmup = %+v, want connections opened before the run", res.Warmup)
			}
			var connects int64
			for _, p := range res.Run.Timeline {
				connects += p.Connects
			}
			tot := res.Run.Total
			p := tot.Phases
			if p.Empty() || p.Timed != tot.Status[200] || p.New > connects || p.Count(metrics.PhaseConnect) != p.New {
				t.Fatalf("phases %+v (connect count %d), %d responses, %d connects in the run", p, p.Count(metrics.PhaseConnect), tot.Status[200], connects)
			}
			t.Logf("%d pre-connected, %d responses, %d on a connection opened in the run, %d connects", res.Warmup.Opened, p.Timed, p.New, connects)
		})
	}
}

// TestPhasesTimeouts: only whole responses are broken down; a request
// that timed out (its exchange may still get a late first byte on
// net/http) is counted, not timed, and corrupts no later request's phases.
func TestPhasesTimeouts(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%2 == 0 {
			time.Sleep(300 * time.Millisecond) // past the timeout
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			res, _ := run(t, tr, Config{Phases: true, Load: Closed{Clients: 2, Requests: 20},
				Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Timeout: 100 * time.Millisecond}})
			tot := res.Run.Total
			p := tot.Phases
			if tot.Errors[metrics.ErrTimeout] == 0 || p.Empty() || p.Timed != tot.Status[200] {
				t.Fatalf("%d timeouts, %d 200s, phases %+v: want some timeouts and every 200 timed", tot.Errors[metrics.ErrTimeout], tot.Status[200], p)
			}
			within(t, p, metrics.PhaseTTFB, p.Timed, 0, 100*time.Millisecond)
		})
	}
}
