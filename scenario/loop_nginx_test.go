package scenario_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/internal/testnginx"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// startFlowNginx runs a real nginx serving the 3-step flow (as
// ../shared/bench/scenario/nginx.conf does) with an access log of request
// id, status, path and Authorization header.
func startFlowNginx(t *testing.T) (url, accessLog string) {
	return testnginx.Start(t, testnginx.Config{
		LogFormat: `$request_id $status $request_method $uri "$http_authorization"`,
		HTTP: `keepalive_requests 100;
  default_type application/json;`,
		Locations: `location = /login { return 200 '{"token":"$request_id","token_type":"Bearer"}'; }
    location = /me {
      if ($http_authorization = "") { return 401 '{"error":"no token"}'; }
      return 200 '{"id":42,"name":"Ada"}';
    }
    location = /items { return 200 '{"page":$arg_page,"items":[{"id":1},{"id":2}]}'; }
    location / { return 404; }`,
	})
}

// TestLoopFlowAgainstNginx: the 3-step flow on the event loops, closed
// and open model, against a real nginx whose keep-alive connections end
// every 100 requests: fuka's counts per request name are nginx's access
// log's, every /me carries a token a /login of the same run handed out,
// and nothing failed.
func TestLoopFlowAgainstNginx(t *testing.T) {
	base, accessLog := startFlowNginx(t)
	rate := "{rate: 600, duration: 1s, max_clients: 32}"
	for _, tc := range []struct{ name, load string }{
		{"closed", "{clients: 16, iterations: 100}"},
		{"closed for a duration", "{clients: 8, duration: 1s}"},
		{"open", rate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Truncate(accessLog, 0); err != nil {
				t.Fatal(err)
			}
			src := strings.Replace(flowPlan, "load: { clients: 1, iterations: 1 }", "load: "+tc.load, 1)
			prog := compile(t, writePlan(t, base, src, nil))
			l := prog.Plan.Load
			cfg := engine.Config{Load: engine.Closed{Clients: l.Clients, Duration: l.Duration, Iterations: l.Iterations}}
			if l.Open() {
				r, err := plan.NewRate(l.Rate)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Load = engine.Open{Rate: r, MaxClients: l.MaxClients}
			}
			runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 32, UserAgent: "fuka-test"}, l.Open())
			defer runner.Close()
			cfg.Work = engine.Plan{Scenario: runner}
			ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
			defer cancel()
			res, err := engine.Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Transport != "fast" {
				t.Fatalf("transport %q, want fast", res.Transport)
			}
			tot := res.Run.Total
			if tot.Failed != 0 || tot.Status[200] != tot.Requests {
				t.Fatalf("requests %d, failed %d, 200s %d, errors %v", tot.Requests, tot.Failed, tot.Status[200], tot.Errors)
			}
			fuka := map[string]int64{}
			for i, n := range res.Run.Names {
				fuka["/"+n] = res.Run.ByName[i].Requests
			}
			logged, tokens, bad := readFlowLog(t, accessLog, tot.Requests)
			t.Logf("fuka %v, nginx %v", fuka, logged)
			for _, p := range []string{"/login", "/me", "/items"} {
				if fuka[p] != logged[p] {
					t.Errorf("%s: fuka counted %d, nginx logged %d", p, fuka[p], logged[p])
				}
			}
			if l.Iterations > 0 && fuka["/login"] != int64(l.Clients*l.Iterations) {
				t.Errorf("logins %d, want %d", fuka["/login"], l.Clients*l.Iterations)
			}
			if bad > 0 || tokens == 0 {
				t.Errorf("%d of %d /me carried a token no /login handed out", bad, logged["/me"])
			}
		})
	}
}

// readFlowLog counts the access log's requests by path, once it holds
// want lines (or after 2 s), and checks each /me's token.
func readFlowLog(t *testing.T, path string, want int64) (byPath map[string]int64, good, bad int) {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(2 * time.Second); ; {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		if int64(len(lines)) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	byPath = map[string]int64{}
	issued := map[string]bool{}
	var auths []string
	for _, l := range lines {
		f := strings.SplitN(l, " ", 5)
		if len(f) < 5 {
			continue
		}
		byPath[f[3]]++
		switch f[3] {
		case "/login":
			issued[f[0]] = true
		case "/me":
			auths = append(auths, strings.Trim(f[4], `"`))
		}
	}
	for _, a := range auths {
		if tok, ok := strings.CutPrefix(a, "Bearer "); ok && issued[tok] {
			good++
		} else {
			bad++
		}
	}
	return byPath, good, bad
}
