package load

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func mustRate(t testing.TB, start float64, stages ...Stage) Rate {
	t.Helper()
	r, err := NewRate(start, stages)
	if err != nil {
		t.Fatalf("NewRate(%v, %v): %v", start, stages, err)
	}
	return r
}

// schedule returns every offset of r.
func schedule(t testing.TB, r Rate) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i := int64(0); ; i++ {
		off, ok := r.Offset(i)
		if !ok {
			break
		}
		out = append(out, off)
	}
	if int64(len(out)) != r.Total() {
		t.Fatalf("%v: %d offsets are ok, Total() = %d", r, len(out), r.Total())
	}
	return out
}

func TestRateSchedule(t *testing.T) {
	every := func(n int, step, from time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = from + time.Duration(i)*step
		}
		return out
	}
	tests := []struct {
		name  string
		start float64
		st    []Stage
		want  []time.Duration
	}{
		{"constant 10/s for 1s", 10, []Stage{{10, time.Second}}, every(10, 100*ms, 0)},
		{"constant 4/s for 2s", 4, []Stage{{4, 2 * time.Second}}, every(8, 250*ms, 0)},
		{"jump then constant", 0, []Stage{{10, 0}, {10, time.Second}}, every(10, 100*ms, 0)},
		{
			"jumps between constants", 0,
			[]Stage{{100, 0}, {100, 100 * ms}, {10, 0}, {10, 300 * ms}},
			append(every(10, 10*ms, 0), every(3, 100*ms, 100*ms)...),
		},
		{
			"zero-rate gap", 10,
			[]Stage{{10, time.Second}, {0, 0}, {0, time.Second}, {10, 0}, {10, 500 * ms}},
			append(every(10, 100*ms, 0), every(5, 100*ms, 2*time.Second)...),
		},
		{"zero-rate start", 0, []Stage{{0, time.Second}, {5, 0}, {5, time.Second}}, every(5, 200*ms, time.Second)},
		{"fractional total", 10.5, []Stage{{10.5, time.Second}}, []time.Duration{
			0, 95238095, 190476190, 285714286, 380952381, 476190476,
			571428571, 666666667, 761904762, 857142857, 952380952,
		}},
		{"less than one arrival", 0.5, []Stage{{0.5, time.Second}}, []time.Duration{0}},
		{"no arrivals", 0, []Stage{{0, time.Second}}, nil},
		{"ramp 0 to 3 over 1s", 0, []Stage{{3, time.Second}}, []time.Duration{0, 816496581}},
		{"ramp down 3 to 0 over 1s", 3, []Stage{{0, time.Second}}, []time.Duration{0, 422649731}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRate(t, tt.start, tt.st...)
			got := schedule(t, r)
			if !slicesEqual(got, tt.want) {
				t.Errorf("offsets = %v\nwant       %v", got, tt.want)
			}
			if off, ok := r.Offset(r.Total()); ok {
				t.Errorf("Offset(Total()=%d) = %v, true; want false", r.Total(), off)
			}
			if off, ok := r.Offset(-1); ok {
				t.Errorf("Offset(-1) = %v, true; want false", off)
			}
		})
	}
}

