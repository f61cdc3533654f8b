package scenario_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// startFlowNginx runs a real nginx serving the 3-step flow (as
// ../shared/bench/scenario/nginx.conf does) with an access log of request
// id, status, path and Authorization header. It skips without nginx,
// unless FUKA_INTEGRATION=1 demands it.
func startFlowNginx(t *testing.T) (url, accessLog string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			bin = "/usr/sbin/nginx"
		}
	}
	if bin == "" {
		if os.Getenv("FUKA_INTEGRATION") == "1" {
			t.Fatal("nginx is required (FUKA_INTEGRATION=1) but not installed: apt-get install nginx")
		}
		t.Skip("nginx not installed: skipping the real-server test (apt-get install nginx)")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	accessLog = filepath.Join(dir, "access.log")
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
  log_format flow '$request_id $status $request_method $uri "$http_authorization"';
  access_log %[3]s flow;
  client_body_temp_path %[2]s;
  proxy_temp_path %[2]s;
  fastcgi_temp_path %[2]s;
  uwsgi_temp_path %[2]s;
  scgi_temp_path %[2]s;
  keepalive_requests 100;
  default_type application/json;
  server {
    listen 127.0.0.1:%[4]d;
    location = /login { return 200 '{"token":"$request_id","token_type":"Bearer"}'; }
    location = /me {
      if ($http_authorization = "") { return 401 '{"error":"no token"}'; }
      return 200 '{"id":42,"name":"Ada"}';
    }
    location = /items { return 200 '{"page":$arg_page,"items":[{"id":1},{"id":2}]}'; }
    location / { return 404; }
  }
}
`, user, dir, accessLog, port)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-g", "daemon off;")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start: %v; stderr: %s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port), accessLog
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
