package scenario_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// wsCounter is a coder/websocket server that counts what it sees, for
// holding fuka's numbers against the server's own.
type wsCounter struct {
	accepted, refused, received, sent, normalCloses, pings atomic.Int64

	mu   sync.Mutex
	msgs map[int64][]string // by connection (its accepted number): what it received
}

// handler: POST /login sets a cookie and answers {"token":"t1"}; /ws
// wants that cookie, "Authorization: Bearer t1" and subprotocol chat.v1,
// greets with {"type":"welcome","room":"room-7"}, then echoes every
// message; /silent never answers; /kick closes with 4001 on a message,
// /policy with 1008, /goaway with 1001; /decoy sends {"from":-1} before
// each echo; /push sends three "news" messages unasked, then echoes;
// /nopong answers no ping. Every ping is counted, every message kept by
// connection.
func (s *wsCounter) handler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/login" {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "abc"})
		w.Write([]byte(`{"token":"t1"}`))
		return
	}
	if ck, err := r.Cookie("sid"); r.URL.Path == "/ws" && (err != nil || ck.Value != "abc" || r.Header.Get("Authorization") != "Bearer t1") {
		s.refused.Add(1)
		http.Error(w, "who are you", http.StatusForbidden)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat.v1"},
		OnPingReceived: func(context.Context, []byte) bool {
			s.pings.Add(1)
			return r.URL.Path != "/nopong"
		}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	conn := s.accepted.Add(1)
	ctx := r.Context()
	if r.URL.Path == "/ws" {
		if c.Subprotocol() != "chat.v1" || c.Write(ctx, websocket.MessageText, []byte(`{"type":"welcome","room":"room-7"}`)) != nil {
			return
		}
		s.sent.Add(1)
	}
	if r.URL.Path == "/push" {
		for range 3 {
			if c.Write(ctx, websocket.MessageText, []byte("news")) != nil {
				return
			}
			s.sent.Add(1)
		}
	}
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.StatusNormalClosure {
				s.normalCloses.Add(1)
			}
			return
		}
		s.received.Add(1)
		s.mu.Lock()
		if s.msgs == nil {
			s.msgs = map[int64][]string{}
		}
		s.msgs[conn] = append(s.msgs[conn], string(msg))
		s.mu.Unlock()
		switch r.URL.Path {
		case "/silent":
			continue
		case "/kick":
			c.Close(4001, "kicked")
			return
		case "/policy":
			c.Close(websocket.StatusPolicyViolation, "not allowed")
			return
		case "/goaway":
			c.Close(websocket.StatusGoingAway, "restarting")
			return
		case "/decoy": // another client's message first
			if c.Write(ctx, typ, []byte(`{"from":-1}`)) != nil {
				return
			}
			s.sent.Add(1)
		}
		if c.Write(ctx, typ, msg) != nil {
			return
		}
		s.sent.Add(1)
	}
}

func byName(t *testing.T, run *metrics.Run, name string) *metrics.Stats {
	t.Helper()
	for i, n := range run.Names {
		if n == name {
			return run.ByName[i]
		}
	}
	t.Fatalf("no request name %q; have %q", name, run.Names)
	return nil
}

// eventually waits up to 2 s for cond: the server counts a close after
// the client has seen the closing handshake end.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestWebSocketPlanCountsMatchServer(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  chat:
    steps:
      - post: /login
        extract: { token: "json:token" }
      - ws: /ws
        headers: { Authorization: "Bearer {{ token }}" }
        subprotocols: [chat.v1]
        timeout: 2s
      - expect: { json: { type: welcome } }
        name: welcome
        timeout: 2s
        extract: { room: { from: "json:room", required: true } }
      - loop: { count: 3 }
        steps:
          - send: '{"say":"hi {{ room }}"}'
            name: say
            expect: { contains: "hi room-7", json_exists: [say] }
            timeout: 2s
      - send: bye
      - close: 1000
