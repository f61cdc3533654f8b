package metrics

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestWindowMergesExactly: the window's merge of its last k intervals is the
// histogram of exactly those requests — equal, bucket for bucket, to
// recording them into one Stats — and older intervals fall out.
func TestWindowMergesExactly(t *testing.T) {
	const names, intervals, size = 3, 7, 4
	rng := rand.New(rand.NewPCG(1, 2))
	col := NewCollector([]string{"a", "b", "c"}, []*Recorder{NewRecorder(names).WithChecks(2)})
	col.SetChecks([]string{"x", "y"})
	rec := col.recs[0]
	win := NewWindow(size)
	// want[i][name] holds interval i's requests of a name, recorded directly.
	var want [][names]*Stats
	for i := range intervals {
		var direct [names]*Stats
		for n := range names {
			direct[n] = NewStats()
			for range 50 + rng.IntN(200) {
				o := Outcome{Latency: time.Duration(1+rng.IntN(2_000_000)) * time.Microsecond, Status: 200}
				if rng.IntN(10) == 0 {
					o.Status = 503
				}
				rec.Record(n, o)
				direct[n].Record(o)
			}
		}
		rec.Check(0, true)
		rec.Check(1, i%2 == 0)
		rec.Drop(int64(i))
		want = append(want, direct)
		p := col.Tick(time.Duration(i+1)*time.Second, 0)
		win.Add(p, col.Run().Interval, col.Run().IntervalChecks)
	}
	if win.Len() != size {
		t.Fatalf("Len %d, want %d", win.Len(), size)
	}
	tests := []struct {
		name  string
		k     int
		names []int
	}{
		{"all names, whole window", size, nil},
		{"all names, last 2", 2, nil},
		{"one name, last 3", 3, []int{1}},
		{"two names, last 1", 1, []int{0, 2}},
		{"k beyond the window", size + 3, []int{2}},
		{"no names", size, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := NewStats()
			k := min(tt.k, size)
			var dropped int64
			for i := intervals - k; i < intervals; i++ {
				ns := tt.names
				if ns == nil {
					ns = []int{0, 1, 2}
				}
				for _, n := range ns {
					exp.Merge(want[i][n])
				}
				dropped += int64(i)
			}
			got := win.Merged(tt.k, tt.names)
			if got.Requests != exp.Requests || got.Failed != exp.Failed {
				t.Errorf("requests %d failed %d, want %d %d", got.Requests, got.Failed, exp.Requests, exp.Failed)
			}
			if !got.Latency.Equals(exp.Latency) {
				t.Errorf("latency histogram differs: p99 %d vs %d, count %d vs %d",
					got.Latency.ValueAtPercentile(99), exp.Latency.ValueAtPercentile(99), got.Latency.TotalCount(), exp.Latency.TotalCount())
			}
			if d := win.Dropped(tt.k); d != dropped {
				t.Errorf("dropped %d, want %d", d, dropped)
			}
			if s := win.Span(tt.k); s != time.Duration(k)*time.Second {
				t.Errorf("span %v, want %ds", s, k)
			}
		})
	}
	// Checks: check 0 passes every interval; check 1 passes on even ones.
	// The last 3 intervals are 4, 5, 6.
	if c := win.Checks(3, nil); c != [2]int64{3 + 2, 1} {
		t.Errorf("checks of the last 3 intervals %v, want [5 1]", c)
	}
	if c := win.Checks(3, []int{1}); c != [2]int64{2, 1} {
		t.Errorf("check 1 over the last 3 intervals %v, want [2 1]", c)
	}
}

// TestWindowSparse: a Window keeps only the non-empty buckets, so a long
// window of a quiet run stays small.
func TestWindowSparse(t *testing.T) {
	st := NewStats()
	for _, ms := range []int{1, 1, 5, 900} {
		st.Record(Outcome{Latency: time.Duration(ms) * time.Millisecond, Status: 200})
	}
	w := NewWindow(2)
	w.Add(Point{Span: time.Second}, []*Stats{st, nil}, nil)
	if n := len(w.slots[0].names[0].latency); n != 3 {
		t.Errorf("%d buckets kept, want 3 (1ms twice, 5ms, 900ms)", n)
	}
	if got := w.Merged(1, nil); got.Requests != 4 || got.Latency.Max() != st.Latency.Max() || got.Latency.Min() != st.Latency.Min() {
		t.Errorf("merged %d requests, min %d max %d; want 4, %d, %d", got.Requests, got.Latency.Min(), got.Latency.Max(), st.Latency.Min(), st.Latency.Max())
	}
}
