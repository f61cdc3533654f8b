package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/internal/testcert"
)

// grpcPlanSummary is the JSON summary's part these tests read.
type grpcPlanSummary struct {
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	Retried  int64            `json:"retried"`
	Errors   map[string]int64 `json:"errors"`
	Status   map[string]int64 `json:"status"`
	Checks   []struct {
		Name   string `json:"name"`
		Passes int64  `json:"passes"`
		Fails  int64  `json:"fails"`
	} `json:"checks"`
}

func grpcSummary(t *testing.T, stdout string) (grpcPlanSummary, map[string][2]int64) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var s grpcPlanSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("stdout's last line is not the JSON summary (%v): %q", err, stdout)
	}
	checks := map[string][2]int64{}
	for _, c := range s.Checks {
		checks[c.Name] = [2]int64{c.Passes, c.Fails}
	}
	return s, checks
}

// TestRunGRPCRetries: a grpc: step's retries send a call again after an
// UNAVAILABLE answer (or the codes of its retry_codes), never silently:
// the server's calls equal fuka's requests, and the retries among them
// are counted as retried; checks judge the last attempt.
func TestRunGRPCRetries(t *testing.T) {
	const stepRetries = "retries: 2\n        retry_non_idempotent: true"
	for _, tc := range []struct {
		name, head, extra  string
		retried, failed    int64
		statusPass, status int64 // the status check's passes and fails
	}{
		// Flaky's every 10th call is UNAVAILABLE: calls 10, 20, ... fail
		// and their retry (11, 21, ...) succeeds.
		{"unavailable by default", "", stepRetries, 5, 5, 50, 0},
		{"listed", "", stepRetries + "\n        retry_codes: [unavailable, aborted]", 5, 5, 50, 0},
		{"not listed", "", stepRetries + "\n        retry_codes: [ABORTED]", 0, 5, 45, 5},
		{"defaults", "defaults: { retries: 1, retry_non_idempotent: true }\n", "", 5, 5, 50, 0},
		{"defaults need retry_non_idempotent", "defaults: { retries: 1 }\n", "", 0, 5, 45, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			path := writePlanFile(t, t.TempDir(), "retry.yaml", "grpc://"+s.Addr(), tc.head+`
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: tea } }
        name: flaky
        `+tc.extra+`
        check: { status: 200 }
load: { clients: 1, iterations: 50 }
`)
			r := fuka(t, "run", path, "-q", "-o", "json")
			sum, checks := grpcSummary(t, r.out)
			ok, bad := s.Calls(codes.OK), s.Calls(codes.Unavailable)
			if r.code != ExitOK || sum.Requests != ok+bad || sum.Requests != 50+tc.retried || sum.Retried != tc.retried ||
				sum.Status["503"] != bad || sum.Failed != bad || checks["flaky: status is 200"] != [2]int64{tc.statusPass, tc.status} {
				t.Fatalf("exit %d (%s): fuka %+v; server %d OK, %d Unavailable", r.code, r.err, sum, ok, bad)
			}
		})
	}
}

// TestRunGRPCRetriesNoAnswer: a call that got no answer (here the
// connection is refused) is retried whatever retry_codes says, each
// attempt a request and each retry counted; the retries end with the load.
func TestRunGRPCRetriesNoAnswer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cart.proto"), []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, dir, "refused.yaml", "grpc://"+freeAddr(t), `
protos: [cart.proto]
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: tea } }
        retries: 2
        retry_non_idempotent: true
        retry_codes: [ABORTED]