load: { clients: 3, iterations: 2 }
`, nil)).Run
	if s.refused.Load() != 0 {
		t.Fatalf("the server refused %d handshakes: cookie or token not sent", s.refused.Load())
	}
	hs, say, bye, welcome := byName(t, run, "WS /ws"), byName(t, run, "say"), byName(t, run, "WS send"), byName(t, run, "welcome")
	if hs.Requests != 6 || hs.Status[101] != 6 || s.accepted.Load() != 6 {
		t.Errorf("handshakes %d (101: %d), server accepted %d; want 6", hs.Requests, hs.Status[101], s.accepted.Load())
	}
	if say.Requests != 18 || say.Status[200] != 18 || bye.Requests != 6 || welcome.Status[200] != 6 {
		t.Errorf("say %d (matched %d), bye %d, welcome %d: want 18, 18, 6, 6", say.Requests, say.Status[200], bye.Requests, welcome.Status[200])
	}
	if got := say.Requests + bye.Requests; got != s.received.Load() {
		t.Errorf("fuka sent %d messages, the server received %d", got, s.received.Load())
	}
	if say.BytesOut != 18*int64(len(`{"say":"hi room-7"}`)) || say.BytesIn != say.BytesOut {
		t.Errorf("say bytes out %d in %d", say.BytesOut, say.BytesIn)
	}
	if c := checkCount(t, run, "welcome: room is extracted"); c != [2]int64{6, 0} {
		t.Errorf("room extracted %v, want 6 passes", c)
	}
	if !eventually(func() bool { return s.normalCloses.Load() == 6 }) {
		t.Errorf("the server saw %d normal closures, want 6", s.normalCloses.Load())
	}
	// Messages: out = the server's received, in = its sent (the welcome
	// and the echoes; "bye"'s echo comes while no expect waits and is
	// never read before the close); the client's own closes are no errors.
	var in, out int64
	for _, st := range run.ByName {
		in, out = in+st.MsgsIn, out+st.MsgsOut
		if len(st.Closes) != 0 {
			t.Errorf("close codes %v counted for the client's own closes", st.Closes)
		}
	}
	if out != s.received.Load() || in != s.sent.Load()-6 || welcome.MsgsIn != 6 || say.MsgsIn != 18 || say.MsgsOut != 18 || bye.MsgsOut != 6 {
		t.Errorf("messages out %d in %d (welcome %d, say %d/%d, bye %d); server received %d sent %d",
			out, in, welcome.MsgsIn, say.MsgsIn, say.MsgsOut, bye.MsgsOut, s.received.Load(), s.sent.Load())
	}
}

// The open model: each start opens a connection, makes its round trips
// and closes it. Every start that was due is accounted for (run or
// dropped), and what ran matches the server's own counts; the short
// connections show in each interval's peak.
func TestWebSocketPlanOpenModelCountsMatchServer(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /echo
        name: open
        timeout: 2s
      - loop: { count: 2 }
        steps:
          - send: 'hi {{ iteration }}'
            name: say
            expect: { contains: hi }
            timeout: 2s
      - close: 1000
load: { rate: 40, duration: 1s, max_clients: 20 }
`, nil))
	run := res.Run
	hs, say := byName(t, run, "open"), byName(t, run, "say")
	if res.Scheduled != 40 || hs.Requests+run.Dropped != res.Scheduled || hs.Requests < 30 {
		t.Errorf("scheduled %d, handshakes %d, dropped %d; want 40 starts, each one handshake or dropped (most run)",
			res.Scheduled, hs.Requests, run.Dropped)
	}
	if hs.Status[101] != hs.Requests || hs.Requests != s.accepted.Load() {
		t.Errorf("handshakes %d (101: %d), the server accepted %d", hs.Requests, hs.Status[101], s.accepted.Load())
	}
	if say.Requests != 2*hs.Requests || say.Status[200] != say.Requests || say.Requests != s.received.Load() {
		t.Errorf("round trips %d (matched %d), the server received %d; want 2 a start", say.Requests, say.Status[200], s.received.Load())
	}
	if run.Total.MsgsOut != s.received.Load() || run.Total.MsgsIn != s.sent.Load() {
		t.Errorf("messages out %d in %d; the server received %d, sent %d", run.Total.MsgsOut, run.Total.MsgsIn, s.received.Load(), s.sent.Load())
	}
	if !eventually(func() bool { return s.normalCloses.Load() == hs.Requests }) {
		t.Errorf("the server saw %d normal closures, want %d", s.normalCloses.Load(), hs.Requests)
	}
	tl := run.Timeline
	if len(tl) == 0 || tl[len(tl)-1].WSOpen != 0 {
		t.Fatalf("open connections by interval %v, want 0 at the end", wsOpen(tl))
	}
	for _, p := range tl {
		if p.Requests > 0 && p.WSPeak < 1 {
			t.Errorf("%d requests at %v but a peak of %d open connections", p.Requests, p.At, p.WSPeak)
		}
	}
}

