package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
)

// TestAttackGRPC runs quick mode against the demo's gRPC service: the
// summary counts what the server answered, by status (OK 200, Unavailable
// 503), under the method's name, and a call's errors exit as HTTP's do.
func TestAttackGRPC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + s.Addr()
	r := runCLI(t, nil, "attack", url, "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`, "-H", "x-tenant: t1",
		"-n", "200", "-c", "4", "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	sum := lastJSON(t, r.out)
	if sum.Requests != 200 || sum.Status["200"] != s.Calls(codes.OK) || sum.Status["503"] != s.Calls(codes.Unavailable) ||
		sum.Status["503"] != 20 || sum.Failed != 20 || sum.Target != url || s.Tenanted() != 200 {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable, %d with x-tenant", sum, s.Calls(codes.OK), s.Calls(codes.Unavailable), s.Tenanted())
	}

	// Open model: each start is one call, latency from the intended start.
	before := s.Calls(codes.OK) + s.Calls(codes.Unavailable)
	r = runCLI(t, nil, "attack", url, "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`, "--rate", "100", "-d", "1s", "-q", "-o", "json")
	open := lastJSON(t, r.out)
	if r.code != ExitOK || open.Model != "open" || open.LatencyFrom != "intended" || open.Requests < 90 ||
		open.Requests != s.Calls(codes.OK)+s.Calls(codes.Unavailable)-before || open.Status["200"] != open.Requests {
		t.Fatalf("exit %d (%s): %+v; server answered %d", r.code, r.err, open, s.Calls(codes.OK)+s.Calls(codes.Unavailable)-before)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --call", []string{url}, ExitUsage, "--call pkg.Service/Method"},
		{"--call on http", []string{"http://127.0.0.1:1/", "--call", "a.B/C"}, ExitUsage, "needs a grpc:// or grpcs:// URL"},
		{"unknown method", []string{url, "--call", "fuka.demo.Cart/Remove"}, ExitUsage, "it has Add, Flaky"},
		{"bad message", []string{url, "--call", "fuka.demo.Cart/Add", "-b", `{"itme":"x"}`}, ExitUsage, `unknown field "itme"`},
		{"reserved metadata", []string{url, "--call", "fuka.demo.Cart/Add", "-H", "grpc-timeout: 1S"}, ExitUsage, "gRPC's own"},
		{"every call fails", []string{url, "--call", "fuka.demo.Cart/Add", "-n", "5", "-c", "1", "-q"}, ExitAllFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"attack"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, tc.code, tc.want)
			}
		})
	}
}

// TestRunGRPCPlan runs a plan with grpc: steps against the demo's gRPC
// service: templated messages and metadata, checks and extraction on the
// answer's JSON form, the server's counts equal to fuka's; and an unknown
// method is an error at its step before anything is sent.
func TestRunGRPCPlan(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := writePlanFile(t, dir, "grpc.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc:
          target: BASE
          service: fuka.demo.Cart
          method: Flaky
          message: { item: "tea-{{ client_id }}", quantity: 2 }
          metadata: { x-tenant: "t{{ client_id }}" }
        name: flaky
        check: { status: 200, json: { quantity: 2, item: "tea-0" } }
        extract: { total: "json:total" }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: "t{{ total }}" } }
        check: { body_regex: '"item":\s*"t[0-9]+"' }
