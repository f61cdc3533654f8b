package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestFaultServerCounts runs `fuka attack` against each way a server can
// misbehave after reading a request — reset, close, answer then close, never
// answer — and against one that closes idle keep-alive connections, for a
// GET and a POST on the fast path and through net/http (--http2 off, TLS).
// Whatever the fault, fuka's requests equal the requests the server read:
// nothing is re-sent, nothing is lost.
func TestFaultServerCounts(t *testing.T) {
	isolateResults(t)
	every := func(n int, a faultserver.Action) func(int) faultserver.Action {
		return func(i int) faultserver.Action {
			if i%n == 0 {
				return a
			}
			return faultserver.Answer
		}
	}
	faults := []struct {
		name string
		cfg  faultserver.Config
		args []string
	}{
		{"reset every 3rd", faultserver.Config{Fault: every(3, faultserver.Reset)}, []string{"-n", "300", "-c", "4"}},
		{"close every 3rd", faultserver.Config{Fault: every(3, faultserver.Close)}, []string{"-n", "300", "-c", "4"}},
		{"answer and close every 2nd", faultserver.Config{Fault: every(2, faultserver.AnswerClose)}, []string{"-n", "300", "-c", "4"}},
		{"hang every 25th", faultserver.Config{Fault: every(25, faultserver.Hang)}, []string{"-n", "200", "-c", "4", "--timeout", "200ms"}},
		{"idle close after 5ms", faultserver.Config{IdleClose: 5 * time.Millisecond}, []string{"--rate", "40", "-d", "1s", "--max-clients", "4"}},
	}
	for _, f := range faults {
		for _, tls := range []bool{false, true} {
			for _, method := range []string{"GET", "POST"} {
				name := fmt.Sprintf("%s/%s/tls=%v", f.name, method, tls)
				t.Run(name, func(t *testing.T) {
					cfg := f.cfg
					cfg.TLS = tls
					srv := faultserver.Start(t, cfg)
					args := append([]string{"attack", srv.URL() + "/x", "-m", method, "-b", "x"}, f.args...)
					if tls {
						args = append(args, "--insecure")
					}
					args = append(args, "-q", "-o", "json", "--no-history", "--no-report")
					r := fuka(t, args...)
					if r.code != ExitOK && r.code != ExitAllFailed {
						t.Fatalf("fuka %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.err)
					}
					s := fullSummary(t, r.out)
					t.Logf("fuka requests %d failed %d errors %v | server read %d resets %d idle-closes %d",
						s.Requests, s.Failed, s.Errors, srv.Requests(), srv.Resets(), srv.IdleCloses())
					if s.Requests != srv.Requests() {
						t.Errorf("fuka counted %d requests, the server read %d", s.Requests, srv.Requests())
					}
					if f.cfg.Fault == nil && s.Failed != 0 {
						t.Errorf("an idle close failed %d requests that were never sent", s.Failed)
					}
				})
			}
		}
	}
}
