package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Options shape the standard path's transport.
type Options struct {
	Timeout  time.Duration
	Insecure bool // skip TLS certificate verification
	// HTTP2 forces HTTP/2: h2 over TLS, h2c with prior knowledge over
	// http://. HTTP1 forces HTTP/1.1, also over TLS. With neither, https
	// negotiates h2 or HTTP/1.1 by ALPN and http:// speaks HTTP/1.1.
	HTTP2, HTTP1 bool
	TLS          *TLS // client certificate and trusted CAs; nil: none, the system's roots
	MaxConns     int  // connections per host; one per client
	UserAgent    string
	// Conns, if set, gives HTTP/1.1 connections pre-connected ones first
	// and counts the new ones (not used with HTTP/2).
	Conns *Conns
	// Phases times each request's phases (see Exchange.Phases): the
	// connections dialled carry their DNS, connect and TLS times.
	Phases bool
	// Gate, if set, is asked right before the first byte of each
	// HTTP/1.x request is written; false refuses the request: nothing of
	// it is written and it fails with ErrGated (see SendOnce). HTTP/2
	// requests share their connection with the transport's own frames, so
	// no write of theirs can be refused alone: they are not gated.
	Gate func() bool
}

// TLS is a client certificate to present and the CAs to trust instead of
// the system's.
type TLS struct {
	Certificates []tls.Certificate
	RootCAs      *x509.CertPool // nil: the system's roots
}

// LoadTLS parses a client certificate and its key (PEM, both or neither)
// and a CA bundle (PEM, optional). The error says which part is wrong; it
// does not hold the key.
func LoadTLS(certPEM, keyPEM, caPEM []byte) (*TLS, error) {
	t := &TLS{}
	switch {
	case len(certPEM) > 0 && len(keyPEM) == 0:
		return nil, errors.New("a client certificate needs its key")
	case len(certPEM) == 0 && len(keyPEM) > 0:
		return nil, errors.New("a client key needs its certificate")
	case len(certPEM) > 0:
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate and key: %v", err)
		}
		t.Certificates = []tls.Certificate{c}
	}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("CA file: no PEM certificate in it")
		}
		t.RootCAs = pool
	}
	return t, nil
}

// Transport returns a transport set up as o says, and the RoundTripper to
// send through: bytes are counted per request (Meter) and no HTTP/1.1
// request is sent twice (SendOnce). The scenario runner and Std share it.
func Transport(o Options) (*http.Transport, http.RoundTripper) {
	conf := &tls.Config{InsecureSkipVerify: o.Insecure} //nolint:gosec // the user asked for --insecure
	if o.TLS != nil {
		conf.Certificates = o.TLS.Certificates
		conf.RootCAs = o.TLS.RootCAs
	}
	t := &http.Transport{
		Proxy:               nil, // a load test goes where it is pointed, not through a proxy
		TLSClientConfig:     conf,
		MaxIdleConnsPerHost: o.MaxConns,
		DisableCompression:  true,
		Protocols:           new(http.Protocols),
	}
	switch {
	case o.HTTP2:
		// h2 over TLS, or h2c with prior knowledge over http://.
		t.Protocols.SetHTTP2(true)
		t.Protocols.SetUnencryptedHTTP2(true)
		Meter(t, true)
		return t, sendOnce(t, nil)
	case o.HTTP1:
		t.Protocols.SetHTTP1(true)
	default:
		// https offers h2 and http/1.1 (ALPN); Meter's dialer hands an
		// h2 connection to the transport as it is, and counts and sends
		// once over an HTTP/1.1 one.
		t.Protocols.SetHTTP1(true)
		t.Protocols.SetHTTP2(true)
	}
	// Meter first: SendOnce wraps the connections Meter dials, so both see
	// the plaintext bytes of each request.
	meter(t, !o.HTTP1, o.Phases, o.Conns)
	return t, sendOnce(t, o.Gate)
}
