package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// phasesOut is the part of the JSON summary the phase tests read.
type phasesOut struct {
	Requests int64 `json:"requests"`
	ByName   []struct {
		Name     string `json:"name"`
		Requests int64  `json:"requests"`
		Phases   *struct {
			Timed    int64                  `json:"timed"`
			New      int64                  `json:"new_connections"`
			DNS      *struct{ Count int64 } `json:"dns"`
			Connect  *struct{ Count int64 } `json:"connect"`
			TTFB     *struct{ Count int64 } `json:"ttfb"`
			Transfer *struct{ Count int64 } `json:"transfer"`
		} `json:"phases"`
	} `json:"requests_by_name"`
	Transport string `json:"transport"`
}

func parsePhases(t *testing.T, out string) phasesOut {
	t.Helper()
	var s phasesOut
	if err := json.Unmarshal([]byte(lastLine(out)), &s); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	return s
}

// TestPhasesFlag: --phases breaks every response down on each path
// (attack's fast path and net/http, run's scenarios); without it the
// summary has no phases.
func TestPhasesFlag(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	plan := writePlanFile(t, t.TempDir(), "p.yaml", tg.URL, `base_url: BASE
scenarios:
  s:
    steps:
      - get: /a
      - get: /b
load: { clients: 2, iterations: 10 }
`)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tls.Close()
	tlsPlan := writePlanFile(t, t.TempDir(), "p.yaml", tls.URL, `base_url: BASE
scenarios:
  s:
    steps:
      - get: /a
      - get: /b
load: { clients: 2, iterations: 10 }
`)
	quiet := []string{"-o", "json", "-q", "--no-history", "--no-report"}
	tests := []struct {
		name      string
		args      []string
		phases    bool
		transport string
	}{
		{"attack fast", []string{"attack", tg.URL + "/", "-c", "2", "-n", "40", "--phases"}, true, "fast"},
		{"attack net/http", []string{"attack", tls.URL + "/", "-c", "2", "-n", "40", "--phases", "--insecure", "--http1"}, true, "net/http"},
		{"attack off", []string{"attack", tg.URL + "/", "-c", "2", "-n", "40"}, false, "fast"},
		{"run fast", []string{"run", plan, "--phases"}, true, "fast"},
		{"run net/http", []string{"run", tlsPlan, "--phases", "--insecure", "--http1"}, true, "net/http"},
		{"run off", []string{"run", plan}, false, "fast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := runCLI(t, ctx, append(tt.args, quiet...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.err)
			}
			s := parsePhases(t, res.out)
			if len(s.ByName) == 0 || s.Transport != tt.transport {
				t.Fatalf("transport %q, want %q; names %+v", s.Transport, tt.transport, s.ByName)
			}
			var opened int64
			for _, n := range s.ByName {
				if !tt.phases {
					if n.Phases != nil {
						t.Errorf("%s: phases without --phases", n.Name)
					}
					continue
				}
				p := n.Phases
				// A plan's later steps go on the connection the first
				// opened: only names that opened one have connect times.
				if p == nil || p.Timed != n.Requests || p.TTFB == nil || p.TTFB.Count != n.Requests || p.Transfer == nil ||
					(p.Connect == nil) != (p.New == 0) || p.Connect != nil && p.Connect.Count != p.New || p.DNS != nil {
					t.Errorf("%s (%d requests, %s): phases %+v", n.Name, n.Requests, s.Transport, p)
					continue
				}
				opened += p.New
			}
			if tt.phases && opened < 1 {
				t.Errorf("no request opened a connection: %+v", s.ByName)
			}
		})
	}
}

