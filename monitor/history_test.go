package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// TestHistoryRoundTrip: the compact history gives back exactly the points
// recorded — gaps, series that appear late, a point with no values — and
// Summary equals Summarize of those points.
func TestHistoryRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
	}{
		{"none", nil},
		{"one series", []Point{
			{At: 0, Values: map[string]float64{"a": 1}},
			{At: time.Second, Values: map[string]float64{"a": -2.5}},
		}},
		{"gaps and late series", []Point{
			{At: 0, Values: map[string]float64{"cpu.user_pct": 3}},
			{At: time.Second, Values: map[string]float64{}},
			{At: 2 * time.Second, Values: map[string]float64{"cpu.user_pct": 4, "net.rx_bytes_per_s": 1e9, "zero": 0}},
			{At: 3 * time.Second, Values: map[string]float64{"net.rx_bytes_per_s": 0.001}},
			{At: 4 * time.Second, Values: map[string]float64{"cpu.user_pct": -1, "zero": 0}},
		}},
		{"wider than a value block", wide(3, valBlock+7)},
		{"more points than a row block", long(rowBlock*2 + 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			for _, p := range tt.points {
				h.add(p)
			}
			got := h.points()
			if len(got) != len(tt.points) {
				t.Fatalf("%d points back, want %d", len(got), len(tt.points))
			}
			for i := range got {
				if got[i].At != tt.points[i].At || !reflect.DeepEqual(got[i].Values, tt.points[i].Values) {
					t.Fatalf("point %d = %+v, want %+v", i, got[i], tt.points[i])
				}
			}
			if s, want := h.summary(), Summarize(tt.points); !reflect.DeepEqual(s, want) {
				t.Errorf("summary = %+v, want Summarize = %+v", s, want)
			}
		})
	}
}

func wide(n, width int) []Point {
	var out []Point
	for i := range n {
		vals := map[string]float64{}
		for j := range width {
			vals[fmt.Sprintf("s%d", j)] = float64(i*width + j)
		}
		out = append(out, Point{At: time.Duration(i) * time.Second, Values: vals})
	}
	return out
}

func long(n int) []Point {
	var out []Point
	for i := range n {
		out = append(out, Point{At: time.Duration(i) * time.Second, Values: map[string]float64{"a": float64(i), "b": math.Sqrt(float64(i))}})
	}
	return out
}

// TestMonitorMemoryPerSecond runs a Monitor through a day of simulated
// seconds (synctest) with a source of 40 series and one that is down, and
// bounds what each second keeps: the values themselves (8 bytes each) and a
// little per point and per failure. A map per point (~40 bytes a value) or a
// copy of the same error message every second breaks the bound.
func TestMonitorMemoryPerSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a day of ticks")
	}
	const (
		series  = 40
		seconds = 24 * 60 * 60
	)
	names := make([]string, series)
	for i := range names {
		names[i] = fmt.Sprintf("host.series_%02d_bytes", i)
	}
	busy := &fakeSampler{name: "local", fn: func(_ context.Context, call int) ([]Value, error) {
		vals := make([]Value, series)
		for i, n := range names {
			vals[i] = Value{n, float64(call + i)}
		}
		return vals, nil
	}}
	down := &fakeSampler{name: "nginx", fn: func(context.Context, int) ([]Value, error) {
		// A fresh error each call, as a failed dial returns.
		return nil, fmt.Errorf("Get %q: %w", "http://127.0.0.1:1/status", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))
	}}
	// The fake samplers keep their call times; that is the test's memory,
	// not the monitor's.
	busy.calls, down.calls = make([]time.Time, 0, seconds+2), make([]time.Time, 0, seconds+2)

	synctest.Test(t, func(t *testing.T) {
		m := New([]Sampler{busy, down}, time.Second, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx, time.Now()) }()
		time.Sleep(time.Hour) // the first hour's growth is blocks being allocated
		synctest.Wait()
		before := heapAfterGC()
		time.Sleep(seconds*time.Second - time.Hour)
		synctest.Wait()
		after := heapAfterGC()
		cancel()
		<-done

		pts, fails := m.Points(), m.Failures()
		if len(pts) < seconds-1 || len(fails) < seconds-1 {
			t.Fatalf("%d points and %d failures after %d s, want one each a second", len(pts), len(fails), seconds)
		}
		perSecond := float64(int64(after)-int64(before)) / (seconds - 3600)
		bound := float64(8*series + 24 + 40 + 32) // values, row, a failure, slack
		t.Logf("heap %d -> %d bytes over %d simulated s: %.0f B/s (bound %.0f)", before, after, seconds-3600, perSecond, bound)
		if perSecond > bound {
			t.Errorf("monitor keeps %.0f bytes per second, want <= %.0f (8 per value)", perSecond, bound)
		}
	})
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
