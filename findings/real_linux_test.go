//go:build linux

package findings_test

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/cli"
	"github.com/fuka-load/fuka/report"
)

// The real cases run fuka against targets whose bottleneck is known, each
// in a network namespace of its own (so that the kernel's TCP counters,
// listen overflows included, are the case's alone), and check the top
// finding in the text, the JSON and the HTML report.
//
// The test binary plays three parts, chosen by environment:
//   - the parent (go test) starts each case under unshare -n;
//   - FUKA_FINDINGS_CASE: a case, inside its namespace: it starts the
//     target and runs fuka in process, writing its outputs to
//     FUKA_FINDINGS_OUT;
//   - FUKA_FINDINGS_TARGET: the target server, which prints its address.
func TestMain(m *testing.M) {
	if kind := os.Getenv("FUKA_FINDINGS_TARGET"); kind != "" {
		if err := serveTarget(kind, os.Getenv("FUKA_FINDINGS_DSN")); err != nil {
			fmt.Fprintln(os.Stderr, "target:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// realCase is a target and the load that meets its bottleneck.
type realCase struct {
	name   string
	target string // serveTarget's kind
	pin    string // taskset CPU list for the target ("" for none)
	// genPin pins fuka (the case's process) to these CPUs, at nice
	// genNice, and busy runs a busy loop at nice 0 on these CPUs.
	genPin, busy string
	genNice      int
	args         []string // fuka attack's load flags
	top          string   // the first finding's kind; "" for none at all
	says         string   // what the first finding's sentence says
	series       string   // a series the first finding rests on
	needs        string   // "postgres": needs a PostgreSQL server (FUKA_INTEGRATION)
}

var realCases = []realCase{
	{name: "healthy", target: "sleep5ms", args: []string{"--rate", "50", "-d", "5s"}},
	{name: "cpu-bound handler pinned to one core", target: "cpu", pin: "0", args: []string{"--rate", "400", "-d", "6s", "--timeout", "2s"},
		// On an otherwise idle machine the finding is "CPU 0 was at least
		// 90% busy"; when other work fills CPU 1 too, "all CPUs were
		// busy". Either way it is CPU, and core 0 is in its evidence.
		top: "cpu", says: "busy", series: "cpu.core.0_busy_pct"},
	{name: "small listen backlog", target: "backlog", args: []string{"--rate", "200", "-d", "6s", "--timeout", "3s", "-H", "Connection: close"},
		top: "listen_overflow", says: "a listen queue overflowed", series: "tcp.listen_overflows_per_s"},
	{name: "fuka was the limit: too few clients", target: "sleep50ms", args: []string{"--rate", "200", "-d", "5s", "--max-clients", "4"},
		top: "generator_clients", says: "fuka was the limit"},
	{name: "fuka was the limit: pinned to a busy CPU", target: "ok", pin: "0", genPin: "1", genNice: 15, busy: "1",
		args: []string{"--rate", "3000", "-d", "5s", "--timeout", "3s"}, top: "generator_cpu", says: "its threads waited for a CPU", series: "fuka.cpu_wait_pct"},
	{name: "postgres at max_connections", target: "postgres", needs: "postgres", args: []string{"--rate", "100", "-d", "6s"},
		top: "postgres_connections", says: "PostgreSQL's connections reached max_connections", series: "postgres.connections.total"},
}

func TestRealTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("real targets take seconds each")
	}
	if os.Getenv("FUKA_FINDINGS_CASE") != "" {
		t.Skip("a case's own process")
	}
	if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
		t.Skipf("no network namespace for the cases (unshare -n: %v); they need root", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range realCases {
		t.Run(rc.name, func(t *testing.T) {
			if rc.needs != "" && os.Getenv("FUKA_INTEGRATION") != "1" {
				t.Skipf("needs %s: set FUKA_INTEGRATION=1", rc.needs)
			}
			out := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			// nice -20: the case's processes (fuka, the target, the
			// servers) come first on a machine other work shares, so that
			// its bottleneck is the one the case made.
			args, nice := []string{"-n", "-20"}, 0 // fuka at -20, unless the case says
			if rc.genPin != "" {
				args, nice = append(args, "taskset", "-c", rc.genPin), 20+rc.genNice
			}
			args = append(args, "unshare", "-n", "sh", "-c", `ip link set lo up && exec nice -n "$1" "$0" -test.run '^TestRealCase$' -test.v`, self, strconv.Itoa(nice))
			cmd := exec.CommandContext(ctx, "nice", args...)
			cmd.Env = append(os.Environ(), "FUKA_FINDINGS_CASE="+rc.name, "FUKA_FINDINGS_OUT="+out)
			log, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("case: %v\n%s", err, log)
			}
			checkOutputs(t, rc, out)
		})
	}
}

// checkOutputs reads the case's text, JSON and HTML and checks the first
// finding in each.
func checkOutputs(t *testing.T, rc realCase, dir string) {
	text, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fuka's summary:\n%s", text)
	var sum report.Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if rc.top == "" {
		if len(sum.Findings) > 0 || bytes.Contains(text, []byte("findings")) || bytes.Contains(page, []byte(`id="findings"`)) {
			t.Errorf("a healthy run has findings: %+v", sum.Findings)
		}
		return
	}
	if len(sum.Findings) == 0 {
		t.Fatalf("no findings; want %s first", rc.top)
	}
	top := sum.Findings[0]
	if top.Kind != rc.top || !strings.Contains(top.Summary, rc.says) {
		t.Errorf("top finding %s %q, want %s saying %q", top.Kind, top.Summary, rc.top, rc.says)
		if sum.Resources != nil { // what the monitor saw, to tell why
			for _, p := range sum.Resources.Timeline {
				t.Logf("t=%v %v", p.TS, filterValues(p.Values, rc.series))
			}
			for _, f := range sum.Resources.Failures {
				t.Logf("failure t=%v %s: %s", f.TS, f.Source, f.Error)
			}
		}
	}
	i := bytes.Index(text, []byte("  findings     1. "))
	if line, _, _ := bytes.Cut(text[max(i, 0):], []byte("\n")); i < 0 || !bytes.Contains(line, []byte(rc.says)) {
		t.Errorf("the text's first finding does not say %q", rc.says)
	}
	if rc.series != "" && !slices.ContainsFunc(top.Evidence, func(e report.Evidence) bool { return e.Series == rc.series }) {
		t.Errorf("the top finding does not rest on %s: %+v", rc.series, top.Evidence)
	}
	i = bytes.Index(page, []byte(`<li class="finding`))
	if i < 0 || !bytes.HasPrefix(page[i:], []byte(`<li class="finding `+top.Subject+`" data-kind="`+rc.top+`">`)) {
		t.Errorf("the HTML's first finding is not %s", rc.top)
	}
	if top.Chart != "" && !bytes.Contains(page, []byte(`href="#`+top.Chart+`"`)) {
		t.Errorf("the HTML does not link the chart %s", top.Chart)
	}
}

// TestRealCase is one case, in its own network namespace.
func TestRealCase(t *testing.T) {
	name, out := os.Getenv("FUKA_FINDINGS_CASE"), os.Getenv("FUKA_FINDINGS_OUT")
	if name == "" {
		t.Skip("run by TestRealTargets")
	}
	var rc realCase
	for _, c := range realCases {
		if c.name == name {
			rc = c
		}
	}
	dsn := ""
	if rc.target == "postgres" {
		dsn = startPostgres(t)
	}
	if rc.busy != "" {
		startHelper(t, "busy", rc.busy, 0, "")
	}
	url := "http://" + startHelper(t, rc.target, rc.pin, -20, dsn) + "/"
	args := []string{"fuka", "attack", url, "--monitor", "local", "-o", "text",
		"--json-out", filepath.Join(out, "summary.json"), "--report", filepath.Join(out, "report.html"), "--results", filepath.Join(out, "results")}
	if dsn != "" {
		args = append(args, "--monitor", "postgres="+dsn)
	}
	args = append(args, rc.args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	code := cli.Main(ctx, args, cli.Stdio{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	t.Logf("exit %d\n%s", code, stderr.String())
	if err := os.WriteFile(filepath.Join(out, "summary.txt"), stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startHelper starts the test binary as a target (or the busy loop) of
// kind, pinned to the CPUs pin ("" for any) at niceness nice, and returns
// the first line it prints (a target's address).
func startHelper(t *testing.T, kind, pin string, nice int, dsn string) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-40"} // from whatever the case runs at, to -20...
	if nice > -20 {
		args = []string{"-n", "-40", "nice", "-n", strconv.Itoa(nice + 20)} // ...and up to nice
	}
	if pin != "" {
		args = append(args, "taskset", "-c", pin)
	}
	cmd := exec.Command("nice", append(args, self)...)
	cmd.Env = append(os.Environ(), "FUKA_FINDINGS_TARGET="+kind, "FUKA_FINDINGS_DSN="+dsn, "FUKA_FINDINGS_CASE=")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the target ends when the case does
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("target: %v", err)
	}
	return strings.TrimSpace(line)
}

// serveTarget is the target process: it serves kind on 127.0.0.1, prints
// its address, and stops when its stdin closes.
func serveTarget(kind, dsn string) error {
	var ln net.Listener
	var err error
	var h http.HandlerFunc
	switch kind {
	case "busy":
		// A busy loop on the CPUs it is pinned to, until stdin closes.
		fmt.Println("busy")
		go func() {
			buf := make([]byte, 1)
			os.Stdin.Read(buf)
			os.Exit(0)
		}()
		for n := 0; ; n++ { // spins, on purpose: the busy CPU
			_ = n * n
		}
	case "ok":
		h = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }
	case "sleep5ms", "sleep50ms":
		d := 5 * time.Millisecond
		if kind == "sleep50ms" {
			d = 50 * time.Millisecond
		}
		h = func(w http.ResponseWriter, r *http.Request) { time.Sleep(d); w.Write([]byte("ok\n")) }
	case "cpu":
		// 5 ms of CPU per request, one request at a time, on the one core
		// the process may use: 200 requests a second at the most.
		var mu sync.Mutex
		h = func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			for start := time.Now(); time.Since(start) < 5*time.Millisecond; {
			}
			mu.Unlock()
			w.Write([]byte("ok\n"))
		}
	case "backlog":
		// A listen queue of one, accepted from every 30 ms: connections
		// that come faster overflow it.
		if ln, err = smallBacklog(1); err != nil {
			return err
		}
		ln = &slowAccept{Listener: ln, every: 30 * time.Millisecond}
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.Write([]byte("ok\n"))
		}
	case "postgres":
		h = holdConnection(dsn)
	default:
		return fmt.Errorf("no target %q", kind)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
	}
	fmt.Println(ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	buf := make([]byte, 1)
	os.Stdin.Read(buf) // until the case closes it
	return srv.Close()
}

// smallBacklog listens on 127.0.0.1 with a listen queue of backlog.
func smallBacklog(backlog int) (net.Listener, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	return net.FileListener(f)
}

type slowAccept struct {
	net.Listener
	every time.Duration
}

func (l *slowAccept) Accept() (net.Conn, error) {
	time.Sleep(l.every)
	return l.Listener.Accept()
}

// filterValues keeps the values of the series with series's prefix.
func filterValues(m map[string]float64, series string) map[string]float64 {
	pre, _, _ := strings.Cut(series, ".")
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, pre+".") {
			out[k] = v
		}
	}
	return out
}
