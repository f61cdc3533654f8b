package monitor

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// procDir is a procfs root for tests: a symlink that can be pointed at one
// fixture snapshot and then another (testdata/proc1, then proc2), so a
// sampler built once sees the counters move as it would on a real host.
type procDir struct {
	t    *testing.T
	link string
}

func newProcDir(t *testing.T, fixture string) *procDir {
	t.Helper()
	d := &procDir{t: t, link: filepath.Join(t.TempDir(), "proc")}
	d.point(fixture)
	return d
}

// point makes the root show testdata/fixture.
func (d *procDir) point(fixture string) {
	d.t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", fixture))
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.Remove(d.link); err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
	if err := os.Symlink(abs, d.link); err != nil {
		d.t.Fatal(err)
	}
}

// values turns a sample into a map, failing on a repeated name.
func values(t *testing.T, vals []Value) map[string]float64 {
	t.Helper()
	m := make(map[string]float64, len(vals))
	for _, v := range vals {
		if _, dup := m[v.Name]; dup {
			t.Errorf("series %s sampled twice", v.Name)
		}
		m[v.Name] = v.V
	}
	return m
}

// sameValues reports the differences between got and want (exact but for
// floating-point rounding).
func sameValues(t *testing.T, when string, got, want map[string]float64) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		g, gok := got[n]
		w, wok := want[n]
		switch {
		case !gok:
			t.Errorf("%s: %s missing, want %v", when, n, w)
		case !wok:
			t.Errorf("%s: %s = %v, want no value", when, n, g)
		case math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)):
			t.Errorf("%s: %s = %v, want %v", when, n, g, w)
		}
	}
}

const kB = 1024