load: { clients: 1, iterations: 20 }
`)
	r := fuka(t, "run", path, "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.err)
	}
	sum := planJSON(t, r.out)
	ok, bad := s.Calls(codes.OK), s.Calls(codes.Unavailable)
	if sum.Requests != 40 || ok+bad != 40 || bad != 2 || sum.Failed != bad || s.Tenanted() != 20 {
		t.Fatalf("fuka: %d calls, %d failed; server: %d OK, %d Unavailable, %d with x-tenant", sum.Requests, sum.Failed, ok, bad, s.Tenanted())
	}
	want := map[string][2]int64{
		"flaky: status is 200": {18, 2}, "flaky: json quantity == 2": {18, 2}, `flaky: json item == "tea-0"`: {18, 2},
	}
	for _, c := range sum.Checks {
		if w, ok := want[c.Name]; ok && (c.Passes != w[0] || c.Fails != w[1]) {
			t.Errorf("check %s: %d passes, %d fails; want %v", c.Name, c.Passes, c.Fails, w)
		}
		if strings.Contains(c.Name, "body matches") && c.Passes < 18 {
			t.Errorf("check %s: %d passes: the extracted total did not reach the next message", c.Name, c.Passes)
		}
	}
	if len(sum.Checks) != 4 {
		t.Errorf("checks %+v", sum.Checks)
	}

	// A rendered message the schema refuses is not sent: an invalid request.
	inv := writePlanFile(t, dir, "inv.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: x, quantity: "{{ client_id }}x" } }
load: { clients: 1, iterations: 3 }
`)
	calls := s.Calls(codes.OK)
	r = fuka(t, "run", inv, "-q", "-o", "json")
	if r.code != ExitAllFailed || s.Calls(codes.OK) != calls || !strings.Contains(r.out, `"invalid":3`) {
		t.Fatalf("exit %d, server calls %d, stdout %s", r.code, s.Calls(codes.OK)-calls, r.out)
	}

	bad1 := writePlanFile(t, dir, "bad.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Remove }
load: { clients: 1, iterations: 1 }
`)
	before := s.Calls(codes.OK)
	r = fuka(t, "run", bad1, "-q")
	if r.code != ExitUsage || !strings.Contains(r.err, "bad.yaml:5:15: grpc fuka.demo.Cart/Remove") || !strings.Contains(r.err, "it has Add, Flaky") || s.Calls(codes.OK) != before {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}

	// With the schema from reflection, a message that can never fit (an
	// unknown field beside a template) is an error at it before the run,
	// as with protos:.
	bad2 := writePlanFile(t, dir, "bad2.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: "{{ client_id }}", qty: 2 } }
load: { clients: 1, iterations: 1 }
`)
	r = fuka(t, "run", bad2, "-q")
	col := strings.Index(strings.Split(fileText(t, bad2), "\n")[4], "{ item") + 1 // the address sets the column
	if want := fmt.Sprintf(`bad2.yaml:5:%d: grpc message for fuka.demo.Cart.Add (fuka.demo.AddRequest): proto: unknown field "qty"`, col); r.code != ExitUsage ||
		!strings.Contains(r.err, want) || s.Calls(codes.OK) != before {
		t.Fatalf("exit %d, stderr %q; want %q", r.code, r.err, want)
	}
}

// TestRunGRPCProtos: with protos:, a plan's grpc: steps take their schema
// from the local .proto (the server here has no reflection), and fuka validate places
// an unknown method at its step without reaching the target.
func TestRunGRPCProtos(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.NoReflection)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cart.proto"), []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, dir, "p.yaml", "grpc://"+s.Addr(), `
protos: [cart.proto]
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: "i{{ client_id }}" } }
        check: { json: { item: "i0", quantity: 1 } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: w, quantity: 5 }, expect: 3 }
        name: watch
        check: { json: { quantity: 1 } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: w, quantity: 2 }, expect: 3 }
        name: short
load: { clients: 1, iterations: 5 }
`)
	r := fuka(t, "run", path, "-q", "-o", "json")
	sum := planJSON(t, r.out)
	got := map[string][2]int64{}
	for _, c := range sum.Checks {
		got[c.Name] = [2]int64{c.Passes, c.Fails}
	}
	if r.code != ExitOK || sum.Requests != 15 || sum.Failed != 0 || got["fuka.demo.Cart/Add: json item == \"i0\""] != [2]int64{5, 0} ||
		got["watch: 3 answers"] != [2]int64{5, 0} || got["watch: json quantity == 1"] != [2]int64{5, 0} || got["short: 3 answers"] != [2]int64{0, 5} {
		t.Fatalf("exit %d (%s): %+v; server %d OK", r.code, r.err, sum, s.Calls(codes.OK))
	}
	bad := writePlanFile(t, dir, "bad.yaml", "grpc://127.0.0.1:1", `
protos: [cart.proto]
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Remove }
load: { clients: 1, iterations: 1 }
`)
	r = fuka(t, "validate", bad)
	if r.code != ExitUsage || !strings.Contains(r.err, "bad.yaml:6:78: grpc method \"Remove\": service fuka.demo.Cart has Add, Flaky") {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