load: { clients: 1, iterations: 5 }
`)
	r := fuka(t, "run", path, "-q", "-o", "json")
	sum, _ := grpcSummary(t, r.out)
	if r.code != ExitAllFailed || sum.Requests != 15 || sum.Retried != 10 || sum.Errors["refused"] != 15 {
		t.Fatalf("exit %d (%s): %+v", r.code, r.err, sum)
	}
}

// TestRunGRPCMetadata: a grpc: step checks and extracts the call's
// header and trailer metadata (the demo's Flaky sends the header x-call,
// its call number, and the trailer x-outcome), and the values reach the
// next call's message.
func TestRunGRPCMetadata(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, t.TempDir(), "md.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: tea } }
        name: flaky
        check:
          header: { x-call: "", X-Missing: "" }
          trailer: { x-outcome: ok, x-call: "" }
        extract: { call: "header:x-call", outcome: "trailer:X-Outcome" }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: "{{ call }}-{{ outcome }}" } }
        name: add
        check: { body_regex: '"item":\s*"([0-9]+)-(ok|unavailable)"', json: { item: "10-unavailable" } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: w, quantity: 3 } }
        name: watch
        check: { trailer: { x-answers: "3" } }
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Watch, message: { item: w, quantity: 3 }, expect: 2 }
        name: cut
        check: { trailer: { x-answers: "" } }
load: { clients: 1, iterations: 20 }
`)
	r := fuka(t, "run", path, "-q", "-o", "json")
	sum, checks := grpcSummary(t, r.out)
	want := map[string][2]int64{
		"flaky: header x-call exists":                                    {20, 0},
		"flaky: header X-Missing exists":                                 {0, 20},
		`flaky: trailer x-outcome == "ok"`:                               {18, 2},
		"flaky: trailer x-call exists":                                   {0, 20}, // a header, not a trailer
		`add: body matches "\"item\":\\s*\"([0-9]+)-(ok|unavailable)\""`: {20, 0},
		`add: json item == "10-unavailable"`:                             {1, 19},
		`watch: trailer x-answers == "3"`:                                {20, 0},
		"cut: 2 answers":                                                 {20, 0},
		"cut: trailer x-answers exists":                                  {0, 20}, // fuka ended the stream: no trailer came
	}
	for name, w := range want {
		if checks[name] != w {
			t.Errorf("check %s: %v, want %v", name, checks[name], w)
		}
	}
	if r.code != ExitOK || sum.Requests != 80 || len(checks) != len(want) || s.Calls(codes.OK)+s.Calls(codes.Unavailable)+s.Calls(codes.Canceled) != 80 {
		t.Fatalf("exit %d (%s): %+v; server %d OK", r.code, r.err, sum, s.Calls(codes.OK))
	}
}

// TestRunGRPCTLS: a plan's grpcs:// steps take the plan's tls: files
// (defaults: ca, cert, key) or the run's --cacert, --client-cert,
// --client-key and --insecure, for the reflection and for the calls; a
// server whose certificate is not trusted fails every call as tls (with
// protos:), or is an error at the step before the run (reflection).
func TestRunGRPCTLS(t *testing.T) {
	cs := testcert.New(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cart.proto"), []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	const steps = `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: tea } }
load: { clients: 1, iterations: 10 }
`
	withTLS := "defaults:\n  tls: { ca: " + cs.CAFile + ", cert: " + cs.CertFile + ", key: " + cs.KeyFile + " }\n"
	for _, tc := range []struct {
		name, head string
		mtls       bool
		args       []string
		code       int
		want       string // the error kinds of every call (a|b), or part of stderr for exit 2
	}{
		{"plan tls, mtls", withTLS, true, nil, ExitOK, ""},
		{"flags, mtls", "", true, []string{"--cacert", cs.CAFile, "--client-cert", cs.CertFile, "--client-key", cs.KeyFile}, ExitOK, ""},
		{"insecure", "", false, []string{"--insecure"}, ExitOK, ""},
		{"untrusted, reflection", "", false, nil, ExitUsage, "plan.yaml:5:15: grpc fuka.demo.Cart/Add at grpcs://"},
		{"untrusted, protos", "protos: [cart.proto]\n", false, nil, ExitAllFailed, "tls"},
		{"mtls without a client certificate", "protos: [cart.proto]\n", true, []string{"--cacert", cs.CAFile}, ExitAllFailed, "tls|reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			conf := &tls.Config{Certificates: []tls.Certificate{cs.Server}}
			if tc.mtls {
				conf.ClientAuth, conf.ClientCAs = tls.RequireAndVerifyClientCert, cs.Pool
			}
			s, err := demo.StartGRPCTLS(ctx, "127.0.0.1:0", conf)
			if err != nil {
				t.Fatal(err)
			}
			path := writePlanFile(t, dir, "plan.yaml", "grpcs://"+s.Addr(), tc.head+steps)
			r := fuka(t, append([]string{"run", path, "-q", "-o", "json"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.err)
			}
			if tc.code == ExitUsage {
				if !strings.Contains(r.err, tc.want) || !strings.Contains(r.err, "certificate signed by unknown authority") || s.Calls(codes.OK) != 0 {
					t.Fatalf("stderr %q, want %q", r.err, tc.want)
				}
				return
			}
			sum, _ := grpcSummary(t, r.out)
			kinds := int64(0)
			for k := range strings.SplitSeq(tc.want, "|") {
				kinds += sum.Errors[k]
			}
			if tc.want != "" && (sum.Requests != 10 || kinds != 10 || s.Calls(codes.OK) != 0) ||
				tc.want == "" && (sum.Requests != 10 || sum.Status["200"] != 10 || s.Calls(codes.OK) != 10) {
				t.Fatalf("%+v; server %d OK", sum, s.Calls(codes.OK))
			}
		})
	}
}
