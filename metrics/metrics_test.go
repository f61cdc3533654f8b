package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestStatsRecord(t *testing.T) {
	tests := []struct {
		name       string
		o          Outcome
		failed     int64
		status     int       // index into Status that must be 1 (-1: none)
		err        ErrorKind // kind that must be 1 (ErrNone: none)
		latencyMax int64     // µs recorded in Latency
	}{
		{"ok", Outcome{Latency: time.Millisecond, Status: 200}, 0, 200, ErrNone, 1000},
		{"redirect", Outcome{Latency: time.Millisecond, Status: 301}, 0, 301, ErrNone, 1000},
		{"client error", Outcome{Latency: 2 * time.Millisecond, Status: 404}, 1, 404, ErrNone, 2000},
		{"server error", Outcome{Latency: 3 * time.Millisecond, Status: 599}, 1, 599, ErrNone, 3000},
		{"status 0 without error", Outcome{Latency: time.Millisecond}, 1, 0, ErrNone, 1000},
		{"status below 100", Outcome{Latency: time.Millisecond, Status: 99}, 1, 0, ErrNone, 1000},
		{"status 600", Outcome{Latency: time.Millisecond, Status: 600}, 1, 0, ErrNone, 1000},
		{"negative status", Outcome{Latency: time.Millisecond, Status: -1}, 1, 0, ErrNone, 1000},
		{"timeout", Outcome{Latency: 5 * time.Second, Err: ErrTimeout}, 1, -1, ErrTimeout, 5_000_000},
		{"error ignores status", Outcome{Latency: time.Millisecond, Status: 200, Err: ErrReset}, 1, -1, ErrReset, 1000},
		{"negative latency", Outcome{Latency: -time.Second, Status: 200}, 0, 200, ErrNone, 0},
		{"sub-microsecond latency", Outcome{Latency: 999, Status: 200}, 0, 200, ErrNone, 0},
		{"latency beyond an hour", Outcome{Latency: 2 * time.Hour, Status: 200}, 0, 200, ErrNone, highestUS},
		{"retry answered", Outcome{Latency: time.Millisecond, Status: 200, Retry: true}, 0, 200, ErrNone, 1000},
		{"retry failed", Outcome{Latency: time.Millisecond, Err: ErrReset, Retry: true}, 1, -1, ErrReset, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.BytesIn, tt.o.BytesOut, tt.o.Service = 300, 40, tt.o.Latency
			s := NewStats()
			s.Record(tt.o)
			if s.Requests != 1 || s.Failed != tt.failed || s.BytesIn != 300 || s.BytesOut != 40 {
				t.Errorf("requests %d failed %d in %d out %d, want 1 %d 300 40",
					s.Requests, s.Failed, s.BytesIn, s.BytesOut, tt.failed)
			}
			// A retry is one request, and counted as retried as well.
			if want := map[bool]int64{true: 1}[tt.o.Retry]; s.Retried != want {
				t.Errorf("retried %d, want %d", s.Retried, want)
			}
			var want [MaxStatus]int64
			if tt.status >= 0 {
				want[tt.status] = 1
			}
			if s.Status != want {
				t.Errorf("status counts differ; want only [%d] = 1", tt.status)
			}
			var wantErr [NumErrorKinds]int64
			if tt.err != ErrNone {
				wantErr[tt.err] = 1
			}
			if s.Errors != wantErr {
				t.Errorf("errors = %v, want %v", s.Errors, wantErr)
			}
			if got, want := s.TransportErrors(), min(int64(tt.err), 1); got != want {
				t.Errorf("TransportErrors = %d, want %d", got, want)
			}
			for _, h := range []struct {
				name string
				n    int64
				max  int64
			}{{"latency", s.Latency.TotalCount(), s.Latency.Max()}, {"service", s.Service.TotalCount(), s.Service.Max()}} {
				if h.n != 1 || !s.Latency.ValuesAreEquivalent(h.max, tt.latencyMax) {
					t.Errorf("%s: count %d max %d, want 1 and ~%d", h.name, h.n, h.max, tt.latencyMax)
				}
			}
		})
	}
}

