package dashboard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// liveRun publishes summaries the way a run does: from the live
// metrics.Run, one second at a time.
type liveRun struct {
	rec *metrics.Recorder
	col *metrics.Collector
	sec int
}

func newLiveRun() *liveRun {
	rec := metrics.NewRecorder(1)
	return &liveRun{rec: rec, col: metrics.NewCollector([]string{"GET /"}, []*metrics.Recorder{rec})}
}

// second records n requests, closes a second and returns the summary so far.
func (l *liveRun) second(n int) *report.Summary {
	for range n {
		l.rec.Record(0, metrics.Outcome{Latency: 3 * time.Millisecond, Service: 3 * time.Millisecond, Status: 200, BytesIn: 100})
	}
	l.sec++
	l.col.Tick(time.Duration(l.sec)*time.Second, 10)
	return report.NewSummary(l.meta(), l.col.Run())
}

func (l *liveRun) meta() report.Meta {
	return report.Meta{
		Name: "live", Target: "http://127.0.0.1:8080", Model: report.ModelClosed, Clients: 10,
		Planned: time.Minute, Elapsed: time.Duration(l.sec) * time.Second, Version: "test",
	}
}

func start(t *testing.T, token string, stop func()) *Server {
	t.Helper()
	s, err := New("127.0.0.1:0", token, stop)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func (s *Server) clientCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func waitClients(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.clientCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d event clients, want %d", s.clientCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewAddress(t *testing.T) {
	tests := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"localhost:0", "", true},
		{"127.0.0.1:0", "s3cret", true},
		{":0", "", false},           // every interface
		{"0.0.0.0:0", "", false},    // likewise
		{"192.0.2.10:0", "", false}, // refused before it listens
		{"dashboard.example:0", "", false},
		{"127.0.0.1", "", false}, // no port
	}
	for _, tt := range tests {
		t.Run(tt.addr+"/"+tt.token, func(t *testing.T) {
			s, err := New(tt.addr, tt.token, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q, %q) error = %v, want ok = %v", tt.addr, tt.token, err, tt.ok)
			}
			if err == nil {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			} else if !tt.ok && tt.token == "" && strings.Contains(tt.addr, ":0") && !strings.Contains(err.Error(), "token") {
				t.Errorf("error %q does not say a token is required", err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	open := start(t, "", nil)
	locked := start(t, "s3cret", nil)
	base := func(s *Server) string { return "http://" + s.ln.Addr().String() }
	tests := []struct {
		name   string
		url    string
		header map[string]string
		host   string
		want   int
	}{
		{"loopback without token", base(open) + "/", nil, "", 200},
		{"localhost Host", base(open) + "/", nil, "localhost:5665", 200},
		{"foreign Host (DNS rebinding)", base(open) + "/", nil, "evil.example:5665", 403},
		{"token missing", base(locked) + "/", nil, "", 401},
		{"token wrong", base(locked) + "/?token=guess", nil, "", 401},
		{"bearer wrong", base(locked) + "/", map[string]string{"Authorization": "Bearer guess"}, "", 401},
		{"token in query", base(locked) + "/?token=s3cret", nil, "", 200},
		{"token as bearer", base(locked) + "/", map[string]string{"Authorization": "Bearer s3cret"}, "", 200},
		{"events need it too", base(locked) + "/events", nil, "", 401},
		{"URL carries it", locked.URL(), nil, "", 200},
		{"unknown path", base(open) + "/nope", nil, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.url, resp.StatusCode, tt.want)
			}
			if resp.StatusCode == 200 && strings.HasSuffix(req.URL.Path, "/") {
				if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
					t.Errorf("page CSP = %q", csp)
				}
			}
		})
	}
}

func TestURL(t *testing.T) {
	s := start(t, "a b&c", nil)
	if u := s.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/?token=a+b%26c") {
		t.Errorf("URL() = %q", u)
	}
	all, err := New("0.0.0.0:0", "t", nil) // every interface: shown as loopback
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if u := all.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("URL() = %q", u)
	}
}

// sse is one open event stream.
type sse struct {
	resp   *http.Response
	events chan event
}

