package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

func wsMeta() Meta {
	m := closedMeta()
	m.Target, m.Method = "ws://127.0.0.1:8080/ws/echo", "WS"
	return m
}

// wsRun: 3 clients connect (1 handshake refused with 403), then two
// seconds of round trips; with allFail every round trip fails (timeouts
// and closes 1008, 1001), else 40 of 44 match. Three connections are open
// at the first tick, one at the second (two closed by the server), and a
// fourth was open for a moment in the second interval.
func wsRun(allFail bool) *metrics.Run {
	names := []string{"ws /ws/echo", "ws connect /ws/echo"}
	r := metrics.NewRecorder(len(names))
	c := metrics.NewCollector(names, []*metrics.Recorder{r})
	shake := metrics.Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 101}
	rt := metrics.Outcome{Latency: 2 * time.Millisecond, Service: 2 * time.Millisecond, Status: 200, BytesIn: 10, BytesOut: 5, MsgsIn: 2, MsgsOut: 1}
	if allFail {
		rt.Status, rt.Err = 0, metrics.ErrTimeout
	}
	for range 3 {
		r.Record(1, shake)
		r.OpenWS(1)
	}
	r.Record(1, metrics.Outcome{Latency: time.Millisecond, Status: 403})
	r.OpenWS(0)
	for range 20 {
		r.Record(0, rt)
	}
	c.Tick(time.Second, 4)
	for range 20 {
		r.Record(0, rt)
	}
	for _, code := range []int{1008, 1008, 1001} {
		r.Record(0, metrics.Outcome{Latency: time.Millisecond, Err: metrics.ErrReset, BytesOut: 5, MsgsOut: 1, Close: code})
	}
	r.OpenWS(1)
	r.OpenWS(-1)
	r.OpenWS(-2)
	r.Record(0, metrics.Outcome{Latency: time.Millisecond, Err: metrics.ErrReset, MsgsIn: 1})
	c.Tick(2*time.Second, 4)
	return c.Run()
}

func TestWebSocketJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := NewSummary(wsMeta(), wsRun(false)).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		WebSocket map[string]any `json:"websocket"`
		ByName    []struct {
			Name        string
			MessagesIn  *int64           `json:"messages_in"`
			MessagesOut *int64           `json:"messages_out"`
			Closes      map[string]int64 `json:"closes"`
		} `json:"requests_by_name"`
		Timeline []struct {
			WSOpen      *int64 `json:"ws_open"`
			WSOpenPeak  *int64 `json:"ws_open_peak"`
			MessagesIn  *int64 `json:"messages_in"`
			MessagesOut *int64 `json:"messages_out"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"open_peak": 4.0, "open_final": 1.0, "messages_in": 81.0, "messages_out": 43.0,
		"messages_in_per_s": 40.5, "messages_out_per_s": 21.5, "closes": map[string]any{"1001": 1.0, "1008": 2.0},
	}
	if g, w := must(json.Marshal(got.WebSocket)), must(json.Marshal(want)); g != w {
		t.Errorf("websocket\n got %s\nwant %s", g, w)
	}
	rt, shake := got.ByName[0], got.ByName[1]
	if rt.MessagesIn == nil || *rt.MessagesIn != 81 || *rt.MessagesOut != 43 || rt.Closes["1008"] != 2 || rt.Closes["1001"] != 1 {
		t.Errorf("round trips by name: in %v out %v closes %v", rt.MessagesIn, rt.MessagesOut, rt.Closes)
	}
	if shake.MessagesIn == nil || *shake.MessagesIn != 0 || shake.Closes != nil {
		t.Errorf("handshakes by name: in %v closes %v, want 0 and none", shake.MessagesIn, shake.Closes)
	}
	if len(got.Timeline) != 2 {
		t.Fatalf("%d intervals", len(got.Timeline))
	}
	for i, w := range [][4]int64{{3, 3, 40, 20}, {1, 4, 41, 23}} {
		p := got.Timeline[i]
		if p.WSOpen == nil || p.WSOpenPeak == nil || p.MessagesIn == nil || p.MessagesOut == nil {
			t.Fatalf("interval %d lacks a WebSocket key", i)
		}
		if g := [4]int64{*p.WSOpen, *p.WSOpenPeak, *p.MessagesIn, *p.MessagesOut}; g != w {
			t.Errorf("interval %d: open, peak, in, out %v, want %v", i, g, w)
		}
	}
	// An HTTP run has none of these keys (TestSummaryJSONKeys lists them).
	var h bytes.Buffer
	if err := NewSummary(closedMeta(), simpleRun()).WriteJSON(&h); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"websocket", "ws_open", "ws_open_peak", "messages_in", "closes"} {
		if strings.Contains(h.String(), `"`+k+`"`) {
			t.Errorf("an HTTP run's JSON has %q", k)
		}
	}
}

func must(b []byte, err error) string {
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestWebSocketText(t *testing.T) {
	var buf bytes.Buffer
	if err := NewSummary(wsMeta(), wsRun(false)).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"websocket    open peak 4, at the end 1   messages in 81 (40.5/s)   out 43 (21.5/s)\n",
		"close codes  1001 going away ×1, 1008 policy violation ×2 (the server closed while a step waited)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := NewSummary(closedMeta(), simpleRun()).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "websocket") {
		t.Error("an HTTP run's text has a websocket line")
	}
}

// Every round trip failed though the handshakes worked: the run measured
// nothing of the messages, and says so (exit 3).
func TestWebSocketAllFailed(t *testing.T) {
	if got := NewSummary(wsMeta(), wsRun(false)).AllFailed(); got != "" {
		t.Errorf("some round trips matched, AllFailed() = %q", got)
	}
	want := "every WebSocket message failed, though 3 handshakes worked: no matching message within the timeout (40), " +
		"the connection closed first (4; close codes 1001 going away ×1, 1008 policy violation ×2), other failures (1)" +
		" — does the server answer what the expect waits for?"
	if got := NewSummary(wsMeta(), wsRun(true)).AllFailed(); got != want {
		t.Errorf("AllFailed()\n got %q\nwant %q", got, want)
	}
	// A run of handshakes only has no round trip that failed.
	shakes := buildRun([]string{"ws connect /"}, tick{at: time.Second, out: []batch{{0, metrics.Outcome{Status: 101}, 3}}})
	shakes.WebSocket = true
	if got := NewSummary(wsMeta(), shakes).AllFailed(); got != "" {
		t.Errorf("handshakes only: AllFailed() = %q", got)
	}
}

func TestCloseCodeText(t *testing.T) {
	for code, want := range map[string]string{"1000": "1000 normal closure", "1011": "1011 internal error", "4001": "4001", "x": "x"} {
		if got := CloseCodeText(code); got != want {
			t.Errorf("CloseCodeText(%q) = %q, want %q", code, got, want)
		}
	}
}

// Every handshake failed, so no round trip ran: the round trips' row reads
// "–" rather than a healthy 0.00% failed, the handshakes' row holds the
// failures, and the failed line says they were handshakes.
func TestWebSocketHandshakesFailedText(t *testing.T) {
	run := buildRun([]string{"ws /nosuch", "ws connect /nosuch"},
		tick{at: time.Second, clients: 2, out: []batch{{1, metrics.Outcome{Latency: time.Millisecond, Status: 404}, 5}}})
	run.WebSocket = true
	meta := wsMeta()
	meta.Protocols = []string{"ws", "ws"}
	var buf bytes.Buffer
	if err := NewSummary(meta, run).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, tc := range []struct {
		row, want string
	}{
		{"ws /nosuch ", `\s0\s+0\.0\s+–\s+–\s+–\s+–$`},
		{"ws connect /nosuch ", `\s5\s.*\s100\.00%$`},
		{"failed ", `5 \(100\.00%\): 5 handshakes refused`},
	} {
		i := strings.Index(out, tc.row)
		if i < 0 {
			t.Fatalf("no %q line:\n%s", tc.row, out)
		}
		line, _, _ := strings.Cut(out[i:], "\n")
		if !regexp.MustCompile(tc.want).MatchString(line) {
			t.Errorf("line %q does not match %s", line, tc.want)
		}
	}
}
