package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// partScenario is one part of a plan of several: the plan has names
// request names, and this part's clients record only the ones in its own.
type partScenario struct {
	names []string
	own   []int
}

func (s *partScenario) Names() []string      { return s.names }
func (s *partScenario) CheckNames() []string { return nil }
func (s *partScenario) NewClient(int, *metrics.Recorder, func()) ScenarioClient {
	panic("unused")
}

type partClient struct {
	rec *metrics.Recorder
	own []int
}

func (c partClient) Iterate(context.Context, int64, time.Time) bool {
	for _, i := range c.own {
		c.rec.Record(i, metrics.Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 200})
	}
	return true
}

type partScenarioOf struct{ *partScenario }

func (s partScenarioOf) NewClient(_ int, rec *metrics.Recorder, _ func()) ScenarioClient {
	return partClient{rec: rec, own: s.own}
}

// statsBytes is what one metrics.Stats holds (two full HDR histograms).
func statsBytes() uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := metrics.NewStats()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPartsMemory: a plan of parts parts, each recording its own two of
// the plan's request names, allocates Stats for what the parts record and
// for the plan's names once (the whole run's and the interval's, by name),
// not one Stats per name of the whole plan in every part. A Stats is two
// HDR histograms, ~374 KiB: a plan of 16 scenarios and 32 requests would
// otherwise take 190 MB before its first request.
func TestPartsMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const parts, perPart = 8, 2
	names := make([]string, parts*perPart)
	for i := range names {
		names[i] = fmt.Sprintf("request %d", i)
	}
	var w Parts
	for p := range parts {
		sc := &partScenario{names: names, own: []int{perPart * p, perPart*p + 1}}
		w.Parts = append(w.Parts, Part{Load: Closed{Clients: 1, Iterations: 3}, Scenario: partScenarioOf{sc}, After: -1})
	}
	cfg := Config{Work: w}
	one := statsBytes()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := Run(context.Background(), cfg)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Run.Total.Requests, int64(parts*perPart*3); got != want {
		t.Fatalf("%d requests, want %d", got, want)
	}
	for i, s := range res.Run.ByName {
		if s.Requests != 3 {
			t.Errorf("%s: %d requests, want 3", names[i], s.Requests)
		}
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	// The collector: a Stats per name for the run and for the interval,
	// and two across names; the parts: one per name they record.
	need := uint64(2*len(names)+2) + parts*perPart
	t.Logf("%d parts x %d names: %d bytes allocated = %.1f Stats of %d bytes (need %d; one per name per part would be %d more)",
		parts, len(names), allocated, float64(allocated)/float64(one), one, need, parts*(len(names)-perPart))
	if bound := (need + 4) * one; allocated > bound {
		t.Errorf("the run allocated %d bytes, want <= %d: %d Stats of %d bytes", allocated, bound, need+4, one)
	}
}
