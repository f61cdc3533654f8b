package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The signal tests need a real process: Run installs the handlers, and the
// second Ctrl-C calls os.Exit. The binary is built once, on first use.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	// Runs store themselves in the history database: keep the tests' runs
	// (and their subprocesses') out of the user's own.
	data, err := os.MkdirTemp("", "fuka-cli-test-data")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", data)
	os.Setenv("FUKA_RESULTS", filepath.Join(data, "results"))
	code := m.Run()
	os.RemoveAll(data)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// fukaBinary builds ./cmd/fuka from the module root (../..).
func fukaBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("signal tests run on Linux")
	}
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "fuka-cli-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "fuka")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", binPath, "./cmd/fuka")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/fuka: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		if errors.Is(buildErr, exec.ErrNotFound) {
			t.Skip("no go tool to build fuka with")
		}
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a fuka process under test.
type proc struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan struct{}
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	bin := fukaBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // kills a stuck fuka
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); cancel(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait returns the exit code, or fails the test if the process does not
// exit within d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("fuka did not exit within %v\nstderr: %s", d, p.err.String())
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("fuka died of %v\nstderr: %s", ws.Signal(), p.err.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSIGINT: the first Ctrl-C stops the run; what was measured is still
// printed and written, and the exit code says it was interrupted.
func TestSIGINT(t *testing.T) {
	tg := newTarget(t)
	jsonOut := filepath.Join(t.TempDir(), "run.json")
	p := start(t, "attack", tg.URL+"/", "-c", "4", "-d", "30s", "-o", "json", "--json-out", jsonOut)
	waitFor(t, "the target to serve requests", func() bool { return tg.n.Load() >= 100 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if code := p.wait(t, 5*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, p.err.String())
	}
	t.Logf("exited %v after SIGINT", time.Since(sent).Round(time.Millisecond))
	s := lastJSON(t, p.out.String())
	if !s.Interrupted || s.Requests <= 0 || s.Requests != tg.n.Load() {
		t.Errorf("interrupted %v, requests %d, target served %d", s.Interrupted, s.Requests, tg.n.Load())
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var f summary
	if err := json.Unmarshal(b, &f); err != nil || f.Requests != s.Requests || !f.Interrupted {
		t.Errorf("--json-out: requests %d, interrupted %v (err %v); stdout said %d", f.Requests, f.Interrupted, err, s.Requests)
	}
	if !bytes.Contains(p.err.Bytes(), []byte("fuka: interrupted")) {
		t.Errorf("stderr does not say it was interrupted: %q", p.err.String())
	}
}

// TestDoubleSIGINT: a second Ctrl-C quits at once, without waiting for
// in-flight requests that would only end at their timeout.
func TestDoubleSIGINT(t *testing.T) {
	var arrived atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select { // hang until the client goes away or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	p := start(t, "attack", srv.URL+"/", "-c", "4", "-d", "30s", "--timeout", "10s", "-q", "-o", "json")
	waitFor(t, "4 hanging requests", func() bool { return arrived.Load() >= 4 })
	for range 2 {
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	sent := time.Now()
	if code := p.wait(t, 3*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, p.err.String())
	}
	t.Logf("exited %v after the second SIGINT", time.Since(sent).Round(time.Millisecond))
}

// TestSignalWhileLoading: while fuka reads its input, a FIFO that no one
// writes to blocks it where no context reaches (opening the FIFO waits for
// a writer). The first SIGTERM ends it within a second, exit 130, nothing
// sent: for a plan's body_file, a plan's CSV data, validate, and attack's
// --body-file.
func TestSignalWhileLoading(t *testing.T) {
	tg := newTarget(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	body := write("body.yaml", "base_url: "+tg.URL+`
scenarios:
  s: { steps: [ { post: /x, body_file: fifo } ] }
load: { clients: 1, duration: 5s }
`)
	data := write("data.yaml", "base_url: "+tg.URL+`
data: { d: { csv: fifo } }
scenarios:
  s: { steps: [ { get: "/x?v={{ d.v }}" } ] }
load: { clients: 1, duration: 5s }
`)
	tests := []struct {
		name string
		args []string
	}{
		{"run, body_file", []string{"run", body, "-q"}},
		{"run, csv data", []string{"run", data, "-q"}},
		{"validate", []string{"validate", body}},
		{"attack --body-file", []string{"attack", tg.URL + "/", "-m", "POST", "--body-file", fifo, "-q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, tt.args...)
			// Give it time to reach the FIFO; it must still be running.
			time.Sleep(300 * time.Millisecond)
			select {
			case <-p.done:
				t.Fatalf("fuka exited before the signal: %s", p.err.String())
			default:
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			if code := p.wait(t, time.Second); code != ExitInterrupted {
				t.Errorf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, p.err.String())
			}
			t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
			if !strings.Contains(p.err.String(), "interrupted before the load started; nothing was sent") {
				t.Errorf("stderr does not say nothing was sent: %q", p.err.String())
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("the target served %d requests", n)
	}
}

// TestDoubleSIGINTLeavesNoPartialResults: a second Ctrl-C exits at once,
// before the results are written; every results file is then as it was
// before the run (an earlier --json-out stays whole) or absent, never
// empty or half written, and no temporary file is left behind.
func TestDoubleSIGINTLeavesNoPartialResults(t *testing.T) {
	var arrived atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	for _, earlier := range []bool{true, false} {
		name := "no earlier file"
		if earlier {
			name = "an earlier file"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			jsonOut := filepath.Join(dir, "out", "run.json")
			const previous = `{"requests": 7}` + "\n"
			if earlier {
				if err := os.MkdirAll(filepath.Dir(jsonOut), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(jsonOut, []byte(previous), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			arrived.Store(0)
			p := start(t, "attack", srv.URL+"/", "-c", "2", "-d", "30s", "--timeout", "10s", "-q", "--no-history",
				"--json-out", jsonOut, "--results", filepath.Join(dir, "results"), "--csv", filepath.Join(dir, "csv"))
			waitFor(t, "2 hanging requests", func() bool { return arrived.Load() >= 2 })
			for range 2 {
				if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if code := p.wait(t, 3*time.Second); code != ExitInterrupted {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, p.err.String())
			}
			b, err := os.ReadFile(jsonOut)
			switch {
			case earlier && (err != nil || string(b) != previous):
				t.Errorf("--json-out is %q (%v); want the earlier file, whole", b, err)
			case !earlier && !os.IsNotExist(err):
				t.Errorf("--json-out exists (%q, %v); want no file", b, err)
			}
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				if path == jsonOut && earlier {
					return nil
				}
				fi, _ := d.Info()
				t.Errorf("left behind: %s (%d bytes)", path, fi.Size())
				return nil
			})
		})
	}
}
