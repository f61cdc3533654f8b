package cli

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		{"distributed, a bad regexp", []string{"attack", "ws://127.0.0.1:1/", "--ws-send", "x", "--ws-expect-regex", "(", "--workers", "2"}, "--ws-expect-regex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d stderr %q, want %d and %q", r.code, r.err, ExitUsage, tc.want)
			}
		})
	}
}

// A server whose handshakes work but whose round trips all fail (it closes
// the connection with 1008, or never answers): every request the run is
// for failed, so it exits 3, and the summary gives the close codes.
func TestAttackWebSocketCloseCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, _, err := c.Read(r.Context()); err == nil && r.URL.Path == "/close" {
			c.Close(websocket.StatusPolicyViolation, "no")
		}
		if r.URL.Path == "/silent" {
			for {
				if _, _, err := c.Read(r.Context()); err != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ name, path, want string }{
		{"closed", "/close", "close codes  1008 policy violation ×3"},
		{"no answer", "/silent", "no matching message within the timeout (3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := "ws" + strings.TrimPrefix(srv.URL, "http") + tc.path
			r := runCLI(t, nil, "attack", u, "--ws-send", "hi", "-n", "3", "-c", "1", "--timeout", "300ms")
			if r.code != ExitAllFailed || !strings.Contains(r.out, "every WebSocket message failed, though") || !strings.Contains(r.out, tc.want) {
				t.Errorf("exit %d, stdout %q; want %d, every message failed and %q", r.code, r.out, ExitAllFailed, tc.want)
			}
		})
	}
	// Against an echo server the same run passes.
	echo := httptest.NewServer(demo.Handler())
	t.Cleanup(echo.Close)
	u := "ws" + strings.TrimPrefix(echo.URL, "http") + "/ws/echo"
	if r := runCLI(t, nil, "attack", u, "--ws-send", "hi", "--ws-expect", "hi", "-n", "3", "-c", "1"); r.code != ExitOK {
		t.Errorf("echo: exit %d, stderr %q", r.code, r.err)
	}
}

// A plan whose WebSocket handshakes work but whose every message step
// fails (the server closes with 1001 when a message comes) exits 3, and
// its JSON counts the close codes; with a message that matches, 0.
func TestRunWebSocketPlanAllFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if r.URL.Path == "/away" {
				c.Close(websocket.StatusGoingAway, "bye")
				return
			}
			if c.Write(r.Context(), typ, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, path string
		code       int
		closes     map[string]int64
	}{
		{"closed by the server", "/away", ExitAllFailed, map[string]int64{"1001": 2}},
		{"echoed", "/echo", ExitOK, map[string]int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := writePlanFile(t, t.TempDir(), "ws.yaml", srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: `+tc.path+`
      - send: hi
        name: hi
        expect: { contains: hi }
        timeout: 2s
load: { clients: 1, iterations: 2 }
`)
			r := runCLI(t, nil, "run", plan, "-q", "-o", "json")
			lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
			var s struct {
				WebSocket struct {
					Closes      map[string]int64 `json:"closes"`
					MessagesOut int64            `json:"messages_out"`
				} `json:"websocket"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
				t.Fatalf("%v: %q", err, r.out)
			}
			if r.code != tc.code || s.WebSocket.MessagesOut != 2 || !maps.Equal(s.WebSocket.Closes, tc.closes) {
				t.Errorf("exit %d, messages out %d, closes %v; want %d, 2, %v (stderr %q)", r.code, s.WebSocket.MessagesOut, s.WebSocket.Closes, tc.code, tc.closes, r.err)
			}
		})
	}
}

