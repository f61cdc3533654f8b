package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/testcert"
	"github.com/fuka-load/fuka/metrics"
)

// TestTransportTLS sends to a server that requires a client certificate
// signed by a private CA: the request passes only with the certificate and
// the CA (or --insecure in place of the CA).
func TestTransportTLS(t *testing.T) {
	cs := testcert.New(t)
	var proto string
	srv := cs.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
		w.Write([]byte("ok"))
	}), true)
	full, err := LoadTLS(cs.CertPEM, cs.KeyPEM, cs.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	caOnly, err := LoadTLS(nil, nil, cs.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	certOnly, err := LoadTLS(cs.CertPEM, cs.KeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		o         Options
		status    int
		kind      metrics.ErrorKind
		wantProto string
	}{
		{"cert and CA: h2 by ALPN", Options{TLS: full}, 200, metrics.ErrNone, "HTTP/2.0"},
		{"cert and CA, HTTP/1.1 forced", Options{TLS: full, HTTP1: true}, 200, metrics.ErrNone, "HTTP/1.1"},
		{"cert and CA, HTTP/2 forced", Options{TLS: full, HTTP2: true}, 200, metrics.ErrNone, "HTTP/2.0"},
		{"cert, insecure", Options{TLS: certOnly, Insecure: true}, 200, metrics.ErrNone, "HTTP/2.0"},
		// Over h2 the server's refusal may come as a reset: the alert
		// arrives after the handshake, and the HTTP/2 client may be
		// writing its preface into the closed connection (see tlsOrReset).
		{"CA without a client cert", Options{TLS: caOnly}, 0, tlsOrReset, ""},
		{"CA without a client cert, HTTP/1.1", Options{TLS: caOnly, HTTP1: true}, 0, metrics.ErrTLS, ""},
		{"cert without the CA", Options{TLS: certOnly}, 0, metrics.ErrTLS, ""},
		{"nothing", Options{}, 0, metrics.ErrTLS, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proto = ""
			r, err := NewRequest("GET", srv.URL+"/", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.o.Timeout = 5 * time.Second
			s := NewStd(r, tt.o)
			defer s.CloseIdle()
			status, in, out, kind := s.Do(context.Background())
			if tt.kind == tlsOrReset && (kind == metrics.ErrTLS || kind == metrics.ErrReset) {
				kind = tlsOrReset
			}
			if status != tt.status || kind != tt.kind {
				t.Fatalf("Do() = %d, %v; want %d, %v", status, kind, tt.status, tt.kind)
			}
			if proto != tt.wantProto {
				t.Errorf("server saw %q, want %q", proto, tt.wantProto)
			}
			if tt.status == 200 && (in <= 0 || out <= 0) {
				t.Errorf("bytes in %d, out %d: want both counted", in, out)
			}
		})
	}
}

// TestTransportALPNFallback: a TLS server without h2 gets HTTP/1.1 from
// the default transport, each request sent once and its bytes counted on
// the wire (the HTTP/1.1 size of an h2 exchange is an estimate).
func TestTransportALPNFallback(t *testing.T) {
	var proto string
	srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
		w.Write([]byte("hello"))
	}), func(s *httptest.Server) { s.EnableHTTP2 = false })
	r, err := NewRequest("GET", srv.URL+"/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStd(r, Options{Timeout: 5 * time.Second, Insecure: true, UserAgent: "fuka/test"})
	defer s.CloseIdle()
	for i := range 2 { // the second goes on the kept-alive connection
		status, in, out, kind := s.Do(context.Background())
		if status != 200 || kind != metrics.ErrNone {
			t.Fatalf("request %d: Do() = %d, %v", i, status, kind)
		}
		if proto != "HTTP/1.1" {
			t.Errorf("request %d: server saw %q, want HTTP/1.1", i, proto)
		}
		if wire := int64(len(r.Wire("fuka/test"))); out != wire {
			t.Errorf("request %d: bytes out %d, want %d (the request as written)", i, out, wire)
		}
		if in < int64(len("HTTP/1.1 200 OK\r\n\r\nhello")) {
			t.Errorf("request %d: bytes in %d: want the whole response", i, in)
		}
	}
}

// tlsOrReset stands for either kind in TestTransportTLS's table.
const tlsOrReset = metrics.NumErrorKinds + 1

func TestLoadTLS(t *testing.T) {
	cs := testcert.New(t)
	tests := []struct {
		name          string
		cert, key, ca []byte
		want          string // part of the error; "" for none
	}{
		{"all", cs.CertPEM, cs.KeyPEM, cs.CAPEM, ""},
		{"CA only", nil, nil, cs.CAPEM, ""},
		{"cert only", cs.CertPEM, cs.KeyPEM, nil, ""},
		{"cert without key", cs.CertPEM, nil, nil, "needs its key"},
		{"key without cert", nil, cs.KeyPEM, nil, "needs its certificate"},
		{"key that is not a key", cs.CertPEM, cs.CertPEM, nil, "client certificate and key"},
		{"CA that is not PEM", nil, nil, []byte("not pem"), "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTLS(tt.cert, tt.key, tt.ca)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("LoadTLS: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("LoadTLS error %v, want %q", err, tt.want)
			}
		})
	}
}