// Every message read counts, those an expect skips over and those that
// came while no expect waited; every message sent counts; and each
// client's connection is open at the ticks while it is held.
func TestWebSocketPlanMessagesMatchServer(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /push
        name: open
      - send: hi
        name: hi
        expect: { contains: hi }
        timeout: 2s
      - send: bye
        name: bye
      - send: again
        name: again
        expect: { contains: again }
        timeout: 2s
      - think: 1300ms
      - close: 1000
load: { clients: 2, iterations: 1 }
`, nil)).Run
	hi, bye, again := byName(t, run, "hi"), byName(t, run, "bye"), byName(t, run, "again")
	// hi reads the three news then its echo; again reads bye's echo, then its own.
	if hi.MsgsIn != 8 || hi.MsgsOut != 2 || bye.MsgsIn != 0 || bye.MsgsOut != 2 || again.MsgsIn != 4 || again.MsgsOut != 2 {
		t.Errorf("hi %d/%d bye %d/%d again %d/%d (in/out), want 8/2, 0/2, 4/2",
			hi.MsgsIn, hi.MsgsOut, bye.MsgsIn, bye.MsgsOut, again.MsgsIn, again.MsgsOut)
	}
	if run.Total.MsgsOut != s.received.Load() || run.Total.MsgsIn != s.sent.Load() {
		t.Errorf("messages out %d in %d; the server received %d, sent %d", run.Total.MsgsOut, run.Total.MsgsIn, s.received.Load(), s.sent.Load())
	}
	tl := run.Timeline
	if !run.WebSocket || len(tl) < 2 || tl[0].WSOpen != 2 || tl[len(tl)-1].WSOpen != 0 {
		t.Errorf("websocket %v, open connections by interval: %v; want 2 held at the first tick, 0 at the end", run.WebSocket, wsOpen(tl))
	}
	if tl[0].MsgsIn != 12 || tl[0].MsgsOut != 6 {
		t.Errorf("first interval: %d messages in, %d out; want 12 and 6", tl[0].MsgsIn, tl[0].MsgsOut)
	}
}

func wsOpen(tl []metrics.Point) []int64 {
	var v []int64
	for _, p := range tl {
		v = append(v, p.WSOpen)
	}
	return v
}

func TestWebSocketPlanErrorsByKind(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /silent
      - send: ping
        name: silent
        expect: {}
        timeout: 200ms
      - send: after
        name: after a timeout
      - ws: /kick
      - send: ping
        name: kicked
        expect: { contains: x }
        timeout: 2s
      - ws: /policy
      - send: ping
        name: policy
        expect: { contains: x }
        timeout: 2s
      - ws: /goaway
      - send: ping
        name: going away
        expect: { contains: x }
        timeout: 2s
      - ws: /ws
        name: denied
load: { clients: 1, iterations: 2 }
`, nil)).Run
	// A server's close is a reset, counted by its close code.
	for name, code := range map[string]int{"kicked": 4001, "policy": 1008, "going away": 1001} {
		if st := byName(t, run, name); st.Closes[code] != 2 || len(st.Closes) != 1 || st.Errors[metrics.ErrReset] != 2 {
			t.Errorf("%s: close codes %v, resets %d; want 2 of %d", name, st.Closes, st.Errors[metrics.ErrReset], code)
		}
	}
	if c := byName(t, run, "silent").Closes; len(c) != 0 {
		t.Errorf("a timeout counted close codes %v", c)
	}
	if st := byName(t, run, "silent"); st.Errors[metrics.ErrTimeout] != 2 {
		t.Errorf("silent: errors %v, want 2 timeouts", st.Errors)
	}
	// A timeout drops the connection: the next send has none.
	if st := byName(t, run, "after a timeout"); st.Errors[metrics.ErrReset] != 2 {
		t.Errorf("after a timeout: errors %v, want 2 resets", st.Errors)
	}
	if st := byName(t, run, "kicked"); st.Errors[metrics.ErrReset] != 2 {
		t.Errorf("kicked: errors %v, want 2 resets (closed with 4001)", st.Errors)
	}
	if s.received.Load() != 8 {
		t.Errorf("the server received %d messages, want 8 (silent, kick, policy, going away, twice)", s.received.Load())
	}
	if st := byName(t, run, "denied"); st.Requests != 2 || st.Failed != 2 {
		t.Errorf("denied: %d handshakes, %d failed; want 2 and 2 (%v)", st.Requests, st.Failed, st.Status[403])
	}
}

