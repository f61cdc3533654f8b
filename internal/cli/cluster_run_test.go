package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The distributed runs here are in process: a controller (attack or run
// with --workers) and `fuka worker`s, all on 127.0.0.1.

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is in execute_test.go.

// certsDir makes a CA, a controller and a worker certificate with the
// certs command.
func certsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	for _, args := range [][]string{
		{"certs", "init", "--dir", dir},
		{"certs", "issue", "--dir", dir, "--role", "controller", "--name", "ctl"},
		{"certs", "issue", "--dir", dir, "--role", "worker", "--name", "w"},
	} {
		if r := fuka(t, args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.err)
		}
	}
	return dir
}

// distributed runs the controller command and n workers; it returns the
// controller's result and the workers' exit codes.
func distributed(t *testing.T, n int, controller []string, worker []string) (result, []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errb syncBuffer
			args := append([]string{"fuka", "worker", "--name", "w" + string(rune('1'+i)), "--connect-timeout", "10s"}, worker...)
			codes[i] = Main(ctx, args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &errb})
			if codes[i] != 0 {
				t.Logf("worker %d: %s", i, errb.String())
			}
		}()
	}
	var out bytes.Buffer
	var errb syncBuffer
	code := Main(ctx, append([]string{"fuka"}, controller...), Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	wg.Wait()
	return result{code, out.String(), errb.String()}, codes
}

type clusterSummary struct {
	Requests int64 `json:"requests"`
	Degraded bool  `json:"degraded"`
	Workers  []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Requests int64  `json:"requests"`
	} `json:"workers"`
}

func TestDistributedAttack(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	certs := certsDir(t)
	addr := freeAddr(t)
	res, codes := distributed(t, 2,
		[]string{"attack", tg.URL, "-c", "4", "-d", "2s", "--max-rps", "400", "--workers", "2", "--listen", addr,
			"--certs-dir", certs, "--start-delay", "300ms", "-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != 0 {
		t.Fatalf("controller exit %d: %s", res.code, res.err)
	}
	for i, c := range codes {
		if c != 0 {
			t.Errorf("worker %d exit %d", i, c)
		}
	}
	var s clusterSummary
	if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
		t.Fatalf("%v: %q", err, res.out)
	}
	if s.Requests != tg.n.Load() || s.Requests == 0 {
		t.Errorf("summary has %d requests, the target counted %d", s.Requests, tg.n.Load())
	}
	if s.Degraded || len(s.Workers) != 2 || s.Workers[0].State != "ok" || s.Workers[1].State != "ok" {
		t.Errorf("workers %+v degraded %v", s.Workers, s.Degraded)
	}
	if s.Workers[0].Requests+s.Workers[1].Requests != s.Requests {
		t.Errorf("workers' requests %+v do not add up to %d", s.Workers, s.Requests)
	}
}

