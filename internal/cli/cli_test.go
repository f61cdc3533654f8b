package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// target is an httptest server on 127.0.0.1 that counts the requests it served.
type target struct {
	*httptest.Server
	n atomic.Int64
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(tg.Close)
	return tg
}

type result struct {
	code     int
	out, err string
}

// runCLI runs the CLI in process, bounded in time.
func runCLI(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
	}
	var out, errb bytes.Buffer
	code := Main(ctx, append([]string{"fuka"}, args...), Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

// summary is the part of the JSON summary the tests look at.
type summary struct {
	Requests    int64              `json:"requests"`
	Failed      int64              `json:"failed"`
	ErrorRate   float64            `json:"error_rate"`
	RPS         *float64           `json:"rps"`
	Model       string             `json:"model"`
	LatencyFrom string             `json:"latency_from"`
	Interrupted bool               `json:"interrupted"`
	Target      string             `json:"target"`
	Latency     map[string]float64 `json:"latency"`
	Status      map[string]int64   `json:"status"`
}

// lastJSON decodes stdout's last line, which -o json makes the summary.
func lastJSON(t *testing.T, stdout string) summary {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	var s summary
	dec := json.NewDecoder(strings.NewReader(last))
	if err := dec.Decode(&s); err != nil || dec.More() {
		t.Fatalf("stdout's last line is not one JSON object (%v): %q", err, last)
	}
	return s
}

func TestUsageErrors(t *testing.T) {
	tg := newTarget(t)
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := tg.URL + "/"
	tests := []struct {
		name string
		args []string
		want string // in the one stderr line
	}{
		{"no URL", []string{"attack"}, "attack takes exactly one URL (got 0 arguments)"},
		{"two URLs", []string{"attack", u, u}, "attack takes exactly one URL (got 2 arguments)"},
		{"ftp URL", []string{"attack", "ftp://x"}, `url "ftp://x": scheme must be http or https`},
		{"URL without host", []string{"attack", "http://"}, `url "http://": no host`},
		{"URL without scheme", []string{"attack", strings.TrimPrefix(u, "http://")}, "url "},
		{"bad method", []string{"attack", "-m", "FOO", u}, `method "FOO": want one of`},
		{"bad header", []string{"attack", "-H", "no-colon", u}, `header "no-colon": want 'Key: Value'`},
		{"header with line break", []string{"attack", "-H", "X-A: a\r\nX-B: b", u}, "value has a line break"},
		{"Content-Length header", []string{"attack", "-m", "POST", "-b", "hello", "-H", "Content-Length: 5", u}, `-H "Content-Length: 5": fuka sets Content-Length from the body; remove the header`},
		{"Transfer-Encoding header", []string{"attack", "-m", "POST", "-b", "hello", "-H", "transfer-encoding: chunked", u}, `-H "transfer-encoding: chunked": fuka sends bodies with a Content-Length, not chunked`},
		{"unknown flag", []string{"attack", "--bogus", u}, "unknown flag: --bogus"},
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "fuka"`},
		{"rate not a number", []string{"attack", "--rate", "abc", u}, "--rate"},
		{"rate with requests", []string{"attack", "--rate", "200", "-n", "10", u}, "--rate (open model) does not combine with --clients, --requests"},
		{"rate with clients", []string{"attack", "--rate", "200", "-c", "10", u}, "does not combine"},
		{"max-clients without rate", []string{"attack", "--max-clients", "10", u}, "--max-clients, --preconnect and --resolution are for the open model"},
		{"preconnect without rate", []string{"attack", "--preconnect", "10", u}, "--max-clients, --preconnect and --resolution are for the open model"},
		{"preconnect below -1", []string{"attack", "--rate", "200", "--preconnect", "-5", u}, "--preconnect -5: want -1 (estimate), 0 (none) or a count"},
		{"resolution without rate", []string{"attack", "--resolution", "2ms", u}, "are for the open model"},
		{"resolution too coarse", []string{"attack", "--rate", "10", "--resolution", "2s", u}, "--resolution 2s: want 0 to 1s"},
		{"url without scheme", []string{"attack", "127.0.0.1:8080"}, `did you mean "http://127.0.0.1:8080"?`},
		{"rate of zero", []string{"attack", "--rate", "0", "-d", "2s", u}, "--rate 0: starts no request in its 2s (the rate is 0 throughout)"},
		{"rate stages with another duration", []string{"attack", "--rate", "100:1m,5:0s", "-d", "1s", u}, "--duration 1s with --rate 100:1m,5:0s: the stages set the length (1m0s)"},
		{"rate stages of zero", []string{"attack", "--rate", "0:2s", u}, "--rate 0:2s: starts no request in its 2s"},
		{"rate too large", []string{"attack", "--rate", "1e308", "-d", "1m", u}, "--rate: rate \"1e308\": "},
		{"rate with max-rps", []string{"attack", "--rate", "200", "--max-rps", "10", u}, "does not combine"},
		{"rate with ramp-up", []string{"attack", "--rate", "200", "--ramp-up", "1s", u}, "does not combine"},
		{"rate with zero max-clients", []string{"attack", "--rate", "200", "--max-clients", "0", u}, "--max-clients 0: must be > 0"},
		{"negative clients", []string{"attack", "-c", "-4", u}, "--clients -4: must be > 0"},
		{"zero clients", []string{"attack", "-c", "0", u}, "--clients 0: must be > 0"},
		{"more clients than any open-file limit", []string{"attack", "-c", "2000000000", u}, "--clients 2000000000: each client holds a connection, a file descriptor, and this process may open "},
		{"clients not a number", []string{"attack", "-c", "many", u}, `invalid argument "many" for "-c, --clients"`},
		{"negative requests", []string{"attack", "-n", "-5", u}, "must not be negative"},
		{"negative max-rps", []string{"attack", "--max-rps", "-1", u}, "must not be negative"},
		{"negative duration", []string{"attack", "-d", "-1s", u}, "--duration -1s"},
		{"zero duration without requests", []string{"attack", "-d", "0", u}, "--duration 0 needs --requests"},
		{"duration not a duration", []string{"attack", "-d", "10", u}, `invalid argument "10" for "-d, --duration"`},
		{"zero timeout", []string{"attack", "--timeout", "0", u}, "--timeout 0s: must be > 0"},
		{"output xml", []string{"attack", "--output", "xml", u}, `--output "xml": want text or json`},
		{"missing body file", []string{"attack", "--body-file", filepath.Join(dir, "missing.json"), u}, "--body-file " + filepath.Join(dir, "missing.json") + ": open "},
		{"endless body file", []string{"attack", "--body-file", "/dev/zero", u}, "--body-file /dev/zero: more than 64 MiB, the limit (fuka keeps it in memory)"},
		{"body and body file", []string{"attack", "-b", "{}", "--body-file", bodyFile, u}, "--body and --body-file: give one"},
		{"json-out is a folder", []string{"attack", "--json-out", dir, u}, "--json-out: " + dir + " is a directory"},
		{"version with an argument", []string{"version", "extra"}, `unknown command "extra" for "fuka version"`},
		{"demo with an argument", []string{"demo", "extra"}, `unknown command "extra" for "fuka demo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, ExitUsage, r.err)
			}
			if !strings.HasPrefix(r.err, "fuka: ") || strings.Count(r.err, "\n") != 1 || !strings.HasSuffix(r.err, "\n") {
				t.Errorf("stderr is not one line starting with \"fuka: \": %q", r.err)
			}
			if !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q does not say %q", r.err, tt.want)
			}
			if r.out != "" {
				t.Errorf("stdout %q, want nothing", r.out)
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests; usage errors must send none", n)
	}
}

