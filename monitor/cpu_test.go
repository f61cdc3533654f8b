package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statOf is a /proc/stat with an aggregate line and one line per CPU, each
// given as {id, busy ticks (all in user), idle ticks, iowait ticks}.
func statOf(cores ...[4]uint64) string {
	var b strings.Builder
	var busy, idle, iowait uint64
	for _, c := range cores {
		busy, idle, iowait = busy+c[1], idle+c[2], iowait+c[3]
	}
	fmt.Fprintf(&b, "cpu  %d 0 0 %d %d 0 0 0 0 0\n", busy, idle, iowait)
	for _, c := range cores {
		fmt.Fprintf(&b, "cpu%d %d 0 0 %d %d 0 0 0 0 0\n", c[0], c[1], c[2], c[3])
	}
	b.WriteString("intr 1 2 3\nctxt 100\n")
	return b.String()
}

// sampleStats samples a CPU sampler on each /proc/stat in turn and returns
// the last sample's values.
func sampleStats(t *testing.T, stats ...string) map[string]float64 {
	t.Helper()
	root := t.TempDir()
	c := NewCPU(root)
	var got map[string]float64
	for _, s := range stats {
		if err := os.WriteFile(filepath.Join(root, "stat"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		vals, err := c.Sample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = values(t, vals)
	}
	return got
}

// TestCPUCores: each CPU's busy share and the busiest one's, from the
// deltas of two /proc/stat readings.
func TestCPUCores(t *testing.T) {
	type sample = map[string]float64
	machine := func(user, iowait, idle float64) sample {
		return sample{"cpu.user_pct": user, "cpu.system_pct": 0, "cpu.iowait_pct": iowait, "cpu.steal_pct": 0, "cpu.idle_pct": idle}
	}
	many := func(n int, busy uint64) []string {
		var a, b [][4]uint64
		for i := range n {
			a = append(a, [4]uint64{uint64(i), 0, 0, 0})
			b = append(b, [4]uint64{uint64(i), 0, 100, 0})
		}
		b[n-1][1], b[n-1][2] = busy, 100-busy
		return []string{statOf(a...), statOf(b...)}
	}
	tests := []struct {
		name  string
		stats []string
		want  sample
	}{
		{
			name:  "first reading: the count only",
			stats: []string{statOf([4]uint64{0, 5, 5, 0}, [4]uint64{1, 5, 5, 0})},
			want:  sample{"cpu.count": 2},
		},
		{
			// One of four CPUs saturated: 25 % of the machine, 100 % of CPU 2.
			name: "one core saturated",
			stats: []string{
				statOf([4]uint64{0, 0, 0, 0}, [4]uint64{1, 0, 0, 0}, [4]uint64{2, 0, 0, 0}, [4]uint64{3, 0, 0, 0}),
				statOf([4]uint64{0, 0, 100, 0}, [4]uint64{1, 0, 100, 0}, [4]uint64{2, 100, 0, 0}, [4]uint64{3, 0, 100, 0}),
			},
			want: merge(machine(25, 0, 75), sample{"cpu.count": 4,
				"cpu.core.0_busy_pct": 0, "cpu.core.1_busy_pct": 0, "cpu.core.2_busy_pct": 100, "cpu.core.3_busy_pct": 0, "cpu.max_core_busy_pct": 100}),
		},
		{
			// iowait is idle time: not busy.
			name: "iowait is not busy",
			stats: []string{
				statOf([4]uint64{0, 10, 10, 10}, [4]uint64{1, 10, 10, 10}),
				statOf([4]uint64{0, 40, 60, 30}, [4]uint64{1, 10, 60, 60}),
			},
			want: merge(machine(15, 35, 50), sample{"cpu.count": 2,
				"cpu.core.0_busy_pct": 30, "cpu.core.1_busy_pct": 0, "cpu.max_core_busy_pct": 30}),
		},
		{
			// CPU 1 went offline, CPU 5 came online: only CPU 0 is in both.
			name: "hotplug",
			stats: []string{
				statOf([4]uint64{0, 0, 0, 0}, [4]uint64{1, 0, 0, 0}),
				statOf([4]uint64{0, 50, 50, 0}, [4]uint64{5, 90, 10, 0}),
			},
			want: merge(machine(70, 0, 30), sample{"cpu.count": 2, "cpu.core.0_busy_pct": 50, "cpu.max_core_busy_pct": 50}),
		},
		{
			name: "a core's ticks went backwards, another ran none",
			stats: []string{
				statOf([4]uint64{0, 100, 100, 0}, [4]uint64{1, 0, 0, 0}, [4]uint64{2, 7, 7, 0}),
				statOf([4]uint64{0, 50, 100, 0}, [4]uint64{1, 20, 80, 0}, [4]uint64{2, 7, 7, 0}),
			},
			want: sample{"cpu.count": 3, "cpu.idle_pct": 100, "cpu.iowait_pct": 0, "cpu.system_pct": 0, "cpu.steal_pct": 0,
				"cpu.core.1_busy_pct": 20, "cpu.max_core_busy_pct": 20},
		},
		{
			name: "CPUs out of order, numbers with gaps",
			stats: []string{
				statOf([4]uint64{12, 0, 0, 0}, [4]uint64{3, 0, 0, 0}),
				statOf([4]uint64{12, 10, 90, 0}, [4]uint64{3, 60, 40, 0}),
			},
			want: merge(machine(35, 0, 65), sample{"cpu.count": 2, "cpu.core.3_busy_pct": 60, "cpu.core.12_busy_pct": 10, "cpu.max_core_busy_pct": 60}),
		},
		{
			name:  "64 CPUs: a series each",
			stats: many(MaxCoreSeries, 80),
			want: func() sample {
				s := merge(machine(80.0/64, 0, 100-80.0/64), sample{"cpu.count": 64, "cpu.max_core_busy_pct": 80})
				for i := range 64 {
					s[fmt.Sprintf("cpu.core.%d_busy_pct", i)] = 0
				}
				s["cpu.core.63_busy_pct"] = 80
				return s
			}(),
		},
		{
			name:  "65 CPUs: the busiest only",
			stats: many(MaxCoreSeries+1, 80),
			want:  merge(machine(80.0/65, 0, 100-80.0/65), sample{"cpu.count": 65, "cpu.max_core_busy_pct": 80}),
		},
		{
			name: "a CPU line that does not parse counts, with no share",
			stats: []string{
				statOf([4]uint64{0, 0, 0, 0}) + "cpu1 1 2\ncpux 1 2 3 4 5 6 7 8\n",
				statOf([4]uint64{0, 30, 70, 0}) + "cpu1 1 2\ncpux 1 2 3 4 5 6 7 8\n",
			},
			want: merge(machine(30, 0, 70), sample{"cpu.count": 3, "cpu.core.0_busy_pct": 30, "cpu.max_core_busy_pct": 30}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameValues(t, tt.name, sampleStats(t, tt.stats...), tt.want)
		})
	}
}