// TestDistributedPlan: a plan with data files above and below it, a
// body_file and an environment variable runs the same on the workers; its
// unique rows are split, each used exactly once.
func TestDistributedPlan(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	var bodies, tokens []string
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.URL.Query().Get("user")]++
		bodies = append(bodies, string(b))
		tokens = append(tokens, r.Header.Get("X-Token"))
		mu.Unlock()
	}))
	defer tg.Close()
	root := t.TempDir()
	dir := filepath.Join(root, "plans")
	os.MkdirAll(filepath.Join(root, "data"), 0o755)
	os.MkdirAll(filepath.Join(dir, "bodies"), 0o755)
	var csv strings.Builder
	csv.WriteString("name\n")
	for i := range 30 {
		csv.WriteString("u" + string(rune('a'+i/10)) + string(rune('0'+i%10)) + "\n")
	}
	os.WriteFile(filepath.Join(root, "data", "users.csv"), []byte(csv.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "bodies", "b.json"), []byte(`{"x":1}`), 0o644)
	t.Setenv("FUKA_TEST_TOKEN", "from-the-controller")
	plan := writePlanFile(t, dir, "p.yaml", tg.URL, `name: dist
base_url: BASE
env: { FUKA_TEST_TOKEN: unset }
data:
  users: { csv: ../data/users.csv, pick: unique, on_exhausted: end_run }
scenarios:
  s:
    steps:
      - post: /u?user={{ users.name }}
        name: post user
        body_file: bodies/b.json
        headers: { X-Token: "{{ FUKA_TEST_TOKEN }}" }
load: { clients: 4, duration: 10s }
`)
	certs := certsDir(t)
	addr := freeAddr(t)
	res, codes := distributed(t, 2,
		[]string{"run", plan, "--workers", "2", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"},
		// The workers run elsewhere: another environment.
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != 0 {
		t.Fatalf("controller exit %d: %s", res.code, res.err)
	}
	for i, c := range codes {
		if c != 0 {
			t.Errorf("worker %d exit %d", i, c)
		}
	}
	var s clusterSummary
	if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
		t.Fatalf("%v: %q", err, res.out)
	}
	mu.Lock()
	defer mu.Unlock()
	if s.Requests != 30 || len(seen) != 30 {
		t.Errorf("%d requests, %d distinct users; want each of the 30 rows once: %v", s.Requests, len(seen), seen)
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("user %q used %d times", u, n)
		}
	}
	for i := range bodies {
		if bodies[i] != `{"x":1}` || tokens[i] != "from-the-controller" {
			t.Fatalf("request %d: body %q, token %q", i, bodies[i], tokens[i])
		}
	}
}

func TestDistributedFlagErrors(t *testing.T) {
	certs := certsDir(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"insecure off loopback", []string{"attack", "http://127.0.0.1:1/", "--workers", "1", "--listen", "0.0.0.0:0", "--insecure-no-tls"}, "not a loopback address"},
		{"insecure dial off loopback", []string{"attack", "http://127.0.0.1:1/", "--worker", "10.0.0.1:7701", "--insecure-no-tls"}, "not a loopback address"},
		{"no certificates", []string{"attack", "http://127.0.0.1:1/", "--workers", "1"}, "fuka certs init"},
		{"wrong role", []string{"attack", "http://127.0.0.1:1/", "--workers", "1", "--certs-dir", certs, "--cert", filepath.Join(certs, "worker.pem"), "--key", filepath.Join(certs, "worker-key.pem")}, "is for a worker, not a controller"},
		{"loss policy", []string{"attack", "http://127.0.0.1:1/", "--workers", "1", "--on-worker-loss", "maybe"}, "want continue or stop"},
		{"worker needs an address", []string{"worker", "--certs-dir", certs}, "give one of"},
		{"certs bad role", []string{"certs", "issue", "--dir", certs, "--role", "admin", "--name", "x"}, "want worker or controller"},
		{"certs no overwrite", []string{"certs", "init", "--dir", certs}, "exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FUKA_CERTS_DIR", "")
			r := fuka(t, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
}

// TestInsecureLoopback: --insecure-no-tls works on loopback, with a warning.
func TestInsecureLoopback(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	addr := freeAddr(t)
	res, codes := distributed(t, 1,
		[]string{"attack", tg.URL, "-n", "50", "-c", "2", "--workers", "1", "--listen", addr, "--insecure-no-tls",
			"--start-delay", "200ms", "-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--insecure-no-tls"})
	if res.code != 0 || codes[0] != 0 {
		t.Fatalf("controller exit %d, worker exit %d: %s", res.code, codes[0], res.err)
	}
	if !strings.Contains(res.err, "warning: --insecure-no-tls") {
		t.Errorf("no warning: %q", res.err)
	}
	var s clusterSummary
	if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
		t.Fatal(err)
	}
	if s.Requests != 50 || tg.n.Load() != 50 {
		t.Errorf("%d requests in the summary, %d at the target; want 50", s.Requests, tg.n.Load())
	}
}

func TestCertsFiles(t *testing.T) {
	dir := certsDir(t)
	for name, mode := range map[string]os.FileMode{"ca-key.pem": 0o600, "worker-key.pem": 0o600, "controller-key.pem": 0o600, "ca.pem": 0o644, "worker.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
