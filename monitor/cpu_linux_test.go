package monitor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCPUCoresAgainstMpstat burns one CPU for about 3 s (a goroutine locked
// to its thread, the thread pinned to the CPU) and compares the CPU
// sampler's per-CPU busy share with mpstat -P ALL's 100 - %idle - %iowait
// over the same two seconds: the burnt CPU is busy in both, and every CPU
// agrees within a few points.
func TestCPUCoresAgainstMpstat(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	mpstat := lookBin("mpstat")
	requireInstalled(t, "mpstat", mpstat, "sysstat")
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skip("sched_getaffinity:", err)
	}
	core := -1
	for i := range 1024 {
		if set.IsSet(i) {
			core = i // the last CPU this process may use
		}
	}
	if core < 0 {
		t.Skip("no CPU in the affinity set")
	}
	stop := time.Now().Add(3500 * time.Millisecond)
	burnt := make(chan error, 1)
	go func() { burnt <- burnCore(core, stop) }()
	time.Sleep(300 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, mpstat, "-P", "ALL", "1", "2")
	cmd.Env = append(os.Environ(), "LC_ALL=C", "S_TIME_FORMAT=ISO")
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// mpstat reads /proc/stat as it starts and then each second: sample
	// at the same instants, give or take its start-up.
	c := NewCPU("/proc")
	start := time.Now()
	var fuka []map[string]float64
	for i := range 3 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		vals, err := c.Sample(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			fuka = append(fuka, values(t, vals))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mpstat: %v\n%s", err, out.String())
	}
	if err := <-burnt; err != nil {
		t.Skip("cannot pin a thread to a CPU:", err)
	}
	ref, err := parseMpstat(out.Bytes())
	if err != nil || len(ref) != 2 {
		t.Fatalf("mpstat output (%d intervals, %v):\n%s", len(ref), err, out.String())
	}
	for sec := range 2 {
		t.Logf("second %d: CPU  fuka busy%%  mpstat 100-%%idle-%%iowait", sec+1)
		for cpu := range ref[sec] {
			name := fmt.Sprintf("cpu.core.%d_busy_pct", cpu)
			got, ok := fuka[sec][name]
			want := ref[sec][cpu]
			t.Logf("            %3d  %9.2f  %9.2f", cpu, got, want)
			if !ok && runtime.NumCPU() <= MaxCoreSeries {
				t.Errorf("second %d: no %s", sec+1, name)
				continue
			}
			if ok && math.Abs(got-want) > 5 {
				t.Errorf("second %d: CPU %d busy %.2f%%, mpstat %.2f%%: want within 5 points", sec+1, cpu, got, want)
			}
		}
		if got := fuka[sec][fmt.Sprintf("cpu.core.%d_busy_pct", core)]; got < 90 && runtime.NumCPU() <= MaxCoreSeries {
			t.Errorf("second %d: the burnt CPU %d busy %.2f%%, want over 90", sec+1, core, got)
		}
		if got := fuka[sec]["cpu.max_core_busy_pct"]; got < 90 {
			t.Errorf("second %d: cpu.max_core_busy_pct %.2f, want over 90", sec+1, got)
		}
		if ref[sec][core] < 90 {
			t.Errorf("second %d: mpstat says the burnt CPU %d was %.2f%% busy: not burnt?", sec+1, core, ref[sec][core])
		}
	}
}

// burnCore keeps CPU core busy until stop, on a thread of its own pinned to it.
func burnCore(core int, stop time.Time) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread() // the thread keeps its affinity: the runtime drops it
	var one unix.CPUSet
	one.Set(core)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return err
	}
	for n := 0; time.Now().Before(stop); n++ {
		_ = n * n
	}
	return nil
}

// parseMpstat reads mpstat -P ALL's intervals (not its averages): per
// interval, each CPU's 100 - %idle - %iowait.
func parseMpstat(b []byte) ([]map[int]float64, error) {
	var out []map[int]float64
	cpuCol, idleCol, iowaitCol := -1, -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] == "Average:" {
			continue
		}
		if i := index(f, "%idle"); i >= 0 {
			cpuCol, idleCol, iowaitCol = index(f, "CPU"), i, index(f, "%iowait")
			out = append(out, map[int]float64{})
			continue
		}
		if len(out) == 0 || cpuCol < 0 || iowaitCol < 0 || len(f) <= max(cpuCol, idleCol, iowaitCol) {
			continue
		}
		cpu, err := strconv.Atoi(f[cpuCol])
		if err != nil {
			continue // "all"
		}
		idle, err1 := strconv.ParseFloat(f[idleCol], 64)
		iowait, err2 := strconv.ParseFloat(f[iowaitCol], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mpstat line %q", sc.Text())
		}
		out[len(out)-1][cpu] = 100 - idle - iowait
	}
	return out, sc.Err()
}

func index(f []string, s string) int {
	for i, x := range f {
		if x == s {
			return i
		}
	}
	return -1
}
