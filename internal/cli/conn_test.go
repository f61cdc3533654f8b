package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fuka-load/fuka/internal/testcert"
)

// TestAttackConn: --client-cert, --client-key and --cacert reach a server that requires
// a client certificate; --http1 and --http2 choose the version; --http2 to
// a server without h2c fails every request with one line that says so.
func TestAttackConn(t *testing.T) {
	cs := testcert.New(t)
	var protos = make(chan string, 100)
	tlsSrv := cs.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case protos <- r.Proto:
		default:
		}
	}), true)
	plain := newTarget(t)
	cert := []string{"--client-cert", cs.CertFile, "--client-key", cs.KeyFile, "--cacert", cs.CAFile}
	tests := []struct {
		name  string
		args  []string
		code  int
		proto string // what the server saw, when the requests passed
		want  string // in stderr
	}{
		{"client certificate: h2 by ALPN", append([]string{tlsSrv.URL}, cert...), ExitOK, "HTTP/2.0", ""},
		{"--http1", append([]string{tlsSrv.URL, "--http1"}, cert...), ExitOK, "HTTP/1.1", ""},
		// HTTP/1.1: over h2 the refusal may also come as a reset (see
		// client.TestTransportTLS).
		{"--cacert without a client certificate", []string{tlsSrv.URL, "--http1", "--cacert", cs.CAFile}, ExitAllFailed, "", "TLS handshake failed"},
		{"--http2 to a server without h2c", []string{plain.URL, "--http2"}, ExitAllFailed, "", "the server does not speak h2c"},
		{"--http1 and --http2", []string{plain.URL, "--http1", "--http2"}, ExitUsage, "", "--http1 and --http2: give one"},
		{"--client-cert without --client-key", []string{tlsSrv.URL, "--client-cert", cs.CertFile}, ExitUsage, "", "needs its key"},
		{"--cacert not PEM", []string{tlsSrv.URL, "--cacert", cs.KeyFile}, ExitUsage, "", "no PEM certificate"},
		{"--key missing", []string{tlsSrv.URL, "--client-cert", cs.CertFile, "--client-key", cs.KeyFile + ".nope"}, ExitUsage, "", "--client-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for len(protos) > 0 {
				<-protos
			}
			args := append([]string{"attack", "-n", "3", "-c", "1", "-q", "--no-report", "--no-history", "-o", "json"}, tt.args...)
			r := runCLI(t, nil, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.err)
			}
			if tt.want != "" && !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q, want %q in it", r.err, tt.want)
			}
			if tt.proto != "" {
				if got := <-protos; got != tt.proto {
					t.Errorf("server saw %s, want %s", got, tt.proto)
				}
			}
		})
	}
}

// TestRunConn: fuka run and validate take the same flags: the command
// line's certificate reaches the target, and a bad one is an input error
// before anything is sent.
func TestRunConn(t *testing.T) {
	cs := testcert.New(t)
	var served atomic.Int64
	srv := cs.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) }), true)
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	src := "base_url: " + srv.URL + "\nscenarios:\n  s:\n    steps: [ { get: / } ]\nload: { clients: 1, iterations: 2 }\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cert := []string{"--client-cert", cs.CertFile, "--client-key", cs.KeyFile, "--cacert", cs.CAFile}
	tests := []struct {
		name   string
		args   []string
		code   int
		served int64
		want   string
	}{
		{"run with the certificate", append([]string{"run", path}, cert...), ExitOK, 2, ""},
		{"run without it", []string{"run", path, "--http1", "--cacert", cs.CAFile}, ExitAllFailed, 0, "TLS handshake failed"},
		{"validate a key without its certificate", []string{"validate", path, "--client-key", cs.KeyFile}, ExitUsage, 0, "needs its certificate"},
		{"run --http1 --http2", []string{"run", path, "--http1", "--http2"}, ExitUsage, 0, "--http1 and --http2: give one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served.Store(0)
			args := tt.args
			if args[0] == "run" {
				args = append(args, "-q", "--no-report", "--no-history", "-o", "json")
			}
			r := runCLI(t, nil, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.err)
			}
			if tt.want != "" && !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q, want %q in it", r.err, tt.want)
			}
			if n := served.Load(); n != tt.served {
				t.Errorf("server answered %d requests, want %d", n, tt.served)
			}
		})
	}
}
