package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "s3cret-token-for-tests-0123456789"

// startAgent serves an agent of the load fixture and a constant over
// loopback, sampling every 50ms, and waits for its first sample.
func startAgent(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	agent, err := NewAgent(func() []Sampler { return []Sampler{NewLoad("testdata/proc1"), constant("const", 7)} }, testToken, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(agent) // 127.0.0.1:0
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := get(t, srv.URL+AgentPath, "Bearer "+testToken)
		if resp.code == http.StatusOK {
			return srv, addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample after 5s: %d %s", resp.code, resp.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type response struct {
	code int
	body string
}

func get(t *testing.T, url, auth string) response {
	t.Helper()
	return do(t, http.MethodGet, url, auth)
}

func do(t *testing.T, method, url, auth string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

func TestAgentServes(t *testing.T) {
	srv, _ := startAgent(t)
	before := time.Now()
	r := get(t, srv.URL+AgentPath, "Bearer "+testToken)
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var s struct {
		At     string             `json:"at"`
		Values map[string]float64 `json:"values"`
	}
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	at, err := time.Parse(time.RFC3339Nano, s.At)
	if err != nil {
		t.Errorf("at %q: %v", s.At, err)
	}
	if age := before.Sub(at); age < 0 || age > time.Second {
		t.Errorf("at %v is %v before the request, want a recent sample", at, age)
	}
	if s.Values["load.1m"] != 0.5 || s.Values["procs.total"] != 250 || s.Values["const.v"] != 7 {
		t.Errorf("values %v, want load.1m 0.5, procs.total 250, const.v 7", s.Values)
	}
}

func TestAgentRefuses(t *testing.T) {
	srv, _ := startAgent(t)
	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"missing token", "GET", AgentPath, "", http.StatusUnauthorized},
		{"wrong token", "GET", AgentPath, "Bearer nope", http.StatusUnauthorized},
		{"token as a prefix", "GET", AgentPath, "Bearer " + testToken[:10], http.StatusUnauthorized},
		{"token with more", "GET", AgentPath, "Bearer " + testToken + "x", http.StatusUnauthorized},
		{"not a bearer", "GET", AgentPath, "Basic " + testToken, http.StatusUnauthorized},
		{"other path without token", "GET", "/debug/pprof/", "", http.StatusUnauthorized},
		{"other path", "GET", "/v1/other", "Bearer " + testToken, http.StatusNotFound},
		{"post", "POST", AgentPath, "Bearer " + testToken, http.StatusMethodNotAllowed},
		{"empty session", "GET", AgentPath + "?session=", "Bearer " + testToken, http.StatusBadRequest},
		{"session too long", "GET", AgentPath + "?session=" + strings.Repeat("a", 65), "Bearer " + testToken, http.StatusBadRequest},
		{"session with a slash", "GET", AgentPath + "?session=a/b", "Bearer " + testToken, http.StatusBadRequest},
		{"session without token", "GET", AgentPath + "?session=abc", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, srv.URL+tt.path, tt.auth)
			if r.code != tt.want {
				t.Errorf("status %d, want %d", r.code, tt.want)
			}
			if tt.want == http.StatusUnauthorized && r.body != "" {
				t.Errorf("401 with a body %q, want none", r.body)
			}
		})
	}
}

func TestAgentSampler(t *testing.T) {
	_, addr := startAgent(t)
	t.Run("prefixed series", func(t *testing.T) {
		vals, err := NewAgentSampler(addr, testToken).Sample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v := values(t, vals)
		pre := "agent." + addr + "."
		if v[pre+"load.1m"] != 0.5 || v[pre+"const.v"] != 7 || len(v) != 6 {
			t.Errorf("values %v, want the agent's 6 series prefixed %q", v, pre)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		_, err := NewAgentSampler(addr, "wrong").Sample(context.Background())
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want a 401", err)
		}
	})
	t.Run("in a monitor", func(t *testing.T) {
		s := NewAgentSampler(addr, testToken)
		if s.Name() != "agent "+addr {
			t.Errorf("name %q", s.Name())
		}
		m := New([]Sampler{s}, 300*time.Millisecond, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		m.Run(ctx, time.Now())
		// Two ticks (0 and 300ms); on a loaded machine one may miss its
		// 240ms deadline, so ask for one.
		got := 0
		for _, p := range m.Points() {
			if p.Values["agent."+addr+".procs.running"] == 3 {
				got++
			}
		}
		if got == 0 {
			t.Errorf("points %+v failures %+v, want the agent's series", m.Points(), m.Failures())
		}
	})
	t.Run("no agent", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := strings.TrimPrefix(srv.URL, "http://")
		srv.Close()
		start := time.Now()
		_, err := NewAgentSampler(addr, testToken).Sample(context.Background())
		if err == nil || time.Since(start) > 2*AgentTimeout {
			t.Errorf("err %v after %v, want a quick error", err, time.Since(start))
		}
	})
}

func TestAgentBeforeFirstSample(t *testing.T) {
	agent, err := NewAgent(func() []Sampler { return []Sampler{constant("c", 1)} }, testToken, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", AgentPath, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	agent.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d before Run, want 503", rec.Code)
	}
	if _, err := NewAgent(func() []Sampler { return nil }, "", time.Second, nil); err == nil {
		t.Error("NewAgent with an empty token: no error")
	}
}

// burstSampler reports how many events count says happened since its
// previous call (none at its first), as burst.events.
type burstSampler struct {
	count func(time.Time) float64
	prev  float64
	seen  bool
}

func (*burstSampler) Name() string { return "burst" }

