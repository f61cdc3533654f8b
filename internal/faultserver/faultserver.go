// Package faultserver is an HTTP/1.1 server for tests that misbehaves on
// purpose: it reads and counts a request, then may reset the connection
// instead of answering, close it, or never answer; it may close keep-alive
// connections that sit idle. It is written on raw TCP connections (with
// net/http used only to parse requests), so a test decides exactly what the
// client sees on the wire and knows exactly how many requests the server read.
//
// The count is the point: a load tester's numbers are true only if they
// equal what the target went through, and a well-behaved server cannot show
// the difference. Typical use:
//
//	srv := faultserver.Start(t, faultserver.Config{Fault: faultserver.ResetEvery(3)})
//	// ... send load to srv.URL() ...
//	if got, want := fukaRequests, srv.Requests(); got != want { ... }
//
// All traffic stays on 127.0.0.1.
package faultserver

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Action is what the server does with a request it has read whole.
type Action int

// The actions.
const (
	// Answer sends Config.Response and keeps the connection (unless the
	// request asked to close it).
	Answer Action = iota
	// Reset closes the connection with a RST (SO_LINGER 0) instead of
	// answering: the request was processed, the client gets no response.
	Reset
	// Close closes the connection with a FIN instead of answering.
	Close
	// Hang never answers; the connection stays open until the client or
	// Server.Close ends it.
	Hang
	// AnswerClose answers, then closes the connection without having said
	// Connection: close. The FIN travels in the same TCP segment as the end
	// of the response (TCP_CORK, on Linux), so a client sees both at once.
	AnswerClose
)

// Config is how a Server behaves. The zero value is a well-behaved
// keep-alive server answering 200 "ok" to everything.
type Config struct {
	// Fault decides what to do with the n-th request (n from 1) of a
	// connection, after the request was read whole and counted. nil
	// answers every request.
	Fault func(n int) Action
	// Response is the complete HTTP/1.1 response sent for Answer (a HEAD
	// request gets its head only). Default: 200 with the body "ok".
	Response string
	// IdleClose closes (with a FIN) a keep-alive connection on which no byte
	// of a new request arrived within this long after the last response.
	// 0: connections stay open.
	IdleClose time.Duration
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1; clients
	// must skip verification.
	TLS bool
}

// DefaultResponse is what Answer sends when Config.Response is empty.
const DefaultResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

// ResetEvery resets the connection on every n-th request of each
// connection (after reading and counting it) and answers the others.
func ResetEvery(n int) func(int) Action {
	return func(i int) Action {
		if n > 0 && i%n == 0 {
			return Reset
		}
		return Answer
	}
}

// Server is a running fault server.
type Server struct {
	cfg      Config
	ln       net.Listener
	tls      *tls.Config
	requests atomic.Int64
	conns    atomic.Int64
	resets   atomic.Int64
	idle     atomic.Int64

	mu     sync.Mutex
	open   map[net.Conn]struct{} // raw TCP connections; nil once closing
	wg     sync.WaitGroup
	closed sync.Once
}

// Start starts a Server on 127.0.0.1 and closes it when the test ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("faultserver: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New starts a Server on 127.0.0.1; the caller must Close it.
func New(cfg Config) (*Server, error) {
	if cfg.Response == "" {
		cfg.Response = DefaultResponse
	}
	s := &Server{cfg: cfg, open: map[net.Conn]struct{}{}}
	if cfg.TLS {
		cert, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is the server's base URL, http:// or https://.
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.ln.Addr().String()
	}
	return "http://" + s.ln.Addr().String()
}

// Requests is how many requests the server read whole (each counted before
// Config.Fault decided what to do with it).
func (s *Server) Requests() int64 { return s.requests.Load() }

// Conns is how many connections the server accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Resets is how many requests got a RST instead of a response.
func (s *Server) Resets() int64 { return s.resets.Load() }

// IdleCloses is how many connections the server closed for being idle.
func (s *Server) IdleCloses() int64 { return s.idle.Load() }

// Close stops the server and closes every connection; it waits for the
// server's goroutines to end.
func (s *Server) Close() {
	s.closed.Do(func() {
		s.ln.Close()
		s.mu.Lock()
		for c := range s.open {
			c.Close()
		}
		s.open = nil
		s.mu.Unlock()
		s.wg.Wait()
	})
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.open == nil {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.open[c] = struct{}{}
		s.conns.Add(1)
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				if s.open != nil {
					delete(s.open, c)
				}
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

// serve reads requests off raw (through TLS if configured) until the
// connection ends or a fault ends it.
func (s *Server) serve(raw net.Conn) {
	c := raw
	if s.tls != nil {
		tc := tls.Server(raw, s.tls)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() != nil {
			return
		}
		_ = tc.SetDeadline(time.Time{})
		c = tc
	}
	br := bufio.NewReader(c)
	for n := 1; ; n++ {
		if n > 1 && s.cfg.IdleClose > 0 && !s.waitRequest(c, raw, br) {
			s.idle.Add(1)
			c.Close() // a FIN (after a close_notify over TLS)
			return
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		s.requests.Add(1)
		act := Answer
		if s.cfg.Fault != nil {
			act = s.cfg.Fault(n)
		}
		switch act {
		case Reset:
			s.resets.Add(1)
			// SO_LINGER 0 makes close send a RST, through TLS too: the
			// client gets neither a response nor a close_notify.
			if tcp, ok := raw.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0)
			}
			raw.Close()
			return
		case Close:
			c.Close()
			return
		case Hang:
			_, _ = io.Copy(io.Discard, br)
			return
		}
		resp := s.cfg.Response
		if req.Method == http.MethodHead {
			if i := strings.Index(resp, "\r\n\r\n"); i >= 0 {
				resp = resp[:i+4]
			}
		}
		if act == AnswerClose {
			cork(raw)
		}
		if _, err := io.WriteString(c, resp); err != nil || req.Close || act == AnswerClose {
			return // the deferred close sends the FIN (with the corked response)
		}
	}
}

// waitRequest waits up to IdleClose for the first byte of the next request.
// false: none came (or the connection ended).
func (s *Server) waitRequest(c, raw net.Conn, br *bufio.Reader) bool {
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.IdleClose))
	_, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		// On a busy machine this goroutine may run well after the
		// deadline, when a request has arrived meanwhile: the read then
		// reports the deadline without looking. The connection was idle
		// only if nothing is waiting in the socket either; closing it
		// with a request unread would reset a request the server never
		// counted.
		return br.Buffered() > 0 || pending(raw)
	}
	return err == nil
}

var cert struct {
	once sync.Once
	c    tls.Certificate
	err  error
}

// selfSigned returns a certificate for 127.0.0.1 and localhost, made once
// per process.
func selfSigned() (tls.Certificate, error) {
	cert.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			cert.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "faultserver"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			cert.err = err
			return
		}
		cert.c = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return cert.c, cert.err
}
