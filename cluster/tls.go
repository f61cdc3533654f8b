package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"time"
)

// Role is the side of a session a certificate is good for. A controller
// accepts only worker certificates and a worker only controller ones, so a
// stolen worker certificate cannot be used to command other workers.
type Role string

// The two roles.
const (
	RoleController Role = "controller"
	RoleWorker     Role = "worker"
)

// roleScheme and roleHost make the URI SAN that carries a role:
// fuka://role/worker.
const (
	roleScheme = "fuka"
	roleHost   = "role"
)

// ParseRole checks a role's name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleController, RoleWorker:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want worker or controller", s)
}

// Peer is the role on the other side of a session.
func (r Role) Peer() Role {
	if r == RoleWorker {
		return RoleController
	}
	return RoleWorker
}

// URI is the URI SAN that names the role in a certificate.
func (r Role) URI() *url.URL {
	return &url.URL{Scheme: roleScheme, Host: roleHost, Path: "/" + string(r)}
}

// roleOf reads the role URI of a certificate; a certificate with none, or
// with two, has no role.
func roleOf(c *x509.Certificate) (Role, error) {
	var found Role
	for _, u := range c.URIs {
		if u.Scheme != roleScheme || u.Host != roleHost {
			continue
		}
		r, err := ParseRole(u.Path[min(1, len(u.Path)):])
		if err != nil {
			return "", err
		}
		if found != "" && found != r {
			return "", errors.New("certificate names two roles")
		}
		found = r
	}
	if found == "" {
		return "", errors.New("certificate names no fuka role (fuka://role/worker or fuka://role/controller)")
	}
	return found, nil
}

// CA is a certificate authority for one cluster: every controller and
// worker certificate is issued by it, and nothing else is trusted.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA creates a CA (ECDSA P-256) valid from now for validFor.
func NewCA(name string, now time.Time, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"fuka"}},
		NotBefore:             now.Add(-time.Minute), // a little slack for clocks that differ
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA reads a CA written by WriteFiles (PEM certificate and key).
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("ca certificate: not a CA")
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, errors.New("ca key: no PEM block")
	}
	key, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Issue creates a certificate for role, named name, valid from notBefore to
// notAfter, with the role in a URI SAN. hosts (DNS names or IPs) are added
// as SANs for tools that check them; fuka itself trusts the CA and the role,
// not host names. The certificate is good for both TLS client and server
// use: either side may be the one that listens.
func (ca *CA) Issue(role Role, name string, hosts []string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, nil, err
	}
	if name == "" {
		return nil, nil, errors.New("certificate name is empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"fuka " + string(role)}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{role.URI()},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

// PEM returns the CA's certificate and key in PEM.
func (ca *CA) PEM() (certPEM, keyPEM []byte, err error) {
	kb, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// Identity is one side's credentials: its own certificate (for its role)
// and the CA it trusts for the peer.
type Identity struct {
	Role  Role
	Cert  tls.Certificate
	Roots *x509.CertPool
	// now is the clock certificates are checked against (tests).
	now func() time.Time
}

// NewIdentity builds an Identity from PEM data, checking that the
// certificate is for role and chains to the CA.
func NewIdentity(role Role, caPEM, certPEM, keyPEM []byte) (*Identity, error) {
	ca, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
	}
	got, err := roleOf(leaf)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if got != role {
		return nil, fmt.Errorf("certificate is for a %s, not a %s", got, role)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	id := &Identity{Role: role, Cert: cert, Roots: roots, now: time.Now}
	if _, err := id.verify([][]byte{cert.Certificate[0]}, role); err != nil {
		return nil, fmt.Errorf("own certificate: %w", err)
	}
	return id, nil
}

// LoadIdentity reads an Identity from PEM files.
func LoadIdentity(role Role, caFile, certFile, keyFile string) (*Identity, error) {
	var data [3][]byte
	for i, f := range []string{caFile, certFile, keyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	return NewIdentity(role, data[0], data[1], data[2])
}

// ErrPeerRefused is wrapped by every handshake failure of a peer's
// certificate.
var ErrPeerRefused = errors.New("peer refused")

// verify checks a certificate chain against the CA, the clock and the
// expected role.
func (id *Identity) verify(raw [][]byte, want Role) (*x509.Certificate, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrPeerRefused)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPeerRefused, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	now := time.Now
	if id.now != nil {
		now = id.now
	}
	// Expiry is part of Verify (CurrentTime); any extended key usage is
	// accepted because either side may be the TLS server.
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots: id.Roots, Intermediates: inter, CurrentTime: now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPeerRefused, err)
	}
	got, err := roleOf(certs[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPeerRefused, err)
	}
	if got != want {
		return nil, fmt.Errorf("%w: certificate %q is for a %s; a %s must talk to a %s", ErrPeerRefused, certs[0].Subject.CommonName, got, id.Role, want)
	}
	return certs[0], nil
}

// verifyConn is the handshake check both sides run: the peer's chain, its
// expiry and its role, before a single application byte is read.
func (id *Identity) verifyConn(cs tls.ConnectionState) error {
	raw := make([][]byte, len(cs.PeerCertificates))
	for i, c := range cs.PeerCertificates {
		raw[i] = c.Raw
	}
	_, err := id.verify(raw, id.Role.Peer())
	return err
}

// ServerConfig is the TLS configuration of the side that listens: it
// demands a client certificate and checks it in the handshake.
func (id *Identity) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.Cert},
		// VerifyConnection refuses a client without a certificate (with
		// the same error as any other refusal), so none is required here.
		ClientAuth:       tls.RequestClientCert,
		VerifyConnection: id.verifyConn,
	}
}

// ClientConfig is the TLS configuration of the side that dials. The
// standard verification is replaced, not skipped: VerifyConnection checks
// the chain against the cluster's CA, its expiry and the peer's role. Host
// names are not checked (workers come and go at any address; the CA is
// the cluster's own and names only its members).
func (id *Identity) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{id.Cert},
		InsecureSkipVerify: true, // see VerifyConnection
		VerifyConnection:   id.verifyConn,
	}
}
