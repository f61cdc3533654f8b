package monitor

import (
	"bytes"
	"context"
	"errors"
)

// CPU samples the whole machine's CPU time from /proc/stat, as percentages
// of all CPUs together (0..100): cpu.user_pct (user and nice),
// cpu.system_pct (system, irq and softirq), cpu.iowait_pct, cpu.steal_pct
// and cpu.idle_pct, which add up to 100; and cpu.count, the CPUs online.
// The percentages need two readings, so the first sample has only the count.
type CPU struct {
	root string
	prev cpuTimes
}

var _ Sampler = (*CPU)(nil)

// NewCPU returns a CPU sampler reading procfs at root.
func NewCPU(root string) *CPU { return &CPU{root: procRoot(root)} }

// Name implements Sampler.
func (*CPU) Name() string { return "cpu" }

// cpuTimes is the aggregate "cpu" line of /proc/stat, in clock ticks, in
// the order of the series. guest and guest_nice are already counted in
// user and nice, so they are not added again.
type cpuTimes struct {
	ticks [5]uint64 // user+nice, system+irq+softirq, iowait, steal, idle
	count int
	ok    bool
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
		// A field that went backwards (iowait does on some kernels) gets
		// no value and adds nothing to the total; the others still do.
		var delta [5]uint64
		var back [5]bool
		var total uint64
		for i := range delta {
			if cur.ticks[i] < c.prev.ticks[i] {
				back[i] = true
				continue
			}
			delta[i] = cur.ticks[i] - c.prev.ticks[i]
			total += delta[i]
		}
		if total > 0 {
			for i, d := range delta {
				if !back[i] {
					vals = append(vals, Value{cpuSeries[i], float64(d) / float64(total) * 100})
				}
			}
		}
	}
	c.prev = cur
	return vals, nil
}

// parseStat reads the aggregate cpu line and counts the per-CPU lines of /proc/stat.
func parseStat(b []byte) (cpuTimes, error) {
	var t cpuTimes
	var err error
	procLines(b, func(f [][]byte) {
		if err != nil || !bytes.HasPrefix(f[0], []byte("cpu")) {
			return
		}
		if len(f[0]) > 3 {
			t.count++
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
	return t, nil
}