func TestWebSocketPlanErrors(t *testing.T) {
	for _, tc := range []struct{ name, steps, want string }{
		{"expect without timeout", "- ws: /a\n      - expect: { contains: x }", "plan.yaml:6:9: expect: an expect needs a timeout"},
		{"send+expect without timeout", "- ws: /a\n      - send: x\n        expect: {}", "plan.yaml:6:9: send: an expect needs a timeout"},
		{"send without ws", "- send: x", "plan.yaml:5:9: WS send: no ws: step in this scenario opens a connection"},
		{"http URL", "- ws: http://x/", "plan.yaml:5:13: ws: bad URL"},
		{"unknown expect key", "- ws: /a\n      - expect: { body: x }\n        timeout: 1s", `plan.yaml:6:19: unknown key "body" in expect`},
		{"bad close code", "- ws: /a\n      - close: 1001", "plan.yaml:6:16: close: want 1000"},
		{"bad regex", "- ws: /a\n      - expect: { regex: \"[a-\" }\n        timeout: 1s", `plan.yaml:6:26: regex: bad regex "[a-": missing closing ]`},
		{"extract without expect", "- ws: /a\n      - send: x\n        extract: { a: \"json:a\" }", "extract needs an expect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePlan(t, "http://127.0.0.1:1", "base_url: BASE\nscenarios:\n  s:\n    steps:\n      "+tc.steps+"\nload: { clients: 1, iterations: 1 }\n", nil)
			_, err := plan.ParseFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v\nwant %q", err, tc.want)
			}
		})
	}
}

// The demo's chat room sends every message to every client: a templated
// contains lets each client wait for its own.
func TestWebSocketPlanDemoChat(t *testing.T) {
	srv := httptest.NewServer(demo.Handler())
	t.Cleanup(srv.Close)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  chat:
    steps:
      - ws: /ws/chat
      - loop: { count: 4 }
        steps:
          - send: '{"from":{{ client_id }},"n":{{ seq }}}'
            name: mine
            expect: { contains: '"from":{{ client_id }},', json_exists: [n] }
            timeout: 2s
      - close: 1000
load: { clients: 3, iterations: 2 }
`, nil)).Run
	if st := byName(t, run, "mine"); st.Requests != 24 || st.Status[200] != 24 {
		t.Errorf("round trips %d, matched %d; want 24", st.Requests, st.Status[200])
	}
}

// A templated contains is rendered per client: the decoy before each
// echo is read past, not matched.
func TestWebSocketPlanTemplatedExpect(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /decoy
      - send: '{"from":{{ client_id }}}'
        name: mine
        expect: { contains: '"from":{{ client_id }}' }
        timeout: 2s
        extract: { got: { from: "json:from", required: true } }
load: { clients: 2, iterations: 3 }
`, nil)).Run
	st := byName(t, run, "mine")
	if st.Status[200] != 6 || st.BytesIn != 6*int64(len(`{"from":-1}`))+st.BytesOut {
		t.Errorf("matched %d, bytes in %d out %d: want 6, and every decoy read past", st.Status[200], st.BytesIn, st.BytesOut)
	}
}

