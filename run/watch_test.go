package run

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/report"
)

// cpuSampler reports a fixed CPU use of fuka's own process.
type cpuSampler struct{ pct float64 }

func (c cpuSampler) Name() string { return "process 1" }

func (c cpuSampler) Sample(context.Context) ([]monitor.Value, error) {
	return []monitor.Value{{Name: "proc.1.cpu_pct", V: c.pct}, {Name: "proc.1.rss_bytes", V: 1e9}}, nil
}

// TestGeneratorCPUWarning: the summary warns when fuka itself used 90% or
// more of every CPU on average, and only then.
func TestGeneratorCPUWarning(t *testing.T) {
	tests := []struct {
		name string
		pct  float64 // fuka's CPU, 100 = one core
		cpus int
		warn bool
	}{
		{"one core saturated", 95, 1, true},
		{"one core at 90%", 90, 1, true},
		{"one core at 89%", 89, 1, false},
		{"two cores saturated", 195, 2, true},
		{"one of two cores", 100, 2, false},
		{"just under 90% of four", 359, 4, false},
		{"idle", 0, 8, false},
		{"cpus unknown", 400, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := monitor.New([]monitor.Sampler{cpuSampler{tt.pct}}, time.Second, nil)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() { defer close(done); m.Run(ctx, time.Now()) }()
				time.Sleep(3500 * time.Millisecond) // ticks at 0, 1, 2 and 3s
				cancel()
				<-done
				if n := len(m.Points()); n != 4 {
					t.Fatalf("%d points, want 4", n)
				}
				sum := &report.Summary{}
				(&Watcher{selfMon: m}).Fill(sum, tt.cpus)
				if sum.Resources != nil {
					t.Errorf("fuka's own CPU leaked into the resources: %+v", sum.Resources)
				}
				if got := len(sum.Warnings) == 1 && strings.Contains(sum.Warnings[0], "the load generator was the bottleneck"); got != tt.warn || len(sum.Warnings) > 1 {
					t.Fatalf("warnings %q, want a bottleneck warning: %v", sum.Warnings, tt.warn)
				}
				if !tt.warn {
					return
				}
				want := fmt.Sprintf("fuka itself used %.0f%% CPU on average (peak %.0f%%) of %d CPU(s)", tt.pct, tt.pct, tt.cpus)
				if !strings.HasPrefix(sum.Warnings[0], want) {
					t.Errorf("warning %q, want it to start %q", sum.Warnings[0], want)
				}
				var text bytes.Buffer
				if err := sum.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text.String(), "\n  WARNING      "+want) {
					t.Errorf("text:\n%s", text.String())
				}
			})
		})
	}

	t.Run("mean not peak", func(t *testing.T) {
		// One busy second in four is a spike, not a saturated generator.
		synctest.Test(t, func(t *testing.T) {
			var k atomic.Int64
			m := monitor.New([]monitor.Sampler{samplerFunc(func() float64 {
				if k.Add(1) == 2 {
					return 100
				}
				return 10
			})}, time.Second, nil)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { defer close(done); m.Run(ctx, time.Now()) }()
			time.Sleep(3500 * time.Millisecond)
			cancel()
			<-done
			sum := &report.Summary{}
			(&Watcher{selfMon: m}).Fill(sum, 1)
			if len(sum.Warnings) != 0 {
				t.Errorf("warnings %q after one busy second", sum.Warnings)
			}
		})
	})
	t.Run("no watcher", func(t *testing.T) {
		sum := &report.Summary{}
		var wt *Watcher
		wt.Fill(sum, 1)
		if len(sum.Warnings) != 0 || sum.Resources != nil {
			t.Errorf("a nil watcher filled %+v", sum)
		}
	})
}

// samplerFunc reports fuka's CPU as f returns it.
type samplerFunc func() float64

func (f samplerFunc) Name() string { return "process 1" }

func (f samplerFunc) Sample(context.Context) ([]monitor.Value, error) {
	return []monitor.Value{{Name: "proc.1.cpu_pct", V: f()}}, nil
}
