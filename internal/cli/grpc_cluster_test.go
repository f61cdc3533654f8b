package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
)

// grpcClusterSummary is what the distributed gRPC tests read of the JSON
// summary.
type grpcClusterSummary struct {
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	Status   map[string]int64 `json:"status"`
	Degraded bool             `json:"degraded"`
	Workers  []struct {
		State    string `json:"state"`
		Requests int64  `json:"requests"`
	} `json:"workers"`
}

func clusterJSON(t *testing.T, stdout string) grpcClusterSummary {
	t.Helper()
	var s grpcClusterSummary
	if err := json.Unmarshal([]byte(lastLine(stdout)), &s); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	return s
}

// TestDistributedAttackGRPC: quick-mode gRPC on three workers. The
// controller resolves the method once (the server sees one reflection
// stream, the workers none) and the merged counts by status are the
// server's: OK as 200, Unavailable (Flaky's every 10th call) as 503.
func TestDistributedAttackGRPC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	certs := certsDir(t)
	addr := freeAddr(t)
	res, exits := distributed(t, 3,
		[]string{"attack", "grpc://" + s.Addr(), "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`, "-H", "x-tenant: t1",
			"-n", "300", "-c", "6", "--workers", "3", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != ExitOK || exits[0] != 0 || exits[1] != 0 || exits[2] != 0 {
		t.Fatalf("controller exit %d, workers %v: %s", res.code, exits, res.err)
	}
	sum := clusterJSON(t, res.out)
	ok, unavailable := s.Calls(codes.OK), s.Calls(codes.Unavailable)
	if sum.Requests != 300 || sum.Status["200"] != ok || sum.Status["503"] != unavailable || unavailable != 30 ||
		sum.Failed != 30 || s.Tenanted() != 300 {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable, %d with x-tenant", sum, ok, unavailable, s.Tenanted())
	}
	if len(sum.Workers) != 3 || sum.Degraded {
		t.Fatalf("workers %+v, degraded %v", sum.Workers, sum.Degraded)
	}
	for i, w := range sum.Workers {
		if w.State != "ok" || w.Requests == 0 {
			t.Errorf("worker %d: %+v", i, w)
		}
	}
	if n := s.Reflections(); n != 1 {
		t.Errorf("the server saw %d reflection streams; want 1, the controller's", n)
	}
}

// TestDistributedGRPCUsage: an unknown method or a message the schema
// refuses is exit 2 at the controller, before it waits for a worker: the
// server answers no call.
func TestDistributedGRPCUsage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + s.Addr()
	dir := t.TempDir()
	unknown := writePlanFile(t, dir, "bad.yaml", url, `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Remove }
load: { clients: 1, iterations: 1 }
`)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown method", []string{"attack", url, "--call", "fuka.demo.Cart/Remove"}, "it has Add, Flaky"},
		{"bad message", []string{"attack", url, "--call", "fuka.demo.Cart/Add", "-b", `{"itme":"x"}`}, `unknown field "itme"`},
		{"unknown method in a plan", []string{"run", unknown}, "bad.yaml:5:15: grpc fuka.demo.Cart/Remove"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No worker comes: the controller must fail before waiting.
			args := append(tc.args, "--workers", "2", "--listen", freeAddr(t), "--insecure-no-tls", "--wait-workers", "10s", "-q", "--no-history", "--no-report")
			r := fuka(t, args...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
	if n := s.Calls(codes.OK) + s.Calls(codes.Unavailable) + s.Calls(codes.InvalidArgument); n != 0 {
		t.Fatalf("the server answered %d calls", n)
	}
}

// TestDistributedGRPCPlanProtos: a plan whose protos: file imports
// another, against a server without reflection, runs on two workers: the
// controller compiles the protos and ships them, with the import, as the
// job's schema (the workers get no .proto file), and fuka's counts are the
// server's. A plan resolved by reflection is resolved once, by the
// controller.
func TestDistributedGRPCPlanProtos(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.NoReflection)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, src := range map[string]string{
		"types.proto": `syntax = "proto3";
package fuka.demo;
message AddRequest { string item = 1; int32 quantity = 2; }
message AddReply { string item = 1; int32 quantity = 2; int64 total = 3; }
`,
		"cart.proto": `syntax = "proto3";
package fuka.demo;
import "types.proto";
service Cart {
  rpc Add(AddRequest) returns (AddReply);
  rpc Flaky(AddRequest) returns (AddReply);
  rpc Watch(AddRequest) returns (stream AddReply);
}
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const steps = `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: "i{{ client_id }}", quantity: 2 } }
        check: { json: { quantity: 2 } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: w, quantity: 3 }, expect: 3 }
        name: watch
load: { clients: 4, iterations: 10 }
`
	path := writePlanFile(t, dir, "p.yaml", "grpc://"+s.Addr(), "protos: [cart.proto]"+steps)
	certs := certsDir(t)
	addr := freeAddr(t)
	res, exits := distributed(t, 2,
		[]string{"run", path, "--workers", "2", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != ExitOK || exits[0] != 0 || exits[1] != 0 {
		t.Fatalf("controller exit %d, workers %v: %s", res.code, exits, res.err)
	}
	sum := clusterJSON(t, res.out)
	ok, unavailable := s.Calls(codes.OK), s.Calls(codes.Unavailable)
	// 4 clients × 10 iterations × (Flaky + Watch); every 10th Flaky fails.
	if sum.Requests != 80 || ok+unavailable != 80 || unavailable != 4 || sum.Status["200"] != ok || sum.Status["503"] != unavailable ||
		sum.Failed != unavailable || len(sum.Workers) != 2 || sum.Workers[0].Requests == 0 || sum.Workers[1].Requests == 0 {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable", sum, ok, unavailable)
	}

	// The same steps through server reflection: one stream per method, all
	// the controller's.
	r, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path = writePlanFile(t, dir, "r.yaml", "grpc://"+r.Addr(), steps)
	addr = freeAddr(t)
	res, exits = distributed(t, 2,
		[]string{"run", path, "--workers", "2", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != ExitOK || exits[0] != 0 || exits[1] != 0 {
		t.Fatalf("controller exit %d, workers %v: %s", res.code, exits, res.err)
	}
	sum = clusterJSON(t, res.out)
	if ok, unavailable = r.Calls(codes.OK), r.Calls(codes.Unavailable); sum.Requests != 80 || ok+unavailable != 80 || sum.Status["503"] != unavailable {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable", sum, ok, unavailable)
	}
	if n := r.Reflections(); n != 2 {
		t.Errorf("the server saw %d reflection streams; want 2, the controller's (one per method)", n)
	}
}