// every: sends on the open connection while the other steps run; each
// send is recorded, and the server counts the same.
func TestWebSocketPlanEvery(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /silent
        name: presence
        every: { period: 40ms, send: '{"type":"ping"}' }
      - think: 300ms
      - close: 1000
load: { clients: 2, iterations: 2 }
`, nil)).Run
	st := byName(t, run, "presence every")
	if st.Requests < 8 || st.Requests != s.received.Load() || st.Failed != 0 {
		t.Errorf("every: %d sends (%d failed), server received %d; want at least 8, all received", st.Requests, st.Failed, s.received.Load())
	}
	if st.BytesOut != st.Requests*int64(len(`{"type":"ping"}`)) {
		t.Errorf("bytes out %d for %d sends", st.BytesOut, st.Requests)
	}
	if st.MsgsOut != s.received.Load() {
		t.Errorf("every: %d messages out, the server received %d", st.MsgsOut, s.received.Load())
	}
}

// A connection held open across HTTP steps: every: sends or pings go on
// while the scenario's HTTP requests are in flight on the same client,
// each one recorded, and the server counts the same sends (or pings), and
// counted them arriving during the HTTP steps, not only around them.
func TestWebSocketPlanEveryDuringHTTP(t *testing.T) {
	for _, tc := range []struct {
		name, every, recorded string
		count                 func(*wsCounter) int64
	}{
		{"send", `{ period: 20ms, send: '{"n":{{ seq }},"w":"{{ w }}"}' }`, "live every", func(s *wsCounter) int64 { return s.received.Load() }},
		{"ping", `{ period: 20ms, ping: true, timeout: 1s }`, "live ping", func(s *wsCounter) int64 { return s.pings.Load() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &wsCounter{}
			var mu sync.Mutex
			var during []int64 // by HTTP request: the server's count at its start, then at its end
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/work" {
					s.handler(w, r)
					return
				}
				before := tc.count(s)
				time.Sleep(60 * time.Millisecond)
				mu.Lock()
				during = append(during, before, tc.count(s))
				n := len(during) / 2
				mu.Unlock()
				fmt.Fprintf(w, `{"w":"w%d"}`, n)
			})
			run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /silent
        name: live
        every: `+tc.every+`
      - loop: { count: 5 }
        steps:
          - get: /work
            name: work
            extract: { w: "json:w" }
      - close: 1000
load: { clients: 1, iterations: 2 }
`, nil)).Run
			st, work := byName(t, run, tc.recorded), byName(t, run, "work")
			if !eventually(func() bool { return s.normalCloses.Load() == 2 }) {
				t.Errorf("the server saw %d normal closures, want 2: the connection stays open through the HTTP steps", s.normalCloses.Load())
			}
			if work.Requests != 10 || work.Status[200] != 10 {
				t.Errorf("HTTP steps: %d, %d answered 200; want 10", work.Requests, work.Status[200])
			}
			if st.Requests != tc.count(s) || st.Failed != 0 || st.Status[200] != st.Requests {
				t.Errorf("%s: %d recorded (%d failed, errors %v), the server counted %d; want the same, none failed", tc.recorded, st.Requests, st.Failed, st.Errors, tc.count(s))
			}
			if tc.name == "send" {
				// The sends carry what the HTTP steps extracted, from the
				// step after each: the value a send holds is one the
				// server gave its connection's client.
				s.mu.Lock()
				for conn, msgs := range s.msgs {
					from := map[string]bool{}
					for _, m := range msgs {
						var got struct{ W string }
						if err := json.Unmarshal([]byte(m), &got); err != nil {
							t.Fatalf("connection %d sent %q: %v", conn, m, err)
						}
						from[got.W] = true
					}
					if len(from) < 3 {
						t.Errorf("connection %d: its every: sends carried %v; want the values of its HTTP steps, changing as they ran", conn, from)
					}
				}
				s.mu.Unlock()
			}
			mu.Lock()
			defer mu.Unlock()
			// An iteration's 5 requests take 300 ms at least: at 20 ms, a
			// dozen or so go out meanwhile; 4 is well short of that yet
			// not what a sender stalled by the HTTP steps would manage.
			for it := range 2 {
				first, last := during[it*10], during[it*10+9]
				if last-first < 4 {
					t.Errorf("iteration %d: the server counted %d while its HTTP steps ran (from %d to %d), want at least 4", it+1, last-first, first, last)
				}
			}
		})
	}
}

