package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
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

// ipTarget counts requests by the client's IP address, and keeps when
// each arrived.
type ipTarget struct {
	total atomic.Int64
	mu    sync.Mutex
	by    map[string]int64
	hits  []hit
	url   string
}

type hit struct {
	at time.Time
	ip string
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
		tg.hits = append(tg.hits, hit{time.Now(), ip})
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

// since counts the requests that arrived after t, from ip ("" = any).
func (tg *ipTarget) since(t time.Time, ip string) int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	var n int64
	for _, h := range tg.hits {
		if h.at.After(t) && (ip == "" || h.ip == ip) {
			n++
		}
	}
	return n
}

// busiest is the most requests that arrived within any window of length d.
func (tg *ipTarget) busiest(d time.Duration) int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	best, j := 0, 0
	for i, h := range tg.hits { // in arrival order
		for tg.hits[j].at.Before(h.at.Add(-d)) {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
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
	Requests     int64            `json:"requests"`
	Dropped      int64            `json:"dropped"`
	DurationS    float64          `json:"duration_s"`
	RequestedRPS *float64         `json:"requested_start_rate"` // open model: the rate is of starts
	Achieved     *float64         `json:"achieved_start_ratio"`
	Degraded     bool             `json:"degraded"`
	Interrupted  bool             `json:"interrupted"`
	Status       map[string]int64 `json:"status"`
	Warnings     []string         `json:"warnings"`
	Workers      []struct {
		Name          string   `json:"name"`
		State         string   `json:"state"`
		LastInterval  int      `json:"last_interval"`
		Requests      int64    `json:"requests"`
		Share         float64  `json:"share"`
		LastSeenS     *float64 `json:"last_seen_s"`
		UnreportedMax *int64   `json:"unreported_max"`
	} `json:"workers"`
}

// exitCode is a process's exit status from its wait error.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
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
	// controller starts `fuka attack` with the load's flags (default: a
	// closed model of 6 clients at most 1500/s for duration).
	controller := func(tg *ipTarget, ctl string, load ...string) *proc {
		args := append([]string{"attack", tg.url}, load...)
		return start(t, ctx, "", bin, append(args, "--workers", "3", "--listen", ctl, "--certs-dir", certs, "--start-delay", "500ms",
			"-o", "json", "-q", "--no-history", "--no-report", "--wait-workers", "20s")...)
	}
	closed := func(duration string) []string { return []string{"-c", "6", "-d", duration, "--max-rps", "1500"} }
	summary := func(p *proc) e2eSummary {
		t.Helper()
		var s e2eSummary
		lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
			t.Fatalf("controller's summary: %v: %q\n%s", err, p.out.String(), p.stderr())
		}
		return s
	}
	// loaded waits until the target has seen requests, then d more.
	loaded := func(tg *ipTarget, d time.Duration) {
		deadline := time.Now().Add(20 * time.Second)
		for tg.total.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(d)
	}
	workerOf := func(s e2eSummary, name string) (w struct {
		Name          string   `json:"name"`
		State         string   `json:"state"`
		LastInterval  int      `json:"last_interval"`
		Requests      int64    `json:"requests"`
		Share         float64  `json:"share"`
		LastSeenS     *float64 `json:"last_seen_s"`
		UnreportedMax *int64   `json:"unreported_max"`
	}) {
		for _, w := range s.Workers {
			if w.Name == name {
				return w
			}
		}
		t.Fatalf("no worker %s in %+v", name, s.Workers)
		return w
	}
	// w1IP is worker 1's address at the target, "" on loopback (where the
	// target cannot tell the workers apart).
	w1IP := ""
	if env.wantIPs != nil {
		w1IP = env.wantIPs[0]
	}

	t.Run("merged equals target, intruder refused", func(t *testing.T) {
		tg := newIPTarget(t, env.host)
		ctl := freePort(t, env.host)
		c := controller(tg, ctl, closed("2s")...)
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
		c := controller(tg, ctl, "--rate", "1500", "-d", "5s", "--max-clients", "300")
		ws := workers(ctl)
		loaded(tg, 1500*time.Millisecond)
		killed := time.Now()
		if err := ws[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := c.wait(t, 30*time.Second)
		if code := exitCode(err); code != 4 {
			t.Errorf("controller exit %d, want 4 (degraded)\n%s", code, c.stderr())
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
		// The requested rate is the plan's, not the survivors'; what was
		// achieved is what the report holds.
		if s.RequestedRPS == nil || *s.RequestedRPS < 1450 || *s.RequestedRPS > 1550 {
			t.Errorf("requested rate %v/s, want the plan's 1500/s", deref(s.RequestedRPS))
		}
		if s.Achieved == nil || *s.Achieved > 0.95 {
			t.Errorf("achieved %v of the requested rate with a third of the load lost after 1.5 s of 5, want < 0.95", deref(s.Achieved))
		}
		var reported int64
		for _, w := range s.Workers {
			reported += w.Requests
			switch w.Name {
			case "w1":
				if w.State != "lost" || w.LastInterval < 1 || w.LastSeenS == nil || w.UnreportedMax == nil {
					t.Errorf("w1: %+v, want lost with its last interval, last seen time and unreported bound", w)
				}
				if w.Share < 0.33 || w.Share > 0.34 {
					t.Errorf("w1's share %v, want 1/3", w.Share)
				}
				if w.LastSeenS != nil && (*w.LastSeenS < 1 || *w.LastSeenS > 3) {
					t.Errorf("w1 last seen at %v s, killed about 1.5 s into the load", *w.LastSeenS)
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
		// What the target saw beyond the report is w1's unreported
		// requests, which the report bounds.
		w1 := workerOf(s, "w1")
		missing := tg.total.Load() - s.Requests
		if w1.UnreportedMax != nil && missing > *w1.UnreportedMax {
			t.Errorf("the target saw %d requests more than the report, beyond w1's bound of %d unreported", missing, *w1.UnreportedMax)
		}
		t.Logf("target %d, reported %d (w1 %d), w1's unreported bound %d; requested %v/s, achieved %v",
			tg.total.Load(), s.Requests, w1.Requests, deref64(w1.UnreportedMax), deref(s.RequestedRPS), deref(s.Achieved))
	})

	for _, tc := range []struct {
		name  string
		pause time.Duration
		lost  bool
	}{
		// Shorter than the 3 s after which the controller gives a silent
		// worker up (its last message may be up to a second older than the
		// pause): it stays in the run, its backlog dropped and counted.
		{"SIGSTOP for 1.5s, SIGCONT", 1500 * time.Millisecond, false},
		// Longer: the worker is lost; thawed, it sends nothing more.
		{"SIGSTOP for 5s, SIGCONT", 5 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newIPTarget(t, env.host)
			ctl := freePort(t, env.host)
			c := controller(tg, ctl, "--rate", "1500", "-d", "9s", "--max-clients", "3000")
			ws := workers(ctl)
			loaded(tg, 1500*time.Millisecond)
			if err := ws[0].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.pause)
			resumed := time.Now()
			if err := ws[0].cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			err := c.wait(t, 40*time.Second)
			for j, w := range ws {
				werr := w.wait(t, 20*time.Second)
				if j > 0 && werr != nil {
					t.Errorf("worker %d: %v\n%s", j+1, werr, w.stderr())
				}
			}
			s := summary(c)
			w1 := workerOf(s, "w1")
			// The target never sees the pause's backlog in a burst: within
			// 300 ms of the resume, at most the ordinary load (w1's 500/s, or
			// everyone's 1500/s where the target cannot tell the workers
			// apart) and one second of w1's starts, the ones overdue by less
			// than a second. The whole backlog would be the pause's.
			window := 300 * time.Millisecond
			burst := tg.since(resumed, w1IP) - tg.since(resumed.Add(window), w1IP)
			ordinary := int64(1500 * window.Seconds())
			if w1IP != "" {
				ordinary /= 3
			}
			t.Logf("target %d, reported %d (w1 %d, %s), dropped %d; in the %v after the resume %d (ordinary %d); busiest second %d",
				tg.total.Load(), s.Requests, w1.Requests, w1.State, s.Dropped, window, burst, ordinary, tg.busiest(time.Second))
			if max := ordinary + 500 + 100; burst > max {
				t.Errorf("the target saw %d requests in the %v after the resume, want at most %d: a backlog fired", burst, window, max)
			}
			if !tc.lost {
				if code := exitCode(err); code != 0 || s.Degraded || w1.State != "ok" {
					t.Errorf("exit %d, degraded %v, w1 %s; want a complete run\n%s", code, s.Degraded, w1.State, c.stderr())
				}
				if s.Requests != tg.total.Load() {
					t.Errorf("merged report %d requests, the target counted %d", s.Requests, tg.total.Load())
				}
				// The starts that fell due during the pause and were overdue
				// by more than a second: about (1.5 s - 1 s) x 500/s.
				if s.Dropped < 150 {
					t.Errorf("dropped %d, want the paused worker's overdue starts (about 250) counted", s.Dropped)
				}
				return
			}
			if code := exitCode(err); code != 4 || !s.Degraded || w1.State != "lost" {
				t.Errorf("exit %d, degraded %v, w1 %s; want 4, degraded, lost\n%s", code, s.Degraded, w1.State, c.stderr())
			}
			// Thawed after it was given up, w1 sends nothing more.
			if w1IP != "" {
				if n := tg.since(resumed, w1IP); n > 0 {
					t.Errorf("w1 sent %d requests after it was thawed, given up by its controller\n%s", n, ws[0].stderr())
				}
			}
			missing := tg.total.Load() - s.Requests
			if missing < 0 || w1.UnreportedMax == nil || missing > *w1.UnreportedMax {
				t.Errorf("the target saw %d requests more than the report; w1's unreported bound is %v", missing, deref64(w1.UnreportedMax))
			}
		})
	}

	t.Run("SIGTERM of a worker", func(t *testing.T) {
		tg := newIPTarget(t, env.host)
		ctl := freePort(t, env.host)
		c := controller(tg, ctl, "--rate", "1500", "-d", "5s", "--max-clients", "300")
		ws := workers(ctl)
		loaded(tg, 1500*time.Millisecond)
		if err := ws[0].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(ws[0].wait(t, 20*time.Second)); code != 130 {
			t.Errorf("w1 exit %d after SIGTERM, want 130\n%s", code, ws[0].stderr())
		}
		err := c.wait(t, 30*time.Second)
		s := summary(c)
		w1 := workerOf(s, "w1")
		if code := exitCode(err); code != 4 || !s.Degraded || w1.State != "left" {
			t.Errorf("exit %d, degraded %v, w1 %+v; want 4, degraded, w1 left\n%s", code, s.Degraded, w1, c.stderr())
		}
		// Its final snapshot arrived: every request is in the report.
		if s.Requests != tg.total.Load() {
			t.Errorf("merged report %d requests, the target counted %d\n%s", s.Requests, tg.total.Load(), ws[0].stderr())
		}
		if w1IP != "" && w1.Requests != tg.from(w1IP) {
			t.Errorf("w1 reported %d requests, the target saw %d from it", w1.Requests, tg.from(w1IP))
		}
		if s.RequestedRPS == nil || *s.RequestedRPS < 1450 || *s.RequestedRPS > 1550 {
			t.Errorf("requested rate %v/s, want the plan's 1500/s", deref(s.RequestedRPS))
		}
		t.Logf("target %d, reported %d (w1 %d)", tg.total.Load(), s.Requests, w1.Requests)
	})

	t.Run("fewer clients than workers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			load []string
			want func(t *testing.T, s e2eSummary, target int64)
		}{
			{"-n 100 -c 2", []string{"-n", "100", "-c", "2"}, func(t *testing.T, s e2eSummary, target int64) {
				if target != 100 || s.Requests != 100 {
					t.Errorf("the target counted %d requests, the report %d; want 100", target, s.Requests)
				}
			}},
			{"-c 2 --max-rps 300", []string{"-c", "2", "--max-rps", "300", "-d", "2s"}, func(t *testing.T, s e2eSummary, target int64) {
				// 600 in 2 s, give or take the start at the end.
				if target < 560 || target > 604 || s.Requests != target {
					t.Errorf("the target counted %d requests, the report %d; want about 600 (300/s for 2 s)", target, s.Requests)
				}
			}},
			{"--rate 60 --max-clients 2", []string{"--rate", "60", "-d", "2s", "--max-clients", "2"}, func(t *testing.T, s e2eSummary, target int64) {
				if target != 120-s.Dropped || s.Requests != target || s.Dropped > 12 {
					t.Errorf("the target counted %d requests, the report %d, dropped %d; want 120 sent (a worker without a client would drop 40)", target, s.Requests, s.Dropped)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tg := newIPTarget(t, env.host)
				ctl := freePort(t, env.host)
				c := controller(tg, ctl, tc.load...)
				ws := workers(ctl)
				if err := c.wait(t, 30*time.Second); err != nil {
					t.Fatalf("controller: %v\n%s", err, c.stderr())
				}
				for j, w := range ws {
					if err := w.wait(t, 10*time.Second); err != nil {
						t.Errorf("worker %d: %v\n%s", j+1, err, w.stderr())
					}
				}
				if !strings.Contains(c.stderr(), "2 client(s) for 3 workers") {
					t.Errorf("no warning about the idle worker:\n%s", c.stderr())
				}
				sum := summary(c)
				t.Logf("target %d, report %d, dropped %d", tg.total.Load(), sum.Requests, sum.Dropped)
				tc.want(t, sum, tg.total.Load())
			})
		}
	})

	// gRPC: the controller resolves the method once through the server's
	// reflection and ships its schema; the worker processes call it
	// without asking, and the merged counts are the server's.
	t.Run("grpc", func(t *testing.T) {
		srv, err := demo.StartGRPC(ctx, net.JoinHostPort(env.host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		ctl := freePort(t, env.host)
		c := start(t, ctx, "", bin, "attack", "grpc://"+srv.Addr(), "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`,
			"-n", "300", "-c", "6", "--workers", "3", "--listen", ctl, "--certs-dir", certs, "--start-delay", "500ms",
			"-o", "json", "-q", "--no-history", "--no-report", "--wait-workers", "20s")
		ws := workers(ctl)
		if err := c.wait(t, 30*time.Second); err != nil {
			t.Fatalf("controller: %v\n%s", err, c.stderr())
		}
		for j, w := range ws {
			if err := w.wait(t, 10*time.Second); err != nil {
				t.Errorf("worker %d: %v\n%s", j+1, err, w.stderr())
			}
		}
		s := summary(c)
		ok, unavailable := srv.Calls(codes.OK), srv.Calls(codes.Unavailable)
		if s.Requests != 300 || ok+unavailable != 300 || unavailable != 30 || s.Status["200"] != ok || s.Status["503"] != unavailable || s.Degraded {
			t.Errorf("report: %d requests, status %v, degraded %v; server: %d OK, %d Unavailable", s.Requests, s.Status, s.Degraded, ok, unavailable)
		}
		if n := srv.Reflections(); n != 1 {
			t.Errorf("the server saw %d reflection streams; want 1, the controller's", n)
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func deref64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
