package run

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
	"github.com/fuka-load/fuka/report"
)

// reservedFiles are the file descriptors fuka needs besides its clients'
// connections: standard streams, event loops, listeners, the history
// database, result files, DNS.
const reservedFiles = 64

// HostLimits is what this process may use: open files (RLIMIT_NOFILE; Go
// raises the soft limit to the hard one at start) and memory available.
// Zero means unknown, and is not checked.
type HostLimits struct {
	Files, FilesHard int64
	Mem              int64
	MemFrom          string // where Mem comes from, for the message
}

// ReadHostLimits reads the limits; tests replace it.
var ReadHostLimits = func() HostLimits {
	var l HostLimits
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		l.Files, l.FilesHard = clampInt64(rl.Cur), clampInt64(rl.Max)
	}
	l.Mem, l.MemFrom = availableMemory()
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

// CheckResources refuses a load this machine cannot hold, before anything
// is sent: more connections than the process may open files, or clients
// whose least memory is more than is available. what names the setting
// ("--clients 2000000000", or "plan.yaml:30:3: load: clients 2000000000").
func CheckResources(cfg *engine.Config, what string) error {
	conns, mem := cfg.Footprint()
	l := ReadHostLimits()
	if l.Files > 0 && conns+reservedFiles > l.Files {
		raise := "ulimit -n N in the shell that starts fuka"
		if l.FilesHard > 0 && conns+reservedFiles > l.FilesHard {
			raise = fmt.Sprintf("the hard limit is %d too: raise it in /etc/security/limits.conf, with LimitNOFILE= in a systemd unit or docker run --ulimit nofile=N", l.FilesHard)
		}
		return fmt.Errorf("%s: each client holds a connection, a file descriptor, and this process may open %d files (ulimit -n), %d of them for fuka itself; use at most %d clients here, spread the load over workers (--workers), or raise the limit (%s)",
			what, l.Files, reservedFiles, max(l.Files-reservedFiles, 0), raise)
	}
	if l.Mem > 0 && mem > l.Mem {
		return fmt.Errorf("%s: the clients need at least %s of memory and %s is available (%s); use fewer clients or spread them over workers (--workers)",
			what, approxSize(mem), approxSize(l.Mem), l.MemFrom)
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

// CapDefault lowers an open-model cap on clients that is the default
// (plan.DefaultMaxClients: no flag or max_clients gave it) to what this
// machine allows, open files and memory, and returns a note that says so
// (name is how the user would set it: "--max-clients", "max_clients"); ""
// when it fits. The default is a ceiling, not a need, and must not make
// `fuka attack --rate 100` fail on a machine with a low limit.
func CapDefault(cfg *engine.Config, meta *report.Meta, name string) (note string) {
	open, ok := cfg.Load.(engine.Open)
	if !ok {
		return ""
	}
	was := open.MaxClients
	why := lowerDefaults(cfg, was, func(n int) { open.MaxClients = n; cfg.Load = open })
	if why == "" {
		return ""
	}
	meta.MaxClients = open.MaxClients
	return fmt.Sprintf("%s %d (the default) is %s; using %d", name, was, why, open.MaxClients)
}

// lowerDefaults sets the default caps (cfg's, or some of its parts': set
// sets them all to n; they are top now) to the largest n with which cfg
// fits this machine (see CheckResources), and says why; "" when cfg fits
// already, or nothing does (CheckResources then says why).
func lowerDefaults(cfg *engine.Config, top int, set func(n int)) (why string) {
	l := ReadHostLimits()
	fits := func() (why string) {
		conns, mem := cfg.Footprint()
		switch {
		case l.Files > 0 && conns+reservedFiles > l.Files:
			return fmt.Sprintf("more than this process may open files (ulimit -n %d)", l.Files)
		case l.Mem > 0 && mem > l.Mem:
			return fmt.Sprintf("more than the memory available holds (%s, %s)", approxSize(l.Mem), l.MemFrom)
		}
		return ""
	}
	why = fits()
	if why == "" {
		return ""
	}
	// The largest n that fits, by bisection (Footprint grows with n): lo
	// fits (0: none found yet), hi does not.
	lo, hi := 0, top
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if set(mid); fits() == "" {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		set(top)
		return ""
	}
	set(lo)
	return why
}
