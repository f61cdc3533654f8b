package monitor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
