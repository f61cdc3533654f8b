package cli

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/internal/testcert"
)

// TestAttackGRPCProto: quick mode's --proto takes the schema from .proto
// files, so a server without reflection can be loaded (fuka's counts are
// the server's), and a method or message the files do not have is exit 2,
// naming the files, with nothing sent.
func TestAttackGRPCProto(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.NoReflection)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cart := write("cart.proto", demo.CartProto)
	write("api/fuka/msgs.proto", "syntax = \"proto3\";\npackage fuka.demo;\nmessage AddRequest { string item = 1; int32 quantity = 2; }\nmessage AddReply { string item = 1; int32 quantity = 2; int64 total = 3; }\n")
	svc := write("api/fuka/cart.proto", "syntax = \"proto3\";\npackage fuka.demo;\nimport \"fuka/msgs.proto\";\nservice Cart { rpc Flaky(AddRequest) returns (AddReply); }\n")
	bad := write("bad.proto", "syntax = \"proto3\";\npackage fuka.demo;\nservice Cart { rpc Add(AddRequest) returns (AddReply) }\n")
	url := "grpc://" + s.Addr()

	r := runCLI(t, nil, "attack", url, "--proto", cart, "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`, "-n", "60", "-c", "3", "-q", "-o", "json")
	sum := lastJSON(t, r.out)
	if r.code != ExitOK || sum.Requests != 60 || sum.Status["200"] != s.Calls(codes.OK) || s.Calls(codes.OK) != 60 {
		t.Fatalf("exit %d (%s): %+v; server %d OK", r.code, r.err, sum, s.Calls(codes.OK))
	}
	// Imports found through --import-path.
	r = runCLI(t, nil, "attack", url, "--proto", svc, "--import-path", filepath.Join(dir, "api"), "--call", "fuka.demo.Cart/Flaky",
		"-b", `{"item":"tea"}`, "-n", "40", "-c", "2", "-q", "-o", "json")
	sum = lastJSON(t, r.out)
	if r.code != ExitOK || sum.Requests != 40 || sum.Status["503"] != s.Calls(codes.Unavailable) || sum.Status["503"] != 4 || sum.Status["200"] != 36 {
		t.Fatalf("exit %d (%s): %+v; server %d Unavailable", r.code, r.err, sum, s.Calls(codes.Unavailable))
	}

	before := s.Calls(codes.OK) + s.Calls(codes.Unavailable) + s.Calls(codes.InvalidArgument)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown service", []string{"--proto", cart, "--call", "fuka.demo.Kart/Add"}, "service fuka.demo.Kart is not in " + cart + " (they have fuka.demo.Cart)"},
		{"unknown method", []string{"--proto", cart, "--call", "fuka.demo.Cart/Remove"}, "service fuka.demo.Cart has no method Remove (it has Add, Flaky, Watch)"},
		{"message does not fit", []string{"--proto", cart, "--call", "fuka.demo.Cart/Add", "-b", `{"quantity":"many"}`}, "(the schema from " + cart + ")"},
		{"syntax error at its place", []string{"--proto", bad, "--call", "fuka.demo.Cart/Add"}, bad + ":3:55: syntax error: expecting ';'"},
		{"import not found", []string{"--proto", svc, "--call", "fuka.demo.Cart/Flaky"}, svc + ":3:8: "},
		{"no such file", []string{"--proto", filepath.Join(dir, "nope.proto"), "--call", "fuka.demo.Cart/Add"}, "nope.proto: no such file"},
		{"import path alone", []string{"--import-path", dir, "--call", "fuka.demo.Cart/Add"}, "--import-path: give the .proto files with --proto FILE"},
		{"reflection missing says --proto", []string{"--call", "fuka.demo.Cart/Add"}, "give the schema in .proto files: --proto FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"attack", url, "-n", "5", "-q"}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
	if r := runCLI(t, nil, "attack", "http://127.0.0.1:1/", "--proto", cart, "-n", "1"); r.code != ExitUsage || !strings.Contains(r.err, "for gRPC targets") {
		t.Fatalf("--proto on http: exit %d, stderr %q", r.code, r.err)
	}
	if after := s.Calls(codes.OK) + s.Calls(codes.Unavailable) + s.Calls(codes.InvalidArgument); after != before {
		t.Fatalf("the refused runs sent %d calls", after-before)
	}
}

// TestAttackGRPCTLS: grpcs:// against a server with a throwaway CA's
// certificate: --cacert trusts it, --insecure skips the check, and without
// either every call fails the handshake (exit 3, errors of kind tls). A
// server that requires client certificates takes --client-cert and
// --client-key and refuses a client without them. The schema comes from
// server reflection over the same TLS, or from --proto.
func TestAttackGRPCTLS(t *testing.T) {
	cs := testcert.New(t)
	dir := t.TempDir()
	cart := filepath.Join(dir, "cart.proto")
	if err := os.WriteFile(cart, []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T, mtls bool) *demo.GRPCServer {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		conf := &tls.Config{Certificates: []tls.Certificate{cs.Server}}
		if mtls {
			conf.ClientAuth, conf.ClientCAs = tls.RequireAndVerifyClientCert, cs.Pool
		}
		s, err := demo.StartGRPCTLS(ctx, "127.0.0.1:0", conf)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	client := []string{"--client-cert", cs.CertFile, "--client-key", cs.KeyFile}
	for _, tc := range []struct {
		name string
		mtls bool
		args []string
		code int
		want string // the error kinds every call failed with (a|b), or part of stderr for exit 2
	}{
		{"cacert", false, []string{"--cacert", cs.CAFile}, ExitOK, ""},
		{"cacert and proto", false, []string{"--cacert", cs.CAFile, "--proto", cart}, ExitOK, ""},
		{"insecure", false, []string{"--insecure"}, ExitOK, ""},
		{"unknown CA, proto", false, []string{"--proto", cart}, ExitAllFailed, "tls"},
		{"unknown CA, reflection", false, nil, ExitUsage, "certificate signed by unknown authority\" (trust the server's CA with --cacert FILE"},
		{"insecure and proto", false, []string{"--insecure", "--proto", cart}, ExitOK, ""},
		{"mtls", true, append([]string{"--cacert", cs.CAFile}, client...), ExitOK, ""},
		{"mtls and proto", true, append([]string{"--cacert", cs.CAFile, "--proto", cart}, client...), ExitOK, ""},
		// In TLS 1.3 the server refuses the missing certificate after the
		// client's side of the handshake: the client reads the alert (tls)
		// or, when its first write loses the race with the server's close,
		// a broken pipe (reset), as an HTTPS client does.
		{"mtls without a client certificate", true, []string{"--cacert", cs.CAFile, "--proto", cart}, ExitAllFailed, "tls|reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.mtls)
			args := append([]string{"attack", "grpcs://" + s.Addr(), "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`,
				"-n", "20", "-c", "2", "--timeout", "5s", "-q", "-o", "json"}, tc.args...)
			r := runCLI(t, nil, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.err)
			}
			if tc.code == ExitUsage {
				if !strings.Contains(r.err, tc.want) || s.Calls(codes.OK) != 0 {
					t.Fatalf("stderr %q, want %q; server %d OK", r.err, tc.want, s.Calls(codes.OK))
				}
				return
			}
			sum, _ := grpcSummary(t, r.out)
			if tc.want != "" {
				kinds := int64(0)
				for k := range strings.SplitSeq(tc.want, "|") {
					kinds += sum.Errors[k]
				}
				if sum.Requests != 20 || kinds != 20 || s.Calls(codes.OK) != 0 {
					t.Fatalf("%+v; server %d OK", sum, s.Calls(codes.OK))
				}
				return
			}
			if sum.Requests != 20 || sum.Status["200"] != 20 || s.Calls(codes.OK) != 20 {
				t.Fatalf("%+v; server %d OK", sum, s.Calls(codes.OK))
			}
		})
	}
}

