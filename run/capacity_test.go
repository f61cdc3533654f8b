package run

import (
	"testing"
	"time"
)

func TestCapacityStepRate(t *testing.T) {
	cases := []struct {
		name       string
		rate       float64
		lead, hold time.Duration
		first      time.Duration
		total      int64
	}{
		{"no lead", 400, 0, 1500 * time.Millisecond, 0, 600},
		{"lead", 400, 700 * time.Millisecond, 1500 * time.Millisecond, 700 * time.Millisecond, 600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := StepRate(tc.rate, tc.lead, tc.hold)
			if err != nil {
				t.Fatal(err)
			}
			if at, _ := r.Offset(0); at != tc.first || r.Total() != tc.total || r.Duration() != tc.lead+tc.hold {
				t.Errorf("first start %v, total %d, duration %v", at, r.Total(), r.Duration())
			}
		})
	}
}

func TestCapacityTargetCPU(t *testing.T) {
	cases := []struct {
		name   string
		vals   map[string]float64
		v      float64
		series string
	}{
		{"process first", map[string]float64{"cpu.idle_pct": 70, "process.api.cpu_pct": 150}, 150, "process.api.cpu_pct"},
		{"agent host", map[string]float64{"cpu.idle_pct": 70, "agent.h:1.cpu.idle_pct": 40}, 60, "agent.h:1.cpu.busy_pct"},
		{"local host", map[string]float64{"cpu.idle_pct": 70}, 30, "cpu.busy_pct"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, series, ok := TargetCPU(tc.vals)
			if !ok || v != tc.v || series != tc.series {
				t.Errorf("%v %q %v, want %v %q", v, series, ok, tc.v, tc.series)
			}
		})
	}
	if _, _, ok := TargetCPU(map[string]float64{"mem.used_bytes": 1}); ok {
		t.Error("a target CPU from no CPU series")
	}
}
