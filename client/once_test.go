package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/faultserver"
)

// onceClient is an HTTP/1.1 client whose transport goes through SendOnce;
// dial, if set, is the transport's own dialer.
func onceClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*http.Client, *http.Transport) {
	tr := &http.Transport{DialContext: dial, Protocols: new(http.Protocols), TLSClientConfig: &tls.Config{}}
	tr.Protocols.SetHTTP1(true)
	return &http.Client{Transport: SendOnce(tr), Timeout: 5 * time.Second}, tr
}

func do(t *testing.T, hc *http.Client, method, url, body string) error {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = nil
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// TestSendOnceAfterWrite: a request written on a reused connection that the
// server then resets is not sent again (net/http would, for a GET), and its
// error says so and classifies as a reset.
func TestSendOnceAfterWrite(t *testing.T) {
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "POST"} {
		t.Run(method, func(t *testing.T) {
			srv := faultserver.Start(t, faultserver.Config{Fault: faultserver.ResetEvery(2)})
			hc, tr := onceClient(nil)
			defer tr.CloseIdleConnections()
			body := ""
			if method == "POST" {
				body = "x"
			}
			if err := do(t, hc, method, srv.URL()+"/", body); err != nil {
				t.Fatalf("request 1: %v", err)
			}
			req := func() *http.Request {
				r, _ := http.NewRequest(method, srv.URL()+"/", nil)
				if method == "POST" {
					// The header that makes net/http treat a POST as
					// idempotent, and resend it.
					r.Header.Set("Idempotency-Key", "k1")
				}
				return r
			}()
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("request 2 got %s; the server reset it (read %d requests)", resp.Status, srv.Requests())
			}
			if !errors.Is(err, ErrNotResent) || Classify(err).String() != "reset" {
				t.Errorf("request 2: %v (kind %s); want ErrNotResent, kind reset", err, Classify(err))
			}
			if got := srv.Requests(); got != 2 {
				t.Errorf("the server read %d requests, want 2: the reset one was sent again", got)
			}
		})
	}
}

// breakOnce is a connection whose second write fails before writing
// anything, as a write into a connection the server had already reset does.
type breakOnce struct {
	net.Conn
	writes int
}

func (c *breakOnce) Write(p []byte) (int, error) {
	if c.writes++; c.writes == 2 {
		c.Conn.Close()
		return 0, syscall.EPIPE
	}
	return c.Conn.Write(p)
}

// TestSendOnceNothingWritten: a request of which no byte reached a reused
// connection (it had died while idle) still goes out once, on a new
// connection: the server never saw it, so there is nothing to count twice.
func TestSendOnceNothingWritten(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			srv := faultserver.Start(t, faultserver.Config{})
			var dials atomic.Int64
			d := &net.Dialer{}
			hc, tr := onceClient(func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil || dials.Add(1) > 1 {
					return c, err
				}
				return &breakOnce{Conn: c}, nil
			})
			defer tr.CloseIdleConnections()
			for i := range 2 {
				if err := do(t, hc, method, srv.URL()+"/", "x"); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			if srv.Requests() != 2 || dials.Load() != 2 {
				t.Errorf("server read %d requests over %d connections; want 2 over 2", srv.Requests(), dials.Load())
			}
		})
	}
}

// TestSendOnceServerClosedIdle: a server that closes every connection right
// after its response, without saying Connection: close. A request that
// finds such a connection is not written into it (nothing reaches the
// server, so nothing is lost or counted twice): it goes out on a new
// connection, a POST as well as a GET (net/http alone fails the POST with
// "server closed idle connection", or writes it into the dead connection).
func TestSendOnceServerClosedIdle(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		for _, method := range []string{"GET", "POST"} {
			name := method
			if useTLS {
				name += "/tls"
			}
			t.Run(name, func(t *testing.T) {
				srv := faultserver.Start(t, faultserver.Config{TLS: useTLS,
					Fault: func(int) faultserver.Action { return faultserver.AnswerClose }})
				hc, tr := onceClient(nil)
				tr.TLSClientConfig.InsecureSkipVerify = true
				defer tr.CloseIdleConnections()
				const clients, each = 2, 200
				errs := make(chan error, clients*each)
				var wg sync.WaitGroup
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range each {
							if err := do(t, hc, method, srv.URL()+"/", "x"); err != nil {
								errs <- err
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				n := 0
				for err := range errs {
					if n++; n <= 3 {
						t.Errorf("request failed: %v", err)
					}
				}
				if got := srv.Requests(); n != 0 || got != clients*each {
					t.Errorf("%d requests failed; the server read %d of %d", n, got, clients*each)
				}
			})
		}
	}
}

// TestOnceConnDeadConnection: a request is never written into a connection
// the server closed (or spoke on) while it sat idle, whether the
// transport's reader already saw it or only a peek at the socket shows it;
// a live connection takes the request, and its owner learns it was sent.
func TestOnceConnDeadConnection(t *testing.T) {
	tests := []struct {
		name   string
		server func(c net.Conn) // what the server does before the request
		read   bool             // the client's reader reads first (and sees the end)
		peek   bool             // the write is the first of a request on a reused connection
		dead   bool
	}{
		{"closed, reader saw it", func(c net.Conn) { c.Close() }, true, false, true},
		{"closed, only the socket knows", func(c net.Conn) { c.Close() }, false, true, true},
		{"unsolicited bytes", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\n\r\n") }, false, true, true},
		{"alive", func(net.Conn) {}, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			tt.server(srv)
			c := &onceConn{Conn: raw, raw: raw}
			a := &attempts{}
			c.owner.Store(a)
			c.reused.Store(tt.peek)
			if tt.read {
				_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Fatal("read: no error from a closed connection")
				}
			} else {
				time.Sleep(50 * time.Millisecond) // let the FIN or the bytes arrive
			}
			n, err := c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
			if tt.dead {
				if n != 0 || !errors.Is(err, errPeerClosed) || a.wrote.Load() {
					t.Errorf("Write = %d, %v (sent %v); want 0, errPeerClosed, nothing sent", n, err, a.wrote.Load())
				}
				return
			}
			if n == 0 || err != nil || !a.wrote.Load() {
				t.Errorf("Write = %d, %v (sent %v); want the request written and its owner told", n, err, a.wrote.Load())
			}
		})
	}
}