// every: send is a template rendered as send: steps render theirs: the
// client's id, a value extracted before the ws: step (token) and one
// extracted after it (room), {{ seq }} counting the connection's every:
// messages; the server received exactly what was recorded.
func TestWebSocketPlanEveryTemplate(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - post: /login
        extract: { token: "json:token" }
      - ws: /ws
        name: room
        headers: { Authorization: "Bearer {{ token }}" }
        subprotocols: [chat.v1]
        every: { period: 50ms, send: '{"n":{{ seq }},"id":{{ client_id }},"room":"{{ room }}","t":"{{ token }}"}' }
      - expect: { json: { type: welcome } }
        timeout: 2s
        extract: { room: "json:room" }
      - think: 400ms
      - close: 1000
load: { clients: 2, iterations: 2 }
`, nil)).Run
	st := byName(t, run, "room every")
	if !eventually(func() bool { return s.normalCloses.Load() == 4 }) {
		t.Fatalf("the server saw %d normal closures, want 4", s.normalCloses.Load())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n, bytes int64
	ids := map[int]bool{}
	for conn, msgs := range s.msgs {
		for i, m := range msgs {
			n, bytes = n+1, bytes+int64(len(m))
			var got struct {
				N, ID   int
				Room, T string
			}
			if err := json.Unmarshal([]byte(m), &got); err != nil {
				t.Fatalf("connection %d sent %q: %v", conn, m, err)
			}
			ids[got.ID] = true
			// The first send may go before the welcome is read; the
			// later ones carry the room extracted after the ws: step.
			if got.N != i+1 || got.T != "t1" || (i > 0 && got.Room != "room-7") {
				t.Errorf("connection %d message %d: %q; want n %d, t t1, room room-7", conn, i, m, i+1)
			}
		}
		if len(msgs) < 3 {
			t.Errorf("connection %d: %d every: messages in 400 ms at 50 ms, want at least 3", conn, len(msgs))
		}
	}
	if len(s.msgs) != 4 || !ids[0] || !ids[1] {
		t.Errorf("%d connections, client ids %v: want 4 connections from clients 0 and 1", len(s.msgs), ids)
	}
	if st.Requests != n || st.MsgsOut != n || st.Failed != 0 || st.BytesOut != bytes {
		t.Errorf("recorded %d sends (%d failed), %d bytes; the server received %d, %d bytes", st.Requests, st.Failed, st.BytesOut, n, bytes)
	}
}

// every: ping sends ping frames, each recorded from the ping to its pong,
// while the steps send, expect and think: the pongs and the echoes both
// arrive, and the server counted as many pings as were recorded.
func TestWebSocketPlanPing(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /echo
        name: live
        every: { period: 30ms, ping: true, timeout: 1s }
      - loop: { count: 5 }
        steps:
          - send: 'm{{ seq }}'
            name: say
            expect: { regex: "^m[0-9]+$" }
            timeout: 2s
          - think: 40ms
      - close: 1000
load: { clients: 2, iterations: 2 }
`, nil)).Run
	ping, say := byName(t, run, "live ping"), byName(t, run, "say")
	if !eventually(func() bool { return s.normalCloses.Load() == 4 }) {
		t.Errorf("the server saw %d normal closures, want 4", s.normalCloses.Load())
	}
	if ping.Requests < 8 || ping.Requests != s.pings.Load() || ping.Failed != 0 || ping.Status[200] != ping.Requests {
		t.Errorf("pings: %d recorded (%d failed, errors %v), the server got %d; want at least 8, all answered", ping.Requests, ping.Failed, ping.Errors, s.pings.Load())
	}
	if ping.Latency.Max() <= 0 || ping.Latency.Max() > int64(time.Second) {
		t.Errorf("ping round trips up to %v: want within (0, 1s]", time.Duration(ping.Latency.Max()))
	}
	if say.Requests != 20 || say.Status[200] != 20 || s.received.Load() != 20 {
		t.Errorf("say: %d, %d matched; the server received %d; want 20", say.Requests, say.Status[200], s.received.Load())
	}
}

