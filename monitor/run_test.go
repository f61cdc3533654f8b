package monitor

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSampler is a Sampler driven by a function of the call number (0, 1, …).
type fakeSampler struct {
	name string
	fn   func(ctx context.Context, call int) ([]Value, error)

	mu    sync.Mutex
	calls []time.Time
}

func (f *fakeSampler) Name() string { return f.name }

func (f *fakeSampler) Sample(ctx context.Context) ([]Value, error) {
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, time.Now())
	f.mu.Unlock()
	return f.fn(ctx, n)
}

func (f *fakeSampler) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls...)
}

func constant(name string, v float64) *fakeSampler {
	return &fakeSampler{name: name, fn: func(context.Context, int) ([]Value, error) {
		return []Value{{name + ".v", v}}, nil
	}}
}

// runFor runs m from now for d, then stops it and waits for Run to return.
func runFor(m *Monitor, d time.Duration) time.Time {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); m.Run(ctx, start) }()
	time.Sleep(d)
	cancel()
	<-done
	return start
}

// series returns, per point, whether it has name (true) or a gap (false).
func series(points []Point, name string) []bool {
	var out []bool
	for _, p := range points {
		_, ok := p.Values[name]
		out = append(out, ok)
	}
	return out
}

func failuresOf(fs []Failure, sampler string) []Failure {
	var out []Failure
	for _, f := range fs {
		if f.Sampler == sampler {
			out = append(out, f)
		}
	}
	return out
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMonitorGapsAndFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast := constant("fast", 1)
		// Fails at odd calls.
		flaky := &fakeSampler{name: "flaky", fn: func(_ context.Context, call int) ([]Value, error) {
			if call%2 == 1 {
				return nil, errors.New("connection refused")
			}
			return []Value{{"flaky.v", 2}}, nil
		}}
		// Honours its context but never answers in time.
		slow := &fakeSampler{name: "slow", fn: func(ctx context.Context, _ int) ([]Value, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
		// Panics at its second call.
		panicky := &fakeSampler{name: "panicky", fn: func(_ context.Context, call int) ([]Value, error) {
			if call == 1 {
				panic("boom")
			}
			return []Value{{"panicky.v", 3}}, nil
		}}
		// Ignores its context and takes 1.5 intervals: skipped while busy.
		stuck := &fakeSampler{name: "stuck", fn: func(context.Context, int) ([]Value, error) {
			time.Sleep(1500 * time.Millisecond)
			return []Value{{"stuck.v", 4}}, nil
		}}
		m := New([]Sampler{fast, flaky, slow, panicky, stuck}, time.Second, nil)
		start := runFor(m, 5900*time.Millisecond) // the tick at 5s ends at 5.8s

		points := m.Points()
		if len(points) != 6 {
			t.Fatalf("%d points, want 6 (at 0s..5s)", len(points))
		}
		for i, p := range points {
			if p.At != time.Duration(i)*time.Second {
				t.Errorf("point %d at %v, want %v", i, p.At, time.Duration(i)*time.Second)
			}
		}
		all := []bool{true, true, true, true, true, true}
		none := []bool{false, false, false, false, false, false}
		for _, c := range []struct {
			name string
			want []bool
		}{
			{"fast.v", all},
			{"flaky.v", []bool{true, false, true, false, true, false}},
			{"slow.v", none},
			{"panicky.v", []bool{true, false, true, true, true, true}},
			{"stuck.v", none}, // it never answers within a tick
		} {
			if got := series(points, c.name); !equalBools(got, c.want) {
				t.Errorf("%s present %v, want %v", c.name, got, c.want)
			}
		}

		// The slow sampler did not hold the others up: every tick started
		// on time, a whole second after the one before.
		for i, at := range fast.callTimes() {
			if want := start.Add(time.Duration(i) * time.Second); !at.Equal(want) {
				t.Errorf("fast sampled at +%v, want +%v", at.Sub(start), want.Sub(start))
			}
		}

		fails := m.Failures()
		if got := failuresOf(fails, "flaky"); len(got) != 3 || got[0].At != time.Second || got[0].Err != "connection refused" {
			t.Errorf("flaky failures %+v, want 3, the first at 1s: connection refused", got)
		}
		if got := failuresOf(fails, "slow"); len(got) != 6 || !strings.Contains(got[0].Err, "timed out after 800ms") {
			t.Errorf("slow failures %+v, want 6 timeouts", got)
		}
		if got := failuresOf(fails, "panicky"); len(got) != 1 || got[0].Err != "panic: boom" || got[0].At != time.Second {
			t.Errorf("panicky failures %+v, want one panic at 1s", got)
		}
		// stuck: called at 0s (times out), busy at 1s, called at 2s (times
		// out), busy at 3s, called at 4s, busy at 5s.
		if n := len(stuck.callTimes()); n != 3 {
			t.Errorf("stuck called %d times, want 3 (never while still busy)", n)
		}
		stuckFails := failuresOf(fails, "stuck")
		busy := 0
		for _, f := range stuckFails {
			if strings.Contains(f.Err, "still busy") {
				busy++
			}
		}
		if len(stuckFails) != 6 || busy != 3 {
			t.Errorf("stuck failures %+v, want 6 of which 3 still busy", stuckFails)
		}
		if fast.callTimes() == nil || len(fast.callTimes()) != 6 {
			t.Errorf("fast called %d times, want 6", len(fast.callTimes()))
		}
	})
}

func TestMonitorAlignsToStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := constant("s", 1)
		m := New([]Sampler{s}, time.Second, nil)
		ctx, cancel := context.WithCancel(context.Background())
		// The run started 2.5s ago: the first tick is at 3s, half a second from now.
		start := time.Now().Add(-2500 * time.Millisecond)
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx, start) }()

		time.Sleep(400 * time.Millisecond)
		if p := m.Latest(); p.Values != nil {
			t.Errorf("a point %+v before the first tick", p)
		}
		time.Sleep(500 * time.Millisecond) // 0.4s after the tick at 3s
		if p := m.Latest(); p.At != 3*time.Second || p.Values["s.v"] != 1 {
			t.Errorf("latest %+v, want the tick at 3s", p)
		}
		time.Sleep(time.Second)
		cancel()
		<-done
		points := m.Points()
		if len(points) != 2 || points[0].At != 3*time.Second || points[1].At != 4*time.Second {
			t.Errorf("points %+v, want at 3s and 4s", points)
		}
	})
}

// TestMonitorConcurrentReads reads while Run writes (for -race).
func TestMonitorConcurrentReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New([]Sampler{constant("a", 1), constant("b", 2)}, 100*time.Millisecond, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx, time.Now()) }()
		for range 50 {
			time.Sleep(37 * time.Millisecond)
			_ = m.Latest().Values["a.v"]
			_ = len(m.Points()) + len(m.Failures())
		}
		cancel()
		<-done
		if n := len(m.Points()); n < 18 {
			t.Errorf("%d points in 1.85s at 100ms, want 19", n)
		}
	})
}

func TestMonitorDropsNonFinite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSampler{name: "odd", fn: func(context.Context, int) ([]Value, error) {
			return []Value{{"odd.nan", math.NaN()}, {"odd.inf", math.Inf(1)}, {"odd.ok", 1}}, nil
		}}
		m := New([]Sampler{s}, time.Second, nil)
		runFor(m, 500*time.Millisecond)
		p := m.Latest()
		if len(p.Values) != 1 || p.Values["odd.ok"] != 1 {
			t.Errorf("values %v, want only odd.ok", p.Values)
		}
	})
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
		want   []Stat
	}{
		{"none", nil, nil},
		{
			name: "gaps are left out of the mean",
			points: []Point{
				{At: 0, Values: map[string]float64{"cpu.user_pct": 10, "mem.used_bytes": 100}},
				{At: time.Second, Values: map[string]float64{"cpu.user_pct": 30}},
				{At: 2 * time.Second, Values: map[string]float64{"cpu.user_pct": 20, "mem.used_bytes": 300}},
				{At: 3 * time.Second, Values: map[string]float64{}},
			},
			want: []Stat{
				{Name: "cpu.user_pct", Peak: 30, Mean: 20, Samples: 3},
				{Name: "mem.used_bytes", Peak: 300, Mean: 200, Samples: 2},
			},
		},
		{
			name:   "negative values",
			points: []Point{{Values: map[string]float64{"x": -5}}, {Values: map[string]float64{"x": -1}}},
			want:   []Stat{{Name: "x", Peak: -1, Mean: -3, Samples: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.points)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("stat %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestMonitorFinish: the run's last second has its point. Finish at the
// end of a run of 3 s (the load's last interval ends at 3 s and a few ms)
// files the sample of 3 s; a run cut short between ticks ends at the last
// whole second.
func TestMonitorFinish(t *testing.T) {
	ms := time.Millisecond
	upTo3 := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}
	tests := []struct {
		name      string
		when, end time.Duration // when Finish is called, and the end it is told
		took      time.Duration // each sample's time
		want      []time.Duration
	}{
		{"tick at the end in progress", 3*time.Second + 2*ms, 3*time.Second + 2*ms, 5 * ms, upTo3},
		{"tick at the end done", 3*time.Second + 40*ms, 3*time.Second + 40*ms, ms, upTo3},
		{"tick at the end due, its timer not yet seen", 3*time.Second - 10*ms, 3*time.Second + 3*ms, ms, upTo3},
		{"ends just before the tick", 3*time.Second - 50*ms, 3*time.Second - 50*ms, ms, upTo3},
		{"cut short between ticks", 2*time.Second + 500*ms, 2*time.Second + 500*ms, 5 * ms, upTo3[:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSampler{name: "s", fn: func(context.Context, int) ([]Value, error) {
					time.Sleep(tt.took)
					return []Value{{"s.v", 1}}, nil
				}}
				m := New([]Sampler{s}, time.Second, nil)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				start := time.Now()
				done := make(chan struct{})
				go func() { defer close(done); m.Run(ctx, start) }()
				time.Sleep(tt.when)
				m.Finish(start.Add(tt.end))
				select {
				case <-done:
				case <-time.After(2 * time.Second):
					t.Fatal("Run did not return within 2s of Finish")
				}
				var got []time.Duration
				for _, p := range m.Points() {
					if p.Values["s.v"] != 1 {
						t.Errorf("point at %v without the sample: %v", p.At, p.Values)
					}
					got = append(got, p.At)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("points at %v, want %v", got, tt.want)
				}
			})
		})
	}
}