func TestAttackJSON(t *testing.T) {
	tg := newTarget(t)
	jsonOut := filepath.Join(t.TempDir(), "sub", "run.json")
	r := runCLI(t, nil, "attack", tg.URL+"/api?a=1&b=2", "-n", "200", "-c", "4", "-q", "-o", "json", "--json-out", jsonOut)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if r.err != "" {
		t.Errorf("stderr with -q: %q", r.err)
	}
	s := lastJSON(t, r.out)
	if s.Requests != 200 || tg.n.Load() != 200 {
		t.Errorf("requests %d, target served %d; want 200 both", s.Requests, tg.n.Load())
	}
	if s.Failed != 0 || s.ErrorRate != 0 || s.Status["200"] != 200 {
		t.Errorf("failed %d, error_rate %v, status %v", s.Failed, s.ErrorRate, s.Status)
	}
	if s.RPS == nil || *s.RPS <= 0 {
		t.Errorf("rps missing or not positive: %v", s.RPS)
	}
	for _, k := range []string{"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"} {
		if _, ok := s.Latency[k]; !ok {
			t.Errorf("latency.%s missing: %v", k, s.Latency)
		}
	}
	if s.Latency["p50_ms"] <= 0 || s.Latency["p50_ms"] > s.Latency["max_ms"] {
		t.Errorf("latency p50 %v, max %v", s.Latency["p50_ms"], s.Latency["max_ms"])
	}
	if s.Model != "closed" || s.LatencyFrom != "send" || s.Interrupted || s.Target != tg.URL+"/api?a=1&b=2" {
		t.Errorf("model %q, latency_from %q, interrupted %v, target %q", s.Model, s.LatencyFrom, s.Interrupted, s.Target)
	}

	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\n  \"requests\": 200,\n")) {
		t.Errorf("--json-out is not indented JSON with requests 200:\n%.300s", b)
	}
	var f summary
	if err := json.Unmarshal(b, &f); err != nil || f.Requests != s.Requests || f.Target != s.Target {
		t.Errorf("--json-out: requests %d target %q (err %v); stdout said %d %q", f.Requests, f.Target, err, s.Requests, s.Target)
	}
}