func (b *burstSampler) Sample(context.Context) ([]Value, error) {
	c := b.count(time.Now())
	defer func() { b.prev, b.seen = c, true }()
	if !b.seen {
		return nil, nil
	}
	return []Value{{"burst.events", c - b.prev}}, nil
}

// TestAgentBurstLandsInItsSecond: a burst on the agent's host lands in the
// controller's interval in which it happened, whatever the agent's clock
// says (here 0.62 s ahead) and however its own ticks are phased (here half
// an interval off the controller's).
func TestAgentBurstLandsInItsSecond(t *testing.T) {
	const iv = 500 * time.Millisecond
	const offset = 620 * time.Millisecond
	var burstAt atomic.Int64 // unix nanos; 1000 events spread evenly over [burstAt, burstAt+iv)
	burstAt.Store(math.MaxInt64)
	count := func(now time.Time) float64 {
		f := float64(now.UnixNano()-burstAt.Load()) / float64(iv)
		return 1000 * min(max(f, 0), 1)
	}
	agent, err := NewAgent(func() []Sampler { return []Sampler{&burstSampler{count: count}} }, testToken, iv, nil)
	if err != nil {
		t.Fatal(err)
	}
	agent.now = func() time.Time { return time.Now().Add(offset) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); agent.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(agent)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	// The agent's "at" is on its own clock.
	before := time.Now()
	r := get(t, srv.URL+AgentPath+"?session=probe", "Bearer "+testToken)
	var s struct {
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal([]byte(r.body), &s); err != nil || r.code != http.StatusOK {
		t.Fatalf("%d %s: %v", r.code, r.body, err)
	}
	if ahead := s.At.Sub(before); ahead < offset || ahead > offset+time.Second {
		t.Errorf("at is %v ahead of the request, want the agent's clock, %v ahead", ahead, offset)
	}

	// The agent's own ticks about half an interval off the controller's:
	// its latest sample would split the burst between two ticks.
	next := agentStarted(t, agent).Add(iv / 2)
	for time.Until(next) < iv/10 {
		next = next.Add(iv)
	}
	time.Sleep(time.Until(next))
	m := New([]Sampler{NewAgentSampler(addr, testToken)}, iv, nil)
	start := time.Now()
	burstAt.Store(start.Add(2 * iv).UnixNano()) // between the ticks at 2 and 3 intervals
	mctx, mcancel := context.WithCancel(context.Background())
	mdone := make(chan struct{})
	go func() { defer close(mdone); m.Run(mctx, start) }()
	time.Sleep(time.Until(start.Add(4*iv + iv/2)))
	m.Finish(time.Now())
	<-mdone
	mcancel()

	got := map[time.Duration]float64{}
	for _, p := range m.Points() {
		if v, ok := p.Values["agent."+addr+".burst.events"]; ok {
			got[p.At] = v
		}
	}
	// A tick late by 50 ms under load moves 100 of the 1000 events.
	if got[3*iv] < 800 || got[2*iv]+got[4*iv] > 200 {
		t.Errorf("events by tick %v (failures %+v), want the 1000 at %v", got, m.Failures(), 3*iv)
	}
}

// agentStarted is when agent's own loop started, waiting for Run to begin.
func agentStarted(t *testing.T, a *Agent) time.Time {
	t.Helper()
	for range 500 {
		a.mu.Lock()
		start := a.start
		a.mu.Unlock()
		if !start.IsZero() {
			return start
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the agent's loop did not start")
	return time.Time{}
}

// TestAgentSessions: each session has samplers of its own, sampled when
// asked; the agent keeps the 16 most recently used.
func TestAgentSessions(t *testing.T) {
	made := 0
	agent, err := NewAgent(func() []Sampler {
		made++
		n := float64(made)
		return []Sampler{&fakeSampler{name: "n", fn: func(_ context.Context, call int) ([]Value, error) {
			return []Value{{"set", n}, {"call", float64(call)}}, nil
		}}}
	}, testToken, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(id string) map[string]float64 {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", AgentPath+"?session="+id, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		agent.ServeHTTP(rec, req)
		var s agentSample
		if err := json.Unmarshal(rec.Body.Bytes(), &s); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("session %s: %d %s", id, rec.Code, rec.Body)
		}
		return s.Values
	}
	// No Run: a session is sampled on request, not by the agent's loop.
	if v := ask("a"); v["set"] != 2 || v["call"] != 0 {
		t.Errorf("first request of a: %v, want the second set of samplers (the first is the loop's), call 0", v)
	}
	if v := ask("a"); v["set"] != 2 || v["call"] != 1 {
		t.Errorf("second request of a: %v, want its own samplers' second call", v)
	}
	for i := range maxSessions {
		ask(fmt.Sprint("s", i)) // a, the least recently used, is dropped at the 16th
	}
	if len(agent.sessions) != maxSessions {
		t.Errorf("%d sessions, want %d", len(agent.sessions), maxSessions)
	}
	if v := ask("a"); v["call"] != 0 {
		t.Errorf("a after 16 others: %v, want a new session (call 0)", v)
	}
	if _, ok := agent.sessions["s0"]; ok {
		t.Error("s0, now the least recently used, was kept")
	}

	failing, err := NewAgent(func() []Sampler {
		return []Sampler{&fakeSampler{name: "disk", fn: func(context.Context, int) ([]Value, error) {
			return nil, errors.New("no diskstats")
		}}}
	}, testToken, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", AgentPath+"?session=x", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	failing.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "every sampler failed: disk: no diskstats") {
		t.Errorf("every sampler failing: %d %q, want 503 saying why", rec.Code, rec.Body)
	}
}
