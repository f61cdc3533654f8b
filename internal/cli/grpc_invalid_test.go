package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/demo"
)

// TestRunGRPCInvalidMessageSaid: a templated message the schema refuses
// once rendered is not sent, and the summary says why in words: the field
// and the value in a warning, the kind as invalid (not a transport
// error), and that each closed-model client paused after each, which is
// why so few calls were made.
func TestRunGRPCInvalidMessageSaid(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, t.TempDir(), "inv.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: x, quantity: "{{ randInt 1 3 }}x" } }
        name: add
load: { clients: 1, iterations: 2 }
`)
	r := fuka(t, "run", path)
	if r.code != ExitAllFailed {
		t.Fatalf("exit %d, stderr %s", r.code, r.err)
	}
	for _, want := range []string{
		"not sent (invalid): add: bad message: ",
		"quantity",
		"paused 1 s",
		"every request failed: invalid, not sent (2) — the values rendered into the request could not be sent",
		"2 invalid (not sent), 0 transport errors",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.out)
		}
	}
}

// TestAttackGRPCAllFailedSaysServer: when every call fails, the warning
// carries the server's status message, and in quick mode without -b says
// that the message sent was empty.
func TestAttackGRPCAllFailedSaysServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + s.Addr()
	for _, tc := range []struct {
		name       string
		body       []string
		want, lack string
	}{
		{"no -b", nil, `every request failed: gRPC InvalidArgument (5) — the server said InvalidArgument "item is required"; the message sent was empty ({})`, ""},
		{"-b without item", []string{"-b", `{"quantity":1}`}, `every request failed: gRPC InvalidArgument (5) — the server said InvalidArgument "item is required"`, "was empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"attack", url, "--call", "fuka.demo.Cart/Add", "-n", "5", "-c", "1"}, tc.body...)
			r := runCLI(t, nil, args...)
			if r.code != ExitAllFailed || !strings.Contains(r.out+r.err, tc.want) || (tc.lack != "" && strings.Contains(r.out+r.err, tc.lack)) {
				t.Fatalf("exit %d; want %q without %q in\n%s\n%s", r.code, tc.want, tc.lack, r.out, r.err)
			}
		})
	}
}

// TestRunGRPCAllFailedSaysServer: a plan's all-failed warning carries the
// server's status message too.
func TestRunGRPCAllFailedSaysServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, t.TempDir(), "noitem.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { quantity: 1 } }
load: { clients: 1, iterations: 3 }
`)
	r := fuka(t, "run", path)
	want := `every request failed: gRPC InvalidArgument (3) — the server said InvalidArgument "item is required"`
	if r.code != ExitAllFailed || !strings.Contains(r.out, want) {
		t.Fatalf("exit %d; want %q in\n%s\n%s", r.code, want, r.out, r.err)
	}
}

// TestAttackGRPCDotCallName: --call pkg.Service.Method (grpcurl's form) is
// the same method as pkg.Service/Method, and records under the same name
// and method, so history, compare and thresholds see one call.
func TestAttackGRPCDotCallName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + s.Addr()
	for _, call := range []string{"fuka.demo.Cart/Add", "fuka.demo.Cart.Add", "/fuka.demo.Cart/Add"} {
		r := runCLI(t, nil, "attack", url, "--call", call, "-b", `{"item":"tea"}`, "-n", "3", "-c", "1", "-q", "-o", "json")
		var sum struct {
			Method string `json:"method"`
			Names  []struct {
				Name string `json:"name"`
			} `json:"requests_by_name"`
		}
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
			t.Fatalf("--call %s: exit %d, %v: %s %s", call, r.code, err, r.out, r.err)
		}
		if r.code != ExitOK || sum.Method != "fuka.demo.Cart/Add" || len(sum.Names) != 1 || sum.Names[0].Name != "fuka.demo.Cart/Add" {
			t.Errorf("--call %s: exit %d, method %q, names %+v", call, r.code, sum.Method, sum.Names)
		}
	}
}
