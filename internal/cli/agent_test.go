package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeToken(t *testing.T, token string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestAgentRefusesToStart(t *testing.T) {
	good := writeToken(t, "0123456789abcdef0123456789abcdef\n", 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token file", []string{"agent"}, "--token-file is required"},
		{"missing token file", []string{"agent", "--token-file", filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"empty token file", []string{"agent", "--token-file", writeToken(t, " \n", 0o600)}, "is empty"},
		{"not a procfs", []string{"agent", "--token-file", good, "--proc", t.TempDir()}, "is not a procfs"},
		{"bad listen address", []string{"agent", "--token-file", good, "--listen", "127.0.0.1:99999"}, "invalid port"},
		{"arguments", []string{"agent", "--token-file", good, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, ExitUsage, r.err)
			}
			if !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q, want it to say %q", r.err, tt.want)
			}
		})
	}
}

// lockedBuffer is an io.Writer the agent writes to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAgentCommand runs `fuka agent` on 127.0.0.1:0 and the real /proc,
// fetches a sample with the token, and stops it as Ctrl-C would.
func TestAgentCommand(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	const token = "0123456789abcdef0123456789abcdef"
	tokenFile := writeToken(t, token+"\n", 0o644) // readable by others: a warning
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"fuka", "agent", "--listen", "127.0.0.1:0", "--token-file", tokenFile},
			Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/v1/sample`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; {
		if url = addr.FindString(out.String()); url == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no address printed; stdout %q stderr %q", out.String(), errb.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	get := func(auth string) (int, []byte) {
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// The agent samples at once; rates come a second later.
	var sample struct {
		Values map[string]float64 `json:"values"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		status, body := get("Bearer " + token)
		if status == http.StatusOK {
			if err := json.Unmarshal(body, &sample); err != nil {
				t.Fatal(err)
			}
			if _, ok := sample.Values["cpu.user_pct"]; ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample with rates: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sample.Values["mem.total_bytes"] <= 0 || sample.Values["cpu.count"] < 1 {
		t.Errorf("values %v", sample.Values)
	}
	if status, body := get("Bearer wrong"); status != http.StatusUnauthorized || len(body) != 0 {
		t.Errorf("wrong token: %d %q, want 401 and nothing", status, body)
	}
	if status, _ := get(""); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	cancel()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit %d after cancel, want 0; stderr %s", c, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop")
	}
	if e := errb.String(); !strings.Contains(e, "can be read by group or others") || strings.Contains(e, "plain HTTP") {
		t.Errorf("stderr %q: want the token-file warning and no listen warning", e)
	}
}