// statsOf records outcomes into fresh Stats.
func statsOf(outs ...Outcome) *Stats {
	s := NewStats()
	for _, o := range outs {
		s.Record(o)
	}
	return s
}

// sameStats reports how a and b differ, or "" when they are equal.
func sameStats(a, b *Stats) string {
	switch {
	case a.Requests != b.Requests, a.Failed != b.Failed, a.Retried != b.Retried:
		return fmt.Sprintf("requests/failed/retried %d/%d/%d vs %d/%d/%d", a.Requests, a.Failed, a.Retried, b.Requests, b.Failed, b.Retried)
	case a.BytesIn != b.BytesIn, a.BytesOut != b.BytesOut:
		return fmt.Sprintf("bytes %d/%d vs %d/%d", a.BytesIn, a.BytesOut, b.BytesIn, b.BytesOut)
	case a.Status != b.Status:
		return "status counts differ"
	case a.Errors != b.Errors:
		return fmt.Sprintf("errors %v vs %v", a.Errors, b.Errors)
	case !a.Latency.Equals(b.Latency):
		return "latency histograms differ"
	case !a.Service.Equals(b.Service):
		return "service histograms differ"
	}
	return ""
}

func TestStatsMerge(t *testing.T) {
	ok := Outcome{Latency: time.Millisecond, Service: time.Millisecond / 2, Status: 200, BytesIn: 100, BytesOut: 10}
	bad := Outcome{Latency: 40 * time.Millisecond, Service: 30 * time.Millisecond, Status: 503, BytesIn: 50, BytesOut: 10, Retry: true}
	slow := Outcome{Latency: 5 * time.Second, Service: 5 * time.Second, Err: ErrTimeout, BytesOut: 10}
	tests := []struct {
		name string
		a, b []Outcome
	}{
		{"both empty", nil, nil},
		{"into empty", nil, []Outcome{ok, bad}},
		{"from empty", []Outcome{ok, slow}, nil},
		{"disjoint", []Outcome{ok, ok}, []Outcome{bad, slow}},
		{"overlapping", []Outcome{ok, bad, slow}, []Outcome{ok, bad, slow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statsOf(tt.a...)
			got.Merge(statsOf(tt.b...))
			want := statsOf(append(append([]Outcome(nil), tt.a...), tt.b...)...)
			if d := sameStats(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestStatsResetClone(t *testing.T) {
	tests := []struct {
		name string
		do   func(s *Stats) *Stats // returns the Stats that must equal want
		want *Stats
	}{
		{"reset empties", func(s *Stats) *Stats { s.Reset(); return s }, NewStats()},
		{"clone is deep", func(s *Stats) *Stats {
			c := s.Clone()
			s.Record(Outcome{Latency: time.Second, Status: 500})
			return c
		}, statsOf(Outcome{Latency: time.Millisecond, Status: 200}, Outcome{Err: ErrDNS, Retry: true})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := statsOf(Outcome{Latency: time.Millisecond, Status: 200}, Outcome{Err: ErrDNS, Retry: true})
			if d := sameStats(tt.do(s), tt.want); d != "" {
				t.Error(d)
			}
		})
	}
}

// randomOutcome draws latencies log-uniformly from 1 µs to ~3 h (so some
// clamp), with a mix of statuses, invalid codes and errors.
func randomOutcome(r *rand.Rand) Outcome {
	statuses := [...]int{200, 200, 200, 201, 204, 301, 404, 429, 500, 503, 0, 42, 700}
	lat := time.Duration(math.Exp(r.Float64() * math.Log(1e13)))
	o := Outcome{
		Latency:  lat,
		Service:  time.Duration(r.Int64N(int64(lat) + 1)),
		Status:   statuses[r.IntN(len(statuses))],
		BytesIn:  r.Int64N(1 << 20),
		BytesOut: r.Int64N(1 << 10),
	}
	if r.IntN(20) == 0 {
		o.Err = ErrorKind(1 + r.IntN(int(NumErrorKinds)-1))
		o.Status = 0
	}
	o.Retry = r.IntN(10) == 0
	return o
}

// TestMergeProperty: however the outcomes are split over Stats, and in
// whatever order the parts are merged, the result is exactly the Stats of
// recording them all in one place. This is what lets one event loop, many
// event loops and many workers report the same numbers.
func TestMergeProperty(t *testing.T) {
	const n = 100_000
	r := rand.New(rand.NewPCG(1, 2))
	outcomes := make([]Outcome, n)
	all := NewStats()
	for i := range outcomes {
		outcomes[i] = randomOutcome(r)
		all.Record(outcomes[i])
	}
	for parts := 1; parts <= 16; parts++ {
		t.Run(fmt.Sprintf("%d parts", parts), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(parts), 3))
			split := make([]*Stats, parts)
			for i := range split {
				split[i] = NewStats()
			}
			for _, o := range outcomes {
				split[r.IntN(parts)].Record(o)
			}
			r.Shuffle(parts, func(i, j int) { split[i], split[j] = split[j], split[i] })
			merged := NewStats()
			for _, s := range split {
				merged.Merge(s)
			}
			if d := sameStats(merged, all); d != "" {
				t.Fatal(d)
			}
			for _, p := range []float64{0, 50, 90, 99, 99.9, 100} {
				if g, w := Percentile(merged.Latency, p), Percentile(all.Latency, p); g != w {
					t.Errorf("p%v = %v, want %v", p, g, w)
				}
			}
		})
	}
}

func TestCollector(t *testing.T) {
	names := []string{"home", "login"}
	r1, r2 := NewRecorder(len(names)), NewRecorder(len(names))
	c := NewCollector(names, []*Recorder{r1, r2})
	// Latencies below 2048 µs are exact in the histogram (3 significant digits).
	ok := func(us int) Outcome {
		return Outcome{Latency: time.Duration(us) * time.Microsecond, Status: 200, BytesIn: 10, BytesOut: 1}
	}

	// Interval 1: 3 home on r1, 1 failing login on r2, 2 drops.
	for range 3 {
		r1.Record(0, ok(1000))
	}
	r2.Lock()
	r2.RecordLocked(1, Outcome{Latency: time.Second, Err: ErrTimeout})
	r2.DropLocked(2)
	r2.Unlock()
	p1 := c.Tick(time.Second, 5)

	// Interval 2 (half a second): 2 home on r2, 4 login on r1, 1 drop.
	r2.Record(0, ok(1500))
	r2.Record(0, ok(1500))
	for range 4 {
		r1.Record(1, ok(1900))
	}
	r1.Drop(1)
	p2 := c.Tick(1500*time.Millisecond, 8)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"p1 requests", p1.Requests, int64(4)},
		{"p1 failed", p1.Failed, int64(1)},
		{"p1 timeouts", p1.Errors[ErrTimeout], int64(1)},
		{"p1 dropped", p1.Dropped, int64(2)},
		{"p1 clients", p1.Clients, 5},
		{"p1 span", p1.Span, time.Second},
		{"p1 rps", p1.RPS(), 4.0},
		{"p1 p50", p1.P50, time.Millisecond},
		{"p1 bytes in", p1.BytesIn, int64(30)},
		{"p2 requests", p2.Requests, int64(6)},
		{"p2 failed", p2.Failed, int64(0)},
		{"p2 dropped", p2.Dropped, int64(1)},
		{"p2 span", p2.Span, 500 * time.Millisecond},
		{"p2 rps", p2.RPS(), 12.0},
		{"p2 p50", p2.P50, 1900 * time.Microsecond},
		{"p2 max", p2.Max, 1900 * time.Microsecond},
		{"timeline length", len(c.Run().Timeline), 2},
		{"total requests", c.Run().Total.Requests, p1.Requests + p2.Requests},
		{"total failed", c.Run().Total.Failed, p1.Failed + p2.Failed},
		{"total bytes in", c.Run().Total.BytesIn, p1.BytesIn + p2.BytesIn},
		{"total bytes out", c.Run().Total.BytesOut, p1.BytesOut + p2.BytesOut},
		{"total dropped", c.Run().Dropped, p1.Dropped + p2.Dropped},
		{"total histogram", c.Run().Total.Latency.TotalCount(), int64(10)},
		{"home requests", c.Run().ByName[0].Requests, int64(5)},
		{"login requests", c.Run().ByName[1].Requests, int64(5)},
		{"login failed", c.Run().ByName[1].Failed, int64(1)},
		{"names", fmt.Sprint(c.Run().Names), "[home login]"},
		{"zero span rps", Point{Requests: 5}.RPS(), 0.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}

	t.Run("by name merges to total", func(t *testing.T) {
		sum := NewStats()
		for _, s := range c.Run().ByName {
			sum.Merge(s)
		}
		if d := sameStats(sum, c.Run().Total); d != "" {
			t.Error(d)
		}
	})
	t.Run("an empty tick", func(t *testing.T) {
		p := c.Tick(2500*time.Millisecond, 0)
		if p.Requests != 0 || p.P99 != 0 || p.Max != 0 || p.Dropped != 0 {
			t.Errorf("empty interval gave %+v", p)
		}
	})
}

