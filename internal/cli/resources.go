package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
)

// reservedFiles are the file descriptors fuka needs besides its clients'
// connections: standard streams, event loops, listeners, the history
// database, result files, DNS.
const reservedFiles = 64

// hostLimits is what this process may use: open files (RLIMIT_NOFILE; Go
// raises the soft limit to the hard one at start) and memory available.
// Zero means unknown, and is not checked.
type hostLimits struct {
	files, filesHard int64
	mem              int64
	memFrom          string // where mem comes from, for the message
}

// readHostLimits reads the limits; tests replace it.
var readHostLimits = func() hostLimits {
	var l hostLimits
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		l.files, l.filesHard = clampInt64(rl.Cur), clampInt64(rl.Max)
	}
	l.mem, l.memFrom = availableMemory()
	return l
}

func clampInt64(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

// availableMemory is MemAvailable from /proc/meminfo, or what is left under
// the process's cgroup memory limit when that is less (a container).
func availableMemory() (int64, string) {
	var avail int64
	from := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "MemAvailable:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					avail, from = kb<<10, "MemAvailable in /proc/meminfo"
				}
			}
		}
	}
	if left, ok := cgroupMemoryLeft(); ok && (avail == 0 || left < avail) {
		avail, from = left, "the cgroup's memory.max less memory.current"
	}
	return avail, from
}

// cgroupMemoryLeft reads cgroup v2's memory.max and memory.current for this
// process's cgroup (in a container, usually the root of /sys/fs/cgroup).
func cgroupMemoryLeft() (int64, bool) {
	dirs := []string{"/sys/fs/cgroup"}
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "0::"); ok && rest != "/" && rest != "" {
				dirs = append([]string{filepath.Join("/sys/fs/cgroup", rest)}, dirs...)
			}
		}
	}
	for _, d := range dirs {
		maxB, err := os.ReadFile(filepath.Join(d, "memory.max"))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(maxB))
		if s == "max" {
			return 0, false
		}
		limit, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		var used int64
		if cur, err := os.ReadFile(filepath.Join(d, "memory.current")); err == nil {
			used, _ = strconv.ParseInt(strings.TrimSpace(string(cur)), 10, 64)
		}
		return max(limit-used, 0), true
	}
	return 0, false
}

// checkResources refuses a load this machine cannot hold, before anything
// is sent: more connections than the process may open files, or clients
// whose least memory is more than is available. what names the setting
// ("--clients 2000000000", or "plan.yaml:30:3: load: clients 2000000000").
func checkResources(cfg *engine.Config, what string) error {
	conns, mem := cfg.Footprint()
	l := readHostLimits()
	if l.files > 0 && conns+reservedFiles > l.files {
		raise := "ulimit -n N in the shell that starts fuka"
		if l.filesHard > 0 && conns+reservedFiles > l.filesHard {
			raise = fmt.Sprintf("the hard limit is %d too: raise it in /etc/security/limits.conf, with LimitNOFILE= in a systemd unit or docker run --ulimit nofile=N", l.filesHard)
		}
		return fmt.Errorf("%s: each client holds a connection, a file descriptor, and this process may open %d files (ulimit -n), %d of them for fuka itself; use at most %d clients here, spread the load over workers (--workers), or raise the limit (%s)",
			what, l.files, reservedFiles, max(l.files-reservedFiles, 0), raise)
	}
	if l.mem > 0 && mem > l.mem {
		return fmt.Errorf("%s: the clients need at least %s of memory and %s is available (%s); use fewer clients or spread them over workers (--workers)",
			what, approxSize(mem), approxSize(l.mem), l.memFrom)
	}
	return nil
}

// approxSize is a byte count to three significant digits in binary units.
func approxSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	prec := 2
	switch {
	case i == 0 || v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + units[i]
}

// capDefaultMaxClients lowers a --max-clients the user did not give (the
// default) to what the open-file limit allows, and says so: the default is
// a ceiling, not a need, and must not make `fuka attack --rate 100` fail on
// a machine with a low limit.
func capDefaultMaxClients(stdio Stdio, cfg *engine.Config, meta *report.Meta) {
	l := readHostLimits()
	open, ok := cfg.Load.(engine.Open)
	w, _ := cfg.Work.(engine.Request)
	if !ok || w.HTTP2 || l.files <= reservedFiles || int64(open.MaxClients)+reservedFiles <= l.files {
		return
	}
	n := int(l.files - reservedFiles)
	fmt.Fprintf(stdio.Err, "fuka: note: --max-clients %d (the default) is more than this process may open files (ulimit -n %d); using %d\n", open.MaxClients, l.files, n)
	open.MaxClients, meta.MaxClients = n, n
	cfg.Load = open
}

// loadLabel names the setting that sets a plan's number of clients, for
// checkResources: the flag that overrode it, or its place in the file.
func loadLabel(l *plan.Load, changed func(string) bool, f *runFlags) string {
	switch {
	case l.Open() && changed("max-clients"):
		return fmt.Sprintf("--max-clients %d", f.maxClients)
	case l.Open() && f.rate != "":
		return fmt.Sprintf("--rate %s (max_clients %d)", f.rate, l.MaxClients)
	case l.Open():
		return fmt.Sprintf("%s: load: max_clients %d", l.Pos, l.MaxClients)
	case changed("clients"):
		return fmt.Sprintf("--clients %d", f.clients)
	}
	return fmt.Sprintf("%s: load: clients %d", l.Pos, l.Clients)
}