func slicesEqual(a, b []time.Duration) bool {
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

// TestRateRamps checks ramps against their closed forms and N(Offset(i)) = i.
func TestRateRamps(t *testing.T) {
	sec := func(f float64) time.Duration { return time.Duration(math.Round(f * 1e9)) }
	tests := []struct {
		name      string
		start     float64
		st        []Stage
		total     int64
		offset    func(i float64) time.Duration // closed form, nil to skip
		tolerance float64                       // for Expected(Offset(i)) == i
	}{
		{
			// N(t) = 50t², so arrival i is at sqrt(i/50).
			"up 0 to 100 over 1s", 0, []Stage{{100, time.Second}}, 50,
			func(i float64) time.Duration { return sec(math.Sqrt(i / 50)) }, 1e-6,
		},
		{
			// N(t) = 100t - 50t², so arrival i is at 1 - sqrt(1 - i/50).
			"down 100 to 0 over 1s", 100, []Stage{{0, time.Second}}, 50,
			func(i float64) time.Duration { return sec(1 - math.Sqrt(1-i/50)) }, 1e-6,
		},
		{
			// N(t) = 10t + 5t², so arrival i is at -1 + sqrt(1 + i/5).
			"up 10 to 20 over 1s", 10, []Stage{{20, time.Second}}, 15,
			func(i float64) time.Duration { return sec(-1 + math.Sqrt(1+i/5)) }, 1e-6,
		},
		{
			"down, gap, up", 10,
			[]Stage{{0, time.Second}, {0, time.Second}, {10, time.Second}, {10, time.Second}}, 20,
			nil, 1e-6,
		},
		{
			"100 to 5000 over 2m", 0, []Stage{{100, time.Minute}, {5000, 2 * time.Minute}}, 3000 + 306000,
			// Offsets are whole nanoseconds: at 5000/s, half a
			// nanosecond is 2.5e-6 arrivals.
			nil, 1e-6 + 5000*0.5e-9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRate(t, tt.start, tt.st...)
			if r.Total() != tt.total {
				t.Fatalf("Total() = %d, want %d", r.Total(), tt.total)
			}
			prev := time.Duration(-1)
			for i := range tt.total {
				off, ok := r.Offset(i)
				if !ok {
					t.Fatalf("Offset(%d) not ok", i)
				}
				if off < prev {
					t.Fatalf("Offset(%d) = %v < Offset(%d) = %v", i, off, i-1, prev)
				}
				prev = off
				if n := r.Expected(off); math.Abs(n-float64(i)) > tt.tolerance {
					t.Fatalf("Expected(Offset(%d) = %v) = %.9f", i, off, n)
				}
				if tt.offset != nil {
					if want := tt.offset(float64(i)); absDur(off-want) > 1 {
						t.Fatalf("Offset(%d) = %v, want %v", i, off, want)
					}
				}
			}
		})
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestRateExpectedAndAt(t *testing.T) {
	// 0 → 100/s over 1s, hold 1s, jump to 10/s for 1s, then a jump to 0.
	r := mustRate(t, 0, Stage{100, time.Second}, Stage{100, time.Second}, Stage{10, 0}, Stage{10, time.Second}, Stage{0, 0})
	tests := []struct {
		name     string
		t        time.Duration
		expected float64
		at       float64
	}{
		{"before the start", -time.Second, 0, 0},
		{"start", 0, 0, 0},
		{"quarter of the ramp", 250 * ms, 3.125, 25},
		{"mid ramp", 500 * ms, 12.5, 50},
		{"end of ramp", time.Second, 50, 100},
		{"mid hold", 1500 * ms, 100, 100},
		{"at the jump", 2 * time.Second, 150, 10},
		{"after the jump", 2500 * ms, 155, 10},
		{"at the end (jump to 0)", 3 * time.Second, 160, 0},
		{"after the end", time.Hour, 160, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Expected(tt.t); math.Abs(got-tt.expected) > 1e-9 {
				t.Errorf("Expected(%v) = %v, want %v", tt.t, got, tt.expected)
			}
			if got := r.At(tt.t); math.Abs(got-tt.at) > 1e-9 {
				t.Errorf("At(%v) = %v, want %v", tt.t, got, tt.at)
			}
		})
	}
	if got, want := r.Duration(), 3*time.Second; got != want {
		t.Errorf("Duration() = %v, want %v", got, want)
	}
	if got := mustRate(t, 7, Stage{7, time.Second}).At(time.Second); got != 7 {
		t.Errorf("At(end) of constant 7/s = %v, want 7", got)
	}
}

func TestRateTotal(t *testing.T) {
	tests := []struct {
		name  string
		start float64
		st    []Stage
		want  int64
	}{
		{"whole N excludes the arrival at the end", 10, []Stage{{10, time.Second}}, 10},
		{"fractional N includes the last partial arrival", 10.5, []Stage{{10.5, time.Second}}, 11},
		{"100/m over 3m is exactly 300", 100.0 / 60, []Stage{{100.0 / 60, 3 * time.Minute}}, 300},
		{"0.1/s over 10s in 100ms steps is exactly 1", 0.1, repeat(Stage{0.1, 100 * ms}, 100), 1},
		{"ramp 0 to 100 over 1s", 0, []Stage{{100, time.Second}}, 50},
		{"5000/s for 24h", 5000, []Stage{{5000, 24 * time.Hour}}, 432_000_000},
		{"zero rate", 0, []Stage{{0, time.Hour}}, 0},
		{"a trailing jump adds nothing", 1, []Stage{{1, time.Second}, {1e6, 0}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRate(t, tt.start, tt.st...)
			if got := r.Total(); got != tt.want {
				t.Errorf("Total() = %d, want %d (N = %.17g)", got, tt.want, r.Expected(r.Duration()))
			}
			if tt.want > 0 {
				if _, ok := r.Offset(tt.want - 1); !ok {
					t.Errorf("Offset(%d) not ok", tt.want-1)
				}
			}
			if off, ok := r.Offset(tt.want); ok {
				t.Errorf("Offset(%d) = %v, true; want false", tt.want, off)
			}
		})
	}
}

func repeat(s Stage, n int) []Stage {
	out := make([]Stage, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestNewRateErrors(t *testing.T) {
	tests := []struct {
		name  string
		start float64
		st    []Stage
		want  string
	}{
		{"no stages", 0, nil, "no stages"},
		{"negative start", -1, []Stage{{1, time.Second}}, "start rate -1 is negative"},
		{"NaN start", math.NaN(), []Stage{{1, time.Second}}, "start rate NaN is not finite"},
		{"negative target", 0, []Stage{{1, time.Second}, {-5, time.Second}}, "stage 2: target -5 is negative"},
		{"infinite target", 0, []Stage{{math.Inf(1), time.Second}}, "stage 1: target +Inf is not finite"},
		{"negative duration", 0, []Stage{{1, -time.Second}}, "stage 1: duration -1s is negative"},
		{"zero total duration", 0, []Stage{{1, 0}, {2, 0}}, "total duration is 0"},
		{"duration overflow", 0, []Stage{{1, math.MaxInt64}, {1, 1}}, "stage 2: total duration is too long"},
		{"too many arrivals", 1e12, []Stage{{1e12, 24 * time.Hour}}, "8.64e+16 expected arrivals is too many (at most 2^53)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRate(tt.start, tt.st)
			if err == nil || err.Error() != tt.want {
				t.Errorf("NewRate error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestNewRateLimits: the largest profiles NewRate takes are accepted, and
// the stage values at the edge of validity (a zero target, a zero-length
// jump) are stages, not errors.
func TestNewRateLimits(t *testing.T) {
	tests := []struct {
		name  string
		st    []Stage
		dur   time.Duration
		total int64
	}{
		{"longest total duration", []Stage{{1, math.MaxInt64}}, math.MaxInt64, 4611686019}, // a ramp from 0: N = T/2
		{"longest over two stages", []Stage{{0, math.MaxInt64 - 1}, {0, 1}}, math.MaxInt64, 0},
		{"zero target", []Stage{{0, time.Second}}, time.Second, 0},
		{"jump", []Stage{{5, 0}, {5, time.Second}}, time.Second, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRate(0, tt.st)
			if err != nil {
				t.Fatalf("NewRate: %v", err)
			}
			if r.Duration() != tt.dur || r.Total() != tt.total {
				t.Errorf("duration %v, total %d; want %v, %d", r.Duration(), r.Total(), tt.dur, tt.total)
			}
		})
	}
	if _, err := NewRate(0, []Stage{{math.NaN(), time.Second}}); err == nil || err.Error() != "stage 1: target NaN is not finite" {
		t.Errorf("NaN target: %v", err)
	}
}

func TestNewRateCopiesStages(t *testing.T) {
	st := []Stage{{10, time.Second}}
	r := mustRate(t, 0, st...)
	st[0].Target = 1000
	if got, want := r.String(), "10:1s"; got != want {
		t.Errorf("String() after changing the caller's slice = %q, want %q", got, want)
	}
}

func TestZeroRate(t *testing.T) {
	var r Rate
	if _, ok := r.Offset(0); ok {
		t.Error("zero Rate: Offset(0) is ok")
	}
	if r.Total() != 0 || r.Duration() != 0 || r.Expected(time.Second) != 0 || r.At(0) != 0 || r.String() != "" {
		t.Errorf("zero Rate is not empty: %d %v %v %v %q", r.Total(), r.Duration(), r.Expected(time.Second), r.At(0), r)
	}
}

// randomRate returns a profile of 1 to 6 stages with rates up to 1000/s, so
// that half a nanosecond of rounding stays under 1e-6 arrivals, and up to a
// few thousand arrivals. Some targets are 0 and some durations are 0 (jumps).
func randomRate(t testing.TB, rng *rand.Rand) Rate {
	t.Helper()
	target := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return float64(rng.IntN(1000))
		default:
			return rng.Float64() * 1000
		}
	}
	for {
		st := make([]Stage, 1+rng.IntN(6))
		for k := range st {
			st[k].Target = target()
			if rng.IntN(4) > 0 {
				st[k].Over = time.Duration(rng.Int64N(int64(3 * time.Second)))
			}
		}
		if r, err := NewRate(target(), st); err == nil {
			return r
		}
	}
}

func TestRateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for p := range 300 {
		r := randomRate(t, rng)
		prev := time.Duration(0)
		for i := range r.Total() {
			off, ok := r.Offset(i)
			switch {
			case !ok:
				t.Fatalf("profile %d %q: Offset(%d) not ok, Total() = %d", p, r, i, r.Total())
			case off < prev:
				t.Fatalf("profile %d %q: Offset(%d) = %v < Offset(%d) = %v", p, r, i, off, i-1, prev)
			case off < 0 || off >= r.Duration():
				t.Fatalf("profile %d %q: Offset(%d) = %v outside [0, %v)", p, r, i, off, r.Duration())
			}
			if n := r.Expected(off); math.Abs(n-float64(i)) > 1e-6 {
				t.Fatalf("profile %d %q: Expected(Offset(%d) = %v) = %.9f", p, r, i, off, n)
			}
			// No arrival falls inside a zero-rate stretch: it waits
			// for the rate to become positive again.
			if r.At(off) == 0 && r.At(off+1) == 0 {
				t.Fatalf("profile %d %q: Offset(%d) = %v is inside a zero-rate stretch", p, r, i, off)
			}
			prev = off
		}
		if _, ok := r.Offset(r.Total()); ok {
			t.Fatalf("profile %d %q: Offset(Total()) is ok", p, r)
		}
		if n, tot := r.Expected(r.Duration()), r.Total(); !(float64(tot) >= n && float64(tot) < n+1) {
			t.Fatalf("profile %d %q: Total() = %d, N(end) = %v", p, r, tot, n)
		}
	}
}

func TestOffsetAllocs(t *testing.T) {
	r := mustRate(t, 0, Stage{100, time.Second}, Stage{100, time.Second}, Stage{0, time.Second})
	var i int64
	if n := testing.AllocsPerRun(1000, func() {
		r.Offset(i % r.Total())
		r.Expected(time.Duration(i))
		r.At(time.Duration(i))
		i++
	}); n != 0 {
		t.Errorf("Offset, Expected, At: %v allocs per run, want 0", n)
	}
}

func BenchmarkOffset(b *testing.B) {
	var sb strings.Builder
	for k := range 16 {
		if k > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString([]string{"5000:30s", "100:30s"}[k%2])
	}
	r, err := ParseRate(sb.String(), 0)
	if err != nil {
		b.Fatal(err)
	}
	total := r.Total()
	b.ReportAllocs()
	var i int64
	var sink time.Duration
	for b.Loop() {
		off, _ := r.Offset(i)
		sink += off
		if i++; i == total {
			i = 0
		}
	}
	_ = sink
}
