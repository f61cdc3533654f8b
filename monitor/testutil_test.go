package monitor

// Helpers that start real middleware (Debian's nginx, PostgreSQL and Redis)
// for the samplers' tests: each in its own t.TempDir(), on a free port of
// 127.0.0.1, as a child of the test that is stopped in t.Cleanup (and
// killed with the test process if it dies first). A component that is not
// installed skips its test, unless FUKA_INTEGRATION=1 (as in CI), where it
// fails it.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// serverStartTimeout bounds how long a server may take to answer; they
// start in well under a second, initdb in a few.
const serverStartTimeout = 15 * time.Second

// requireInstalled skips (or, with FUKA_INTEGRATION=1, fails) the test when
// a component's binary is missing.
func requireInstalled(t *testing.T, name, path, pkg string) {
	t.Helper()
	if path != "" {
		return
	}
	msg := fmt.Sprintf("%s not installed (apt-get install %s)", name, pkg)
	if os.Getenv("FUKA_INTEGRATION") == "1" {
		t.Fatal(msg + "; FUKA_INTEGRATION=1 requires it")
	}
	t.Skip(msg + "; set FUKA_INTEGRATION=1 to require it")
}

// lookBin returns the first of the candidates that is an executable file,
// or "". A candidate may be a glob.
func lookBin(candidates ...string) string {
	for _, c := range candidates {
		if !strings.Contains(c, "/") {
			if p, err := exec.LookPath(c); err == nil {
				return p
			}
			continue
		}
		matches, _ := filepath.Glob(c)
		for i := len(matches) - 1; i >= 0; i-- { // the newest version sorts last
			if fi, err := os.Stat(matches[i]); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return matches[i]
			}
		}
	}
	return ""
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a server's output for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a started child process.
type server struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed when the process has exited
}

// startServer starts cmd in the background. Cleanup sends it stopSig and
// waits, killing it if it has not gone in 10 s.
func startServer(t *testing.T, name string, cmd *exec.Cmd, stopSig os.Signal) *server {
	t.Helper()
	s := &server{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL // never outlive a crashed test
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(stopSig)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-s.exited
			t.Logf("%s did not stop within 10s; killed", name)
		}
	})
	return s
}

// waitReady calls ready until it succeeds, the server exits, or
// serverStartTimeout passes.
func (s *server) waitReady(t *testing.T, name string, ready func(context.Context) error) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(serverStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			t.Logf("%s ready in %v", name, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-s.exited:
			t.Fatalf("%s exited before it was ready (%v); output:\n%s", name, s.cmd.ProcessState, s.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %v; output:\n%s", name, serverStartTimeout, err, s.out)
		}
	}
}

// startNginx starts nginx with stub_status at /status and a small page at /
// and returns the base URL, "http://127.0.0.1:PORT". As root, nginx's
// workers run as nobody (nginx's default); they need nothing from the
// directory.
func startNginx(t *testing.T) string {
	t.Helper()
	bin := lookBin("nginx", "/usr/sbin/nginx")
	requireInstalled(t, "nginx", bin, "nginx")
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_timeout 60s;
	keepalive_requests 10000;
	server {
		listen 127.0.0.1:%[2]d;
		location = /status { stub_status; }
		location = /gone { return 404; }
		location / { return 200 "ok\n"; }
	}
}
`, dir, port)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// -e: the error log before the configuration is read, which would
	// otherwise be /var/log/nginx/error.log (not writable unless root).
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	s := startServer(t, "nginx", cmd, syscall.SIGTERM)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	s.waitReady(t, "nginx", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
		req.Close = true // leave no idle connection behind to count
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	})
	return base
}

// startRedis starts redis-server with no persistence and returns its
// address, "127.0.0.1:PORT".
func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin := lookBin("redis-server", "/usr/bin/redis-server")
	requireInstalled(t, "redis-server", bin, "redis-server")
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--logfile", "")
	cmd.Args = append(cmd.Args, args...)
	s := startServer(t, "redis-server", cmd, syscall.SIGTERM)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s.waitReady(t, "redis-server", func(ctx context.Context) error {
		c, reply, err := redisPing(ctx, addr)
		if err != nil {
			return err
		}
		c.Close()
		if reply != "+PONG" && !strings.HasPrefix(reply, "-NOAUTH") { // with --requirepass
			return fmt.Errorf("PING: %s", reply)
		}
		return nil
	})
	return addr
}

// redisPing opens a client connection to addr and sends PING, so that the
// server has registered the client by the time the reply is read.
func redisPing(ctx context.Context, addr string) (c net.Conn, reply string, err error) {
	var d net.Dialer
	if c, err = d.DialContext(ctx, "tcp", addr); err != nil {
		return nil, "", err
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err = c.Write([]byte("PING\r\n")); err == nil {
		reply, err = bufio.NewReader(c).ReadString('\n')
	}
	if err != nil {
		c.Close()
		return nil, "", err
	}
	c.SetDeadline(time.Time{})
	return c, strings.TrimSuffix(reply, "\r\n"), nil
}

// startPostgres initdb's a cluster and starts postgres on it, listening on
// 127.0.0.1 only (no Unix socket), with trust authentication for the user
// postgres, and returns a DSN for it. PostgreSQL refuses to run as root: as
// root, both run as the postgres user the Debian package creates (or
// nobody when there is none), on a data directory that user owns.
func startPostgres(t *testing.T) string {
	t.Helper()
	initdb := lookBin("/usr/lib/postgresql/*/bin/initdb", "initdb")
	postgres := lookBin("/usr/lib/postgresql/*/bin/postgres", "postgres")
	if postgres == "" {
		initdb = ""
	}
	requireInstalled(t, "postgresql", initdb, "postgresql")

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = postgresCredential(t)
		// t.TempDir() and its parent are 0700 root: let the server's user
		// reach its data directory, and own it.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(data, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "LC_ALL=C", "LANG=C")

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, initdb, "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Logf("initdb in %v", time.Since(start).Round(time.Millisecond))

	port := freePort(t)
	cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=40", "-c", "shared_buffers=16MB")
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGINT is PostgreSQL's fast shutdown: end sessions, checkpoint, exit.
	s := startServer(t, "postgres", cmd, syscall.SIGINT)
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	s.waitReady(t, "postgres", func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
	return dsn
}

// postgresCredential is the non-root user that runs PostgreSQL for tests run
// as root.
func postgresCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	t.Fatal("running as root and no postgres or nobody user to run PostgreSQL as")
	return nil
}

// contextFor bounds one call in a test.
func contextFor(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), 5*time.Second)
}

// mustSample samples s once under a 5 s deadline and returns its values by
// name.
func mustSample(t *testing.T, s Sampler) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vs, err := s.Sample(ctx)
	if err != nil {
		t.Fatalf("%s: %v", s.Name(), err)
	}
	m := make(map[string]float64, len(vs))
	for _, v := range vs {
		if _, dup := m[v.Name]; dup {
			t.Errorf("%s: series %s twice", s.Name(), v.Name)
		}
		m[v.Name] = v.V
	}
	return m
}

// sampleUntil samples s until ok accepts the values, failing the test after
// 10 s; for counts that settle a moment after a client goes away.
func sampleUntil(t *testing.T, s Sampler, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := mustSample(t, s)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not %s after 10s: %v", s.Name(), what, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeClock returns a clock that moves step forward at each call.
func fakeClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(step)
		return at
	}
}
