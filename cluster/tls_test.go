package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

type testIDs struct {
	ca                 *CA
	controller, worker *Identity
}

// newIDs makes a CA and a controller and a worker identity from it.
func newIDs(t testing.TB) testIDs {
	t.Helper()
	ca := newCA(t)
	return testIDs{ca: ca, controller: issue(t, ca, ca, RoleController, time.Hour), worker: issue(t, ca, ca, RoleWorker, time.Hour)}
}

func newCA(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCA("test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issue makes an identity for role with a certificate from issuer, valid
// from an hour ago for validFor (negative: already expired), trusting
// trust's certificate.
func issue(t testing.TB, issuer, trust *CA, role Role, validFor time.Duration) *Identity {
	t.Helper()
	now := time.Now()
	cert, key, err := issuer.Issue(role, "test "+string(role), []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(validFor))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _, err := trust.PEM()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewIdentity(role, caPEM, cert, key)
	if err != nil {
		// Expired or foreign certificates do not make an Identity (it
		// checks its own); build one by hand to present them.
		id = &Identity{Role: role, Cert: pair, Roots: mustPool(t, trust)}
	}
	return id
}

func mustPool(t testing.TB, ca *CA) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func TestRoleURI(t *testing.T) {
	ca := newCA(t)
	for _, r := range []Role{RoleController, RoleWorker} {
		cert, key, err := ca.Issue(r, "x", nil, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		caPEM, _, _ := ca.PEM()
		if _, err := NewIdentity(r, caPEM, cert, key); err != nil {
			t.Errorf("%s: %v", r, err)
		}
		if _, err := NewIdentity(r.Peer(), caPEM, cert, key); err == nil {
			t.Errorf("a %s certificate loaded as a %s", r, r.Peer())
		}
	}
}

// TestHandshakeRefusals: a peer with no certificate, another CA's, an
// expired one or the wrong role is refused in the TLS handshake: the
// listening side never sees a session, let alone a message.
func TestHandshakeRefusals(t *testing.T) {
	ids := newIDs(t)
	other := newCA(t)
	cases := []struct {
		name   string
		server *tls.Config // the listening side
		client *tls.Config // the dialing side
		want   string      // in the refusal
	}{
		{"no certificate", ids.controller.ServerConfig(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}, "no certificate"},
		{"another CA", ids.controller.ServerConfig(), issue(t, other, ids.ca, RoleWorker, time.Hour).ClientConfig(), "unknown authority"},
		{"expired", ids.controller.ServerConfig(), issue(t, ids.ca, ids.ca, RoleWorker, -time.Minute).ClientConfig(), "expired"},
		{"wrong role", ids.controller.ServerConfig(), ids.controller.ClientConfig(), "is for a controller"},
		{"controller with a worker certificate dials a worker", ids.worker.ServerConfig(), ids.worker.ClientConfig(), "is for a worker"},
		// The dialer refuses a listener with the wrong role, too: a worker
		// dials an impostor holding a worker certificate.
		{"listener with the wrong role", &tls.Config{Certificates: []tls.Certificate{ids.worker.Cert}, MinVersion: tls.VersionTLS13}, ids.worker.ClientConfig(), "peer refused: certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var sessions, msgs atomic.Int32
			refused := make(chan error, 4)
			srvCfg := tc.server
			if verify := srvCfg.VerifyConnection; verify != nil {
				srvCfg.VerifyConnection = func(cs tls.ConnectionState) error {
					err := verify(cs)
					if err != nil {
						refused <- err
					}
					return err
				}
			}
			srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(srvCfg)))
			fukapb.RegisterClusterServer(srv, handler{accept: func(se *session) {
				sessions.Add(1)
				go func() {
					for {
						if _, err := se.s.Recv(); err != nil {
							return
						}
						msgs.Add(1)
					}
				}()
			}})
			go srv.Serve(ln)
			defer srv.Stop()

			cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(tc.client)))
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var sendErr error
			s, err := fukapb.NewClusterClient(cc).Session(ctx)
			if err == nil {
				sendErr = s.Send(msgHello(&fukapb.Hello{Name: "intruder"}))
				_, err = s.Recv()
			}
			if err == nil {
				t.Fatalf("session worked (send err %v)", sendErr)
			}
			if n, m := sessions.Load(), msgs.Load(); n != 0 || m != 0 {
				t.Errorf("the listener got %d sessions and %d messages; want none", n, m)
			}
			// Whichever side checked first refused: the listener (its
			// check's error) or the dialer (in the error it got).
			t.Logf("dialer: %v", err)
			var why string
			select {
			case rerr := <-refused:
				if !errors.Is(rerr, ErrPeerRefused) {
					t.Errorf("listener refused with %v, not ErrPeerRefused", rerr)
				}
				why = rerr.Error()
			default:
				why = err.Error()
			}
			if !strings.Contains(why, tc.want) {
				t.Errorf("refused with %q, want it to mention %q", why, tc.want)
			}
		})
	}
}