func subscribe(t *testing.T, s *Server) *sse {
	t.Helper()
	resp, err := http.Get("http://" + s.ln.Addr().String() + "/events" + tokenQuery(s))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sse{resp: resp, events: make(chan event, 100)}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(c.events)
		r := bufio.NewReader(resp.Body)
		var name, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			case line == "" && name == "summary":
				var ev event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Errorf("event %q: %v", data, err)
					return
				}
				c.events <- ev
				name, data = "", ""
			}
		}
	}()
	return c
}

func tokenQuery(s *Server) string {
	if s.token == "" {
		return ""
	}
	return "?token=" + s.token
}

func (c *sse) next(t *testing.T) event {
	t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	panic("unreachable")
}

func TestFanOut(t *testing.T) {
	s := start(t, "tok", nil)
	a, b := subscribe(t, s), subscribe(t, s)
	waitClients(t, s, 2)
	run := newLiveRun()
	for i := 1; i <= 3; i++ {
		s.Publish(run.second(100))
		for name, c := range map[string]*sse{"a": a, "b": b} {
			ev := c.next(t)
			if ev.Summary.Requests != int64(100*i) || ev.TimelineFrom != i-1 || len(ev.Summary.Timeline) != 1 {
				t.Errorf("client %s, publish %d: requests %d, timeline from %d with %d points; want %d, from %d with 1",
					name, i, ev.Summary.Requests, ev.TimelineFrom, len(ev.Summary.Timeline), 100*i, i-1)
			}
		}
	}

	// A page that joins now gets the whole run first, then the news.
	late := subscribe(t, s)
	first := late.next(t)
	if first.TimelineFrom != 0 || len(first.Summary.Timeline) != 3 || first.Summary.Requests != 300 {
		t.Errorf("late joiner's first event: from %d, %d points, %d requests; want 0, 3, 300",
			first.TimelineFrom, len(first.Summary.Timeline), first.Summary.Requests)
	}
	s.Publish(run.second(50))
	if ev := late.next(t); ev.TimelineFrom != 3 || len(ev.Summary.Timeline) != 1 || ev.Summary.Requests != 350 {
		t.Errorf("late joiner's next event: from %d, %d points, %d requests; want 3, 1, 350",
			ev.TimelineFrom, len(ev.Summary.Timeline), ev.Summary.Requests)
	}
}

// TestPublishNew: publishing only each second's new points (as a long run
// does) sends pages exactly what publishing the whole summary sends, to
// pages already open and to pages that join later.
func TestPublishNew(t *testing.T) {
	whole, news := start(t, "tok", nil), start(t, "tok", nil)
	a, b := subscribe(t, whole), subscribe(t, news)
	waitClients(t, whole, 1)
	waitClients(t, news, 1)
	run := newLiveRun()
	sent := 0
	second := func(n int) {
		sum := run.second(n)
		whole.Publish(sum)
		r := *run.col.Run()
		r.Timeline = r.Timeline[sent:]
		sent = len(run.col.Run().Timeline)
		delta := report.NewSummary(run.meta(), &r)
		if len(delta.Timeline) != 1 {
			t.Fatalf("the delta summary has %d points, want 1", len(delta.Timeline))
		}
		news.PublishNew(delta)
	}
	for i := 1; i <= 4; i++ {
		second(100 * i)
		if got, want := b.next(t), a.next(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("second %d: PublishNew sent %+v, Publish sent %+v", i, got, want)
		}
	}
	lateA, lateB := subscribe(t, whole), subscribe(t, news)
	if got, want := lateB.next(t), lateA.next(t); !reflect.DeepEqual(got, want) || len(want.Summary.Timeline) != 4 {
		t.Fatalf("a page that joins: PublishNew sent %+v, Publish sent %+v (want 4 points)", got, want)
	}
	second(7)
	if got, want := lateB.next(t), lateA.next(t); !reflect.DeepEqual(got, want) || got.TimelineFrom != 4 {
		t.Fatalf("after joining: PublishNew sent %+v, Publish sent %+v (want from 4)", got, want)
	}
}

