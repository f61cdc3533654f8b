package metrics

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSnapshotMergeProperty: a million samples split at random over 1–64
// workers, each sending its share as encoded snapshots, merge in any order
// into exactly the histogram of recording them all in one process.
func TestSnapshotMergeProperty(t *testing.T) {
	const samples = 1_000_000
	r := rand.New(rand.NewPCG(7, 11))
	outcomes := make([]Outcome, samples)
	for i := range outcomes {
		// Log-uniform latencies from 1µs to ~10s, a few errors.
		lat := time.Duration(float64(time.Microsecond) * pow10(r.Float64()*7))
		o := Outcome{Latency: lat, Service: lat / 2, Status: 200, BytesIn: int64(r.IntN(5000)), BytesOut: 80}
		if r.IntN(100) == 0 {
			o.Status, o.Err = 0, ErrorKind(1+r.IntN(int(NumErrorKinds)-1))
		}
		o.Retry = r.IntN(50) == 0
		outcomes[i] = o
	}
	single := NewStats()
	for _, o := range outcomes {
		single.Record(o)
	}
	for _, workers := range []int{1, 2, 7, 64} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			shares := make([]*Stats, workers)
			for i := range shares {
				shares[i] = NewStats()
			}
			for _, o := range outcomes {
				shares[r.IntN(workers)].Record(o)
			}
			rec := NewRecorder(1)
			for _, i := range r.Perm(workers) { // any order
				b, err := (&Snapshot{Interval: 1, Stats: []*Stats{shares[i]}}).MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				var s Snapshot
				if err := s.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				if err := rec.MergeSnapshot(&s); err != nil {
					t.Fatal(err)
				}
			}
			col := NewCollector([]string{"x"}, []*Recorder{rec})
			col.Tick(time.Second, 0)
			got := col.Run().Total
			if !got.Latency.Equals(single.Latency) || !got.Service.Equals(single.Service) {
				t.Fatalf("merged histograms differ: p99 %d vs %d", got.Latency.ValueAtPercentile(99), single.Latency.ValueAtPercentile(99))
			}
			if got.Requests != single.Requests || got.Failed != single.Failed || got.Retried != single.Retried || got.BytesIn != single.BytesIn ||
				got.Errors != single.Errors || got.Status != single.Status {
				t.Fatalf("merged counters differ: %d/%d requests, %d/%d failed", got.Requests, single.Requests, got.Failed, single.Failed)
			}
		})
	}
}

func pow10(x float64) float64 {
	v := 1.0
	for ; x >= 1; x-- {
		v *= 10
	}
	// fractional part by linear interpolation is enough for a spread
	return v * (1 + 9*x)
}

func TestSnapshotRoundTrip(t *testing.T) {
	st := NewStats()
	st.Record(Outcome{Latency: 3 * time.Millisecond, Service: time.Millisecond, Status: 201, BytesIn: 10, BytesOut: 5})
	st.Record(Outcome{Latency: time.Second, Err: ErrTimeout})
	st.Record(Outcome{Latency: time.Second, Status: 200, Retry: true})
	in := &Snapshot{Interval: 3, Stats: []*Stats{st, NewStats()}, Dropped: 4, Clients: 9, Checks: [][2]int64{{5, 1}}, Final: true}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out Snapshot
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out.Interval != 3 || out.Dropped != 4 || out.Clients != 9 || !out.Final || len(out.Stats) != 2 || out.Checks[0] != [2]int64{5, 1} {
		t.Fatalf("round trip: %+v", out)
	}
	if out.Stats[1] != nil {
		t.Error("an empty name decodes as Stats with histograms, want nil")
	}
	a, c := in.Stats[0], out.Stats[0]
	if a.Requests != c.Requests || a.Retried != c.Retried || a.Retried != 1 || a.Status != c.Status || a.Errors != c.Errors || !a.Latency.Equals(c.Latency) || !a.Service.Equals(c.Service) {
		t.Fatal("stats differ after the round trip")
	}
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"not json", "{"},
		{"bad histogram", `{"interval":1,"stats":[{"latency":"AAAA"}]}`},
		{"status out of range", `{"interval":1,"stats":[{"status":{"900":1}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Snapshot
			if err := s.UnmarshalBinary([]byte(tt.in)); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("err = %v, want ErrBadSnapshot", err)
			}
		})
	}
	rec := NewRecorder(1)
	if err := rec.MergeSnapshot(&Snapshot{Stats: []*Stats{NewStats(), NewStats()}}); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("too many names: err = %v", err)
	}
}

func FuzzSnapshot(f *testing.F) {
	b, _ := (&Snapshot{Interval: 1, Stats: []*Stats{NewStats()}}).MarshalBinary()
	f.Add(b)
	f.Add([]byte(`{"interval":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Snapshot
		if s.UnmarshalBinary(b) == nil {
			rec := NewRecorder(len(s.Stats))
			_ = rec.MergeSnapshot(&s)
		}
	})
}
