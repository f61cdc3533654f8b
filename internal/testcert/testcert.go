// Package testcert makes a throwaway CA, a server certificate for
// 127.0.0.1 and a client certificate, for tests of TLS with client
// certificates. Nothing here is for production use.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Set is a CA and the server and client certificates it signed, as PEM
// and as files in a test's temporary folder.
type Set struct {
	CAPEM, CertPEM, KeyPEM    []byte // the CA, and the client's certificate and key
	CAFile, CertFile, KeyFile string
	Server                    tls.Certificate // for 127.0.0.1 and ::1
	Pool                      *x509.CertPool  // holds the CA
}

// New makes a Set; its files live in t.TempDir().
func New(t testing.TB) *Set {
	t.Helper()
	caKey := key(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuka test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, []byte) {
		k := key(t)
		tm := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "fuka test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tm, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	s := &Set{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), Pool: x509.NewCertPool()}
	s.Pool.AddCert(ca)
	srvCert, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if s.Server, err = tls.X509KeyPair(srvCert, srvKey); err != nil {
		t.Fatal(err)
	}
	s.CertPEM, s.KeyPEM = issue(3, x509.ExtKeyUsageClientAuth, nil)
	dir := t.TempDir()
	for _, f := range []struct {
		path *string
		name string
		b    []byte
	}{{&s.CAFile, "ca.pem", s.CAPEM}, {&s.CertFile, "client.pem", s.CertPEM}, {&s.KeyFile, "client-key.pem", s.KeyPEM}} {
		*f.path = filepath.Join(dir, f.name)
		if err := os.WriteFile(*f.path, f.b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Serve starts an HTTPS server on 127.0.0.1 with the Set's server
// certificate that requires a client certificate signed by the CA; h2 says
// whether it offers HTTP/2 (by ALPN). It is closed when the test ends.
func (s *Set) Serve(t testing.TB, h http.Handler, h2 bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes tests fail on purpose
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{s.Server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    s.Pool,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