// TestDistributedPhases: the workers' phase histograms cross the wire
// and merge: the controller's breakdown covers every request.
func TestDistributedPhases(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	certs := certsDir(t)
	addr := freeAddr(t)
	res, codes := distributed(t, 2,
		[]string{"attack", tg.URL, "-c", "4", "-d", "1s", "--max-rps", "200", "--workers", "2", "--listen", addr, "--phases",
			"--certs-dir", certs, "--start-delay", "300ms", "-o", "json", "-q", "--no-history", "--no-report"},
		[]string{"--controller", addr, "--certs-dir", certs})
	if res.code != 0 || codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("controller exit %d, workers %v: %s", res.code, codes, res.err)
	}
	s := parsePhases(t, res.out)
	if len(s.ByName) != 1 || s.Requests == 0 {
		t.Fatalf("summary %+v", s)
	}
	p := s.ByName[0].Phases
	// Each worker's clients open at least one connection each.
	if p == nil || p.Timed != s.Requests || p.TTFB.Count != s.Requests || p.New < 2 || p.Connect.Count != p.New {
		t.Fatalf("%d requests, phases %+v", s.Requests, p)
	}
}

// TestPhasesPlanDelays: a plan's requests put a target's known delays in
// the right phases on both of its transports: the event loops (plain
// HTTP) and net/http (TLS). The target waits before its headers, then
// sends half the body and the rest later.
func TestPhasesPlanDelays(t *testing.T) {
	const wait, gap = 50 * time.Millisecond, 400 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(wait)
		w.Header().Set("Content-Length", "4")
		_, _ = w.Write([]byte("ab"))
		w.(http.Flusher).Flush()
		time.Sleep(gap)
		_, _ = w.Write([]byte("cd"))
	})
	plainSrv := httptest.NewServer(h)
	t.Cleanup(plainSrv.Close)
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	src := `base_url: BASE
scenarios:
  s:
    steps:
      - get: /slow
load: { clients: 2, iterations: 2 }
`
	tests := []struct {
		name, base, transport string
		extra                 []string
	}{
		{"event loops", plainSrv.URL, "fast", nil},
		{"net/http", tlsSrv.URL, "net/http", []string{"--insecure", "--http1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan := writePlanFile(t, t.TempDir(), "p.yaml", tt.base, src)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := runCLI(t, ctx, append([]string{"run", plan, "--phases", "-o", "json", "-q", "--no-history", "--no-report"}, tt.extra...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.err)
			}
			type stat struct {
				P50MS float64 `json:"p50_ms"`
				MaxMS float64 `json:"max_ms"`
			}
			var s struct {
				Transport string `json:"transport"`
				ByName    []struct {
					Phases struct {
						TTFB     *stat `json:"ttfb"`
						Transfer *stat `json:"transfer"`
					} `json:"phases"`
				} `json:"requests_by_name"`
			}
			if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
				t.Fatal(err)
			}
			if s.Transport != tt.transport || len(s.ByName) != 1 {
				t.Fatalf("transport %q, %d names; want %q, 1", s.Transport, len(s.ByName), tt.transport)
			}
			p := s.ByName[0].Phases
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			slack := 500 * time.Millisecond // a loaded machine; the two delays stay apart
			for _, c := range []struct {
				phase  string
				st     *stat
				lo, hi time.Duration
			}{{"ttfb", p.TTFB, wait, gap * 9 / 10}, {"transfer", p.Transfer, gap * 9 / 10, gap + slack}} {
				st := c.st
				if st == nil || st.P50MS < ms(c.lo) || st.MaxMS >= ms(c.hi) {
					t.Errorf("%s %+v, want p50 and max in [%v, %v)", c.phase, st, c.lo, c.hi)
				}
			}
		})
	}
}

// TestPhasesWebSocket: --phases with a WebSocket URL is refused (exit 2),
// not silently ignored.
func TestPhasesWebSocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := runCLI(t, ctx, "attack", "ws://127.0.0.1:1/", "--ws-send", "x", "--phases", "-n", "1", "-q", "--no-history", "--no-report")
	if res.code != 2 || !strings.Contains(res.err, "--phases") {
		t.Fatalf("exit %d, %q; want 2 and a word on --phases", res.code, res.err)
	}
}
