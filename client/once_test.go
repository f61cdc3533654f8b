package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/faultserver"
)

// onceClient is an HTTP/1.1 client whose transport goes through SendOnce;
// dial, if set, is the transport's own dialer.
func onceClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*http.Client, *http.Transport) {
	tr := &http.Transport{DialContext: dial, Protocols: new(http.Protocols)}
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
