// Package testnginx runs a real nginx on 127.0.0.1 for tests, so fuka's
// counts are checked against the server users point it at and its access
// log, not only against httptest.
package testnginx

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Config is what differs between tests' nginx servers.
type Config struct {
	// HTTP holds directives for the http block (keepalive_requests,
	// default_type, …).
	HTTP string
	// LogFormat is the access log's format; "" keeps nginx's combined.
	LogFormat string
	// Locations are the server block's location directives.
	Locations string
	// NoAccessLog turns the access log off (benchmarks).
	NoAccessLog bool
	// WorkerConnections is nginx's worker_connections; 0: 1024.
	WorkerConnections int
}

// Find returns the nginx binary's path, or "" when nginx is not installed.
func Find() string {
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// Start runs nginx with c on a free loopback port until the test ends and
// returns its base URL and access log path. It skips when nginx is absent,
// unless FUKA_INTEGRATION=1 demands it.
func Start(t testing.TB, c Config) (url, accessLog string) {
	t.Helper()
	bin := Find()
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
	logLine := "access_log " + accessLog + ";"
	switch {
	case c.NoAccessLog:
		logLine = "access_log off;"
	case c.LogFormat != "":
		logLine = "log_format fuka '" + c.LogFormat + "';\n  access_log " + accessLog + " fuka;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections %[7]d; }
http {
  %[3]s
  client_body_temp_path %[2]s;
  proxy_temp_path %[2]s;
  fastcgi_temp_path %[2]s;
  uwsgi_temp_path %[2]s;
  scgi_temp_path %[2]s;
  %[4]s
  server {
    listen 127.0.0.1:%[5]d;
    %[6]s
  }
}
`, user, dir, logLine, c.HTTP, port, c.Locations, cmp.Or(c.WorkerConnections, 1024))
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