// A ping without its pong is a timeout; the pings go on.
func TestWebSocketPlanPingTimeout(t *testing.T) {
	s := &wsCounter{}
	srv := server(t, s.handler)
	run := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - ws: /nopong
        name: live
        every: { period: 20ms, ping: true, timeout: 50ms }
      - think: 300ms
      - close: 1000
load: { clients: 1, iterations: 1 }
`, nil)).Run
	ping := byName(t, run, "live ping")
	if ping.Requests < 2 || ping.Errors[metrics.ErrTimeout] != ping.Requests || ping.Requests != s.pings.Load() {
		t.Errorf("pings %d, errors %v; the server got %d: want at least 2, every one a timeout", ping.Requests, ping.Errors, s.pings.Load())
	}
}

func TestWebSocketEveryErrors(t *testing.T) {
	for _, tc := range []struct{ name, every, want string }{
		{"neither send nor ping", "{ period: 1s }", "plan.yaml:6:9: every: wants send (a message) or ping: true"},
		{"ping false", "{ period: 1s, ping: false }", "plan.yaml:6:36: every: ping: false sends nothing"},
		{"both", "{ period: 1s, send: x, ping: true }", "plan.yaml:6:39: every: send or ping, not both"},
		{"no period", "{ send: x }", "plan.yaml:6:9: every: wants a period"},
		{"zero period", "{ period: 0s, send: x }", "plan.yaml:6:26: every: period: must be more than 0"},
		{"negative period", "{ period: -1s, send: x }", "plan.yaml:6:26: every: period:"},
		{"too often", "{ period: 1ms, send: x }", "plan.yaml:6:26: every: period: want at least 10ms"},
		{"ping not a bool", "{ period: 1s, ping: often }", "plan.yaml:6:36: every: ping: want true or false"},
		{"zero timeout", "{ period: 1s, ping: true, timeout: 0s }", "plan.yaml:6:51: every: timeout: must be more than 0"},
		{"unknown key", "{ period: 1s, ping: true, size: 3 }", `plan.yaml:6:42: unknown key "size" in every`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePlan(t, "http://127.0.0.1:1", "base_url: BASE\nscenarios:\n  s:\n    steps:\n      - ws: /a\n        every: "+tc.every+"\nload: { clients: 1, iterations: 1 }\n", nil)
			if _, err := plan.ParseFile(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("bad template", func(t *testing.T) {
		path := writePlan(t, "http://127.0.0.1:1", "base_url: BASE\nscenarios:\n  s:\n    steps:\n      - ws: /a\n        every: { period: 1s, send: 'n={{ seq( }}' }\nload: { clients: 1, iterations: 1 }\n", nil)
		p, err := plan.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = scenario.Compile(p, func(string) (string, bool) { return "", false })
		if want := "plan.yaml:6:"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "template") {
			t.Errorf("err %v, want a template error at %s", err, want)
		}
	})
}

// TestWebSocketExampleOnDemo runs examples/websocket.yaml against the demo
// target (2 iterations of 3 clients instead of its 30 s).
func TestWebSocketExampleOnDemo(t *testing.T) {
	srv := httptest.NewServer(demo.Handler())
	defer srv.Close()
	b, err := os.ReadFile(filepath.Join("..", "examples", "websocket.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "base_url: http://127.0.0.1:8080", "base_url: BASE", 1)
	src = strings.Replace(src, "load: { clients: 50, duration: 30s }", "load: { clients: 3, iterations: 2 }", 1)
	src = strings.Replace(src, "think: 200ms..1s", "think: 10ms", 1)
	if !strings.Contains(src, "iterations: 2") || !strings.Contains(src, "BASE") || !strings.Contains(src, "think: 10ms") {
		t.Fatal("examples/websocket.yaml no longer has the base_url, load and think this test replaces")
	}
	run := runPlan(t, writePlan(t, srv.URL, src, nil)).Run
	if say := byName(t, run, "say"); say.Requests != 30 || say.Status[200] != 30 {
		t.Errorf("say: %d round trips, %d matched; want 30", say.Requests, say.Status[200])
	}
	if join := byName(t, run, "join"); join.Status[101] != 6 {
		t.Errorf("join: %d handshakes switched protocols, want 6", join.Status[101])
	}
}
