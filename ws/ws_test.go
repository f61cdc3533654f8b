package ws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// server is a coder/websocket server that counts what it does, so tests
// can hold fuka's numbers against the server's own.
type server struct {
	accepted, received, sent, bytesIn, normalCloses atomic.Int64
}

// ServeHTTP: /echo answers "pong " + each message; /silent reads and never
// answers; /close closes with 1008 on the first message, /goaway with 1001;
// /deny refuses the handshake with 403; /chatty sends "noise" before each
// answer.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/deny" {
		http.Error(w, "no", http.StatusForbidden)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	s.accepted.Add(1)
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				s.normalCloses.Add(1)
			}
			return
		}
		s.received.Add(1)
		s.bytesIn.Add(int64(len(msg)))
		switch r.URL.Path {
		case "/silent":
			continue
		case "/close":
			_ = c.Close(websocket.StatusPolicyViolation, "go away")
			return
		case "/goaway":
			_ = c.Close(websocket.StatusGoingAway, "restarting")
			return
		case "/chatty":
			if c.Write(ctx, websocket.MessageText, []byte("noise")) != nil {
				return
			}
			s.sent.Add(1)
		}
		if c.Write(ctx, typ, append([]byte("pong "), msg...)) != nil {
			return
		}
		s.sent.Add(1)
	}
}

