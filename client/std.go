package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// Std sends requests through net/http. It is safe for concurrent use.
type Std struct {
	req  *Request
	hc   *http.Client
	ua   string
	wire int64 // the request as HTTP/1.1 text: bytes_out where the connection cannot tell (HTTP/2)
	// conns are the transport's TCP connections (see Conns); nil over
	// forced HTTP/2, whose transport dials its own.
	conns *Conns
	// phases: Send times each request's phases (Options.Phases).
	phases bool
}

// NewStd returns a standard-path client for r.
func NewStd(r *Request, o Options) *Std {
	conns := o.Conns
	if o.HTTP2 {
		conns, o.Conns = nil, nil
	}
	_, rt := Transport(o)
	return &Std{
		req: r,
		hc: &http.Client{
			Transport: rt,
			Timeout:   o.Timeout,
			// Redirects are responses too: count the 3xx, do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ua:     o.UserAgent,
		wire:   int64(len(r.Wire(o.UserAgent))),
		conns:  conns,
		phases: o.Phases,
	}
}

// Preconnect opens n TCP connections to the request's host before the
// run's clock starts (see Conns.Preconnect); nothing over forced HTTP/2.
func (s *Std) Preconnect(ctx context.Context, n int) (opened []time.Duration, failed int, first error) {
	if s.conns == nil || n <= 0 {
		return nil, 0, nil
	}
	u := s.req.URL
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return s.conns.Preconnect(ctx, "tcp", net.JoinHostPort(u.Hostname(), port), n)
}

// Do sends the request once and reads the whole response.
func (s *Std) Do(ctx context.Context) (status int, bytesIn, bytesOut int64, kind metrics.ErrorKind) {
	var o metrics.Outcome
	s.Send(ctx, &o)
	return o.Status, o.BytesIn, o.BytesOut, o.Err
}

// Send is Do into o: its Status, Err, BytesIn and BytesOut, and with
// Options.Phases its phases. It returns false when Options.Gate refused
// the request at its write: nothing of it was sent, and o is no outcome.
func (s *Std) Send(ctx context.Context, o *metrics.Outcome) (sent bool) {
	var err error
	o.Status, o.BytesIn, o.BytesOut, o.Err, err = s.do(ctx, o)
	return err == nil || !errors.Is(err, ErrGated)
}

// do sends the request; err is the transport's error, if any.
func (s *Std) do(ctx context.Context, o *metrics.Outcome) (status int, bytesIn, bytesOut int64, kind metrics.ErrorKind, err error) {
	var body io.Reader
	if len(s.req.Body) > 0 {
		body = bytes.NewReader(s.req.Body)
	}
	ex := NewExchange()
	defer ex.Release()
	ex.TimePhases(s.phases)
	hr, err := http.NewRequestWithContext(ex.Trace(ctx), s.req.Method, s.req.URL.String(), body)
	if err != nil {
		return 0, 0, 0, metrics.ErrOther, nil
	}
	for k, vs := range s.req.Header {
		hr.Header[k] = vs
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", s.ua)
	}
	if h := s.req.Header.Get("Host"); h != "" {
		hr.Host = h
	}
	resp, err := s.hc.Do(hr)
	if err != nil {
		in, out := ex.Bytes(nil, 0, s.wire)
		return 0, in, out, Classify(err), err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	end := time.Now()
	resp.Body.Close()
	in, out := ex.Bytes(resp, n, s.wire)
	if err != nil {
		k := Classify(err)
		if k != metrics.ErrTimeout {
			k = metrics.ErrBodyRead
		}
		return 0, in, out, k, nil
	}
	ex.Phases(o, end)
	return resp.StatusCode, in, out, metrics.ErrNone, nil
}

// CloseIdle closes idle connections.
func (s *Std) CloseIdle() {
	s.hc.CloseIdleConnections()
	if s.conns != nil {
		s.conns.Close()
	}
}

// Classify maps an error from net/http or a socket to an error kind.
func Classify(err error) metrics.ErrorKind {
	if err == nil {
		return metrics.ErrNone
	}
	if errors.Is(err, ErrNotResent) {
		return metrics.ErrReset
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return metrics.ErrTimeout
	}
	if ue != nil && strings.HasPrefix(ue.URL, "https:") && strings.Contains(ue.Err.Error(), h2NotEstablished) {
		// Over TLS 1.3 a server refuses a client certificate (or the lack
		// of one) after the client's handshake is done, with an alert the
		// HTTP/2 client reads in place of the server's SETTINGS and does
		// not pass on: on https, a connection closed before SETTINGS is
		// that refusal.
		return metrics.ErrTLS
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return metrics.ErrTimeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return metrics.ErrDNS
	}
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	if errors.As(err, &certErr) || errors.As(err, &recErr) || errors.As(err, &alert) {
		return metrics.ErrTLS
	}
	// crypto/tls reports an alert received over TCP (handshake failure,
	// no application protocol, certificate required) as a *net.OpError with
	// Op "remote error" around an unexported type, not as tls.AlertError
	// (which only QUIC uses).
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		return metrics.ErrTLS
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return ClassifyErrno(errno)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return metrics.ErrReset
	}
	return metrics.ErrOther
}

// h2NotEstablished is net/http's HTTP/2 client's error for a connection
// that ended before the server's SETTINGS frame.
const h2NotEstablished = "http2: client conn could not be established"

// ClassifyErrno maps a socket errno to an error kind.
func ClassifyErrno(e syscall.Errno) metrics.ErrorKind {
	switch e {
	case syscall.ECONNREFUSED:
		return metrics.ErrRefused
	case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:
		return metrics.ErrReset
	case syscall.ETIMEDOUT:
		return metrics.ErrTimeout
	}
	return metrics.ErrOther
}
