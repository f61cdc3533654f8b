package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Process samples the processes that match a PID or a name, summed over
// all of them (an nginx master and its workers, say):
// proc.<match>.cpu_pct (100 = one core busy), proc.<match>.rss_bytes,
// proc.<match>.threads and proc.<match>.fds. A tick at which nothing
// matches is an error (a gap). cpu_pct needs two readings, so the first
// sample has none, and a process that appears between ticks counts from
// its second; fds is left out when any match's fd table is unreadable
// (another user's process), rather than reported short.
//
// proc.<match>.fd_limit is the soft limit on open files (RLIMIT_NOFILE,
// "Max open files" in /proc/<pid>/limits), past which the process's
// accept() and open() fail with EMFILE. The limit is each process's own,
// so with several matches it is that of the one nearest its limit, and
// proc.<match>.fds_max is that one's open fds (fds is the sum of all).
type Process struct {
	root  string
	match string
	pid   int // > 0 when match is a PID
	pre   string
	prev  procCounters
}

var _ Sampler = (*Process)(nil)

// clockTicks is USER_HZ, the unit of CPU times in /proc/<pid>/stat. It is
// 100 on every Linux architecture fuka builds for (sysconf(_SC_CLK_TCK));
// reading it would take cgo or running getconf.
const clockTicks = 100

// NewProcess returns a sampler of the processes that match: a PID, or a
// name equal to a process's comm or the base name of its argv[0].
func NewProcess(root, match string) (*Process, error) {
	if strings.TrimSpace(match) == "" || strings.ContainsRune(match, 0) {
		return nil, fmt.Errorf("process %q: want a PID or a process name", match)
	}
	p := &Process{root: procRoot(root), match: match, pre: "proc." + match + "."}
	if pid, err := strconv.Atoi(match); err == nil {
		if pid <= 0 {
			return nil, fmt.Errorf("process %q: a PID is positive", match)
		}
		p.pid = pid
	}
	return p, nil
}

// Name implements Sampler.
func (p *Process) Name() string { return "process " + p.match }

// procStat is what Process reads from /proc/<pid>/stat.
type procStat struct {
	comm      string
	cpuTicks  uint64 // utime + stime
	threads   uint64
	startTime uint64 // since boot, in clock ticks: with the PID, identifies the process
	rssPages  uint64
}

// Sample implements Sampler.
func (p *Process) Sample(context.Context) ([]Value, error) {
	pids, err := p.candidates()
	if err != nil {
		return nil, err
	}
	cur := procCounters{at: time.Now(), byID: map[string][]uint64{}}
	var rss, threads, fds uint64
	fdsOK := true
	near := fdUse{ratio: -1} // the match nearest its open-files limit
	matched := 0
	for _, pid := range pids {
		dir := filepath.Join(p.root, pid)
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue // exited since the listing
		}
		st, err := parseProcStat(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if p.pid == 0 && !p.named(st.comm, dir) {
			continue
		}
		cur.byID[pid+"@"+strconv.FormatUint(st.startTime, 10)] = []uint64{st.cpuTicks}
		rss += st.rssPages * uint64(os.Getpagesize())
		threads += st.threads
		matched++
		n, err := countDir(filepath.Join(dir, "fd"))
		if err != nil {
			fdsOK = false
			continue
		}
		fds += n
		if lim, err := readFDLimit(filepath.Join(dir, "limits")); err == nil && lim > 0 {
			if r := float64(n) / float64(lim); r > near.ratio {
				near = fdUse{ratio: r, fds: n, limit: lim}
			}
		}
	}
	if len(cur.byID) == 0 {
		if p.pid > 0 {
			return nil, fmt.Errorf("no process with PID %d", p.pid)
		}
		return nil, fmt.Errorf("no process named %q", p.match)
	}
	rate, ok := perSecond(p.prev, cur, 1)
	p.prev = cur
	vals := make([]Value, 0, 6)
	if ok[0] {
		vals = append(vals, Value{p.pre + "cpu_pct", rate[0] / clockTicks * 100})
	}
	vals = append(vals, Value{p.pre + "rss_bytes", float64(rss)}, Value{p.pre + "threads", float64(threads)})
	if fdsOK {
		vals = append(vals, Value{p.pre + "fds", float64(fds)})
		if near.ratio >= 0 {
			vals = append(vals, Value{p.pre + "fd_limit", float64(near.limit)})
			if matched > 1 {
				vals = append(vals, Value{p.pre + "fds_max", float64(near.fds)})
			}
		}
	}
	return vals, nil
}

// fdUse is one process's open fds against its limit.
type fdUse struct {
	ratio      float64
	fds, limit uint64
}

// readFDLimit reads the soft limit on open files from /proc/<pid>/limits:
//
//	Limit                     Soft Limit           Hard Limit           Units
//	Max open files            1024                 1048576              files
//
// "unlimited" (not seen for open files, which the kernel caps) is 0: no limit.
func readFDLimit(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseFDLimit(b)
}

func parseFDLimit(b []byte) (uint64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("Max open files"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 1 {
			break
		}
		if string(f[0]) == "unlimited" {
			return 0, nil
		}
		return strconv.ParseUint(string(f[0]), 10, 64)
	}
	return 0, errors.New("limits: no \"Max open files\" line")
}

// candidates lists the PIDs to look at: the one asked for, or all.
func (p *Process) candidates() ([]string, error) {
	if p.pid > 0 {
		return []string{strconv.Itoa(p.pid)}, nil
	}
	f, err := os.Open(p.root)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := names[:0]
	for _, n := range names {
		if n[0] >= '1' && n[0] <= '9' {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// named reports whether the process in dir is called p.match: its comm (at
// most 15 bytes) or the base name of its argv[0] (for longer names).
func (p *Process) named(comm, dir string) bool {
	if comm == p.match {
		return true
	}
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return len(argv0) > 0 && filepath.Base(string(argv0)) == p.match
}

// parseProcStat parses /proc/<pid>/stat: "pid (comm) state ppid …". comm
// may hold spaces and parentheses, so the fields start after the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	lp, rp := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if lp < 0 || rp < lp {
		return procStat{}, errors.New("stat: no (comm)")
	}
	// f[0] is field 3 (state); field n of proc(5) is f[n-3].
	f := bytes.Fields(b[rp+1:])
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("stat: %d fields after comm, want at least 22", len(f))
	}
	n, err := parseUints("stat", [][]byte{f[11], f[12], f[17], f[19], f[21]})
	if err != nil {
		return procStat{}, err
	}
	return procStat{
		comm:      string(b[lp+1 : rp]),
		cpuTicks:  n[0] + n[1],
		threads:   n[2],
		startTime: n[3],
		rssPages:  n[4],
	}, nil
}

// countDir counts the entries of dir.
func countDir(dir string) (uint64, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n uint64
	for {
		names, err := f.Readdirnames(1024)
		n += uint64(len(names))
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
