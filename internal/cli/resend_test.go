package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/internal/faultserver"
	"github.com/fuka-load/fuka/metrics"
)

// TestNoSilentResendCLI runs `fuka attack` and `fuka run` as a user would
// against a server that reads and processes every third request of a
// connection and then resets it instead of answering. The JSON summary's
// requests must be the server's count and its failures the server's
// resets: the issue's `fuka attack URL -n 3000 -c 4 -m POST -b x` reported
// failed 0 while the server read ~4,500.
func TestNoSilentResendCLI(t *testing.T) {
	isolateResults(t)
	const plan = `base_url: BASE
scenarios:
  s:
    steps:
      - %s: /orders%s
load: %s
`
	tests := []struct {
		name string
		tls  bool
		args func(url, dir string) []string // the command line after "fuka"
		// steps: with retries, how many steps the plan ran (4 clients x 60
		// iterations); each sent one request, plus one per retry. 0: no
		// retries, none may be counted.
		steps int64
	}{
		{"attack/http/POST/closed", false, func(u, _ string) []string {
			return []string{"attack", u + "/orders", "-n", "300", "-c", "4", "-m", "POST", "-b", "x"}
		}, 0},
		{"attack/http/GET/open", false, func(u, _ string) []string {
			return []string{"attack", u + "/orders", "--rate", "600", "-d", "500ms", "--max-clients", "4"}
		}, 0},
		{"attack/https/GET/closed", true, func(u, _ string) []string {
			return []string{"attack", u + "/orders", "-n", "300", "-c", "4", "--insecure"}
		}, 0},
		{"attack/https/POST/open", true, func(u, _ string) []string {
			return []string{"attack", u + "/orders", "--rate", "600", "-d", "500ms", "--max-clients", "4", "-m", "POST", "-b", "x", "--insecure"}
		}, 0},
		{"run/http/GET/closed", false, func(u, dir string) []string {
			return []string{"run", writePlanFile(t, dir, "p.yaml", u, fmt.Sprintf(plan, "get", "", "{clients: 4, iterations: 60}"))}
		}, 0},
		{"run/https/POST/open", true, func(u, dir string) []string {
			return []string{"run", "--insecure", writePlanFile(t, dir, "p.yaml", u, fmt.Sprintf(plan, "post", "\n        body: x", "{rate: 600, duration: 500ms, max_clients: 4}"))}
		}, 0},
		{"run/http/HEAD/open", false, func(u, dir string) []string {
			return []string{"run", writePlanFile(t, dir, "p.yaml", u, fmt.Sprintf(plan, "head", "", "{rate: 600, duration: 500ms, max_clients: 4}"))}
		}, 0},
		{"run/http/GET/closed/retries", false, func(u, dir string) []string {
			return []string{"run", writePlanFile(t, dir, "p.yaml", u, fmt.Sprintf(plan, "get", "\n        retries: 1", "{clients: 4, iterations: 60}"))}
		}, 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faultserver.Start(t, faultserver.Config{Fault: faultserver.ResetEvery(3), TLS: tt.tls})
			args := append(tt.args(srv.URL(), t.TempDir()), "-q", "-o", "json", "--no-history", "--no-report")
			r := fuka(t, args...)
			if r.code != ExitOK {
				t.Fatalf("fuka %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.err)
			}
			s := fullSummary(t, r.out)
			read, resets := srv.Requests(), srv.Resets()
			t.Logf("fuka: requests %d, failed %d, retried %d, errors %v; server: read %d, reset %d",
				s.Requests, s.Failed, s.Retried, s.Errors, read, resets)
			if resets == 0 {
				t.Fatalf("the server reset nothing (read %d): the test tests nothing", read)
			}
			if s.Requests != read || s.Failed != resets || s.Errors[metrics.ErrReset] != resets {
				t.Errorf("fuka: requests %d, failed %d (reset %d); server: read %d, reset %d; want equal",
					s.Requests, s.Failed, s.Errors[metrics.ErrReset], read, resets)
			}
			if len(s.ByName) != 1 || s.ByName[0].Retried != s.Retried {
				t.Errorf("retried %d, by name %+v; want the one name's", s.Retried, s.ByName)
			}
			switch {
			case tt.steps == 0 && s.Retried != 0:
				t.Errorf("retried %d without retries:", s.Retried)
			case tt.steps > 0 && (s.Requests-s.Retried != tt.steps || s.Retried == 0 || s.Retried > resets):
				// A retry follows a reset attempt; it may be reset in turn
				// (on an idle connection's third request), and then the
				// step has failed: retried <= resets.
				t.Errorf("requests %d - retried %d = %d, want %d steps; retried must be 1..%d (the resets)",
					s.Requests, s.Retried, s.Requests-s.Retried, tt.steps, resets)
			}
		})
	}
}
