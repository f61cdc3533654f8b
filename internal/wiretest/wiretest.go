// Package wiretest is a test server that answers every HTTP/1.1 request with
// the same bytes, written as they are, and counts the bytes it read and
// wrote: the truth that bytes_in and bytes_out are checked against.
package wiretest

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a running wire server on 127.0.0.1.
type Server struct {
	Addr string // host:port
	// Read and Written are the bytes read from and written to all
	// connections (of TLS: the plaintext); Requests the requests answered.
	Read, Written, Requests atomic.Int64
}

// New starts a server that answers each request with response; with conf,
// over TLS. It stops when the test ends.
func New(t testing.TB, response string, conf *tls.Config) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String()}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c, response)
			}()
		}
	}()
	return s
}

func (s *Server) serve(c net.Conn, response string) {
	// Clients do not pipeline, so what is read from the connection is the
	// requests, exactly.
	br := bufio.NewReader(countReader{c, &s.Read})
	for {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		// Counted before the write, so that the counts are complete when
		// the client has the response.
		s.Requests.Add(1)
		s.Written.Add(int64(len(response)))
		if _, err := io.WriteString(c, response); err != nil {
			return
		}
	}
}

// countReader counts the bytes read from r.
type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// Responses are response shapes whose every byte counts: a length-framed
// body, chunked framing with an extension and a trailer, a long header
// without a body, and an interim 1xx response before the final one.
var Responses = []struct{ Name, Raw string }{
	{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"},
	{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"},
	{"no body, long header", "HTTP/1.1 204 No Content\r\nX-Long: " + longValue + "\r\n\r\n"},
	{"interim 103 first", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
}

var longValue = strings.Repeat("x", 3000)
