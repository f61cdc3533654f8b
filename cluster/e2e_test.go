package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The end-to-end test runs real processes: the fuka binary as controller
// and as three workers. As root with `ip`, each worker lives in a network
// namespace of its own, joined to the test's by a veth pair:
//
//	test's namespace                     worker J's namespace (fk<pid>-J)
//	10.200.J.1/30  vfk<pid>hJ ══ veth ══ vfk<pid>nJ  10.200.J.2/30
//	                                      default route via 10.200.J.1
//
// The controller and the target listen on 10.200.1.1 (an address the test
// created; every namespace reaches it through its own veth). Without root
// or `ip`, everything runs on 127.0.0.1 instead.

// e2eEnv is where the processes run.
type e2eEnv struct {
	host    string   // the controller's and the target's address
	ns      []string // worker J's namespace; "" = the test's own
	wantIPs []string // worker J's source address, when it has its own
}

func setupNetns(t *testing.T, n int) e2eEnv {
	t.Helper()
	loopback := e2eEnv{host: "127.0.0.1", ns: make([]string, n)}
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Log("notice: not root: network namespaces unavailable; workers run on 127.0.0.1")
		return loopback
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Log("notice: no `ip` command: network namespaces unavailable; workers run on 127.0.0.1")
		return loopback
	}
	id := os.Getpid() % 100000
	env := e2eEnv{host: "10.200.1.1"}
	var cmds [][]string
	for j := 1; j <= n; j++ {
		ns := fmt.Sprintf("fk%d-%d", id, j)
		h, w := fmt.Sprintf("vfk%dh%d", id, j), fmt.Sprintf("vfk%dn%d", id, j)
		hostIP, nsIP := fmt.Sprintf("10.200.%d.1", j), fmt.Sprintf("10.200.%d.2", j)
		cmds = append(cmds,
			[]string{"netns", "add", ns},
			[]string{"link", "add", h, "type", "veth", "peer", "name", w},
			[]string{"link", "set", w, "netns", ns},
			[]string{"addr", "add", hostIP + "/30", "dev", h},
			[]string{"link", "set", h, "up"},
			[]string{"-n", ns, "addr", "add", nsIP + "/30", "dev", w},
			[]string{"-n", ns, "link", "set", w, "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
			[]string{"-n", ns, "route", "add", "default", "via", hostIP},
		)
		env.ns = append(env.ns, ns)
		env.wantIPs = append(env.wantIPs, nsIP)
		t.Cleanup(func() {
			// Deleting the namespace deletes its end of the veth pair, and
			// with it the test's end.
			exec.Command("ip", "netns", "del", ns).Run()
			exec.Command("ip", "link", "del", h).Run()
		})
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Logf("notice: ip %s: %v: %s; workers run on 127.0.0.1", strings.Join(c, " "), err, out)
			return loopback
		}
	}
	t.Logf("workers in network namespaces %v; controller and target on %s", env.ns, env.host)
	return env
}

// buildFuka builds the fuka binary into dir.
func buildFuka(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "fuka")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/fuka")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ipTarget counts requests by the client's IP address.
type ipTarget struct {
	total atomic.Int64
	mu    sync.Mutex
	by    map[string]int64
	url   string
}

func newIPTarget(t *testing.T, host string) *ipTarget {
	t.Helper()
	tg := &ipTarget{by: map[string]int64{}}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.total.Add(1)
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		tg.mu.Lock()
		tg.by[ip]++
		tg.mu.Unlock()
		w.Write([]byte("ok"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	tg.url = "http://" + ln.Addr().String() + "/"
	return tg
}

func (tg *ipTarget) from(ip string) int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.by[ip]
}

// proc is a started process whose stderr lines are kept with the time
// each arrived.
type proc struct {
	cmd   *exec.Cmd
	out   bytes.Buffer
	mu    sync.Mutex
	lines []stampedLine
	done  chan error
}

type stampedLine struct {
	at   time.Time
	text string
}

func start(t *testing.T, ctx context.Context, ns string, bin string, args ...string) *proc {
	t.Helper()
	name, all := bin, args
	if ns != "" {
		name, all = "ip", append([]string{"netns", "exec", ns, bin}, args...)
	}
	p := &proc{cmd: exec.CommandContext(ctx, name, all...), done: make(chan error, 1)}
	p.cmd.Stdout = &p.out
	p.cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir())
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var read sync.WaitGroup
	read.Add(1)
	go func() {
		defer read.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, stampedLine{time.Now(), sc.Text()})
			p.mu.Unlock()
		}
	}()
	go func() {
		read.Wait()
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
	})
	return p
}

func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(d):
		p.cmd.Process.Kill()
		t.Fatalf("%s did not end within %v\n%s", p.cmd.Args, d, p.stderr())
		return nil
	}
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// lineAt is when the first stderr line containing s arrived.
func (p *proc) lineAt(s string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l.text, s) {
			return l.at, true
		}
	}
	return time.Time{}, false
}

type e2eSummary struct {
	Requests    int64 `json:"requests"`
	Degraded    bool  `json:"degraded"`
	Interrupted bool  `json:"interrupted"`
	Workers     []struct {
		Name         string `json:"name"`
		State        string `json:"state"`
		LastInterval int    `json:"last_interval"`
		Requests     int64  `json:"requests"`
	} `json:"workers"`
}

