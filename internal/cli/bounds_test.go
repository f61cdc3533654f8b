package cli

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/run"
)

// withHostLimits makes the resource checks see l for the rest of the test.
func withHostLimits(t *testing.T, l run.HostLimits) {
	t.Helper()
	old := run.ReadHostLimits
	run.ReadHostLimits = func() run.HostLimits { return l }
	t.Cleanup(func() { run.ReadHostLimits = old })
}

// TestRunAndValidateAgree: a load that `fuka run` refuses before sending,
// `fuka validate` refuses with the same words, whether it comes from the
// file or from the flags that override it; both exit 2 and nothing is sent.
func TestRunAndValidateAgree(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	dir := t.TempDir()
	closed := writePlanFile(t, dir, "closed.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x } ] }
load:
  clients: 5
  ramp_up: 20s
  duration: 2m
`)
	open := writePlanFile(t, dir, "open.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x } ] }
load: { rate: [ { target: 10, over: 1m } ], max_clients: 50 }
`)
	huge := writePlanFile(t, dir, "huge.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x } ] }
load: { clients: 2000000000, duration: 1m }
`)
	hugeOpen := writePlanFile(t, dir, "huge_open.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x } ] }
load: { rate: 10, duration: 1m, max_clients: 300000 }
`)
	rampedInFile := writePlanFile(t, dir, "ramped.yaml", tg.URL, `base_url: BASE
scenarios:
  s: { steps: [ { get: /x } ] }
load: { clients: 100, ramp_up: 20s, duration: 10s }
`)
	withHostLimits(t, run.HostLimits{Files: 20000, FilesHard: 20000, Mem: 64 << 30, MemFrom: "MemAvailable in /proc/meminfo"})
	tests := []struct {
		name string
		args []string // after the command and before -q
		want []string // in stderr
	}{
		{"ramp-up longer than an overridden duration", []string{closed, "--clients", "100", "--duration", "10s"},
			[]string{closed + ":5:3: load: ramp_up 20s is longer than duration 10s (with --clients 100 --duration 10s)"}},
		{"the same load in the file", []string{rampedInFile},
			[]string{rampedInFile + ":4:32: ramp_up: 20s is longer than duration 10s"}},
		{"zero clients from the flag", []string{closed, "--clients", "0"}, []string{"--clients 0: must be > 0"}},
		{"a rate that starts nothing", []string{closed, "--rate", "0:2s"},
			[]string{closed + ":5:3: load: rate: the stages start no iteration in their 2s (the rate is 0 throughout); want a target above 0 over some time (with --rate 0:2s)"}},
		{"a rate too large to count", []string{closed, "--rate", "1e300", "--duration", "1m"}, []string{"--rate: rate \"1e300\": "}},
		{"duration on an open plan", []string{open, "--duration", "10s"}, []string{"--duration: this plan's load is open"}},
		{"max-clients on a closed plan", []string{closed, "--max-clients", "10"}, []string{"--max-clients is for the open model"}},
		{"clients over the open-file limit, from the flag", []string{closed, "--clients", "2000000000", "--duration", "1m"},
			[]string{"--clients 2000000000: each client holds a connection, a file descriptor, and this process may open 20000 files (ulimit -n), 64 of them for fuka itself; use at most 19936 clients here",
				"the hard limit is 20000 too"}},
		{"clients over the open-file limit, from the file", []string{huge},
			[]string{huge + ":4:7: load: clients 2000000000: each client holds a connection", "may open 20000 files (ulimit -n)"}},
		{"max_clients over the open-file limit", []string{hugeOpen},
			[]string{hugeOpen + ":4:7: load: max_clients 300000: each client holds a connection"}},
		{"max-clients over the open-file limit, from the flag", []string{open, "--max-clients", "30000"},
			[]string{"--max-clients 30000: each client holds a connection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr [2]string
			for i, cmd := range []string{"validate", "run"} {
				r := fuka(t, append(append([]string{cmd}, tt.args...), "-q")...)
				if cmd == "validate" {
					r = fuka(t, append([]string{cmd}, tt.args...)...)
				}
				if r.code != ExitUsage {
					t.Errorf("%s: exit %d, want %d; stderr:\n%s", cmd, r.code, ExitUsage, r.err)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.err, w) {
						t.Errorf("%s: stderr does not say %q:\n%s", cmd, w, r.err)
					}
				}
				stderr[i] = r.err
			}
			if stderr[0] != stderr[1] {
				t.Errorf("validate and run disagree:\nvalidate: %s\nrun:      %s", stderr[0], stderr[1])
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests; refused loads must send none", n)
	}
	t.Run("the same flags within the limits run", func(t *testing.T) {
		r := fuka(t, "validate", closed, "--clients", "3", "--duration", "30s")
		if r.code != ExitOK {
			t.Errorf("validate: exit %d, stderr %q", r.code, r.err)
		}
	})
}

// TestMemoryRefused: clients whose least memory is more than the machine
// has available are refused before anything is sent, saying how much each
// needs and where the available figure comes from.
func TestMemoryRefused(t *testing.T) {
	tg := newTarget(t)
	withHostLimits(t, run.HostLimits{Mem: 100 << 20, MemFrom: "MemAvailable in /proc/meminfo"}) // files unknown: not checked
	tests := []struct {
		name string
		args []string
		want string
	}{
		// 100,000 fast-path clients need at least 195 MiB (2 KiB each).
		{"fast path", []string{"attack", tg.URL + "/", "-c", "100000", "-d", "1s"},
			"--clients 100000: the clients need at least 195 MiB of memory and 100 MiB is available (MemAvailable in /proc/meminfo)"},
		{"fast path that fits", []string{"attack", tg.URL + "/", "-c", "10000", "-d", "1s", "--requests", "1"}, ""},
		// net/http (HTTP/2) clients need at least 32 KiB each.
		{"http2", []string{"attack", tg.URL + "/", "-c", "4000", "-d", "1s", "--http2"},
			"--clients 4000: the clients need at least 125 MiB of memory and 100 MiB is available"},
		{"open model", []string{"attack", tg.URL + "/", "--rate", "10", "-d", "1s", "--max-clients", "60000"},
			"--max-clients 60000: the clients need at least 117 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tg.n.Load()
			r := runCLI(t, nil, append(tt.args, "-q", "--no-report", "--no-history")...)
			if tt.want == "" {
				if r.code != ExitOK {
					t.Errorf("exit %d, stderr %q", r.code, r.err)
				}
				return
			}
			if r.code != ExitUsage || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitUsage, tt.want)
			}
			if n := tg.n.Load() - before; n != 0 {
				t.Errorf("the target served %d requests; want none", n)
			}
		})
	}
}

