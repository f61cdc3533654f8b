package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
)

// runExampleOnDemo runs examples/NAME against a demo target of its own,
// with the replacements (old, new, ...) that make it short; each must
// apply, so an edit of the example that drops one fails here instead of
// running for 30 s. It returns the JSON summary, its requests by name,
// and the target.
func runExampleOnDemo(t *testing.T, name string, replace ...string) (planSummary, map[string]nameCount, *demo.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(src, replace[i]) {
			t.Fatalf("examples/%s no longer has %q, which this test replaces", name, replace[i])
		}
		src = strings.ReplaceAll(src, replace[i], replace[i+1])
	}
	src = strings.ReplaceAll(src, "127.0.0.1:8080", srv.Addr())
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fuka(t, "run", path, "-q", "-o", "json", "--no-report", "--no-history")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stdout %s, stderr %s", r.code, r.out, r.err)
	}
	var by struct {
		ByName []nameCount `json:"requests_by_name"`
	}
	lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &by); err != nil {
		t.Fatal(err)
	}
	m := map[string]nameCount{}
	for _, n := range by.ByName {
		m[n.Name] = n
	}
	return planJSON(t, r.out), m, srv
}

type nameCount struct {
	Name     string
	Requests int64
	Failed   int64
	Status   map[string]int64
}

// TestWebSocketExampleOnDemo runs examples/websocket.yaml (3 clients, 2
// iterations, with scenario thresholds added): the scenario's row is the
// sum of its steps' rows, the handshakes, round trips and every: sends,
// and its thresholds read that row.
func TestWebSocketExampleOnDemo(t *testing.T) {
	sum, by, _ := runExampleOnDemo(t, "websocket.yaml",
		"load: { clients: 50, duration: 30s }", "load: { clients: 3, iterations: 2 }\nthresholds: ['chat.requests >= 36', 'chat.error_rate < 1%']",
		"think: 200ms..1s", "think: 10ms", "every: { period: 2s,", "every: { period: 10ms,")
	join, say, every := by["join"], by["say"], by["join every"]
	if join.Requests != 6 || say.Requests != 30 || every.Requests <= 0 {
		t.Errorf("join %d, say %d, join every %d; want 6 handshakes, 30 round trips, some every: sends", join.Requests, say.Requests, every.Requests)
	}
	if len(sum.Scenarios) != 1 {
		t.Fatalf("scenario rows %+v, want chat's", sum.Scenarios)
	}
	chat := sum.Scenarios[0]
	want := join.Requests + say.Requests + every.Requests
	if chat.Name != "chat" || chat.Requests != want || chat.Requests != sum.Requests || chat.Failed != 0 ||
		chat.Status["101"] != join.Requests || chat.Status["200"] != say.Requests+every.Requests {
		t.Errorf("scenario row %+v; want %d requests (join %d + say %d + join every %d), the run's %d", chat, want, join.Requests, say.Requests, every.Requests, sum.Requests)
	}
	for _, th := range sum.Thresholds {
		if !th.Pass {
			t.Errorf("threshold %s: %s", th.Expr, th.Detail)
		}
	}
}

