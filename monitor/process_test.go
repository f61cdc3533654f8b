package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestProcessSelf samples the test process itself on the real /proc, by PID
// and by name, while it burns CPU.
func TestProcessSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, match := range []string{strconv.Itoa(os.Getpid()), filepath.Base(exe)} {
		t.Run(match, func(t *testing.T) {
			p := mustProcess(t, "/proc", match)
			first, err := p.Sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pre := "proc." + match + "."
			if v := values(t, first); v[pre+"rss_bytes"] < 1<<20 || v[pre+"threads"] < 1 || v[pre+"fds"] < 3 {
				t.Errorf("first sample %v: want rss ≥ 1 MiB, threads ≥ 1, fds ≥ 3", v)
			} else if _, ok := v[pre+"cpu_pct"]; ok {
				t.Errorf("first sample has cpu_pct: it needs two readings")
			}
			burn(300 * time.Millisecond)
			second, err := p.Sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// A busy loop for the whole interval is ~100% of a core, but a
			// loaded CI machine may give it much less: only ask for some.
			if cpu := values(t, second)[pre+"cpu_pct"]; cpu <= 0 || cpu > 100*float64(runtime.NumCPU())+10 {
				t.Errorf("cpu_pct %v after burning CPU, want well above 0", cpu)
			}
		})
	}
}

// burn keeps one core busy for d.
func burn(d time.Duration) {
	x := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 10000 {
			x += i
		}
	}
	_ = x
}

// TestProcessFDLimit reads open fds against the soft open-files limit: of a
// real child whose limit was lowered (ulimit -n), and of fixtures with
// several matches, where the one nearest its limit counts.
func TestProcessFDLimit(t *testing.T) {
	t.Run("real child", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/limits"); err != nil {
			t.Skip("no /proc")
		}
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh")
		}
		// fds 0-2 and 3-9 held open by the sleep the shell becomes
		cmd := exec.Command(sh, "-c", "ulimit -n 64 && exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null 8</dev/null 9</dev/null && exec sleep 20")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		pid := strconv.Itoa(cmd.Process.Pid)
		p := mustProcess(t, "/proc", pid)
		var v map[string]float64
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			vals, err := p.Sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// until the shell has exec'd sleep, its limit may be the parent's
			if v = values(t, vals); v["proc."+pid+".fd_limit"] == 64 {
				break
			}
		}
		// at least 0-9; a shell may keep one or two of its own
		if fds := v["proc."+pid+".fds"]; v["proc."+pid+".fd_limit"] != 64 || fds < 10 || fds > 16 {
			t.Errorf("fd_limit = %v, fds = %v; want 64, 10 to 16", v["proc."+pid+".fd_limit"], fds)
		}
		if _, ok := v["proc."+pid+".fds_max"]; ok {
			t.Errorf("fds_max with one match: %v", v)
		}
	})
	t.Run("several matches", func(t *testing.T) {
		root := t.TempDir()
		for _, p := range []struct {
			pid      string
			fds, lim int
		}{{"10", 100, 1024}, {"11", 60, 64}, {"12", 5, 8192}} {
			dir := filepath.Join(root, p.pid)
			must(t, os.MkdirAll(filepath.Join(dir, "fd"), 0o755))
			for i := range p.fds {
				must(t, os.WriteFile(filepath.Join(dir, "fd", strconv.Itoa(i)), nil, 0o644))
			}
			stat := p.pid + " (web) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 2 0 500 0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
			must(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
			limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
				"Max processes             63429                63429                processes \n" +
				"Max open files            " + strconv.Itoa(p.lim) + "                 1048576              files     \n"
			must(t, os.WriteFile(filepath.Join(dir, "limits"), []byte(limits), 0o644))
		}
		vals, err := mustProcess(t, root, "web").Sample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v := values(t, vals)
		if v["proc.web.fds"] != 165 || v["proc.web.fd_limit"] != 64 || v["proc.web.fds_max"] != 60 {
			t.Errorf("fds %v fd_limit %v fds_max %v; want 165 (all), 64 and 60 (PID 11, nearest its limit; PID 10 has more)", v["proc.web.fds"], v["proc.web.fd_limit"], v["proc.web.fds_max"])
		}
	})
}

func TestParseFDLimit(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       uint64
		ok         bool
	}{
		{"soft", "Limit Soft Limit Hard Limit Units\nMax open files            1024                 4096                 files     \n", 1024, true},
		{"unlimited", "Max open files            unlimited            unlimited            files\n", 0, true},
		{"missing", "Max processes 10 10 processes\n", 0, false},
		{"garbage", "Max open files            lots  files\n", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFDLimit([]byte(tt.text))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("= %v, %v; want %v, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
