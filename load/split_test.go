package load

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	profiles := []struct {
		name  string
		start float64
		st    []Stage
	}{
		{"constant", 100, []Stage{{100, time.Second}}},
		{"ramp with gap", 0, []Stage{{50, time.Second}, {0, time.Second}, {0, time.Second}, {80, 0}, {80, 500 * ms}}},
		{"fewer arrivals than shares", 2, []Stage{{2, time.Second}}},
		{"no arrivals", 0, []Stage{{0, time.Second}}},
	}
	for _, p := range profiles {
		for _, n := range []int{1, 2, 3, 7, 16} {
			r := mustRate(t, p.start, p.st...)
			whole := schedule(t, r)
			t.Run(p.name+"/"+strconv.Itoa(n), func(t *testing.T) {
				shares := r.Split(n)
				if len(shares) != n {
					t.Fatalf("Split(%d) gave %d shares", n, len(shares))
				}
				var union []time.Duration
				seen := make([]bool, len(whole))
				var total int64
				for j, s := range shares {
					total += s.Total()
					for k := int64(0); ; k++ {
						off, ok := s.Offset(k)
						if !ok {
							if k != s.Total() {
								t.Fatalf("share %d: %d offsets, Total() = %d", j, k, s.Total())
							}
							break
						}
						i := int64(j) + k*int64(n)
						if seen[i] {
							t.Fatalf("share %d: arrival %d is in two shares", j, i)
						}
						seen[i] = true
						if off != whole[i] {
							t.Fatalf("share %d: Offset(%d) = %v, whole profile's Offset(%d) = %v", j, k, off, i, whole[i])
						}
						union = append(union, off)
					}
				}
				if total != r.Total() {
					t.Errorf("shares' totals add up to %d, Total() = %d", total, r.Total())
				}
				slices.Sort(union)
				if !slices.Equal(union, whole) {
					t.Errorf("union of shares = %v\nwhole profile   = %v", union, whole)
				}
			})
		}
	}
}

func TestSplitEdges(t *testing.T) {
	r := mustRate(t, 10, Stage{10, time.Second})
	if got := len(r.Split(0)); got != 1 {
		t.Errorf("Split(0) gave %d shares, want 1", got)
	}
	s := r.Split(3)[1]
	if _, ok := s.Offset(-1); ok {
		t.Error("Offset(-1) is ok")
	}
	if _, ok := s.Offset(math.MaxInt64); ok {
		t.Error("Offset(MaxInt64) is ok")
	}
	var zero Share
	if _, ok := zero.Offset(0); ok || zero.Total() != 0 {
		t.Error("zero Share has arrivals")
	}
	var k int64
	if n := testing.AllocsPerRun(1000, func() { s.Offset(k % s.Total()); k++ }); n != 0 {
		t.Errorf("Share.Offset: %v allocs per run, want 0", n)
	}
}
