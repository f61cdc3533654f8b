package monitor

import (
	"context"
	"os"
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