// TestOpenFileLimitSubprocess: the open-file limit is the process's real
// one. Under `ulimit -n 200`, 500 clients are refused with exit 2 before a
// request is sent, with a message that says the limit and how to raise it;
// 100 clients run.
func TestOpenFileLimitSubprocess(t *testing.T) {
	bin := fukaBinary(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	tg := newTarget(t)
	run := func(clients string) (int, string) {
		cmd := exec.Command(sh, "-c", `ulimit -n 200 && exec "$0" "$@"`, bin,
			"attack", tg.URL+"/", "-c", clients, "-n", "300", "-q", "--no-report", "--no-history", "-o", "json")
		cmd.Env = append(cmd.Environ(), "FUKA_RESULTS="+filepath.Join(t.TempDir(), "results"))
		done := make(chan struct{})
		var out []byte
		go func() { out, _ = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("fuka -c %s did not exit", clients)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	code, out := run("500")
	if code != ExitUsage {
		t.Errorf("-c 500 under ulimit -n 200: exit %d, want %d; output:\n%s", code, ExitUsage, out)
	}
	for _, want := range []string{"--clients 500: each client holds a connection", "may open 200 files (ulimit -n)", "use at most 136 clients"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests; want none", n)
	}
	if code, out := run("100"); code != ExitOK {
		t.Errorf("-c 100 under ulimit -n 200: exit %d; output:\n%s", code, out)
	}
	if n := tg.n.Load(); n != 300 {
		t.Errorf("the target served %d requests, want 300", n)
	}
}

// TestDefaultMaxClientsCapped: attack's default --max-clients (10000) is a
// ceiling, not a need: above the open-file limit it is lowered to what the
// limit allows, with a note, and the run goes on; given explicitly, the
// same number is refused.
func TestDefaultMaxClientsCapped(t *testing.T) {
	tg := newTarget(t)
	withHostLimits(t, run.HostLimits{Files: 1000, FilesHard: 1000})
	r := runCLI(t, nil, "attack", tg.URL+"/", "--rate", "50", "-d", "1s", "--no-report", "--no-history", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if want := "fuka: note: --max-clients 10000 (the default) is more than this process may open files (ulimit -n 1000); using 936"; !strings.Contains(r.err, want) {
		t.Errorf("stderr does not say %q:\n%s", want, r.err)
	}
	if !strings.Contains(r.out, `"max_clients":936`) {
		t.Errorf("the summary does not say max_clients 936: %s", r.out)
	}
	r = runCLI(t, nil, "attack", tg.URL+"/", "--rate", "50", "-d", "1s", "--max-clients", "10000", "-q", "--no-report", "--no-history")
	if r.code != ExitUsage || !strings.Contains(r.err, "--max-clients 10000: each client holds a connection") {
		t.Errorf("explicit --max-clients 10000: exit %d, stderr %q", r.code, r.err)
	}
}

// TestHeadersHonoured: the framing headers fuka does not refuse are sent as
// given, on both transports: Host names the virtual host, and
// Connection: close makes every request use a new connection, each one
// counted once.
func TestHeadersHonoured(t *testing.T) {
	var n, closing, hosted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Close {
			closing.Add(1)
		}
		if r.Host == "shop.example" {
			hosted.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	plan := writePlanFile(t, t.TempDir(), "h.yaml", srv.URL, `base_url: BASE
scenarios:
  s:
    steps:
      - post: /x
        body: hello
        headers: { Connection: close, Host: shop.example }
load: { clients: 2, iterations: 25 }
`)
	tests := []struct {
		name string
		args []string
	}{
		{"attack (fast path)", []string{"attack", srv.URL + "/x", "-m", "POST", "-b", "hello", "-H", "Connection: close", "-H", "Host: shop.example", "-n", "50", "-c", "2"}},
		{"plan (net/http)", []string{"run", plan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.Store(0)
			closing.Store(0)
			hosted.Store(0)
			r := fuka(t, append(tt.args, "-q", "--no-report", "--no-history", "-o", "json")...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			s := lastJSON(t, r.out)
			if s.Requests != 50 || s.Failed != 0 || n.Load() != 50 || closing.Load() != 50 || hosted.Load() != 50 {
				t.Errorf("fuka: requests %d failed %d; server: %d requests, %d with Connection: close, %d for Host shop.example; want 50 each, none failed",
					s.Requests, s.Failed, n.Load(), closing.Load(), hosted.Load())
			}
		})
	}
}