// TestDistributedAttackGRPCProto: with --proto the controller compiles
// the files and ships the schema: two workers load a server without
// reflection, and the merged counts are the server's.
func TestDistributedAttackGRPCProto(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.NoReflection)
	if err != nil {
		t.Fatal(err)
	}
	cart := filepath.Join(t.TempDir(), "cart.proto")
	if err := os.WriteFile(cart, []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	certs := certsDir(t)
	addr := freeAddr(t)
	res, exits := distributed(t, 2,
		[]string{"attack", "grpc://" + s.Addr(), "--proto", cart, "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`,
			"-n", "100", "-c", "4", "--workers", "2", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != ExitOK || exits[0] != 0 || exits[1] != 0 {
		t.Fatalf("controller exit %d, workers %v: %s", res.code, exits, res.err)
	}
	sum := clusterJSON(t, res.out)
	if ok, bad := s.Calls(codes.OK), s.Calls(codes.Unavailable); sum.Requests != 100 || sum.Status["200"] != ok || sum.Status["503"] != bad || bad != 10 || len(sum.Workers) != 2 {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable", sum, ok, bad)
	}
}

// TestAttackGRPCReflectionV1Alpha: a server that offers server reflection
// only under its older name is loaded as one offering v1.
func TestAttackGRPCReflectionV1Alpha(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.ReflectionV1Alpha)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "attack", "grpc://"+s.Addr(), "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`, "-n", "30", "-c", "2", "-q", "-o", "json")
	if sum := lastJSON(t, r.out); r.code != ExitOK || sum.Requests != 30 || sum.Status["200"] != 30 || s.Calls(codes.OK) != 30 {
		t.Fatalf("exit %d (%s): %+v; server %d OK", r.code, r.err, sum, s.Calls(codes.OK))
	}
}