func freePort(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestProcesses: a controller and three `fuka worker` processes (in their
// own network namespaces where possible) against a counting target.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fuka and runs processes")
	}
	if runtime.GOOS != "linux" {
		t.Skip("process test runs on Linux")
	}
	dir := t.TempDir()
	bin := buildFuka(t, dir)
	env := setupNetns(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	certs, other := filepath.Join(dir, "certs"), filepath.Join(dir, "other")
	for _, args := range [][]string{
		{"certs", "init", "--dir", certs},
		{"certs", "issue", "--dir", certs, "--role", "controller", "--name", "ctl"},
		{"certs", "issue", "--dir", certs, "--role", "worker", "--name", "worker"},
		{"certs", "init", "--dir", other, "--name", "someone else's CA"},
		{"certs", "issue", "--dir", other, "--role", "worker", "--name", "intruder"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	workers := func(ctl string) []*proc {
		var ps []*proc
		for j, ns := range env.ns {
			ps = append(ps, start(t, ctx, ns, bin, "worker", "--controller", ctl, "--certs-dir", certs,
				"--name", fmt.Sprintf("w%d", j+1), "--connect-timeout", "20s"))
		}
		return ps
	}
	controller := func(tg *ipTarget, ctl, duration string) *proc {
		return start(t, ctx, "", bin, "attack", tg.url, "-c", "6", "-d", duration, "--max-rps", "1500",
			"--workers", "3", "--listen", ctl, "--certs-dir", certs, "--start-delay", "500ms",
			"-o", "json", "-q", "--no-history", "--no-report", "--wait-workers", "20s")
	}
	summary := func(p *proc) e2eSummary {
		t.Helper()
		var s e2eSummary
		lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
			t.Fatalf("controller's summary: %v: %q\n%s", err, p.out.String(), p.stderr())
		}
		return s
	}

	t.Run("merged equals target, intruder refused", func(t *testing.T) {
		tg := newIPTarget(t, env.host)
		ctl := freePort(t, env.host)
		c := controller(tg, ctl, "2s")
		// A worker whose certificate (and CA) are someone else's.
		bad := start(t, ctx, "", bin, "worker", "--controller", ctl, "--certs-dir", other, "--name", "intruder", "--connect-timeout", "3s")
		ws := workers(ctl)
		if err := c.wait(t, 30*time.Second); err != nil {
			t.Fatalf("controller: %v\n%s", err, c.stderr())
		}
		for j, w := range ws {
			if err := w.wait(t, 10*time.Second); err != nil {
				t.Errorf("worker %d: %v\n%s", j+1, err, w.stderr())
			}
		}
		if err := bad.wait(t, 15*time.Second); err == nil {
			t.Errorf("the intruder worker ran\n%s", bad.stderr())
		} else if e := bad.stderr(); !strings.Contains(e, "refused") && !strings.Contains(e, "certificate") {
			t.Errorf("the intruder's error does not say why: %s", e)
		}
		s := summary(c)
		if s.Requests != tg.total.Load() || s.Requests == 0 {
			t.Errorf("merged report: %d requests; the target counted %d", s.Requests, tg.total.Load())
		}
		if s.Degraded || len(s.Workers) != 3 {
			t.Errorf("degraded %v, workers %+v", s.Degraded, s.Workers)
		}
		for _, w := range s.Workers {
			if w.Name == "intruder" {
				t.Error("the intruder joined")
			}
		}
		for j, ip := range env.wantIPs {
			if tg.from(ip) == 0 {
				t.Errorf("no requests from worker %d's namespace (%s)", j+1, ip)
			}
		}
		if strings.Contains(c.stderr(), "intruder") {
			t.Errorf("the controller heard of the intruder:\n%s", c.stderr())
		}
	})

	t.Run("kill -9 of a worker", func(t *testing.T) {
		tg := newIPTarget(t, env.host)
		ctl := freePort(t, env.host)
		c := controller(tg, ctl, "4s")
		ws := workers(ctl)
		// Kill w1 about 1.5 s into the load.
		deadline := time.Now().Add(20 * time.Second)
		for tg.total.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond)
		killed := time.Now()
		if err := ws[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := c.wait(t, 30*time.Second); err != nil {
			t.Fatalf("controller: %v\n%s", err, c.stderr())
		}
		at, ok := c.lineAt("worker w1 lost")
		switch {
		case !ok:
			t.Errorf("the loss of w1 was not reported on stderr:\n%s", c.stderr())
		case at.Sub(killed) > 5*time.Second:
			t.Errorf("the loss of w1 was reported %v after the kill, want < 5s", at.Sub(killed))
		}
		for j, w := range ws[1:] {
			if err := w.wait(t, 10*time.Second); err != nil {
				t.Errorf("worker %d: %v\n%s", j+2, err, w.stderr())
			}
		}
		s := summary(c)
		if !s.Degraded {
			t.Errorf("report not degraded: %+v", s)
		}
		var reported int64
		for _, w := range s.Workers {
			reported += w.Requests
			switch w.Name {
			case "w1":
				if w.State != "lost" || w.LastInterval < 1 {
					t.Errorf("w1: %+v, want lost with its last interval", w)
				}
			default:
				if w.State != "ok" {
					t.Errorf("%s: %+v, want ok", w.Name, w)
				}
			}
			if env.wantIPs != nil {
				var j int
				fmt.Sscanf(w.Name, "w%d", &j)
				got := tg.from(env.wantIPs[j-1])
				if w.Name != "w1" && w.Requests != got {
					t.Errorf("%s completed %d requests at the target, its report says %d", w.Name, got, w.Requests)
				}
				if w.Name == "w1" && w.Requests > got {
					t.Errorf("w1 reported %d requests, the target saw %d", w.Requests, got)
				}
			}
		}
		if reported != s.Requests || s.Requests > tg.total.Load() {
			t.Errorf("workers %d, merged %d, target %d", reported, s.Requests, tg.total.Load())
		}
	})
}
