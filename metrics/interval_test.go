package metrics

import (
	"testing"
	"time"
)

// TestMergedSnapshotDrops: starts a worker dropped reach the interval's
// point and the run's total when its snapshot is merged.
func TestMergedSnapshotDrops(t *testing.T) {
	rec := NewRecorder(1)
	c := NewCollector([]string{"r"}, []*Recorder{rec})
	rec.Drop(2)
	if err := rec.MergeSnapshot(&Snapshot{Interval: 1, Dropped: 5}); err != nil {
		t.Fatal(err)
	}
	p := c.Tick(time.Second, 0)
	if p.Dropped != 7 || c.Run().Dropped != 7 {
		t.Errorf("point dropped %d, run dropped %d; want 2 local + 5 merged", p.Dropped, c.Run().Dropped)
	}
}

// TestPointMax: an interval's max is its slowest request, however rare.
func TestPointMax(t *testing.T) {
	rec := NewRecorder(1)
	c := NewCollector([]string{"r"}, []*Recorder{rec})
	for range 5000 {
		rec.Record(0, Outcome{Latency: time.Millisecond, Status: 200})
	}
	rec.Record(0, Outcome{Latency: 5 * time.Second, Status: 200})
	p := c.Tick(time.Second, 0)
	if p.Max < 4990*time.Millisecond || p.Max > 5010*time.Millisecond {
		t.Errorf("max %v, want the one 5s request", p.Max)
	}
}
