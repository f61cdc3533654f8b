package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
)

// TestGRPCReportWording: what a gRPC run's summary says is true for gRPC,
// from quick mode and from a plan that mixes HTTP, gRPC and WebSocket
// steps: the transport, failed calls as non-OK codes, each status with
// its code's name, and each name's protocol in the JSON.
func TestGRPCReportWording(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(demo.Handler())
	t.Cleanup(web.Close)
	dir := t.TempDir()
	plan := writePlanFile(t, dir, "mixed.yaml", web.URL, `
base_url: BASE
scenarios:
  shop:
    steps:
      - get: /
        name: home
      - grpc: { target: grpc://`+g.Addr()+`, service: fuka.demo.Cart, method: Flaky, message: { item: tea } }
        name: flaky
      - ws: /ws/echo
        name: chat connect
      - send: hi
        name: chat
        expect: { contains: hi }
        timeout: 2s
      - close: 1000
load: { clients: 1, iterations: 20 }
`)
	for _, tc := range []struct {
		name      string
		args      []string
		failed    string   // the text's failed row, from its counts
		transport string   // text and JSON
		protocols []string // requests_by_name[].protocol, by name
	}{
		{"quick mode", []string{"attack", "grpc://" + g.Addr(), "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`, "-n", "100", "-c", "2"},
			"10 (10.00%): 10 gRPC non-OK, 0 transport errors", "grpc", []string{"grpc"}},
		{"mixed plan", []string{"run", plan},
			"2 (2.50%): 0 HTTP ≥ 400, 2 gRPC non-OK, 0 transport errors", "net/http+grpc", []string{"", "grpc", "ws", "ws"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Calls(codes.Unavailable)
			js := filepath.Join(dir, "out.json")
			r := runCLI(t, nil, append(tc.args, "--json-out", js)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			if n := g.Calls(codes.Unavailable) - before; n != 10 && tc.name == "quick mode" || n != 2 && tc.name == "mixed plan" {
				t.Fatalf("the server answered Unavailable %d times", n)
			}
			rows := map[string]string{}
			for _, line := range strings.Split(r.out, "\n") {
				if f := strings.Fields(line); len(f) > 1 {
					rows[f[0]] = strings.Join(f[1:], " ")
				}
			}
			if rows["failed"] != tc.failed || rows["transport"] != tc.transport {
				t.Errorf("failed %q, transport %q; want %q, %q\n%s", rows["failed"], rows["transport"], tc.failed, tc.transport, r.out)
			}
			if !strings.Contains(rows["status"], "200 OK (gRPC 0): ") || !strings.Contains(rows["status"], "503 Unavailable (gRPC 14): ") {
				t.Errorf("status row %q does not name the gRPC codes", rows["status"])
			}
			raw, err := os.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Transport string
				ByName    []struct{ Name, Protocol string } `json:"requests_by_name"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range s.ByName {
				got = append(got, n.Protocol)
			}
			if s.Transport != tc.transport || strings.Join(got, ",") != strings.Join(tc.protocols, ",") {
				t.Errorf("JSON transport %q, protocols %q; want %q, %q", s.Transport, got, tc.transport, tc.protocols)
			}
		})
	}
}

// TestGRPCPhases: --phases breaks down gRPC calls, from quick mode and
// from a plan's grpc: step (next to an HTTP step's): every answered call
// has a time to first byte and a transfer, the one that first used the
// shared connection its connect; the text says how to read them.
func TestGRPCPhases(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(demo.Handler())
	t.Cleanup(web.Close)
	dir := t.TempDir()
	plan := writePlanFile(t, dir, "phases.yaml", web.URL, `
base_url: BASE
scenarios:
  shop:
    steps:
      - get: /
        name: home
      - grpc: { target: grpc://`+g.Addr()+`, service: fuka.demo.Cart, method: Add, message: { item: tea } }
        name: add
load: { clients: 1, iterations: 20 }
`)
	for _, tc := range []struct {
		name, call string
		args       []string
		note       string // in the text's phase note
	}{
		{"quick mode", "fuka.demo.Cart/Add", []string{"attack", "grpc://" + g.Addr(), "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`, "-n", "20", "-c", "2"},
			"(p50 / p99; connect and tls over the calls that were the first answered on a new connection"},
		{"plan", "add", []string{"run", plan},
			"; gRPC calls: connect and tls over the calls that were the first answered on a new connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := filepath.Join(dir, "out.json")
			r := runCLI(t, nil, append(tc.args, "--phases", "--json-out", js)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			if !strings.Contains(r.out, tc.note) {
				t.Errorf("the text has no gRPC phase note %q:\n%s", tc.note, r.out)
			}
			raw, err := os.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			type stat struct{ Count int64 }
			var s struct {
				ByName []struct {
					Name   string
					Phases *struct {
						Timed             int64
						NewConnections    int64 `json:"new_connections"`
						DNS, Connect, TLS *stat
						TTFB, Transfer    *stat
					}
				} `json:"requests_by_name"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			for _, n := range s.ByName {
				p := n.Phases
				if p == nil {
					t.Errorf("%s: no phases", n.Name)
					continue
				}
				if n.Name != tc.call {
					continue
				}
				if p.Timed != 20 || p.NewConnections != 1 || p.DNS != nil || p.TLS != nil || p.Connect == nil || p.Connect.Count != 1 ||
					p.TTFB == nil || p.TTFB.Count != 20 || p.Transfer == nil || p.Transfer.Count != 20 {
					t.Errorf("%s: phases %+v; want 20 timed, 1 new connection with its connect, no dns or tls", n.Name, *p)
				}
			}
		})
	}
}

// TestGRPCPhasesKeepMetadata: a plan's header and trailer checks on a
// grpc: step see the same metadata with --phases (the call then goes out
// as a timed stream) as without.
func TestGRPCPhasesKeepMetadata(t *testing.T) {
	checks := map[bool]map[string][2]int64{}
	for _, phases := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g, err := demo.StartGRPC(ctx, "127.0.0.1:0") // its own: Flaky fails every 10th call it counts
		if err != nil {
			t.Fatal(err)
		}
		plan := writePlanFile(t, t.TempDir(), "md.yaml", "grpc://"+g.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: tea } }
        name: flaky
        check: { header: { x-call: "" }, trailer: { x-outcome: ok } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: tea, quantity: 3 } }
        name: watch
        check: { trailer: { x-answers: "3" } }
load: { clients: 1, iterations: 20 }
`)
		args := []string{"run", plan, "-q", "-o", "json"}
		if phases {
			args = append(args, "--phases")
		}
		r := fuka(t, args...)
		if r.code != ExitOK {
			t.Fatalf("phases %v: exit %d, stderr %s", phases, r.code, r.err)
		}
		checks[phases] = map[string][2]int64{}
		for _, c := range planJSON(t, r.out).Checks {
			checks[phases][c.Name] = [2]int64{c.Passes, c.Fails}
		}
	}
	if len(checks[false]) != 3 || checks[false]["flaky: trailer x-outcome == \"ok\""] != [2]int64{18, 2} ||
		checks[false]["watch: trailer x-answers == \"3\""] != [2]int64{20, 0} {
		t.Fatalf("checks without --phases %v; want 3, the trailer ok 18 of 20, x-answers 20 of 20", checks[false])
	}
	if fmt.Sprint(checks[true]) != fmt.Sprint(checks[false]) {
		t.Errorf("checks with --phases %v, without %v", checks[true], checks[false])
	}
}
