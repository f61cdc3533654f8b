package scenario_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/internal/faultserver"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/scenario"
)

// These tests run plans against a server that reads and processes a request
// and then resets the connection instead of answering: fuka's counts must
// be the server's, retries happen only where the plan asks for them, and
// every attempt is in the report.

// faultOpts are the transport options for a fault server (TLS or not).
func faultOpts(tls bool) scenario.Options {
	return scenario.Options{MaxConns: 16, UserAgent: "fuka-test", Insecure: tls}
}

// TestPlanNoSilentResend: without retries:, every request the server read
// is one request in the run, whatever the method, over HTTP and HTTPS, in
// the closed and the open model; each reset is one failed request.
func TestPlanNoSilentResend(t *testing.T) {
	for _, tls := range []bool{false, true} {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		for _, method := range []string{"get", "post", "put", "delete", "patch", "head", "options"} {
			for _, model := range []string{"closed", "open"} {
				t.Run(scheme+"/"+method+"/"+model, func(t *testing.T) {
					t.Parallel()
					srv := faultserver.Start(t, faultserver.Config{Fault: faultserver.ResetEvery(3), TLS: tls})
					body := ""
					if method == "post" || method == "put" || method == "patch" {
						body = "\n        body: x"
					}
					loadSpec := "{clients: 4, iterations: 40}"
					if model == "open" {
						loadSpec = "{rate: 400, duration: 400ms, max_clients: 4}"
					}
					path := writePlan(t, srv.URL(), fmt.Sprintf(`base_url: BASE
scenarios:
  s:
    steps:
      - %s: /orders%s
load: %s
`, method, body, loadSpec), nil)
					res := runPlanWith(t, path, faultOpts(tls))
					if want := map[bool]string{false: "fast", true: "net/http"}[tls]; res.Transport != want {
						t.Errorf("transport %s, want %s: plain-HTTP plans run on the event loops", res.Transport, want)
					}
					tot := res.Run.Total
					read, resets := srv.Requests(), srv.Resets()
					t.Logf("fuka: requests %d, failed %d, retried %d; server: read %d, reset %d", tot.Requests, tot.Failed, tot.Retried, read, resets)
					if resets == 0 {
						t.Fatalf("the server reset nothing (read %d): the test tests nothing", read)
					}
					if tot.Requests != read || tot.Failed != resets || tot.Errors[metrics.ErrReset] != resets || tot.Retried != 0 {
						t.Errorf("fuka: %d requests, %d failed (%d reset), %d retried; server: read %d, reset %d; want equal counts, no retry",
							tot.Requests, tot.Failed, tot.Errors[metrics.ErrReset], tot.Retried, read, resets)
					}
				})
			}
		}
	}
}

// TestPlanRetries: with retries:, a failed attempt is sent again, and every
// attempt is a request in the counts and a retry in `retried`; checks judge
// only the last attempt of each step.
func TestPlanRetries(t *testing.T) {
	const iterations = 20
	tests := []struct {
		name   string
		fault  faultserver.Config
		steps  string // the plan's steps, plus defaults if any
		checks func(t *testing.T, tot *metrics.Stats, srv *faultserver.Server, passes, fails int64)
	}{
		{
			// Every second request of a connection is reset, so each
			// iteration after the first fails once, then succeeds on a new
			// connection.
			name:  "GET reset then answered",
			fault: faultserver.Config{Fault: faultserver.ResetEvery(2)},
			steps: "      - get: /items\n        retries: 2\n        check: {status: 200}\n",
			checks: func(t *testing.T, tot *metrics.Stats, srv *faultserver.Server, passes, fails int64) {
				want := int64(2*iterations - 1)
				if tot.Requests != want || srv.Requests() != want || tot.Retried != iterations-1 || tot.Failed != iterations-1 {
					t.Errorf("requests %d (server %d), retried %d, failed %d; want %d, %d, %d",
						tot.Requests, srv.Requests(), tot.Retried, tot.Failed, want, iterations-1, iterations-1)
				}
				if passes != iterations || fails != 0 {
					t.Errorf("checks: %d passed, %d failed; want %d, 0 (the last attempt of each step)", passes, fails, iterations)
				}
			},
		},
		{
			name:  "POST forced",
			fault: faultserver.Config{Fault: faultserver.ResetEvery(2)},
			steps: "      - post: /orders\n        body: x\n        retries: 1\n        retry_non_idempotent: true\n        check: {status: 200}\n",
			checks: func(t *testing.T, tot *metrics.Stats, srv *faultserver.Server, passes, fails int64) {
				if want := int64(2*iterations - 1); tot.Requests != want || srv.Requests() != want || tot.Retried != iterations-1 {
					t.Errorf("requests %d (server %d), retried %d; want %d, %d", tot.Requests, srv.Requests(), tot.Retried, want, iterations-1)
				}
			},
		},
		{
			// defaults.retries reaches idempotent requests only.
			name:  "defaults skip POST",
			fault: faultserver.Config{Fault: faultserver.ResetEvery(2)},
			steps: "      - post: /orders\n        body: x\n        check: {status: 200}\ndefaults: {retries: 3}\n",
			checks: func(t *testing.T, tot *metrics.Stats, srv *faultserver.Server, passes, fails int64) {
				if tot.Requests != iterations || srv.Requests() != iterations || tot.Retried != 0 || tot.Failed != srv.Resets() {
					t.Errorf("requests %d (server %d), retried %d, failed %d (server reset %d); want %d, no retry",
						tot.Requests, srv.Requests(), tot.Retried, tot.Failed, srv.Resets(), iterations)
				}
			},
		},
		{
			// A 5xx is retried too, up to the limit; each attempt counts.
			name:  "503 every time",
			fault: faultserver.Config{Response: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"},
			steps: "      - get: /items\n        check: {status: 200}\ndefaults: {retries: 2}\n",
			checks: func(t *testing.T, tot *metrics.Stats, srv *faultserver.Server, passes, fails int64) {
				if tot.Requests != 3*iterations || srv.Requests() != 3*iterations || tot.Retried != 2*iterations || tot.Status[503] != 3*iterations {
					t.Errorf("requests %d (server %d), retried %d, 503s %d; want %d, %d, %d",
						tot.Requests, srv.Requests(), tot.Retried, tot.Status[503], 3*iterations, 2*iterations, 3*iterations)
				}
				if passes != 0 || fails != iterations {
					t.Errorf("checks: %d passed, %d failed; want 0, %d (one per step, not per attempt)", passes, fails, iterations)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := faultserver.Start(t, tt.fault)
			steps, defaults, _ := strings.Cut(tt.steps, "defaults:")
			if defaults != "" {
				defaults = "defaults:" + defaults
			}
			path := writePlan(t, srv.URL(), "base_url: BASE\n"+defaults+"scenarios:\n  s:\n    steps:\n"+steps+
				fmt.Sprintf("load: {clients: 1, iterations: %d}\n", iterations), nil)
			res := runPlan(t, path)
			if res.Transport != "fast" {
				t.Errorf("transport %s, want fast: retries run on the event loops too", res.Transport)
			}
			tot := res.Run.Total
			var passes, fails int64
			for _, c := range res.Run.Checks {
				passes, fails = passes+c[0], fails+c[1]
			}
			t.Logf("fuka: requests %d, failed %d, retried %d, checks %d/%d; server: read %d, reset %d",
				tot.Requests, tot.Failed, tot.Retried, passes, passes+fails, srv.Requests(), srv.Resets())
			tt.checks(t, tot, srv, passes, fails)
		})
	}
}