func start(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	s := &server{}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func wsURL(t *testing.T, ts *httptest.Server, path string) *url.URL {
	t.Helper()
	u, err := url.Parse("ws" + strings.TrimPrefix(ts.URL, "http") + path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func runQuick(t *testing.T, q *Quick, l engine.Load) *metrics.Run {
	t.Helper()
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := engine.Run(ctx, engine.Config{Load: l, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Run
}

func TestQuickCountsMatchServer(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		binary     bool
	}{
		{"echo text", "/echo", false},
		{"echo binary", "/echo", true},
		{"non-matching messages are read past", "/chatty", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ts := start(t)
			q := &Quick{URL: wsURL(t, ts, tc.path), Send: `{"ping":{{ seq }}}`, Binary: tc.binary,
				Expect: Match{Contains: "pong"}, Timeout: 5 * time.Second}
			run := runQuick(t, q, engine.Closed{Clients: 4, Requests: 200})
			rt, conn := run.ByName[0], run.ByName[1]
			if run.Names[0] != "ws "+tc.path || run.Names[1] != "ws connect "+tc.path {
				t.Errorf("names %q", run.Names)
			}
			if rt.Requests != 200 || rt.Requests != s.received.Load() {
				t.Errorf("round trips %d, server received %d, want 200 both", rt.Requests, s.received.Load())
			}
			if rt.Status[StatusMatched] != 200 || rt.Failed != 0 {
				t.Errorf("matched %d failed %d, want 200 and 0", rt.Status[StatusMatched], rt.Failed)
			}
			if conn.Requests != 4 || conn.Requests != s.accepted.Load() || conn.Status[101] != 4 {
				t.Errorf("handshakes %d (101: %d), server accepted %d, want 4", conn.Requests, conn.Status[101], s.accepted.Load())
			}
			// The engine closes each client's connection when the load ends.
			for deadline := time.Now().Add(2 * time.Second); s.normalCloses.Load() < 4 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if s.normalCloses.Load() != 4 {
				t.Errorf("normal closures %d, want 4", s.normalCloses.Load())
			}
			if rt.BytesOut != s.bytesIn.Load() {
				t.Errorf("bytes out %d, server read %d", rt.BytesOut, s.bytesIn.Load())
			}
			// Every message counts: fuka's out are the server's received,
			// its in the server's sent (the "noise" read past included).
			if rt.MsgsOut != s.received.Load() || rt.MsgsIn != s.sent.Load() || conn.MsgsIn+conn.MsgsOut != 0 {
				t.Errorf("messages out %d in %d, server received %d sent %d; handshakes %d/%d",
					rt.MsgsOut, rt.MsgsIn, s.received.Load(), s.sent.Load(), conn.MsgsIn, conn.MsgsOut)
			}
			if last := run.Timeline[len(run.Timeline)-1]; !run.WebSocket || last.WSOpen != 0 {
				t.Errorf("websocket %v, %d connections open at the end; want true, 0", run.WebSocket, last.WSOpen)
			}
			// Every answer is "pong " + the message; /chatty adds "noise".
			want := rt.BytesOut + 5*200
			if tc.path == "/chatty" {
				want += 5 * 200
			}
			if rt.BytesIn != want {
				t.Errorf("bytes in %d, want %d", rt.BytesIn, want)
			}
		})
	}
}

func TestQuickErrorsByKind(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		expect     Match
		requests   int64
		check      func(t *testing.T, q *Quick, rt, conn *metrics.Stats, s *server)
	}{
		{"no matching message is a timeout", "/silent", Match{Contains: "pong"}, 4,
			func(t *testing.T, _ *Quick, rt, conn *metrics.Stats, s *server) {
				if rt.Errors[metrics.ErrTimeout] != 4 || rt.Failed != 4 || s.received.Load() != 4 {
					t.Errorf("timeouts %d failed %d received %d, want 4", rt.Errors[metrics.ErrTimeout], rt.Failed, s.received.Load())
				}
				// A timeout closes the connection: each start connects again.
				if conn.Requests != 4 {
					t.Errorf("handshakes %d, want 4", conn.Requests)
				}
				if p50 := time.Duration(rt.Latency.ValueAtQuantile(50)) * time.Microsecond; p50 < 200*time.Millisecond {
					t.Errorf("a timed-out round trip waited %v, want the timeout", p50)
				}
			}},
		{"a regexp that never matches is a timeout", "/echo", Match{Regexp: regexp.MustCompile(`^nope`)}, 2,
			func(t *testing.T, _ *Quick, rt, _ *metrics.Stats, _ *server) {
				if rt.Errors[metrics.ErrTimeout] != 2 || rt.BytesIn == 0 {
					t.Errorf("timeouts %d bytes in %d, want 2 and the echoes read", rt.Errors[metrics.ErrTimeout], rt.BytesIn)
				}
			}},
		{"a close frame is a reset, by code", "/close", Match{Contains: "pong"}, 6,
			func(t *testing.T, q *Quick, rt, conn *metrics.Stats, s *server) {
				if rt.Errors[metrics.ErrReset] != 6 || rt.Closes[int(websocket.StatusPolicyViolation)] != 6 || len(rt.Closes) != 1 {
					t.Errorf("resets %d closes %v, want 6 of 1008", rt.Errors[metrics.ErrReset], rt.Closes)
				}
				if conn.Requests != 6 || s.accepted.Load() != 6 {
					t.Errorf("handshakes %d accepted %d, want 6", conn.Requests, s.accepted.Load())
				}
				if rt.MsgsOut != 6 || rt.MsgsIn != 0 {
					t.Errorf("messages out %d in %d, want 6 and 0", rt.MsgsOut, rt.MsgsIn)
				}
			}},
		{"going away is counted as 1001", "/goaway", Match{Contains: "pong"}, 2,
			func(t *testing.T, q *Quick, rt, _ *metrics.Stats, _ *server) {
				if rt.Closes[int(websocket.StatusGoingAway)] != 2 || len(rt.Closes) != 1 {
					t.Errorf("closes %v, want 2 of 1001", rt.Closes)
				}
			}},
		{"a refused handshake records its status", "/deny", Match{}, 3,
			func(t *testing.T, _ *Quick, rt, conn *metrics.Stats, _ *server) {
				if conn.Status[403] != 3 || conn.Failed != 3 || rt.Requests != 0 {
					t.Errorf("403s %d failed %d round trips %d, want 3, 3, 0", conn.Status[403], conn.Failed, rt.Requests)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ts := start(t)
			q := &Quick{URL: wsURL(t, ts, tc.path), Send: "ping", Expect: tc.expect, Timeout: 300 * time.Millisecond}
			run := runQuick(t, q, engine.Closed{Clients: 1, Requests: tc.requests})
			tc.check(t, q, run.ByName[0], run.ByName[1], s)
		})
	}
}

// The open connections are a series: each client's connection is open at
// every tick while the load runs, and none is after the engine closed them.
func TestQuickOpenConnections(t *testing.T) {
	_, ts := start(t)
	q := &Quick{URL: wsURL(t, ts, "/echo"), Send: "x", Expect: Match{Contains: "pong"}, Timeout: 2 * time.Second}
	run := runQuick(t, q, engine.Closed{Clients: 3, Duration: 2200 * time.Millisecond})
	tl := run.Timeline
	if len(tl) < 3 {
		t.Fatalf("%d intervals, want 3", len(tl))
	}
	for _, p := range tl[:2] {
		if p.WSOpen != 3 {
			t.Errorf("%d connections open at %v, want 3", p.WSOpen, p.At)
		}
		if p.MsgsOut == 0 || p.MsgsIn != p.MsgsOut {
			t.Errorf("messages out %d in %d at %v, want as many in as out", p.MsgsOut, p.MsgsIn, p.At)
		}
	}
	// The last interval ends with every connection closed, yet all three
	// were open in it: its peak says so where the gauge cannot.
	if last := tl[len(tl)-1]; last.WSOpen != 0 || last.WSPeak != 3 {
		t.Errorf("%d open at the end, peak %d in the last interval; want 0 and 3", last.WSOpen, last.WSPeak)
	}
	for _, p := range tl {
		if p.WSPeak != 3 {
			t.Errorf("peak %d at %v, want 3", p.WSPeak, p.At)
		}
	}
}

// A worker's snapshots say it is a WebSocket source, how many
// connections it holds and the most it held in the interval, and carry its messages (a controller sums them).
func TestQuickSnapshots(t *testing.T) {
	_, ts := start(t)
	q := &Quick{URL: wsURL(t, ts, "/echo"), Send: "x", Expect: Match{Contains: "pong"}, Timeout: 2 * time.Second}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	var snaps []*metrics.Snapshot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := engine.Run(ctx, engine.Config{Load: engine.Closed{Clients: 2, Duration: 1300 * time.Millisecond}, Work: engine.Plan{Scenario: q},
		OnSnapshot: func(s *metrics.Snapshot) {
			b, err := s.MarshalBinary()
			if err != nil {
				t.Error(err)
				return
			}
			var w metrics.Snapshot
			if err := w.UnmarshalBinary(b); err != nil {
				t.Error(err)
				return
			}
			snaps = append(snaps, &w)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) < 2 || !snaps[0].WS || snaps[0].WSOpen != 2 || snaps[len(snaps)-1].WSOpen != 0 {
		t.Fatalf("%d snapshots; first WS %v open %d", len(snaps), len(snaps) > 0 && snaps[0].WS, func() int64 {
			if len(snaps) == 0 {
				return -1
			}
			return snaps[0].WSOpen
		}())
	}
	if last := snaps[len(snaps)-1]; last.WSPeak != 2 {
		t.Errorf("the last snapshot's peak %d, want the 2 connections open in its interval", last.WSPeak)
	}
	var out int64
	for _, s := range snaps {
		if len(s.Stats) > 0 && s.Stats[0] != nil {
			out += s.Stats[0].MsgsOut
		}
	}
	if out == 0 || out != res.Run.Total.MsgsOut {
		t.Errorf("snapshots carried %d messages out, the run counted %d", out, res.Run.Total.MsgsOut)
	}
}

func TestQuickRefusedConnection(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	u := wsURL(t, ts, "/")
	ts.Close() // nothing listens there now
	q := &Quick{URL: u, Send: "x", Timeout: time.Second}
	run := runQuick(t, q, engine.Closed{Clients: 1, Requests: 2})
	if conn := run.ByName[1]; conn.Errors[metrics.ErrRefused] != 2 {
		t.Errorf("errors %v, want 2 refused", conn.Errors)
	}
}

// The open model opens a connection per start and measures from the
// intended time.
func TestQuickOpenModelConnectsPerStart(t *testing.T) {
	s, ts := start(t)
	rate, err := load.ParseRate("50", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	q := &Quick{URL: wsURL(t, ts, "/echo"), Send: "hi", Expect: Match{Contains: "pong"}, Timeout: 2 * time.Second, PerStart: true}
	run := runQuick(t, q, engine.Open{Rate: rate, MaxClients: 20})
	rt, conn := run.ByName[0], run.ByName[1]
	if rt.Requests == 0 || rt.Requests != conn.Requests || conn.Requests != s.accepted.Load() || rt.Requests != s.received.Load() {
		t.Errorf("round trips %d handshakes %d, server accepted %d received %d: want one each per start",
			rt.Requests, conn.Requests, s.accepted.Load(), s.received.Load())
	}
	if rt.Requests+run.Dropped < 45 {
		t.Errorf("%d starts + %d dropped, want about 50", rt.Requests, run.Dropped)
	}
}

func TestQuickValidate(t *testing.T) {
	for _, tc := range []struct {
		name, url, send, want string
		timeout               time.Duration
	}{
		{"http scheme", "http://x/", "a", "ws:// or wss://", time.Second},
		{"no host", "ws:///a", "a", "no host", time.Second},
		{"no timeout", "ws://x/", "a", "--timeout", 0},
		{"bad template", "ws://x/", "{{ nope", "--ws-send", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(tc.url)
			err := (&Quick{URL: u, Send: tc.send, Timeout: tc.timeout}).Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestMessageTemplate(t *testing.T) {
	q := &Quick{URL: mustURL("ws://127.0.0.1:1/"), Send: `{"n":{{ seq }},"c":{{ client_id }}}`, Timeout: 1}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	c := q.NewClient(7, metrics.NewRecorder(2), nil).(*Client)
	for _, want := range []string{`{"n":1,"c":7}`, `{"n":2,"c":7}`} {
		if c.buf = q.tpl.Render(c.buf[:0], c.st); string(c.buf) != want {
			t.Errorf("rendered %s, want %s", c.buf, want)
		}
	}
}

// The open model measures from the intended start, so a late start
// shows in the latency; the closed model from the send.
func TestMeasuredFrom(t *testing.T) {
	sent := time.Now()
	late := sent.Add(-time.Second)
	for _, tc := range []struct {
		name     string
		perStart bool
		intended time.Time
		want     time.Time
	}{
		{"open model, late start", true, late, late},
		{"open model, no intended time", true, time.Time{}, sent},
		{"closed model", false, late, sent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{q: &Quick{PerStart: tc.perStart}}
			if got := c.from(tc.intended, sent); !got.Equal(tc.want) {
				t.Errorf("from %v, want %v", got, tc.want)
			}
		})
	}
}

// wss:// with --insecure reaches a server with a self-signed certificate;
// without it the handshake fails as a TLS error.
func TestQuickTLS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		insecure bool
		want     func(conn *metrics.Stats) bool
	}{
		{"insecure", true, func(c *metrics.Stats) bool { return c.Requests == 1 && c.Status[101] == 1 }}, // one connection, held
		{"verified", false, func(c *metrics.Stats) bool { return c.Errors[metrics.ErrTLS] == 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(&server{})
			t.Cleanup(ts.Close)
			u := mustURL("wss" + strings.TrimPrefix(ts.URL, "https") + "/echo")
			q := &Quick{URL: u, Send: "x", Expect: Match{Contains: "pong"}, Timeout: 2 * time.Second, Insecure: tc.insecure}
			run := runQuick(t, q, engine.Closed{Clients: 1, Requests: 2})
			if conn := run.ByName[1]; !tc.want(conn) {
				t.Errorf("handshakes: status 101 %d, errors %v", conn.Status[101], conn.Errors)
			}
		})
	}
}