func TestAttackText(t *testing.T) {
	tg := newTarget(t)
	r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "50", "-c", "2")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	for _, want := range []string{"requests     50", "latency ", "status       200: 50", "errors       transport errors: none", "closed model, 2 clients"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.out)
		}
	}
	if tg.n.Load() != 50 {
		t.Errorf("target served %d, want 50", tg.n.Load())
	}
}

func TestAttackPOST(t *testing.T) {
	var method, ctype, body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		method.Store(r.Method)
		ctype.Store(r.Header.Get("Content-Type"))
		body.Store(b.String())
	}))
	defer srv.Close()
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"user":"a"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "attack", srv.URL+"/login", "-m", "post", "-H", "Content-Type: application/json",
		"--body-file", bodyFile, "-n", "5", "-c", "1", "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if s := lastJSON(t, r.out); s.Requests != 5 || s.Failed != 0 {
		t.Errorf("requests %d, failed %d", s.Requests, s.Failed)
	}
	if method.Load() != "POST" || ctype.Load() != "application/json" || body.Load() != `{"user":"a"}` {
		t.Errorf("server saw %v %v %v", method.Load(), ctype.Load(), body.Load())
	}
}

func TestAttackOpen(t *testing.T) {
	tg := newTarget(t)
	r := runCLI(t, nil, "attack", tg.URL+"/", "--rate", "200", "-d", "1s", "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	s := lastJSON(t, r.out)
	if s.Model != "open" || s.LatencyFrom != "intended" {
		t.Errorf("model %q, latency_from %q; want open, intended", s.Model, s.LatencyFrom)
	}
	// 200/s for 1s: about 200 starts, all served by a fast local target.
	if s.Requests < 150 || s.Requests > 210 || s.Requests != tg.n.Load() {
		t.Errorf("requests %d, target served %d; want ~200 both", s.Requests, tg.n.Load())
	}
}

// TestAttackCancel is the in-process form of Ctrl-C: the context ends, the
// run stops, still reports what it measured, and exits 130.
func TestAttackCancel(t *testing.T) {
	tg := newTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(5 * time.Second)
		for tg.n.Load() < 50 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	r := runCLI(t, ctx, "attack", tg.URL+"/", "-c", "4", "-d", "30s", "-q", "-o", "json")
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %v to stop", took)
	}
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d (stderr %q)", r.code, ExitInterrupted, r.err)
	}
	s := lastJSON(t, r.out)
	if !s.Interrupted || s.Requests == 0 || s.Requests != tg.n.Load() {
		t.Errorf("interrupted %v, requests %d, target served %d", s.Interrupted, s.Requests, tg.n.Load())
	}
}