// TestGRPCExampleOnDemo runs examples/grpc.yaml (4 clients, 5 iterations
// each instead of 20 for 30 s): its calls are the demo target's, its
// checks and thresholds hold, the flaky method's failures are the
// server's UNAVAILABLE answers.
func TestGRPCExampleOnDemo(t *testing.T) {
	sum, by, srv := runExampleOnDemo(t, "grpc.yaml",
		"load: { clients: 20, duration: 30s }", "load: { clients: 4, iterations: 5 }",
		"think: 200ms..1s", "think: 1ms")
	g := srv.GRPC()
	add, watch, flaky := by["add"], by["watch"], by["flaky"]
	if add.Requests != 20 || watch.Requests != 20 || flaky.Requests != 20 || sum.Requests != 60 {
		t.Errorf("calls add %d, watch %d, flaky %d, all %d; want 20 each", add.Requests, watch.Requests, flaky.Requests, sum.Requests)
	}
	if ok, bad := g.Calls(codes.OK), g.Calls(codes.Unavailable); ok+bad != sum.Requests || g.Total() != sum.Requests ||
		bad != flaky.Status["503"] || bad != 2 || g.Tenanted() != add.Requests {
		t.Errorf("server: %d OK, %d UNAVAILABLE of %d, %d with x-tenant; fuka: %d calls, flaky %v", ok, bad, g.Total(), g.Tenanted(), sum.Requests, flaky.Status)
	}
	want := map[string][2]int64{
		"add: status is 200": {20, 0}, "add: json quantity == 2": {20, 0}, "add: json total exists": {20, 0},
		"watch: 3 answers": {20, 0}, "watch: json quantity == 1": {20, 0}, "flaky: status is 200": {18, 2},
	}
	for _, c := range sum.Checks {
		if w := want[c.Name]; c.Passes != w[0] || c.Fails != w[1] {
			t.Errorf("check %s: %d passed, %d failed; want %v", c.Name, c.Passes, c.Fails, w)
		}
	}
	if len(sum.Checks) != len(want) || len(sum.Thresholds) != 3 {
		t.Errorf("checks %+v, thresholds %+v", sum.Checks, sum.Thresholds)
	}
	// No base_url: the target is the one the grpc: steps name.
	if want := "grpc://" + srv.Addr(); sum.Target != want || sum.Targets != nil {
		t.Errorf("target %q, targets %q; want %q", sum.Target, sum.Targets, want)
	}
}

// TestMixedExampleOnDemo runs examples/mixed.yaml (3 clients, 4
// iterations): each protocol's count is what the demo target saw.
func TestMixedExampleOnDemo(t *testing.T) {
	sum, by, srv := runExampleOnDemo(t, "mixed.yaml",
		"load: { clients: 20, duration: 30s }", "load: { clients: 3, iterations: 4 }",
		"think: 500ms..2s", "think: 1ms")
	const n = 12
	for _, name := range []string{"login", "join", "say", "cart", "announce"} {
		if st := by[name]; st.Requests != n || st.Status["200"]+st.Status["101"] != n {
			t.Errorf("%s: %d requests %v, want %d answered", name, st.Requests, st.Status, n)
		}
	}
	conns, msgs := srv.WebSocket()
	if srv.Served() != n*2 || conns != n || msgs != n*2 || srv.GRPC().Calls(codes.OK) != n || sum.Requests != n*5 {
		t.Errorf("server: %d HTTP requests (with handshakes), %d connections, %d messages, %d gRPC calls; fuka %d requests",
			srv.Served(), conns, msgs, srv.GRPC().Calls(codes.OK), sum.Requests)
	}
	for _, th := range sum.Thresholds {
		if !th.Pass {
			t.Errorf("threshold %s: %s", th.Expr, th.Detail)
		}
	}
	if len(sum.Thresholds) != 3 || len(sum.Checks) != 4 {
		t.Errorf("checks %+v, thresholds %+v", sum.Checks, sum.Thresholds)
	}
	// The scenario's row holds all of its steps: HTTP, WebSocket and gRPC.
	if len(sum.Scenarios) != 1 || sum.Scenarios[0].Name != "shopper" || sum.Scenarios[0].Requests != n*5 ||
		sum.Scenarios[0].Status["101"] != n || sum.Scenarios[0].Status["200"] != n*4 {
		t.Errorf("scenario rows %+v, want shopper's with %d requests: %d handshakes (101), %d 200s", sum.Scenarios, n*5, n, n*4)
	}
	// base_url (its HTTP and ws: steps) and the grpc: steps' target.
	if want := []string{"http://" + srv.Addr(), "grpc://" + srv.Addr()}; sum.Target != "2 targets" || !slices.Equal(sum.Targets, want) {
		t.Errorf("target %q, targets %q; want 2 targets, %q", sum.Target, sum.Targets, want)
	}
}
