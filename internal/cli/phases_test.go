package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	quiet := []string{"-o", "json", "-q", "--no-history", "--no-report"}
	tests := []struct {
		name   string
		args   []string
		phases bool
	}{
		{"attack fast", []string{"attack", tg.URL + "/", "-c", "2", "-n", "40", "--phases"}, true},
		{"attack net/http", []string{"attack", tls.URL + "/", "-c", "2", "-n", "40", "--phases", "--insecure", "--http1"}, true},
		{"attack off", []string{"attack", tg.URL + "/", "-c", "2", "-n", "40"}, false},
		{"run", []string{"run", plan, "--phases"}, true},
		{"run off", []string{"run", plan}, false},
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
			if len(s.ByName) == 0 {
				t.Fatalf("no names: %q", res.out)
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
