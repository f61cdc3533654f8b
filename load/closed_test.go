package load

import (
	"math"
	"testing"
	"time"
)

func TestRampStart(t *testing.T) {
	tests := []struct {
		name string
		ramp Ramp
		k    int
		want time.Duration
	}{
		{"first client at 0", Ramp{10, 10 * time.Second}, 0, 0},
		{"even steps", Ramp{10, 10 * time.Second}, 3, 3 * time.Second},
		{"last client a step before Over", Ramp{10, 10 * time.Second}, 9, 9 * time.Second},
		{"rounds down", Ramp{3, time.Second}, 1, 333333333},
		{"rounds down again", Ramp{3, time.Second}, 2, 666666666},
		{"no ramp-up", Ramp{10, 0}, 5, 0},
		{"negative ramp-up", Ramp{10, -time.Second}, 5, 0},
		{"one client", Ramp{1, time.Minute}, 0, 0},
		{"no client k", Ramp{10, 10 * time.Second}, 10, 10 * time.Second},
		{"negative k", Ramp{10, 10 * time.Second}, -1, 0},
		{"no clients", Ramp{0, time.Second}, 0, 0},
		// 24h * 9,999,999 overflows int64 nanoseconds; the 128-bit
		// product does not.
		{"10M clients over 24h", Ramp{10_000_000, 24 * time.Hour}, 9_999_999, 24*time.Hour - 8640*time.Microsecond},
		{"10M clients over 24h, middle", Ramp{10_000_000, 24 * time.Hour}, 5_000_000, 12 * time.Hour},
		{"largest duration", Ramp{7, math.MaxInt64}, 6, math.MaxInt64 / 7 * 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ramp.Start(tt.k); got != tt.want {
				t.Errorf("%+v.Start(%d) = %v, want %v", tt.ramp, tt.k, got, tt.want)
			}
		})
	}
}

func TestRampActive(t *testing.T) {
	tests := []struct {
		name string
		ramp Ramp
		t    time.Duration
		want int
	}{
		{"before the start", Ramp{10, 10 * time.Second}, -1, 0},
		{"client 0 at once", Ramp{10, 10 * time.Second}, 0, 1},
		{"just before the second", Ramp{10, 10 * time.Second}, time.Second - 1, 1},
		{"at the second, inclusive", Ramp{10, 10 * time.Second}, time.Second, 2},
		{"at the last", Ramp{10, 10 * time.Second}, 9 * time.Second, 10},
		{"at Over", Ramp{10, 10 * time.Second}, 10 * time.Second, 10},
		{"long after", Ramp{10, 10 * time.Second}, math.MaxInt64, 10},
		{"rounded start", Ramp{3, time.Second}, 333333333, 2},
		{"just before a rounded start", Ramp{3, time.Second}, 333333332, 1},
		{"no ramp-up", Ramp{10, 0}, 0, 10},
		{"no clients", Ramp{0, time.Second}, time.Second, 0},
		{"more clients than nanoseconds", Ramp{10, 4}, 0, 3},
		{"10M clients over 24h, half way", Ramp{10_000_000, 24 * time.Hour}, 12 * time.Hour, 5_000_001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ramp.Active(tt.t); got != tt.want {
				t.Errorf("%+v.Active(%v) = %d, want %d", tt.ramp, tt.t, got, tt.want)
			}
		})
	}
}

// TestRampActiveMatchesStart checks Active against counting Starts.
func TestRampActiveMatchesStart(t *testing.T) {
	for _, r := range []Ramp{{1, 1}, {3, 10}, {7, 3}, {10, 4}, {13, 100}, {100, 7}, {64, 64}} {
		for at := time.Duration(-1); at <= r.Over+1; at++ {
			want := 0
			for k := range r.Clients {
				if r.Start(k) <= at {
					want++
				}
			}
			if got := r.Active(at); got != want {
				t.Errorf("%+v.Active(%v) = %d, counting Starts gives %d", r, at, got, want)
			}
		}
	}
}

func TestCapOffset(t *testing.T) {
	tests := []struct {
		name string
		cap  Cap
		i    int64
		want time.Duration
	}{
		{"first start at once", Cap{100}, 0, 0},
		{"whole rate", Cap{100}, 1, 10 * ms},
		{"far along, no drift", Cap{100}, 1_000_000, 10_000 * time.Second},
		{"uneven", Cap{3}, 1, 333333333},
		{"uneven, far along", Cap{3}, 3_000_001, 1_000_000*time.Second + 333333333},
		{"fraction", Cap{0.5}, 3, 6 * time.Second},
		{"per minute", Cap{2000.0 / 60}, 2000, time.Minute},
		{"no cap", Cap{0}, 1000, 0},
		{"negative is no cap", Cap{-5}, 1000, 0},
		{"NaN is no cap", Cap{math.NaN()}, 1000, 0},
		{"infinite is no cap", Cap{math.Inf(1)}, 1000, 0},
		{"negative i", Cap{100}, -1, 0},
		{"saturates", Cap{1e-9}, math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cap.Offset(tt.i); got != tt.want {
				t.Errorf("%+v.Offset(%d) = %v, want %v", tt.cap, tt.i, got, tt.want)
			}
		})
	}
}

func TestClosedAllocs(t *testing.T) {
	r, c := Ramp{1000, time.Minute}, Cap{2000}
	var k int
	if n := testing.AllocsPerRun(1000, func() {
		r.Start(k)
		r.Active(time.Duration(k) * time.Millisecond)
		c.Offset(int64(k))
		k++
	}); n != 0 {
		t.Errorf("Ramp.Start, Ramp.Active, Cap.Offset: %v allocs per run, want 0", n)
	}
}