// TestJSONOutUnwritable: a --json-out that cannot be written must not lose
// the run: the summary still goes to stdout, and stderr says why.
// An unwritable --json-out is found before the run: exit 2, nothing sent.
func TestJSONOutUnwritable(t *testing.T) {
	tg := newTarget(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "attack", tg.URL+"/", "-n", "10", "-c", "1", "-q", "-o", "json", "--json-out", filepath.Join(file, "run.json"))
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d", r.code, ExitUsage)
	}
	if !strings.HasPrefix(r.err, "fuka: --json-out: ") {
		t.Errorf("stderr %q", r.err)
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("target served %d requests, want 0", n)
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "version")
	if r.code != ExitOK || !strings.HasPrefix(r.out, "fuka ") || strings.Count(r.out, "\n") != 1 {
		t.Errorf("exit %d, stdout %q", r.code, r.out)
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no arguments", nil, []string{"Examples:", "fuka demo", "attack", "Exit codes"}},
		{"help", []string{"help"}, []string{"Examples:", "fuka attack http://127.0.0.1:8080/", "Available Commands"}},
		{"--help", []string{"--help"}, []string{"Examples:"}},
		{"attack --help", []string{"attack", "--help"}, []string{"Examples:", "--rate", "--clients", "Open model"}},
		{"help attack", []string{"help", "attack"}, []string{"Examples:", "--json-out"}},
		{"demo --help", []string{"demo", "--help"}, []string{"Examples:", "fuka demo --results"}},
		{"version --help", []string{"version", "--help"}, []string{"Examples:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("help lacks %q:\n%s", w, r.out)
				}
			}
			if strings.Contains(r.out, "--short") {
				t.Errorf("help shows the hidden --short flag")
			}
		})
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four loads of about a second each")
	}
	dir := t.TempDir()
	start := time.Now()
	r := runCLI(t, nil, "demo", "--short", "--results", dir)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("demo --short took %v", took)
	}
	runs, err := filepath.Glob(filepath.Join(dir, "demo-*"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one demo-* folder in %s, got %v (%v)", dir, runs, err)
	}
	for _, name := range []string{"closed", "open", "websocket", "grpc"} {
		b, err := os.ReadFile(filepath.Join(runs[0], name, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s summary
		if err := json.Unmarshal(b, &s); err != nil || s.Requests <= 0 {
			t.Errorf("%s: requests %d (err %v)", name, s.Requests, err)
		}
		if want := map[string]string{"open": "open"}[name]; s.Model != cmp.Or(want, "closed") {
			t.Errorf("%s: model %q", name, s.Model)
		}
		if fi, err := os.Stat(filepath.Join(runs[0], name, "report.html")); err != nil || fi.Size() < 10000 {
			t.Errorf("%s: report.html: %v", name, err)
		}
	}
	if !strings.Contains(r.out, "results are in "+runs[0]) {
		t.Errorf("stdout does not name the results folder %s:\n%s", runs[0], r.out)
	}
	if !strings.Contains(r.err, "demo target listening on http://127.0.0.1:") {
		t.Errorf("stderr %q", r.err)
	}
	// The demo's target is gone now: what it says to do next must work
	// as printed.
	_, next, ok := strings.Cut(r.out, "\nnext: ")
	cmds := hintCommands(next)
	if !ok || len(cmds) != 4 {
		t.Fatalf("want a next: with four commands (serve, then HTTP, WebSocket and gRPC loads) at the end of stdout:\n%s", r.out)
	}
	tryHints(t, cmds)
}