func TestErrorKindString(t *testing.T) {
	tests := []struct {
		k    ErrorKind
		want string
	}{
		{ErrTimeout, "timeout"}, {ErrRefused, "refused"}, {ErrReset, "reset"}, {ErrDNS, "dns"},
		{ErrTLS, "tls"}, {ErrBodyRead, "body_read"}, {ErrOther, "other"}, {NumErrorKinds + 3, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.k.String(); got != tt.want {
				t.Errorf("%d.String() = %q, want %q", tt.k, got, tt.want)
			}
		})
	}
}

// TestRecordAllocs proves the hot path allocates nothing per request.
func TestRecordAllocs(t *testing.T) {
	o := Outcome{Latency: 1234 * time.Microsecond, Service: time.Millisecond, Status: 200, BytesIn: 512, BytesOut: 64}
	e := Outcome{Latency: 3 * time.Hour, Err: ErrTimeout}
	w := Outcome{Latency: time.Millisecond, Err: ErrReset, MsgsIn: 3, MsgsOut: 1, Close: 1008}
	s := NewStats()
	ws := NewStats()
	rec := NewRecorder(2)
	tests := []struct {
		name string
		f    func()
	}{
		{"Stats.Record", func() { s.Record(o) }},
		{"Stats.Record error clamped", func() { s.Record(e) }},
		{"Recorder.Record", func() { rec.Record(1, o) }},
		{"Recorder.RecordLocked", func() { rec.Lock(); rec.RecordLocked(0, e); rec.DropLocked(1); rec.Unlock() }},
		{"Recorder.Drop", func() { rec.Drop(1) }},
		// A close code's map is made once per Stats, and kept by Reset.
		{"Stats.Record WebSocket close after Reset", func() { ws.Record(w); ws.Reset() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
}

func BenchmarkRecord(b *testing.B) {
	outcomes := make([]Outcome, 1024)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range outcomes {
		outcomes[i] = randomOutcome(r)
	}
	b.Run("Stats", func(b *testing.B) {
		s := NewStats()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Record(outcomes[i&1023])
		}
	})
	b.Run("Recorder", func(b *testing.B) {
		rec := NewRecorder(1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rec.Record(0, outcomes[i&1023])
		}
	})
	b.Run("RecorderParallel", func(b *testing.B) {
		rec := NewRecorder(1)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				rec.Record(0, outcomes[i&1023])
			}
		})
	})
}
