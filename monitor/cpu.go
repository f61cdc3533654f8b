package monitor

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
)

// CPU samples the machine's CPU time from /proc/stat.
//
// The whole machine, as percentages of all CPUs together (0..100):
// cpu.user_pct (user and nice), cpu.system_pct (system, irq and softirq),
// cpu.iowait_pct, cpu.steal_pct and cpu.idle_pct, which add up to 100; and
// cpu.count, the CPUs online.
//
// Each CPU: cpu.core.N_busy_pct, the share of CPU N's time that was neither
// idle nor iowait (so user, nice, system, irq, softirq and steal: what
// mpstat -P ALL shows as 100 - %idle - %iowait), N being the kernel's
// number for it; and cpu.max_core_busy_pct, the busiest CPU's. (The CPUs
// share one prefix, cpu.core, so that the HTML report draws them on one
// chart.) A single-threaded
// process saturating one of 16 CPUs is 6 % of the machine but 100 % here.
// Per-CPU series are kept for machines of at most MaxCoreSeries CPUs, so a
// big host does not multiply the report's size; cpu.max_core_busy_pct is
// always there.
//
// The percentages need two readings, so the first sample has only the count.
type CPU struct {
	root string
	prev cpuTimes
}

// MaxCoreSeries is the most CPUs a host may have for its cpu.core.N_busy_pct
// series to be kept: 64 series are ~1.3 KB a second in the JSON summary.
const MaxCoreSeries = 64

var _ Sampler = (*CPU)(nil)

// NewCPU returns a CPU sampler reading procfs at root.
func NewCPU(root string) *CPU { return &CPU{root: procRoot(root)} }

// Name implements Sampler.
func (*CPU) Name() string { return "cpu" }

// cpuTimes is one reading of /proc/stat, in clock ticks: the aggregate
// "cpu" line in the order of the series, and each "cpuN" line. guest and
// guest_nice are already counted in user and nice, so they are not added
// again.
type cpuTimes struct {
	ticks [5]uint64 // user+nice, system+irq+softirq, iowait, steal, idle
	cores []coreTimes
	count int
	ok    bool
}

// coreTimes is one CPU's line: its number, and its ticks busy (neither idle
// nor iowait) and in all.
type coreTimes struct {
	id          int
	busy, total uint64
}

var cpuSeries = [5]string{"cpu.user_pct", "cpu.system_pct", "cpu.iowait_pct", "cpu.steal_pct", "cpu.idle_pct"}

// Sample implements Sampler.
func (c *CPU) Sample(context.Context) ([]Value, error) {
	b, err := readProc(c.root, "stat")
	if err != nil {
		return nil, err
	}
	cur, err := parseStat(b)
	if err != nil {
		return nil, err
	}
	vals := []Value{{"cpu.count", float64(cur.count)}}
	if c.prev.ok {
		vals = appendMachine(vals, c.prev.ticks, cur.ticks)
		vals = appendCores(vals, c.prev.cores, cur.cores)
	}
	c.prev = cur
	return vals, nil
}

// appendMachine appends the whole machine's percentages between two readings.
func appendMachine(vals []Value, prev, cur [5]uint64) []Value {
	// A field that went backwards (iowait does on some kernels) gets no
	// value and adds nothing to the total; the others still do.
	var delta [5]uint64
	var back [5]bool
	var total uint64
	for i := range delta {
		if cur[i] < prev[i] {
			back[i] = true
			continue
		}
		delta[i] = cur[i] - prev[i]
		total += delta[i]
	}
	if total == 0 {
		return vals
	}
	for i, d := range delta {
		if !back[i] {
			vals = append(vals, Value{cpuSeries[i], float64(d) / float64(total) * 100})
		}
	}
	return vals
}

// appendCores appends each CPU's busy share between two readings, and the
// busiest one's. A CPU in one reading only (brought on- or offline between
// them), or whose ticks went backwards, or that ran no ticks, has no value.
func appendCores(vals []Value, prev, cur []coreTimes) []Value {
	each := len(cur) <= MaxCoreSeries
	maxBusy, any := 0.0, false
	j := 0
	for _, c := range cur {
		// Both lists are in the kernel's order, by CPU number.
		for j < len(prev) && prev[j].id < c.id {
			j++
		}
		if j == len(prev) || prev[j].id != c.id {
			continue
		}
		p := prev[j]
		if c.total <= p.total || c.busy < p.busy || c.total-p.total < c.busy-p.busy {
			continue
		}
		pct := float64(c.busy-p.busy) / float64(c.total-p.total) * 100
		if each {
			vals = append(vals, Value{"cpu.core." + strconv.Itoa(c.id) + "_busy_pct", pct})
		}
		maxBusy, any = max(maxBusy, pct), true
	}
	if any {
		vals = append(vals, Value{"cpu.max_core_busy_pct", maxBusy})
	}
	return vals
}

// parseStat reads the aggregate cpu line and the per-CPU lines of /proc/stat.
func parseStat(b []byte) (cpuTimes, error) {
	var t cpuTimes
	var err error
	procLines(b, func(f [][]byte) {
		if err != nil || !bytes.HasPrefix(f[0], []byte("cpu")) {
			return
		}
		if len(f[0]) > 3 {
			// A CPU line that does not parse still counts as a CPU; it
			// only has no busy share.
			t.count++
			if c, ok := parseCoreLine(f); ok {
				t.cores = append(t.cores, c)
			}
			return
		}
		if len(f) < 9 {
			err = errors.New("/proc/stat: cpu line has fewer than 8 fields")
			return
		}
		var n []uint64
		if n, err = parseUints("/proc/stat: cpu", f[1:9]); err != nil {
			return
		}
		user, nice, system, idle, iowait, irq, softirq, steal := n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]
		t.ticks = [5]uint64{user + nice, system + irq + softirq, iowait, steal, idle}
		t.ok = true
	})
	if err != nil {
		return cpuTimes{}, err
	}
	if !t.ok {
		return cpuTimes{}, errors.New("/proc/stat: no cpu line")
	}
	// The kernel lists CPUs by number; appendCores relies on the order.
	slices.SortFunc(t.cores, func(a, b coreTimes) int { return cmp.Compare(a.id, b.id) })
	return t, nil
}

// parseCoreLine parses the fields of a "cpuN" line.
func parseCoreLine(f [][]byte) (coreTimes, bool) {
	id, err := strconv.Atoi(string(f[0][3:]))
	if err != nil || id < 0 || len(f) < 9 {
		return coreTimes{}, false
	}
	n, err := parseUints("", f[1:9])
	if err != nil {
		return coreTimes{}, false
	}
	user, nice, system, idle, iowait, irq, softirq, steal := n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]
	busy := user + nice + system + irq + softirq + steal
	return coreTimes{id: id, busy: busy, total: busy + idle + iowait}, true
}
