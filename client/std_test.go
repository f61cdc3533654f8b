package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

func TestClassify(t *testing.T) {
	opErr := func(op string, errno syscall.Errno) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)}
	}
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: err} }
	tests := []struct {
		name string
		err  error
		want metrics.ErrorKind
	}{
		{"nil", nil, metrics.ErrNone},
		{"context deadline", context.DeadlineExceeded, metrics.ErrTimeout},
		{"context deadline wrapped", fmt.Errorf("reading: %w", context.DeadlineExceeded), metrics.ErrTimeout},
		{"socket deadline", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, metrics.ErrTimeout},
		{"client timeout", urlErr(&timeoutError{}), metrics.ErrTimeout},
		{"ETIMEDOUT", opErr("connect", syscall.ETIMEDOUT), metrics.ErrTimeout},
		{"dns not found", urlErr(&net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}}), metrics.ErrDNS},
		{"dns timeout is a timeout", &net.DNSError{Err: "i/o timeout", Name: "slow.invalid", IsTimeout: true}, metrics.ErrTimeout},
		{"connection refused", urlErr(opErr("connect", syscall.ECONNREFUSED)), metrics.ErrRefused},
		{"connection reset", urlErr(opErr("read", syscall.ECONNRESET)), metrics.ErrReset},
		{"broken pipe", opErr("write", syscall.EPIPE), metrics.ErrReset},
		{"connection aborted", opErr("read", syscall.ECONNABORTED), metrics.ErrReset},
		{"bare errno", syscall.ECONNREFUSED, metrics.ErrRefused},
		{"other errno", opErr("socket", syscall.EMFILE), metrics.ErrOther},
		{"unexpected EOF", io.ErrUnexpectedEOF, metrics.ErrReset},
		{"EOF in url error", urlErr(io.EOF), metrics.ErrReset},
		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), metrics.ErrTLS},
		{"hostname mismatch", &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "127.0.0.2"}}, metrics.ErrTLS},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, metrics.ErrTLS},
		{"not a TLS record", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), metrics.ErrTLS},
		{"QUIC alert", tls.AlertError(40), metrics.ErrTLS},
		{"h2 refused after the TLS 1.3 handshake", &url.Error{Op: "Get", URL: "https://127.0.0.1/", Err: errors.New("http2: client conn could not be established")}, metrics.ErrTLS},
		{"h2c closed before SETTINGS", urlErr(errors.New("http2: client conn could not be established")), metrics.ErrOther},
		{"malformed response", ErrMalformed, metrics.ErrOther},
		{"anything else", errors.New("boom"), metrics.ErrOther},
		{"cancelled", context.Canceled, metrics.ErrOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

// TestStdDo sends real requests to 127.0.0.1 and checks what Do reports,
// including how real failures classify.
func TestStdDo(t *testing.T) {
	var got struct {
		method, host, ua, body string
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.host, got.ua, got.body = r.Method, r.Host, r.UserAgent(), string(b)
		w.Header().Set("Location", "/elsewhere")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, "only part")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := newTLSServer(t, mux, func(*httptest.Server) {})
	h2Srv := newTLSServer(t, mux, func(s *httptest.Server) { s.EnableHTTP2 = true })
	mtlsSrv := newTLSServer(t, mux, func(s *httptest.Server) {
		s.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	})
	closed := closedPort(t)

	tests := []struct {
		name, method, url string
		header            http.Header
		body              string
		opt               Options
		status            int
		bytesIn           int64
		kind              metrics.ErrorKind
		unsent            bool // no connection took the request: bytes out 0
		// The server's alert races the request: it may or may not have
		// been written, so bytes out is either.
		maybeSent bool
	}{
		{name: "200", method: "GET", url: srv.URL + "/ok", status: 200, bytesIn: 5},
		{name: "POST with body", method: "POST", url: srv.URL + "/ok", body: "payload", status: 200, bytesIn: 5},
		{name: "HEAD", method: "HEAD", url: srv.URL + "/ok", status: 200, bytesIn: 0},
		{name: "redirect is not followed", method: "GET", url: srv.URL + "/redirect", status: 302, bytesIn: -1},
		{name: "404", method: "GET", url: srv.URL + "/nope", status: 404, bytesIn: -1},
		{name: "timeout", method: "GET", url: srv.URL + "/slow", opt: Options{Timeout: 100 * time.Millisecond}, kind: metrics.ErrTimeout},
		{name: "refused", method: "GET", url: "http://" + closed + "/", kind: metrics.ErrRefused, unsent: true},
		{name: "body cut short", method: "GET", url: srv.URL + "/short", kind: metrics.ErrBodyRead, bytesIn: -1},
		{name: "closed before the response", method: "GET", url: srv.URL + "/hangup", kind: metrics.ErrReset},
		{name: "TLS insecure", method: "GET", url: tlsSrv.URL + "/ok", opt: Options{Insecure: true}, status: 200, bytesIn: 5},
		{name: "TLS unknown authority", method: "GET", url: tlsSrv.URL + "/ok", kind: metrics.ErrTLS, unsent: true},
		// The server speaks only http/1.1 and answers h2 with a
		// no_application_protocol alert.
		{name: "HTTP/2 to an HTTP/1.1-only TLS server", method: "GET", url: tlsSrv.URL + "/ok", opt: Options{Insecure: true, HTTP2: true}, kind: metrics.ErrTLS, unsent: true},
		{name: "HTTP/2 over TLS", method: "GET", url: h2Srv.URL + "/ok", opt: Options{Insecure: true, HTTP2: true}, status: 200, bytesIn: 5},
		// TLS 1.3: the server's certificate_required alert arrives with the response.
		{name: "TLS client certificate required", method: "GET", url: mtlsSrv.URL + "/ok", opt: Options{Insecure: true}, kind: metrics.ErrTLS, maybeSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			r, err := NewRequest(tt.method, tt.url, tt.header, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.opt.Timeout == 0 {
				tt.opt.Timeout = 3 * time.Second
			}
			tt.opt.UserAgent = "fuka/test"
			s := NewStd(r, tt.opt)
			defer s.CloseIdle()
			status, in, out, kind := s.Do(context.Background())
			if status != tt.status || kind != tt.kind {
				t.Fatalf("Do() = status %d, kind %v; want %d, %v", status, kind, tt.status, tt.kind)
			}
			// bytes in: the whole response off the wire, so the body
			// (bytesIn) and its status line and headers; exactly so in
			// engine TestBytesOnTheWire.
			switch {
			case tt.bytesIn < 0:
			case kind != metrics.ErrNone:
				if in != tt.bytesIn {
					t.Errorf("bytes in = %d, want %d", in, tt.bytesIn)
				}
			case in <= tt.bytesIn+int64(len("HTTP/1.1 200 OK\r\n\r\n")) || in > tt.bytesIn+1024:
				t.Errorf("bytes in = %d, want %d of body and its headers", in, tt.bytesIn)
			}
			// bytes out: the request, when it reached the wire; nothing
			// when no connection took it.
			want := int64(len(r.Wire("fuka/test")))
			if tt.unsent {
				want = 0
			}
			if out != want && kind != metrics.ErrOther && !(tt.maybeSent && out == 0) {
				t.Errorf("bytes out = %d, want %d", out, want)
			}
			if tt.status == 200 && tt.method != "HEAD" {
				if got.method != r.Method || got.ua != "fuka/test" || got.body != tt.body {
					t.Errorf("server saw %+v", got)
				}
			}
		})
	}
}

func TestStdHeaders(t *testing.T) {
	var host, ua, custom string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ua, custom = r.Host, r.UserAgent(), r.Header.Get("X-Custom")
	}))
	defer srv.Close()
	h := http.Header{}
	h.Set("Host", "shop.example")
	h.Set("User-Agent", "curl/8")
	h.Set("X-Custom", "1")
	r, err := NewRequest("GET", srv.URL+"/", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStd(r, Options{Timeout: 3 * time.Second, UserAgent: "fuka/test"})
	defer s.CloseIdle()
	if status, _, _, kind := s.Do(context.Background()); status != 200 || kind != metrics.ErrNone {
		t.Fatalf("Do() = %d, %v", status, kind)
	}
	if host != "shop.example" || ua != "curl/8" || custom != "1" {
		t.Errorf("server saw Host %q, User-Agent %q, X-Custom %q", host, ua, custom)
	}
}

// TestStdHTTP2 sends h2c with prior knowledge.
func TestStdHTTP2(t *testing.T) {
	var proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Proto
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	r, err := NewRequest("GET", srv.URL+"/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStd(r, Options{Timeout: 3 * time.Second, HTTP2: true})
	defer s.CloseIdle()
	if status, _, _, kind := s.Do(context.Background()); status != 200 || kind != metrics.ErrNone {
		t.Fatalf("Do() = %d, %v", status, kind)
	}
	if !strings.HasPrefix(proto, "HTTP/2") {
		t.Errorf("server saw %s, want HTTP/2", proto)
	}
}

// newTLSServer starts a TLS test server that does not log the handshake
// failures the tests provoke.
func newTLSServer(t *testing.T, h http.Handler, configure func(*httptest.Server)) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	configure(s)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
