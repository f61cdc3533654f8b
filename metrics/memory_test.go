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

// TestRecorderMemory: a Recorder holds a Stats (~374 KiB) only for the
// names it records, whether recorded here or merged from a worker's
// snapshot, where most names of a plan of parts are empty.
func TestRecorderMemory(t *testing.T) {
	one := allocated(func() { NewStats() })
	const names = 64
	o := Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 200}
	empty := make([]*Stats, names)
	for i := range empty {
		empty[i] = NewStats()
	}
	full := append([]*Stats(nil), empty...)
	full[5] = NewStats()
	full[5].Record(o)
	// A worker's snapshot crosses the wire: decoding makes no histograms
	// for the names it has nothing of.
	wire, err := (&Snapshot{Stats: empty}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    func(r *Recorder)
		want uint64 // Stats made
	}{
		{"new", func(*Recorder) {}, 0},
		{"one name recorded", func(r *Recorder) { r.Record(7, o); r.Record(7, o) }, 1},
		{"empty snapshot merged", func(r *Recorder) { r.MergeSnapshot(&Snapshot{Stats: empty}) }, 0},
		{"one name merged", func(r *Recorder) { r.MergeSnapshot(&Snapshot{Stats: full}) }, 1},
		{"empty snapshot decoded and merged", func(r *Recorder) { r.MergeSnapshot(decoded(wire)) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Recorder
			got := allocated(func() { r = NewRecorder(names); tt.f(r) })
			if lo, hi := tt.want*one, tt.want*one+one/8; got < lo || got > hi {
				t.Errorf("allocated %d bytes, want %d Stats (%d bytes each)", got, tt.want, one)
			}
		})
	}

	// What it holds flushes as if every name had its Stats from the start.
	r := NewRecorder(names)
	r.Record(7, o)
	r.MergeSnapshot(&Snapshot{Stats: full})
	dst := make([]*Stats, names)
	for i := range dst {
		dst[i] = NewStats()
	}
	r.flushInto(dst)
	for i, s := range dst {
		want := int64(0)
		if i == 5 || i == 7 {
			want = 1
		}
		if s.Requests != want || s.Latency.TotalCount() != want || s.Status[200] != want {
			t.Errorf("name %d: %d requests, %d latencies, want %d", i, s.Requests, s.Latency.TotalCount(), want)
		}
	}
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func decoded(b []byte) *Snapshot {
	var s Snapshot
	if err := s.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	return &s
}
