package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token-for-tests-0123456789"

// startAgent serves an agent of the load fixture and a constant over
// loopback, sampling every 50ms, and waits for its first sample.
func startAgent(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	agent, err := NewAgent([]Sampler{NewLoad("testdata/proc1"), constant("const", 7)}, testToken, 50*time.Millisecond, nil)
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
	agent, err := NewAgent([]Sampler{constant("c", 1)}, testToken, time.Second, nil)
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
	if _, err := NewAgent(nil, "", time.Second, nil); err == nil {
		t.Error("NewAgent with an empty token: no error")
	}
}
