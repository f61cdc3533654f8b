package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// rawServer is a TCP server on 127.0.0.1 that hands every connection to a
// handler, for targets that misbehave in ways net/http will not. Cleanup
// closes the listener and every connection and waits for the handlers.
type rawServer struct {
	ln       net.Listener
	accepted atomic.Int64
	requests atomic.Int64 // requests read by serveHTTP
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func newRawServer(t testing.TB, handle func(s *rawServer, c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			if s.conns == nil { // closing
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				handle(s, c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// serveHTTP reads requests off c one by one and answers each with reply.
// reply returns false to end the connection.
func (s *rawServer) serveHTTP(c net.Conn, reply func(c net.Conn, r *http.Request) bool) {
	br := bufio.NewReader(c)
	for {
		r, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		s.requests.Add(1)
		if !reply(c, r) {
			return
		}
	}
}

// canned answers every request with the same bytes and keeps the connection.
func canned(resp string) func(*rawServer, net.Conn) {
	return func(s *rawServer, c net.Conn) {
		s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
			_, err := io.WriteString(c, resp)
			return err == nil
		})
	}
}

// once answers the first request on a connection with resp, then closes it.
func once(resp string) func(*rawServer, net.Conn) {
	return func(s *rawServer, c net.Conn) {
		s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
			_, _ = io.WriteString(c, resp)
			return false
		})
	}
}

// hang reads requests and never answers.
func hang(s *rawServer, c net.Conn) {
	s.serveHTTP(c, func(net.Conn, *http.Request) bool {
		_, _ = io.Copy(io.Discard, c) // until fuka or cleanup closes the socket
		return false
	})
}

// reset reads a request, then closes with SO_LINGER 0: the client gets a RST.
func reset(s *rawServer, c net.Conn) {
	s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
		_ = c.(*net.TCPConn).SetLinger(0)
		return false
	})
}

// trickle answers with a big response, one byte every 100 ms.
func trickle(s *rawServer, c net.Conn) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 100000)
	s.serveHTTP(c, func(c net.Conn, _ *http.Request) bool {
		for i := 0; i < len(resp); i++ {
			if _, err := io.WriteString(c, resp[i:i+1]); err != nil {
				return false
			}
			time.Sleep(100 * time.Millisecond)
		}
		return true
	})
}

const bigBody = 10 << 20

// bigResponses are 10 MiB responses, framed by length and by chunks.
var bigLength, bigChunked = func() (string, string) {
	body := bytes.Repeat([]byte("0123456789abcdef"), bigBody/16)
	length := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	const chunk = 64 << 10
	for off := 0; off < len(body); off += chunk {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", chunk, body[off:off+chunk])
	}
	b.WriteString("0\r\n\r\n")
	return length, b.String()
}()

func TestErrorKinds(t *testing.T) {
	refusedURL := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + ln.Addr().String()
		ln.Close()
		return u
	}
	cases := []struct {
		name     string
		target   func(t *testing.T) string
		timeout  time.Duration
		duration time.Duration
		want     metrics.ErrorKind
		all      bool // every request must fail with want
	}{
		{"refused", refusedURL, time.Second, 300 * time.Millisecond, metrics.ErrRefused, true},
		{"timeout", func(t *testing.T) string { return newRawServer(t, hang).URL() },
			200 * time.Millisecond, 600 * time.Millisecond, metrics.ErrTimeout, true},
		{"reset", func(t *testing.T) string { return newRawServer(t, reset).URL() },
			time.Second, 300 * time.Millisecond, metrics.ErrReset, false},
		{"body_read", func(t *testing.T) string {
			return newRawServer(t, once("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")).URL()
		}, time.Second, 300 * time.Millisecond, metrics.ErrBodyRead, true},
		{"malformed", func(t *testing.T) string { return newRawServer(t, once("GARBAGE RESPONSE\r\n\r\n")).URL() },
			time.Second, 300 * time.Millisecond, metrics.ErrOther, true},
		{"malformed status", func(t *testing.T) string { return newRawServer(t, once("HTTP/1.1 2x0 OK\r\n\r\n")).URL() },
			time.Second, 300 * time.Millisecond, metrics.ErrOther, true},
	}
	for _, tc := range cases {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				t.Parallel()
				res, took := run(t, tr, Config{Load: Closed{Clients: 2, Duration: tc.duration}, Work: Request{Request: newReq(t, "GET", tc.target(t)+"/", nil, nil), Timeout: tc.timeout}})
				tot := res.Run.Total
				got := tot.Errors[tc.want]
				t.Logf("requests %d, errors %v, took %v", tot.Requests, errorsOf(tot), took)
				if got == 0 || (tc.all && got != tot.Requests) {
					t.Errorf("%s errors = %d of %d requests (errors %v)", tc.want, got, tot.Requests, errorsOf(tot))
				}
				if tot.Failed != tot.Requests {
					t.Errorf("failed = %d of %d requests; none can succeed", tot.Failed, tot.Requests)
				}
				if limit := tc.duration + tc.timeout + time.Second; took > limit {
					t.Errorf("Run took %v, want <= %v", took, limit)
				}
			})
		}
	}
}