// TestStalledClient: a page that reads nothing is dropped once its queue is
// full, and Publish never waits for it.
func TestStalledClient(t *testing.T) {
	s := start(t, "", nil)
	conn, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") // and never read
	waitClients(t, s, 1)

	// Large events fill the socket buffers quickly, so the server's write
	// to the stalled page blocks and its queue fills.
	run := newLiveRun()
	big := run.second(10)
	big.Warnings = []string{strings.Repeat("x", 256<<10)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 400 {
			s.Publish(big)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked on a stalled page")
	}
	if n := s.clientCount(); n != 0 {
		t.Errorf("%d clients after the stalled page's queue overflowed; want it dropped", n)
	}
}

func TestStop(t *testing.T) {
	var calls atomic.Int32
	s := start(t, "tok", func() { calls.Add(1) })
	base := "http://" + s.ln.Addr().String() + "/stop"
	post := func(hdr map[string]string) int {
		req, _ := http.NewRequest("POST", base, nil)
		req.Header.Set("Authorization", "Bearer tok")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	if code := post(map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("cross-site stop = %d, want 403", code)
	}
	if code := post(map[string]string{"Origin": "http://evil.example"}); code != 403 {
		t.Errorf("cross-origin stop = %d, want 403", code)
	}
	if calls.Load() != 0 {
		t.Fatal("a refused request stopped the run")
	}
	resp, err := http.Get(base + "?token=tok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /stop = %d, want 405", resp.StatusCode)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if code := post(map[string]string{"Origin": "http://" + s.ln.Addr().String(), "Sec-Fetch-Site": "same-origin"}); code != http.StatusAccepted {
				t.Errorf("stop = %d, want 202", code)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("stop called %d times, want once", n)
	}
}

func TestNoStop(t *testing.T) {
	s := start(t, "", nil)
	resp, err := http.Post("http://"+s.ln.Addr().String()+"/stop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("stop without a stop func = %d, want 501", resp.StatusCode)
	}
	page, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if strings.Contains(string(b), `id="stop"`) {
		t.Error("the page has a stop button with nothing to stop")
	}
}

func TestClose(t *testing.T) {
	s, err := New("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := subscribe(t, s)
	waitClients(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-c.events:
		if ok {
			t.Error("an event after Close")
		}
	case <-time.After(5 * time.Second):
		t.Error("the event stream is still open after Close")
	}
	s.Publish(newLiveRun().second(1)) // no panic, nothing sent
}

// TestFinish: the run's final summary reaches open pages marked final, with
// the report's file: URL; pages that join later get it the same way; and
// nothing is published after it.
func TestFinish(t *testing.T) {
	s := start(t, "tok", nil)
	a := subscribe(t, s)
	waitClients(t, s, 1)
	run := newLiveRun()
	s.Publish(run.second(100))
	if ev := a.next(t); ev.Final || ev.ReportURL != "" {
		t.Errorf("a live event is final (%v) or has a report (%q)", ev.Final, ev.ReportURL)
	}
	sum := run.second(50)
	sum.ReportFile = filepath.Join("results", "run 1", "report.html")
	s.Finish(sum)
	abs, err := filepath.Abs(sum.ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	wantURL := "file://" + strings.ReplaceAll(filepath.ToSlash(abs), " ", "%20")
	for name, c := range map[string]*sse{"open": a, "joining": subscribe(t, s)} {
		ev := c.next(t)
		if !ev.Final || ev.ReportURL != wantURL || ev.Summary.Requests != 150 {
			t.Errorf("%s page: final %v, report %q, %d requests; want true, %q, 150", name, ev.Final, ev.ReportURL, ev.Summary.Requests, wantURL)
		}
	}
	s.Publish(run.second(10))
	s.Finish(run.second(10))
	select {
	case ev := <-a.events:
		t.Errorf("an event after the final one: %d requests", ev.Summary.Requests)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestFinishThenClose: a run publishes its final summary and closes the
// dashboard right after; the pages still get the final summary.
func TestFinishThenClose(t *testing.T) {
	for i := range 20 {
		s, err := New("127.0.0.1:0", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		c := subscribe(t, s)
		waitClients(t, s, 1)
		// A few seconds still queued for the page when the run ends.
		run := newLiveRun()
		for range 5 {
			s.Publish(run.second(1))
		}
		s.Finish(run.second(7))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var last event
		for ev := range c.events {
			last = ev
		}
		if !last.Final || last.Summary == nil || last.Summary.Requests != 12 {
			t.Fatalf("try %d: after Finish and Close the page's last event was %+v; want the final summary", i, last)
		}
	}
}
