package faultserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dial opens a client connection to s, through TLS when s serves it.
func dial(t *testing.T, s *Server) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(strings.TrimPrefix(s.URL(), "http://"), "https://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.cfg.TLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test server's own certificate
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		return tc
	}
	return c
}

// roundTrip writes req on c and reads one response; it returns the error
// of the read when there is no response.
func roundTrip(c net.Conn, br *bufio.Reader, method, req string) (*http.Response, error) {
	if _, err := io.WriteString(c, req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

const (
	get  = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	post = "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
)

func TestResetEvery(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "tcp"
		if useTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			s := Start(t, Config{Fault: ResetEvery(3), TLS: useTLS})
			c := dial(t, s)
			br := bufio.NewReader(c)
			for i, req := range []string{get, post} {
				resp, err := roundTrip(c, br, "GET", req)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("request %d: %v, %v; want 200", i+1, resp, err)
				}
			}
			_, err := roundTrip(c, br, "POST", post)
			if err == nil {
				t.Fatal("request 3 got a response; want the connection reset")
			}
			if !useTLS && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("request 3: %v; want ECONNRESET", err)
			}
			if got := s.Requests(); got != 3 {
				t.Errorf("Requests() = %d, want 3 (the reset one was read and counted)", got)
			}
			if got := s.Resets(); got != 1 {
				t.Errorf("Resets() = %d, want 1", got)
			}
		})
	}
}

func TestIdleClose(t *testing.T) {
	s := Start(t, Config{IdleClose: 20 * time.Millisecond})
	c := dial(t, s)
	br := bufio.NewReader(c)
	// Back to back requests keep the connection.
	for i := range 3 {
		if _, err := roundTrip(c, br, "GET", get); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	// Then an idle connection is closed with a FIN, and no request is counted.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF", err)
	}
	if s.Requests() != 3 || s.IdleCloses() != 1 {
		t.Errorf("Requests() = %d, IdleCloses() = %d; want 3, 1", s.Requests(), s.IdleCloses())
	}
}

func TestHeadGetsNoBody(t *testing.T) {
	s := Start(t, Config{})
	c := dial(t, s)
	br := bufio.NewReader(c)
	resp, err := roundTrip(c, br, "HEAD", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v, %v", resp, err)
	}
	// The next response must start right where the head ended.
	resp, err = roundTrip(c, br, "GET", get)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET after HEAD: %v, %v", resp, err)
	}
}

func TestChunkedBodyReadWhole(t *testing.T) {
	s := Start(t, Config{Fault: func(int) Action { return Close }})
	c := dial(t, s)
	// The request is counted only once its last chunk arrived.
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := s.Requests(); n != 0 {
		t.Fatalf("Requests() = %d before the body ended, want 0", n)
	}
	if _, err := io.WriteString(c, "0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %v, want EOF (Close)", err)
	}
	if n := s.Requests(); n != 1 {
		t.Fatalf("Requests() = %d, want 1", n)
	}
}

func TestHangThenClose(t *testing.T) {
	s := Start(t, Config{Fault: func(int) Action { return Hang }})
	c := dial(t, s)
	if _, err := io.WriteString(c, get); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %v, want a timeout (no answer)", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a hanging connection open")
	}
}

func TestAnswerClose(t *testing.T) {
	s := Start(t, Config{Fault: func(int) Action { return AnswerClose }})
	c := dial(t, s)
	br := bufio.NewReader(c)
	resp, err := roundTrip(c, br, "GET", get)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("%v, %v; want a 200 that does not announce the close", resp, err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the response: %v, want EOF", err)
	}
	if s.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", s.Requests())
	}
}
