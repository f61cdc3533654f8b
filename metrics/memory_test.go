package metrics

import (
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// TestCollectorMemoryPerSecond ticks a Collector through hours of simulated
// seconds (Tick takes the time as an argument) with outcomes in every
// interval, and bounds what each second keeps: one Point on the timeline
// (~170 bytes, up to twice that while the slice doubles). The per-interval
// histograms are reused, never kept: keeping one Stats a second (~370 KiB)
// would break the bound a thousand times over, and so would a timeline
// that grows by more than its points.
func TestCollectorMemoryPerSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("ticks two hours of intervals")
	}
	const (
		warm    = 600
		seconds = 2 * 3600
	)
	recs := []*Recorder{NewRecorder(2), NewRecorder(2)}
	c := NewCollector([]string{"GET /", "POST /login"}, recs)
	tick := func(s int) {
		for i, r := range recs {
			for k := range 5 {
				r.Record(i, Outcome{Latency: time.Duration(s%997+k) * time.Microsecond * 50, Service: time.Millisecond, Status: 200 + 300*(k%2), BytesIn: 100})
			}
		}
		c.Tick(time.Duration(s)*time.Second, 4)
	}
	s := 1
	for ; s <= warm; s++ {
		tick(s)
	}
	before := heapAfterGC()
	for ; s <= warm+seconds; s++ {
		tick(s)
	}
	after := heapAfterGC()
	run := c.Run()
	if len(run.Timeline) != warm+seconds || run.Total.Requests != int64(10*(warm+seconds)) {
		t.Fatalf("timeline %d points, %d requests; want %d and %d", len(run.Timeline), run.Total.Requests, warm+seconds, 10*(warm+seconds))
	}
	perSecond := float64(int64(after)-int64(before)) / seconds
	bound := 2.5 * float64(pointSize)
	t.Logf("heap %d -> %d bytes over %d ticks: %.0f B/s (a Point is %d B; bound %.0f)", before, after, seconds, perSecond, pointSize, bound)
	if perSecond > bound {
		t.Errorf("the collector keeps %.0f bytes per interval, want <= %.0f", perSecond, bound)
	}
}

var pointSize = int(unsafe.Sizeof(Point{}))

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