// TestLocalSamplers samples each local sampler on testdata/proc1, then two
// seconds later on proc2, then on proc1 again: the counters going backwards
// (as after a reboot) must give no rate values rather than negative ones.
func TestLocalSamplers(t *testing.T) {
	type sample = map[string]float64
	cpuPct := sample{"cpu.user_pct": 30, "cpu.system_pct": 10, "cpu.iowait_pct": 5, "cpu.steal_pct": 5, "cpu.idle_pct": 50}
	tests := []struct {
		name      string
		sampler   func(root string) Sampler
		first     sample // on proc1
		second    sample // on proc2, 2s later
		backwards sample // on proc1 again, 2s later
		fixtures  [2]string
	}{
		{
			name:    "cpu",
			sampler: func(r string) Sampler { return NewCPU(r) },
			first:   sample{"cpu.count": 4},
			// Each CPU in proc2: 112 of 249 ticks neither idle nor iowait.
			second: merge(sample{"cpu.count": 4, "cpu.core.0_busy_pct": 11200.0 / 249, "cpu.core.1_busy_pct": 11200.0 / 249,
				"cpu.core.2_busy_pct": 11200.0 / 249, "cpu.core.3_busy_pct": 11200.0 / 249, "cpu.max_core_busy_pct": 11200.0 / 249}, cpuPct),
			backwards: sample{"cpu.count": 4},
		},
		{
			name:      "load",
			sampler:   func(r string) Sampler { return NewLoad(r) },
			first:     sample{"load.1m": 0.5, "load.5m": 0.4, "load.15m": 0.3, "procs.running": 3, "procs.total": 250},
			second:    sample{"load.1m": 1.5, "load.5m": 0.7, "load.15m": 0.35, "procs.running": 9, "procs.total": 260},
			backwards: sample{"load.1m": 0.5, "load.5m": 0.4, "load.15m": 0.3, "procs.running": 3, "procs.total": 250},
		},
		{
			name:    "mem",
			sampler: func(r string) Sampler { return NewMemory(r) },
			first: sample{
				"mem.total_bytes": 16000000 * kB, "mem.available_bytes": 12000000 * kB, "mem.used_bytes": 4000000 * kB,
				"mem.cached_bytes": 2400000 * kB, "swap.total_bytes": 4000000 * kB, "swap.used_bytes": 1000000 * kB,
			},
			second: sample{
				"mem.total_bytes": 16000000 * kB, "mem.available_bytes": 10000000 * kB, "mem.used_bytes": 6000000 * kB,
				"mem.cached_bytes": 2400000 * kB, "swap.total_bytes": 4000000 * kB, "swap.used_bytes": 1500000 * kB,
			},
			backwards: sample{
				"mem.total_bytes": 16000000 * kB, "mem.available_bytes": 12000000 * kB, "mem.used_bytes": 4000000 * kB,
				"mem.cached_bytes": 2400000 * kB, "swap.total_bytes": 4000000 * kB, "swap.used_bytes": 1000000 * kB,
			},
		},
		{
			name:      "vmstat",
			sampler:   func(r string) Sampler { return NewVMStat(r) },
			first:     sample{},
			second:    sample{"swap.in_pages_per_s": 100, "swap.out_pages_per_s": 200},
			backwards: sample{},
		},
		{
			name:    "tcp",
			sampler: func(r string) Sampler { return NewTCP(r) },
			first: sample{
				"tcp.established": 4, "tcp.syn_sent": 1, "tcp.syn_recv": 2, "tcp.fin_wait1": 1, "tcp.fin_wait2": 1,
				"tcp.time_wait": 3, "tcp.close": 1, "tcp.close_wait": 1, "tcp.last_ack": 1, "tcp.listen": 3, "tcp.closing": 1,
			},
			second: sample{
				"tcp.established": 1, "tcp.syn_sent": 0, "tcp.syn_recv": 0, "tcp.fin_wait1": 0, "tcp.fin_wait2": 0,
				"tcp.time_wait": 4, "tcp.close": 0, "tcp.close_wait": 0, "tcp.last_ack": 0, "tcp.listen": 3, "tcp.closing": 0,
				"tcp.listen_overflows_per_s": 10, "tcp.listen_drops_per_s": 14,
			},
			backwards: sample{
				"tcp.established": 4, "tcp.syn_sent": 1, "tcp.syn_recv": 2, "tcp.fin_wait1": 1, "tcp.fin_wait2": 1,
				"tcp.time_wait": 3, "tcp.close": 1, "tcp.close_wait": 1, "tcp.last_ack": 1, "tcp.listen": 3, "tcp.closing": 1,
			},
		},
		{
			// sda, nvme0n1 and nbd10 are whole disks; the partitions, loop,
			// ram, zram, dm and md devices jump by 900000 and must not count.
			name:    "disk",
			sampler: func(r string) Sampler { return NewDisk(r) },
			first:   sample{},
			second: sample{
				"disk.reads_per_s": (100 + 300 + 2) / 2.0, "disk.writes_per_s": (50 + 150) / 2.0,
				"disk.read_bytes_per_s": (2000 + 6000 + 16) * 512 / 2.0, "disk.write_bytes_per_s": (1000 + 3000) * 512 / 2.0,
				"disk.util_pct": 80, // nvme0n1: 1600 ms busy in 2 s
			},
			backwards: sample{},
		},
		{
			// lo counts like any other interface: a target on this host is
			// reached through it. testdata/sys does not exist: no bridges.
			name:    "net",
			sampler: func(r string) Sampler { return NewNet(r, "testdata/sys") },
			first:   sample{},
			second: merge(merge(merge(
				netSample("net.", 511000, 610, 1, 2, 505500, 555, 1, 1),
				netSample("net.lo.", 500000, 500, 0, 0, 500000, 500, 0, 0)),
				netSample("net.eth0.", 10000, 100, 1, 2, 5000, 50, 0, 1)),
				netSample("net.wlan0.", 1000, 10, 0, 0, 500, 5, 1, 0)),
			backwards: sample{ // only the counters that did not go back
				"net.lo.rx_errors_per_s": 0, "net.lo.rx_drops_per_s": 0, "net.lo.tx_errors_per_s": 0, "net.lo.tx_drops_per_s": 0,
				"net.eth0.tx_errors_per_s":  0,
				"net.wlan0.rx_errors_per_s": 0, "net.wlan0.rx_drops_per_s": 0, "net.wlan0.tx_drops_per_s": 0,
			},
		},
		{
			name:     "net only lo",
			sampler:  func(r string) Sampler { return NewNet(r, "testdata/sys") },
			fixtures: [2]string{"loonly1", "loonly2"},
			first:    sample{},
			second: merge(netSample("net.", 500000, 500, 1, 0, 500000, 500, 0, 2),
				netSample("net.lo.", 500000, 500, 1, 0, 500000, 500, 0, 2)),
			backwards: sample{"net.rx_drops_per_s": 0, "net.tx_errors_per_s": 0, "net.lo.rx_drops_per_s": 0, "net.lo.tx_errors_per_s": 0},
		},
		{
			// 1234 and 1300 used 150 and 250 ticks in 2 s: 200% of a core.
			// 1301 is new in proc2: its memory counts, its CPU from the next tick.
			name:      "process by name",
			sampler:   func(r string) Sampler { return mustProcess(t, r, "nginx") },
			first:     procSample("nginx", -1, 1000+2000, 1+2, 3+5),
			second:    procSample("nginx", 200, 1100+2500+1500, 1+2+2, 3+6+4),
			backwards: procSample("nginx", -1, 1000+2000, 1+2, 3+5),
		},
		{
			// comm is cut to 15 bytes; argv[0]'s base name is not. The
			// process restarted between the snapshots (new start time):
			// no CPU from the old one's counters.
			name:      "process by argv0",
			sampler:   func(r string) Sampler { return mustProcess(t, r, "my-very-long-server-name") },
			first:     procSample("my-very-long-server-name", -1, 3000, 8, 4),
			second:    procSample("my-very-long-server-name", -1, 3000, 8, 4),
			backwards: procSample("my-very-long-server-name", -1, 3000, 8, 4),
		},
		{
			name:      "process by pid",
			sampler:   func(r string) Sampler { return mustProcess(t, r, "1500") },
			first:     procSample("1500", -1, 10, 1, 1),
			second:    procSample("1500", 10, 10, 1, 1),
			backwards: procSample("1500", -1, 10, 1, 1),
		},
		{
			name:      "process by comm with a parenthesis",
			sampler:   func(r string) Sampler { return mustProcess(t, r, "weird) name") },
			first:     procSample("weird) name", -1, 10, 1, 1),
			second:    procSample("weird) name", 10, 10, 1, 1),
			backwards: procSample("weird) name", -1, 10, 1, 1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fx := tt.fixtures
				if fx[0] == "" {
					fx = [2]string{"proc1", "proc2"}
				}
				dir := newProcDir(t, fx[0])
				s := tt.sampler(dir.link)
				for i, step := range []struct {
					fixture string
					want    sample
				}{{fx[0], tt.first}, {fx[1], tt.second}, {fx[0], tt.backwards}} {
					if i > 0 {
						time.Sleep(2 * time.Second)
						dir.point(step.fixture)
					}
					vals, err := s.Sample(t.Context())
					if err != nil {
						t.Fatalf("sample %d (%s): %v", i+1, step.fixture, err)
					}
					sameValues(t, step.fixture, values(t, vals), step.want)
				}
			})
		})
	}
}

