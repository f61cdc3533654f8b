package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAgentServerRefuses: the agent does not start without a usable token
// and procfs, and says why; a weak token file starts with warnings.
func TestAgentServerRefuses(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, perm) // past the umask
		return p
	}
	good := file("good", "0123456789abcdef0123456789abcdef\n", 0o600)
	weak := file("weak", "short\n", 0o644)
	tests := []struct {
		name string
		s    AgentServer
		err  string
		warn []string
	}{
		{"no token file", AgentServer{Proc: "/proc"}, "--token-file is required", nil},
		{"empty token", AgentServer{TokenFile: file("empty", " \n", 0o600), Proc: "/proc"}, "is empty", nil},
		{"not a procfs", AgentServer{TokenFile: good, Proc: dir}, "is not a procfs", nil},
		{"weak token, bad address", AgentServer{TokenFile: weak, Proc: "/proc", Listen: "127.0.0.1:99999"}, "invalid port",
			[]string{"can be read by group or others (mode 0644): chmod 600", "the token is 5 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.Proc == "/proc" {
				if _, err := os.Stat("/proc/stat"); err != nil {
					t.Skip("no /proc")
				}
			}
			var out, errb bytes.Buffer
			err := tt.s.Serve(context.Background(), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
			for _, w := range tt.warn {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
		})
	}
}

func TestAgentLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9810": true, "localhost:9810": true, "[::1]:9810": true, "127.1.2.3:1": true,
		":9810": false, "0.0.0.0:9810": false, "10.0.0.5:9810": false, "[::]:9810": false, "example.com:80": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// lineWriter hands the first line written to it to a channel.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 && w.line != nil {
		w.line <- string(w.buf[:i])
		w.line = nil
	}
	return len(p), nil
}

// TestAgentServerClock: `fuka agent` on this host, with its clock 0.62 s
// ahead: each sample of a session is taken when asked and stamped on the
// agent's clock, and the second one has the CPU series, per CPU too.
func TestAgentServerClock(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	const offset = 620 * time.Millisecond
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{line: make(chan string, 1)}
	done := make(chan error, 1)
	s := AgentServer{Listen: "127.0.0.1:0", TokenFile: tok, Proc: "/proc", Now: func() time.Time { return time.Now().Add(offset) }}
	go func() { done <- s.Serve(ctx, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	var url string
	select {
	case line := <-out.line:
		_, after, _ := strings.Cut(line, " on ")
		url = strings.TrimSpace(after) + "?session=clock-test"
	case <-time.After(5 * time.Second):
		t.Fatal("the agent did not say where it serves")
	}
	var v struct {
		At     time.Time          `json:"at"`
		Values map[string]float64 `json:"values"`
	}
	for i := range 2 {
		if i == 1 {
			time.Sleep(200 * time.Millisecond)
		}
		before := time.Now()
		r := get(t, url, "Bearer "+testToken)
		after := time.Now()
		if err := json.Unmarshal([]byte(r.body), &v); r.code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", url, r.code, r.body)
		}
		if v.At.Before(before.Add(offset)) || v.At.After(after.Add(offset)) {
			t.Errorf("sample at %v, want between the request and its answer on the agent's clock (%v to %v)", v.At, before.Add(offset), after.Add(offset))
		}
	}
	n := int(v.Values["cpu.count"])
	if n < 1 || v.Values["cpu.idle_pct"] == 0 && v.Values["cpu.user_pct"] == 0 {
		t.Errorf("values %v, want the CPU series", v.Values)
	}
	if _, ok := v.Values["cpu.max_core_busy_pct"]; !ok {
		t.Errorf("values %v, want cpu.max_core_busy_pct", v.Values)
	}
}
