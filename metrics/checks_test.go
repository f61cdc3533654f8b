package metrics

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestChecksCounted: check results recorded on any recorder, or merged from
// a worker's snapshot, reach the interval's counts and the whole run's, once
// each, and an interval starts from zero.
func TestChecksCounted(t *testing.T) {
	a := NewRecorder(1).WithChecks(2)
	b := NewRecorder(1).WithChecks(2)
	c := NewCollector([]string{"r"}, []*Recorder{a, b})
	c.SetChecks([]string{"status 200", "has id"})

	for range 3 {
		a.Check(0, true)
	}
	a.Check(0, false)
	b.Check(1, false)
	b.Check(1, false)
	if err := b.MergeSnapshot(&Snapshot{Checks: [][2]int64{{10, 1}, {0, 4}}}); err != nil {
		t.Fatal(err)
	}
	c.Tick(time.Second, 0)
	if got, want := c.IntervalChecks(), [][2]int64{{13, 2}, {0, 6}}; !equalChecks(got, want) {
		t.Errorf("interval 1 checks %v, want %v", got, want)
	}

	b.Check(0, true)
	c.Tick(2*time.Second, 0)
	if got, want := c.IntervalChecks(), [][2]int64{{1, 0}, {0, 0}}; !equalChecks(got, want) {
		t.Errorf("interval 2 checks %v, want %v (the first interval's must not carry over)", got, want)
	}
	run := c.Run()
	if got, want := run.Checks, [][2]int64{{14, 2}, {0, 6}}; !equalChecks(got, want) {
		t.Errorf("run checks %v, want %v", got, want)
	}
	if len(run.CheckNames) != 2 || run.CheckNames[1] != "has id" {
		t.Errorf("check names %q", run.CheckNames)
	}

	// A snapshot with more checks than the recorder knows is refused whole.
	if err := a.MergeSnapshot(&Snapshot{Checks: make([][2]int64, 3)}); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("3 checks into 2: err = %v, want ErrBadSnapshot", err)
	}
}

func equalChecks(a, b [][2]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLatencyClamped: a latency outside the histogram's range (a clock step
// backwards, a request that took over an hour) is recorded at the nearest
// end of the range, never dropped and never wrapped.
func TestLatencyClamped(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int64 // µs, within the histogram's 3 significant digits
	}{
		{"negative", -time.Second, 0},
		{"zero", 0, 0},
		{"one hour", time.Hour, highestUS},
		{"two hours", 2 * time.Hour, highestUS},
		{"a year", 365 * 24 * time.Hour, highestUS},
	}
	if highestUS != 3_600_000_000 {
		t.Fatalf("histogram top %d µs, want one hour", highestUS)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStats()
			s.Record(Outcome{Latency: tt.in, Service: tt.in, Status: 200})
			for _, h := range []struct {
				name string
				max  int64
				n    int64
			}{{"latency", s.Latency.Max(), s.Latency.TotalCount()}, {"service", s.Service.Max(), s.Service.TotalCount()}} {
				if h.n != 1 {
					t.Errorf("%s: %d samples, want 1", h.name, h.n)
				}
				if !s.Latency.ValuesAreEquivalent(h.max, tt.want) {
					t.Errorf("%s: max %d µs, want %d", h.name, h.max, tt.want)
				}
			}
		})
	}
}

// TestSnapshotPartialStats: a snapshot whose stats carry only a service-time
// histogram (a sender that had no latency to report) still delivers it.
func TestSnapshotPartialStats(t *testing.T) {
	st := NewStats()
	st.Record(Outcome{Latency: time.Millisecond, Service: 7 * time.Millisecond, Status: 200})
	enc, err := st.Service.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(`{"interval":1,"stats":[{"requests":1,"service":"` + base64.StdEncoding.EncodeToString(enc) + `"}]}`)
	var s Snapshot
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	got := s.Stats[0]
	if got.Latency.TotalCount() != 0 || got.Service.TotalCount() != 1 || !got.Service.ValuesAreEquivalent(got.Service.Max(), 7000) {
		t.Errorf("latency %d samples, service %d samples (max %d µs); want 0 and 1 of 7000",
			got.Latency.TotalCount(), got.Service.TotalCount(), got.Service.Max())
	}
}