// Quick mode in both models against a server that counts what it sees:
// with --rate each start opens its own connection (an arrival rate of new
// connections), with -c each client holds one for the run; either way the
// summary's handshakes and messages are the server's.
func TestAttackWebSocketModels(t *testing.T) {
	var accepted, received, sent, normal atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		accepted.Add(1)
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
					normal.Add(1)
				}
				return
			}
			received.Add(1)
			if c.Write(r.Context(), typ, append([]byte("pong "), msg...)) != nil {
				return
			}
			sent.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	for _, tc := range []struct {
		name string
		load []string
		open bool
	}{
		{"open model", []string{"--rate", "40", "-d", "1s"}, true},
		{"closed model", []string{"-c", "3", "-d", "1s"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted.Store(0)
			received.Store(0)
			sent.Store(0)
			normal.Store(0)
			args := append([]string{"attack", u, "--ws-send", "hi {{ seq }}", "--ws-expect", "pong", "-q", "-o", "json"}, tc.load...)
			r := runCLI(t, nil, args...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
			var s struct {
				StartsDue *int64 `json:"starts_due"`
				Dropped   int64  `json:"dropped"`
				ByName    []struct {
					Name     string
					Requests int64
					Failed   int64
				} `json:"requests_by_name"`
				WebSocket struct {
					OpenPeak    int64 `json:"open_peak"`
					OpenFinal   int64 `json:"open_final"`
					MessagesIn  int64 `json:"messages_in"`
					MessagesOut int64 `json:"messages_out"`
				} `json:"websocket"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
				t.Fatalf("%v: %q", err, r.out)
			}
			got := map[string]int64{}
			for _, n := range s.ByName {
				got[n.Name] = n.Requests
				if n.Failed != 0 {
					t.Errorf("%s: %d failed", n.Name, n.Failed)
				}
			}
			hs, rt := got["ws connect /echo"], got["ws /echo"]
			if hs != accepted.Load() || rt != received.Load() || s.WebSocket.MessagesOut != received.Load() || s.WebSocket.MessagesIn != sent.Load() {
				t.Errorf("handshakes %d round trips %d, messages out %d in %d; the server accepted %d, received %d, sent %d",
					hs, rt, s.WebSocket.MessagesOut, s.WebSocket.MessagesIn, accepted.Load(), received.Load(), sent.Load())
			}
			closed := func(n int64) bool {
				for deadline := time.Now().Add(2 * time.Second); normal.Load() < n && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				return normal.Load() == n
			}
			if !closed(hs) || s.WebSocket.OpenFinal != 0 {
				t.Errorf("%d normal closures of %d connections, %d open at the end", normal.Load(), hs, s.WebSocket.OpenFinal)
			}
			due := int64(-1) // null
			if s.StartsDue != nil {
				due = *s.StartsDue
			}
			if tc.open {
				// One connection per start, each start due is run or dropped.
				if due != 40 || hs != rt || hs+s.Dropped != 40 || hs < 30 || s.WebSocket.OpenPeak < 1 {
					t.Errorf("starts due %v, dropped %d, handshakes %d, round trips %d, peak open %d; want 40 = handshakes + dropped, one round trip each",
						due, s.Dropped, hs, rt, s.WebSocket.OpenPeak)
				}
				return
			}
			// Three held connections, many round trips on each.
			if due != -1 || hs != 3 || rt < 30 || s.WebSocket.OpenPeak != 3 {
				t.Errorf("starts due %d, handshakes %d, round trips %d, peak open %d; want null (-1), 3, many, 3", due, hs, rt, s.WebSocket.OpenPeak)
			}
		})
	}
}

// wsEcho is a coder/websocket echo server that counts what it sees.
type wsEcho struct {
	accepted, received, normalCloses, pings atomic.Int64
	open, peak                              atomic.Int64 // connections open now, and the most at once
}

func (s *wsEcho) handler(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
		s.pings.Add(1)
		return true
	}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	s.accepted.Add(1)
	for n := s.open.Add(1); ; {
		if p := s.peak.Load(); n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer s.open.Add(-1)
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				s.normalCloses.Add(1)
			}
			return
		}
		s.received.Add(1)
		if c.Write(r.Context(), typ, msg) != nil {
			return
		}
	}
}

// byNameSummary is the JSON summary's requests by name, with the workers.
type byNameSummary struct {
	clusterSummary
	ByName []struct {
		Name     string           `json:"name"`
		Requests int64            `json:"requests"`
		Failed   int64            `json:"failed"`
		Status   map[string]int64 `json:"status"`
	} `json:"requests_by_name"`
	WebSocket struct {
		OpenPeak  int64 `json:"open_peak"`
		OpenFinal int64 `json:"open_final"`
	} `json:"websocket"`
	Scenarios []nameCount `json:"scenarios"`
}

func (s byNameSummary) name(n string) (requests, failed int64) {
	for _, b := range s.ByName {
		if b.Name == n {
			return b.Requests, b.Failed
		}
	}
	return -1, -1
}

// distributedWS runs the controller command on 2 workers and returns its
// JSON summary.
func distributedWS(t *testing.T, args ...string) byNameSummary {
	t.Helper()
	certs := certsDir(t)
	addr := freeAddr(t)
	res, codes := distributed(t, 2,
		append(args, "--workers", "2", "--listen", addr, "--certs-dir", certs, "--start-delay", "300ms",
			"-o", "json", "-q", "--no-history", "--no-report"),
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != 0 {
		t.Fatalf("controller exit %d: %s", res.code, res.err)
	}
	for i, c := range codes {
		if c != 0 {
			t.Errorf("worker %d exit %d", i, c)
		}
	}
	t.Log(lastLine(res.out))
	var s byNameSummary
	if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
		t.Fatalf("%v: %q", err, res.out)
	}
	if s.Degraded || len(s.Workers) != 2 || s.Workers[0].Requests == 0 || s.Workers[1].Requests == 0 {
		t.Errorf("workers %+v degraded %v: want 2, each with its share", s.Workers, s.Degraded)
	}
	return s
}

// fuka attack ws:// --workers 2: each worker builds the round trip from
// the job; the merged round trips and handshakes are the server's. With
// --rate each start opens its own connection on the workers too.
func TestDistributedWebSocketAttack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		load  []string
		check func(trips, hs int64) bool
	}{
		{"closed", []string{"-c", "4", "-d", "2s", "--max-rps", "300"}, func(trips, hs int64) bool { return hs >= 2 && hs <= 4 }},
		{"open", []string{"--rate", "100", "-d", "1s"}, func(trips, hs int64) bool { return hs == trips }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &wsEcho{}
			srv := httptest.NewServer(http.HandlerFunc(s.handler))
			t.Cleanup(srv.Close)
			u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
			sum := distributedWS(t, append([]string{"attack", u, "--ws-send", `{"n":{{ seq }}}`, "--ws-expect", `"n"`}, tc.load...)...)
			trips, tripsFailed := sum.name("ws /chat")
			hs, hsFailed := sum.name("ws connect /chat")
			if trips <= 0 || tripsFailed != 0 || trips != s.received.Load() {
				t.Errorf("%d round trips (%d failed); the server echoed %d", trips, tripsFailed, s.received.Load())
			}
			if hs != s.accepted.Load() || hsFailed != 0 || !tc.check(trips, hs) {
				t.Errorf("%d handshakes (%d failed) for %d round trips; the server accepted %d", hs, hsFailed, trips, s.accepted.Load())
			}
			if sum.Requests != trips+hs {
				t.Errorf("summary requests %d, want %d round trips + %d handshakes", sum.Requests, trips, hs)
			}
			// The connections open are the workers' sum: in the closed
			// model each client holds its connection from its start to
			// the end, all of them at once as the server saw; in the open
			// model (short connections, the workers' peaks summed) at
			// least one and at most every connection.
			ws := sum.WebSocket
			if ws.OpenFinal != 0 || tc.name == "closed" && (ws.OpenPeak != hs || s.peak.Load() != hs) ||
				tc.name == "open" && (ws.OpenPeak < 1 || ws.OpenPeak > hs) {
				t.Errorf("open peak %d, at the end %d; the server held %d at most, for %d handshakes", ws.OpenPeak, ws.OpenFinal, s.peak.Load(), hs)
			}
		})
	}
}

// A plan with WebSocket steps on 2 workers: the handshakes, the round
// trips, the every: sends and pings merge to the server's counts, and the
// scenario's row (and its thresholds, which decide the exit code) to
// their sum.
func TestDistributedWebSocketPlan(t *testing.T) {
	s := &wsEcho{}
	srv := httptest.NewServer(http.HandlerFunc(s.handler))
	t.Cleanup(srv.Close)
	plan := writePlanFile(t, t.TempDir(), "ws.yaml", srv.URL, `name: ws
base_url: BASE
scenarios:
  chat:
    steps:
      - ws: /chat
        name: join
        every: { period: 50ms, ping: true, timeout: 1s }
      - loop: { count: 3 }
        steps:
          - send: '{"from":{{ client_id }},"n":{{ seq }}}'
            name: say
            expect: { contains: '"from":{{ client_id }},' }
            timeout: 2s
          - think: 30ms
      - close: 1000
load: { clients: 4, iterations: 5 }
thresholds: ["chat.requests > 80", "chat.error_rate < 1%"]
`)
	sum := distributedWS(t, "run", plan)
	join, joinFailed := sum.name("join")
	say, sayFailed := sum.name("say")
	ping, pingFailed := sum.name("join ping")
	if len(sum.Scenarios) != 1 || sum.Scenarios[0].Requests != join+say+ping || sum.Scenarios[0].Failed != 0 {
		t.Errorf("scenario rows %+v, want chat's with %d requests (join %d + say %d + join ping %d)", sum.Scenarios, join+say+ping, join, say, ping)
	}
	if join != 20 || joinFailed != 0 || s.accepted.Load() != 20 {
		t.Errorf("%d handshakes (%d failed); the server accepted %d; want 20", join, joinFailed, s.accepted.Load())
	}
	if say != 60 || sayFailed != 0 || s.received.Load() != 60 {
		t.Errorf("%d round trips (%d failed); the server echoed %d; want 60", say, sayFailed, s.received.Load())
	}
	if ping <= 0 || pingFailed != 0 || ping != s.pings.Load() {
		t.Errorf("%d pings (%d failed); the server got %d: want some, all answered", ping, pingFailed, s.pings.Load())
	}
	if !eventuallyTrue(func() bool { return s.normalCloses.Load() == 20 }) {
		t.Errorf("the server saw %d normal closures, want 20", s.normalCloses.Load())
	}
}

// Loads that end by time, closed and open: the every: sends and round
// trips in flight at the end are recorded as the server received them.
func TestDistributedWebSocketPlanTimed(t *testing.T) {
	for _, load := range []string{"{ clients: 4, duration: 1s }", "{ rate: 40, duration: 1s }"} {
		t.Run(load, func(t *testing.T) {
			s := &wsEcho{}
			srv := httptest.NewServer(http.HandlerFunc(s.handler))
			t.Cleanup(srv.Close)
			plan := writePlanFile(t, t.TempDir(), "ws.yaml", srv.URL, `name: ws
base_url: BASE
scenarios:
  chat:
    steps:
      - ws: /chat
        name: join
        every: { period: 20ms, send: '{"every":{{ seq }}}' }
      - loop: { count: 3 }
        steps:
          - send: '{"from":{{ client_id }},"n":{{ seq }}}'
            name: say
            expect: { contains: '"from":{{ client_id }},' }
            timeout: 2s
          - think: 30ms
      - close: 1000
load: `+load+`
`)
			sum := distributedWS(t, "run", plan)
			join, _ := sum.name("join")
			say, sayFailed := sum.name("say")
			every, everyFailed := sum.name("join every")
			if join <= 0 || join != s.accepted.Load() {
				t.Errorf("%d handshakes, the server accepted %d", join, s.accepted.Load())
			}
			if say <= 0 || every <= 0 || sayFailed+everyFailed != 0 || say+every != s.received.Load() {
				t.Errorf("%d round trips + %d every: sends (%d, %d failed); the server received %d", say, every, sayFailed, everyFailed, s.received.Load())
			}
		})
	}
}

// eventuallyTrue waits up to 2 s for cond.
func eventuallyTrue(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