func merge(a, b map[string]float64) map[string]float64 {
	m := map[string]float64{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// netSample is a Net sampler's eight series under prefix ("net." for the
// totals, "net.IFACE." for one interface).
func netSample(prefix string, rxBytes, rxPackets, rxErrors, rxDrops, txBytes, txPackets, txErrors, txDrops float64) map[string]float64 {
	m := map[string]float64{}
	for i, v := range []float64{rxBytes, rxPackets, rxErrors, rxDrops, txBytes, txPackets, txErrors, txDrops} {
		m[prefix+netFields[i]] = v
	}
	return m
}

// procSample is what a Process sampler should return; cpu < 0 means none.
func procSample(name string, cpu float64, rssPages, threads, fds int) map[string]float64 {
	m := map[string]float64{
		"proc." + name + ".rss_bytes": float64(rssPages * os.Getpagesize()),
		"proc." + name + ".threads":   float64(threads),
		"proc." + name + ".fds":       float64(fds),
	}
	if cpu >= 0 {
		m["proc."+name+".cpu_pct"] = cpu
	}
	return m
}

func mustProcess(t *testing.T, root, match string) *Process {
	t.Helper()
	p, err := NewProcess(root, match)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSamplerErrors(t *testing.T) {
	tests := []struct {
		name    string
		sampler Sampler
		want    string
	}{
		{"no such root", NewCPU("testdata/nope"), "no such file"},
		{"no process by name", mustProcess(t, "testdata/proc1", "apache2"), `no process named "apache2"`},
		{"no process by pid", mustProcess(t, "testdata/proc1", "99999"), "no process with PID 99999"},
		{"net without net/dev", NewNet("testdata/nope", ""), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sampler.Sample(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, match := range []string{"", "  ", "-3", "0"} {
		if _, err := NewProcess("testdata/proc1", match); err == nil {
			t.Errorf("NewProcess(%q): no error", match)
		}
	}
}

func TestWholeDisk(t *testing.T) {
	all := map[string][]uint64{}
	for _, n := range []string{"sda", "sda1", "sdaa", "nvme0n1", "nvme0n1p3", "mmcblk0", "mmcblk0p1", "nbd1", "nbd10", "xvda", "xvda2", "vdb", "loop3", "dm-1", "md127", "zram0", "ram15"} {
		all[n] = nil
	}
	want := map[string]bool{"sda": true, "sdaa": true, "nvme0n1": true, "mmcblk0": true, "nbd1": true, "nbd10": true, "xvda": true, "vdb": true}
	for n := range all {
		if got := wholeDisk(n, all); got != want[n] {
			t.Errorf("wholeDisk(%s) = %v, want %v", n, got, want[n])
		}
	}
}

// TestLocalOnThisHost runs every local sampler on the real /proc twice:
// no errors, and the series the fixtures promise are there.
func TestLocalOnThisHost(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	var got map[string]float64
	samplers := Local("/proc")
	for i := range 2 {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		got = map[string]float64{}
		for _, s := range samplers {
			vals, err := s.Sample(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", s.Name(), err)
			}
			for _, v := range vals {
				got[v.Name] = v.V
			}
		}
	}
	for _, n := range []string{"cpu.user_pct", "cpu.idle_pct", "cpu.count", "load.1m", "procs.total", "mem.total_bytes",
		"mem.used_bytes", "swap.total_bytes", "tcp.established", "tcp.listen", "net.rx_bytes_per_s", "disk.util_pct"} {
		if _, ok := got[n]; !ok {
			t.Errorf("%s missing from a second sample of this host", n)
		}
	}
	if got["mem.total_bytes"] <= 0 || got["cpu.count"] < 1 {
		t.Errorf("mem.total_bytes %v, cpu.count %v: want positive", got["mem.total_bytes"], got["cpu.count"])
	}
}
