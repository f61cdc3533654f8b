package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

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

// TestRunGRPCThresholds: thresholds scoped to a grpc: step's name judge its
// calls as they judge an HTTP request's (Flaky fails 1 call in 10: an
// error rate of 10%), and a failed one fails the run (exit 1) as in CI.
func TestRunGRPCThresholds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const steps = `
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: tea } }
        name: flaky
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: tea } }
        name: add
load: { clients: 1, iterations: 20 }
thresholds:
`
	for _, tc := range []struct {
		name       string
		thresholds map[string]bool // expression -> pass
	}{
		{"all pass", map[string]bool{"flaky.error_rate > 5%": true, "flaky.error_rate < 15%": true, "add.error_rate == 0%": true,
			"add.p99 < 5s": true, "flaky.requests == 20": true, "requests == 40": true, "error_rate < 6%": true}},
		{"a step's error rate", map[string]bool{"flaky.error_rate < 5%": false, "add.error_rate < 1%": true}},
		{"a step's latency", map[string]bool{"add.p99 < 1us": false, "flaky.p50 < 5s": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, want := steps, ExitOK
			for expr, pass := range tc.thresholds {
				src += "  - '" + expr + "'\n"
				if !pass {
					want = ExitThresholds
				}
			}
			path := writePlanFile(t, t.TempDir(), "p.yaml", "grpc://"+s.Addr(), src)
			r := fuka(t, "run", path, "-q", "-o", "json")
			sum := planJSON(t, r.out)
			if r.code != want || sum.Requests != 40 {
				t.Fatalf("exit %d (want %d), %d requests, stderr %q", r.code, want, sum.Requests, r.err)
			}
			if len(sum.Thresholds) != len(tc.thresholds) {
				t.Fatalf("thresholds %+v", sum.Thresholds)
			}
			for _, th := range sum.Thresholds {
				if pass, ok := tc.thresholds[th.Expr]; !ok || th.Pass != pass {
					t.Errorf("%s: pass %v (%s), want %v", th.Expr, th.Pass, th.Detail, pass)
				}
			}
		})
	}
}

// deadlineServer serves every method of every service: Flaky answers
// only after the call's deadline, any other method at once with an empty
// message. It keeps the time left before each call's deadline as
// the server saw it (-1 for a call without one).
type deadlineServer struct {
	mu   sync.Mutex
	left []time.Duration
}

func (d *deadlineServer) handle(_ any, st grpc.ServerStream) error {
	left := time.Duration(-1)
	if dl, ok := st.Context().Deadline(); ok {
		left = time.Until(dl)
	}
	d.mu.Lock()
	d.left = append(d.left, left)
	d.mu.Unlock()
	if err := st.RecvMsg(new(emptypb.Empty)); err != nil {
		return err
	}
	if m, _ := grpc.MethodFromServerStream(st); strings.HasSuffix(m, "/Flaky") {
		// Answer only well after the deadline, so that the client's own
		// deadline ends the call: a server that gives up at its copy of
		// the deadline races the client with DEADLINE_EXCEEDED, which
		// fuka counts as the server's answer (504) when it comes first.
		time.Sleep(max(left, 0) + 300*time.Millisecond)
		return status.Error(codes.Unavailable, "too late")
	}
	return st.SendMsg(new(emptypb.Empty))
}

// TestRunGRPCDeadline: a grpc: step's timeout (and quick mode's --timeout)
// is the call's deadline: the server sees it, and a call that outlives it
// is a timeout in fuka's counts, not an answer.
func TestRunGRPCDeadline(t *testing.T) {
	d := &deadlineServer{}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(d.handle))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cart.proto"), []byte(demo.CartProto), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + ln.Addr().String()
	path := writePlanFile(t, dir, "p.yaml", url, `
protos: [cart.proto]
scenarios:
  cart:
    steps:
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Flaky, message: { item: x } }
        name: slow
        timeout: 300ms
      - grpc: { target: BASE, service: fuka.demo.Cart, method: Add, message: { item: x } }
        name: fast
        timeout: 2s
load: { clients: 1, iterations: 3 }
`)
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		calls     int
		deadlines []time.Duration // the most time left each call may see, in order
	}{
		{"plan", []string{"run", path, "-q", "-o", "json"}, ExitOK, 6,
			[]time.Duration{300 * time.Millisecond, 2 * time.Second, 300 * time.Millisecond, 2 * time.Second, 300 * time.Millisecond, 2 * time.Second}},
		{"quick", []string{"attack", url, "--proto", filepath.Join(dir, "cart.proto"), "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"x"}`,
			"--timeout", "200ms", "-n", "3", "-c", "1", "-q", "-o", "json"}, ExitAllFailed, 3,
			[]time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.mu.Lock()
			d.left = nil
			d.mu.Unlock()
			start := time.Now()
			r := fuka(t, tc.args...)
			sum, _ := grpcSummary(t, r.out)
			if r.code != tc.code || sum.Requests != int64(tc.calls) || sum.Errors["timeout"] != 3 || sum.Failed != 3 {
				t.Fatalf("exit %d (want %d), %+v, stderr %q", r.code, tc.code, sum, r.err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v: a slow call was not cut at its deadline", took)
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if len(d.left) != len(tc.deadlines) {
				t.Fatalf("server saw %d calls, want %d", len(d.left), len(tc.deadlines))
			}
			for i, left := range d.left {
				// The deadline travels as grpc-timeout; the server sees a
				// little less than the step's timeout, never none.
				if left <= tc.deadlines[i]/2 || left > tc.deadlines[i] {
					t.Errorf("call %d: %v left at the server, want (%v, %v]", i, left, tc.deadlines[i]/2, tc.deadlines[i])
				}
			}
		})
	}
}
