package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/demo"
)

// fuka attack ws:// against the demo's echo endpoint: the summary holds
// the round trips and the handshakes by name.
func TestAttackWebSocket(t *testing.T) {
	srv := httptest.NewServer(demo.Handler())
	t.Cleanup(srv.Close)
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/echo"
	r := runCLI(t, nil, "attack", u, "--ws-send", `{"ping":{{ seq }}}`, "--ws-expect", "ping", "-n", "100", "-c", "4", "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
	var s struct {
		Target, Method string
		Failed         int64
		ByName         []struct {
			Name     string
			Requests int64
			Status   map[string]int64
		} `json:"requests_by_name"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if s.Target != u || s.Method != "WS" || s.Failed != 0 {
		t.Errorf("target %q method %q failed %d", s.Target, s.Method, s.Failed)
	}
	got := map[string]int64{}
	for _, n := range s.ByName {
		got[n.Name] = n.Requests
	}
	// The 100 round trips may be done before every client has connected
	// on a busy machine: at least one handshake, at most one per client.
	if got["ws /ws/echo"] != 100 || got["ws connect /ws/echo"] < 1 || got["ws connect /ws/echo"] > 4 {
		t.Errorf("by name %v, want 100 round trips and 1 to 4 handshakes", got)
	}
}

func TestAttackWebSocketUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no message", []string{"attack", "ws://127.0.0.1:1/"}, "needs --ws-send"},
		{"an HTTP flag", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "x", "-m", "POST"}, "--method is for HTTP"},
		{"a ws flag with http", []string{"attack", "http://127.0.0.1:1/", "--ws-send", "x"}, "--ws-send is for a WebSocket URL"},
		{"a bad regexp", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "x", "--ws-expect-regex", "("}, "--ws-expect-regex"},
		{"a bad template", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "{{ x"}, "--ws-send"},
		{"no clients", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "x", "-c", "0"}, "--clients 0"},
		{"distributed", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "x", "--workers", "2"}, "one machine for now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d stderr %q, want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
}

// A server that closes connections: the round trips fail as resets and
// the note after the summary gives the close code.
func TestAttackWebSocketCloseCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, _, err := c.Read(r.Context()); err == nil {
			c.Close(websocket.StatusPolicyViolation, "no")
		}
	}))
	t.Cleanup(srv.Close)
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/x"
	r := runCLI(t, nil, "attack", u, "--ws-send", "hi", "-n", "3", "-c", "1", "-q")
	// The handshakes succeeded, so not every request failed: exit 0.
	if r.code != ExitOK || !strings.Contains(r.err, "by close code: 1008 ×3") {
		t.Errorf("exit %d, stderr %q; want %d and the close code", r.code, r.err, ExitOK)
	}
}
