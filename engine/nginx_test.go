package engine

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

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
)

// startNginx runs a real nginx on 127.0.0.1 with an access log, so the fast
// path is checked against the server users point it at, not only httptest.
// It skips when nginx is absent, unless FUKA_INTEGRATION=1 demands it.
func startNginx(t *testing.T) (url, accessLog string) {
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
  access_log %[3]s;
  client_body_temp_path %[2]s;
  proxy_temp_path %[2]s;
  fastcgi_temp_path %[2]s;
  uwsgi_temp_path %[2]s;
  scgi_temp_path %[2]s;
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:%[4]d;
    location / { return 200 "hello from nginx\n"; }
    location /chunked { chunked_transfer_encoding on; return 200 "x"; }
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
	deadline := time.Now().Add(5 * time.Second)
	for {
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

// countLines counts the access log's lines, waiting briefly for nginx to
// finish writing the last ones.
func countLines(t *testing.T, path string, want int64) int64 {
	t.Helper()
	var n int64
	for deadline := time.Now().Add(2 * time.Second); ; {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n = int64(bytes.Count(b, []byte("\n")))
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFastPathAgainstNginx(t *testing.T) {
	base, accessLog := startNginx(t)
	rate, err := load.ParseRate("2000", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		cfg  Config
	}{
		{"closed model request count", "/", Config{Load: Closed{Clients: 16, Requests: 20000}}},
		{"closed model with cap", "/", Config{Load: Closed{Clients: 8, Duration: time.Second, MaxRPS: 3000}}},
		{"open model", "/", Config{Load: Open{Rate: rate, MaxClients: 200}}},
		{"chunked", "/chunked", Config{Load: Closed{Clients: 4, Requests: 2000}}},
	}
	var served int64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := client.NewRequest("GET", base+tc.path, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := tc.cfg
			cfg.Work = Request{Request: req, Timeout: 5 * time.Second}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Interrupted {
				t.Fatal("the run hit the test's deadline instead of ending with its load")
			}
			if res.Transport != "fast" {
				t.Fatalf("transport %q, want fast", res.Transport)
			}
			tot := res.Run.Total
			if tot.Failed != 0 || tot.Status[200] != tot.Requests {
				t.Fatalf("requests %d, failed %d, 200s %d, errors %v", tot.Requests, tot.Failed, tot.Status[200], tot.Errors)
			}
			if l, ok := cfg.Load.(Closed); ok && l.Requests > 0 && tot.Requests != l.Requests {
				t.Errorf("requests %d, want %d", tot.Requests, l.Requests)
			}
			served += tot.Requests
			if got := countLines(t, accessLog, served); got != served {
				t.Errorf("nginx logged %d requests in all, fuka counted %d", got, served)
			}
			if strings.Contains(tc.name, "open") && res.Run.Dropped != 0 {
				t.Errorf("dropped %d starts against an idle nginx", res.Run.Dropped)
			}
		})
	}
}
