package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// startLog is a Scenario whose iterations only note when they began and
// when they were due: the generic pool's schedule, seen from its clients.
type startLog struct {
	mu     sync.Mutex
	starts []loggedStart
}

type loggedStart struct {
	seq              int64
	intended, actual time.Time
}

func (s *startLog) Names() []string      { return []string{"step"} }
func (s *startLog) CheckNames() []string { return nil }
func (s *startLog) NewClient(int, *metrics.Recorder, func()) ScenarioClient {
	return startLogClient{s}
}

type startLogClient struct{ s *startLog }

func (c startLogClient) Iterate(_ context.Context, seq int64, intended time.Time) bool {
	now := time.Now()
	c.s.mu.Lock()
	c.s.starts = append(c.s.starts, loggedStart{seq, intended, now})
	c.s.mu.Unlock()
	return true
}

// wakeups is how many separate moments the starts began at: a start more
// than gap after the one before it (in time order) opens a new one.
func wakeups(starts []loggedStart, gap time.Duration) int {
	at := make([]time.Time, len(starts))
	for i, s := range starts {
		at[i] = s.actual
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	n := 0
	for i := range at {
		if i == 0 || at[i].Sub(at[i-1]) > gap {
			n++
		}
	}
	return n
}

// TestPoolResolution: the generic pool (gRPC, WebSocket, plans, net/http)
// batches starts by the load's Resolution as the fast path does. In the
// open model every start goes at the end of the step holding its due time,
// never before it and at most a step (plus a loaded machine's slack) after
// its intended time, which its latency counts from; so the pool wakes about
// once per step, not once per start. The closed model's throughput cap
// batches alike and still holds. Without a Resolution each start goes at
// its own time.
func TestPoolResolution(t *testing.T) {
	const (
		perSecond = 500 // one start every 2 ms
		dur       = time.Second
		gap       = time.Millisecond // starts closer than this began together
		slack     = 50 * time.Millisecond
	)
	for _, tc := range []struct {
		name string
		load func(res time.Duration) Load
	}{
		{"open", func(res time.Duration) Load {
			return Open{Rate: rate(t, "500", dur), MaxClients: 100, Resolution: res}
		}},
		{"closed max rps", func(res time.Duration) Load {
			return Closed{Clients: 20, Duration: dur, MaxRPS: perSecond, Resolution: res}
		}},
	} {
		for _, res := range []time.Duration{0, 20 * time.Millisecond} {
			t.Run(tc.name+"/"+res.String(), func(t *testing.T) {
				sc := &startLog{}
				l := tc.load(res)
				r, _ := run(t, transport{"net/http", true}, Config{Load: l, Work: Plan{Scenario: sc}})
				starts := sc.starts
				steps := int(dur / max(res, time.Millisecond)) // for a Resolution
				w := wakeups(starts, gap)
				t.Logf("%d starts, %d dropped, %d wake-ups (%d steps)", len(starts), r.Run.Dropped, w, steps)
				if n := int64(len(starts)); n < perSecond*95/100 || n > perSecond+1 {
					t.Errorf("%d starts in %v at %d/s", n, dur, perSecond)
				}
				if o, ok := l.(Open); ok {
					// The run's start, from the first start's due time.
					first := starts[0]
					for _, s := range starts {
						if s.seq == 0 {
							first = s
						}
					}
					off, _ := o.Rate.Offset(first.seq)
					t0 := first.intended.Add(-off)
					for _, s := range starts {
						due, _ := o.Rate.Offset(s.seq)
						if !s.intended.Equal(t0.Add(due)) {
							t.Fatalf("start %d: intended %v after the run's start, due at %v", s.seq, s.intended.Sub(t0), due)
						}
						step := due // the end of the step holding due
						if res > 0 {
							step = (due + res - 1) / res * res
						}
						if s.actual.Before(t0.Add(step)) {
							t.Fatalf("start %d due at %v began at %v, before its step's end %v",
								s.seq, due, s.actual.Sub(t0), step)
						}
						if late := s.actual.Sub(s.intended); late > res+slack {
							t.Errorf("start %d began %v after its intended time, want <= %v + %v", s.seq, late, res, slack)
						}
					}
				}
				if res > 0 {
					// One wake-up per step; a loaded machine may split one.
					if w > steps*3/2+5 {
						t.Errorf("%d wake-ups for %d starts, want about one per %v step (%d)", w, len(starts), res, steps)
					}
				} else if w < len(starts)/4 {
					t.Errorf("%d wake-ups for %d starts 2 ms apart without a Resolution: want about one each", w, len(starts))
				}
			})
		}
	}
}
