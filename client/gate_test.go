package client

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// TestGate: a request the gate refuses at its write leaves nothing: the
// server reads no request and sees no new connection (net/http would send
// a request nothing of which was written on a reused connection again, on
// a new one), Send says it was not sent, and the request is no outcome.
// Once the gate opens, requests go again. Over HTTP/1.1 and over TLS, with
// and without a method net/http deems replayable.
func TestGate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		method string
	}{
		{"http/GET", false, "GET"},
		{"http/POST", false, "POST"},
		{"https/GET", true, "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests, conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			var open atomic.Bool
			open.Store(true)
			req, err := NewRequest(tc.method, srv.URL+"/", nil, []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			s := NewStd(req, Options{Timeout: 5 * time.Second, Insecure: true, HTTP1: true, MaxConns: 1, Gate: open.Load})
			defer s.CloseIdle()
			send := func() (bool, metrics.Outcome) {
				var o metrics.Outcome
				return s.Send(context.Background(), &o), o
			}
			if sent, o := send(); !sent || o.Status != 200 {
				t.Fatalf("with the gate open: sent %v, outcome %+v", sent, o)
			}
			open.Store(false)
			for range 3 {
				if sent, o := send(); sent {
					t.Errorf("with the gate shut: sent, outcome %+v", o)
				}
			}
			time.Sleep(50 * time.Millisecond)
			if r, c := requests.Load(), conns.Load(); r != 1 || c != 1 {
				t.Errorf("with the gate shut, the server read %d requests on %d connections; want the first one only", r, c)
			}
			open.Store(true)
			if sent, o := send(); !sent || o.Status != 200 {
				t.Errorf("with the gate open again: sent %v, outcome %+v", sent, o)
			}
			if r := requests.Load(); r != 2 {
				t.Errorf("the server read %d requests, want 2", r)
			}
		})
	}
}
