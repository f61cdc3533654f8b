package load

import (
	"fmt"
	"testing"
	"time"
)

// TestDeal: for every small case, the workers' parts are the whole
// sequence, each item exactly once; every worker with items has slots
// (clients) for them; the parts are in proportion to the slots; and Of
// counts exactly the items Nth hands out.
func TestDeal(t *testing.T) {
	for slots := 1; slots <= 10; slots++ {
		for n := 1; n <= 8; n++ {
			t.Run(fmt.Sprintf("slots=%d/n=%d", slots, n), func(t *testing.T) {
				const items = 211 // not a multiple of any round
				owner := make([]int, items)
				for i := range owner {
					owner[i] = -1
				}
				perRound := 0
				for w := 0; w < n; w++ {
					d := Deal{Slots: slots, N: n, W: w}
					c := d.PerRound()
					perRound += c
					if want := slots / n; c != want && c != want+1 {
						t.Fatalf("worker %d: %d slots, want %d or %d", w, c, want, want+1)
					}
					prev := int64(-1)
					for k := int64(0); ; k++ {
						i, ok := d.Nth(k)
						if !ok {
							if c != 0 {
								t.Fatalf("worker %d: Nth(%d) not ok with %d slots", w, k, c)
							}
							break
						}
						if c == 0 {
							t.Fatalf("worker %d has no slot but item %d", w, i)
						}
						if i <= prev {
							t.Fatalf("worker %d: Nth(%d) = %d after %d: not increasing", w, k, i, prev)
						}
						prev = i
						if i >= items {
							break
						}
						if owner[i] >= 0 {
							t.Fatalf("item %d dealt to workers %d and %d", i, owner[i], w)
						}
						owner[i] = w
						// The owner of an item is the owner of its slot, which
						// is the owner of that client: k mod n.
						if int(i%int64(slots))%n != w {
							t.Fatalf("item %d (slot %d) dealt to worker %d", i, i%int64(slots), w)
						}
					}
				}
				if perRound != slots {
					t.Errorf("slots per round add up to %d, want %d", perRound, slots)
				}
				for i, w := range owner {
					if w < 0 {
						t.Fatalf("item %d dealt to nobody", i)
					}
				}
				for total := int64(0); total <= items; total++ {
					var sum int64
					for w := 0; w < n; w++ {
						got := Deal{Slots: slots, N: n, W: w}.Of(total)
						var want int64
						for _, o := range owner[:total] {
							if o == w {
								want++
							}
						}
						if got != want {
							t.Fatalf("worker %d: Of(%d) = %d, Nth hands out %d", w, total, got, want)
						}
						sum += got
					}
					if sum != total {
						t.Fatalf("Of(%d) adds up to %d", total, sum)
					}
				}
			})
		}
	}
}

func TestDealEdges(t *testing.T) {
	var zero Deal // one worker, one slot: the whole sequence
	for k := int64(0); k < 5; k++ {
		if i, ok := zero.Nth(k); !ok || i != k {
			t.Errorf("zero Deal: Nth(%d) = %d, %v", k, i, ok)
		}
	}
	if got := zero.Of(7); got != 7 {
		t.Errorf("zero Deal: Of(7) = %d", got)
	}
	d := Deal{Slots: 3, N: 2, W: 1}
	if _, ok := d.Nth(-1); ok {
		t.Error("Nth(-1) is ok")
	}
	if _, ok := d.Nth(1 << 62); ok {
		t.Error("Nth(1<<62) is ok: it overflows")
	}
	if got := (Deal{Slots: 3, N: 2, W: 2}).Of(10); got != 0 {
		t.Errorf("worker out of range: Of = %d", got)
	}
	var k int64
	if n := testing.AllocsPerRun(1000, func() { d.Nth(k); k++ }); n != 0 {
		t.Errorf("Nth: %v allocs per run, want 0", n)
	}
}

// TestRateDue: Due(t) counts the arrivals whose offset is at or before t.
func TestRateDue(t *testing.T) {
	r := mustRate(t, 0, Stage{50, time.Second}, Stage{0, time.Second}, Stage{0, time.Second}, Stage{80, 0}, Stage{80, 500 * ms})
	whole := schedule(t, r)
	for _, at := range []time.Duration{-1, 0, 1, 137 * ms, 999 * ms, time.Second, 2500 * ms, 3 * time.Second, 3200 * ms, 10 * time.Second} {
		var want int64
		for _, off := range whole {
			if off <= at {
				want++
			}
		}
		if got := r.Due(at); got != want {
			t.Errorf("Due(%v) = %d, want %d", at, got, want)
		}
	}
}