// TestHostile: whatever the target does, a run ends within its duration plus
// one timeout (plus slack for a busy machine).
func TestHostile(t *testing.T) {
	const (
		duration = time.Second
		timeout  = 500 * time.Millisecond
	)
	cases := []struct {
		name   string
		handle func(*rawServer, net.Conn)
		maxRPS float64 // keeps the 10 MiB cases from saturating a small machine
		check  func(t *testing.T, s *metrics.Stats)
	}{
		{"trickle", trickle, 0, func(t *testing.T, s *metrics.Stats) {
			if s.Errors[metrics.ErrTimeout] == 0 || s.Errors[metrics.ErrTimeout] != s.Requests {
				t.Errorf("timeouts = %d of %d", s.Errors[metrics.ErrTimeout], s.Requests)
			}
		}},
		{"10MiB length", canned(bigLength), 10, checkBig},
		{"10MiB chunked", canned(bigChunked), 10, checkBig},
		{"hang", hang, 0, func(t *testing.T, s *metrics.Stats) {
			if s.Errors[metrics.ErrTimeout] == 0 || s.Errors[metrics.ErrTimeout] != s.Requests {
				t.Errorf("timeouts = %d of %d", s.Errors[metrics.ErrTimeout], s.Requests)
			}
		}},
		{"reset", reset, 0, func(t *testing.T, s *metrics.Stats) {
			if s.Errors[metrics.ErrReset] == 0 || s.Failed != s.Requests {
				t.Errorf("resets = %d, failed = %d of %d", s.Errors[metrics.ErrReset], s.Failed, s.Requests)
			}
		}},
	}
	// Targets one after another, transports side by side: the bound on the
	// run's length is about fuka, not about how busy the test machine is.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					t.Parallel()
					srv := newRawServer(t, tc.handle)
					res, took := run(t, tr, Config{Load: Closed{Clients: 2, Duration: duration, MaxRPS: tc.maxRPS}, Work: Request{Request: newReq(t, "GET", srv.URL()+"/", nil, nil), Timeout: timeout}})
					t.Logf("requests %d, errors %v, bytes in %d, took %v", res.Run.Total.Requests, errorsOf(res.Run.Total), res.Run.Total.BytesIn, took)
					if limit := duration + timeout + time.Second; took > limit {
						t.Errorf("Run took %v, want <= %v", took, limit)
					}
					tc.check(t, res.Run.Total)
				})
			}
		})
	}
}

// checkBig: 10 MiB responses complete, and every byte of them is counted.
func checkBig(t *testing.T, s *metrics.Stats) {
	t.Helper()
	if s.Requests == 0 || s.Status[200] != s.Requests {
		t.Errorf("200s = %d of %d (errors %v)", s.Status[200], s.Requests, errorsOf(s))
	}
	if s.BytesIn < s.Status[200]*bigBody {
		t.Errorf("bytes in = %d, want >= %d (10 MiB x %d)", s.BytesIn, s.Status[200]*bigBody, s.Status[200])
	}
}
