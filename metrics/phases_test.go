package metrics

import (
	b64 "encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

// timed is an outcome with a phase breakdown: a new connection (dns,
// connect, tls, ttfb, transfer) or a reused one (ttfb, transfer).
func timed(newConn bool, d ...time.Duration) Outcome {
	o := Outcome{Latency: time.Millisecond, Service: time.Millisecond, Status: 200, NewConn: newConn}
	first := PhaseTTFB
	if newConn {
		first = PhaseDNS
	}
	for i, v := range d {
		p := first + Phase(i)
		o.Phases[p] = v
		o.Timed |= p.Bit()
	}
	return o
}

func TestPhasesRecord(t *testing.T) {
	s := NewStats()
	if s.Phases != nil {
		t.Fatal("a new Stats has phases; want none until a timed outcome")
	}
	s.Record(Outcome{Latency: time.Millisecond, Status: 200})
	if s.Phases != nil {
		t.Fatal("an untimed outcome made phases")
	}
	ms := time.Millisecond
	s.Record(timed(true, 1*ms, 2*ms, 3*ms, 4*ms, 5*ms))
	s.Record(timed(false, 40*ms, 50*ms))
	s.Record(timed(false, 40*ms, 50*ms))
	p := s.Phases
	if p.Timed != 3 || p.New != 1 {
		t.Fatalf("timed %d, new %d; want 3 and 1", p.Timed, p.New)
	}
	tests := []struct {
		ph    Phase
		count int64
		p50   time.Duration
	}{
		{PhaseDNS, 1, 1 * ms},
		{PhaseConnect, 1, 2 * ms},
		{PhaseTLS, 1, 3 * ms},
		{PhaseTTFB, 3, 40 * ms},
		{PhaseTransfer, 3, 50 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.ph.String(), func(t *testing.T) {
			got, ok := p.Percentile(tt.ph, 50)
			if !ok || p.Count(tt.ph) != tt.count {
				t.Fatalf("count %d (ok %v), want %d", p.Count(tt.ph), ok, tt.count)
			}
			if d := got - tt.p50; d < -tt.p50/50 || d > tt.p50/50 {
				t.Errorf("p50 %v, want %v within 2%%", got, tt.p50)
			}
		})
	}
	s.Reset()
	if !s.Phases.Empty() || s.Phases.Count(PhaseTTFB) != 0 {
		t.Error("Reset kept phases")
	}
}

// TestPhasesMerge: the breakdown of two sources merged, in memory or over
// the wire as a distributed run's workers send it, is the breakdown of
// all their requests recorded in one place.
func TestPhasesMerge(t *testing.T) {
	ms := time.Millisecond
	a, b, all := NewStats(), NewStats(), NewStats()
	for i := range 50 {
		o := timed(false, time.Duration(i)*ms, 3*ms)
		if i%5 == 0 {
			o = timed(true, time.Duration(i)*ms/10, ms, 2*ms, time.Duration(i)*ms, 3*ms)
		}
		all.Record(o)
		if i%2 == 0 {
			a.Record(o)
		} else {
			b.Record(o)
		}
	}
	b.Record(Outcome{Latency: ms, Status: 200}) // untimed: counts as a request, not in phases
	all.Record(Outcome{Latency: ms, Status: 200})

	wire := func(st *Stats) *Stats {
		buf, err := (&Snapshot{Stats: []*Stats{st}}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s Snapshot
		if err := s.UnmarshalBinary(buf); err != nil {
			t.Fatal(err)
		}
		return s.Stats[0]
	}
	tests := []struct {
		name string
		a, b *Stats
	}{
		{"in memory", a, b},
		{"over the wire", wire(a), wire(b)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorder(1)
			for _, st := range []*Stats{tt.a, tt.b} {
				if err := r.MergeSnapshot(&Snapshot{Stats: []*Stats{st}}); err != nil {
					t.Fatal(err)
				}
			}
			c := NewCollector([]string{"x"}, []*Recorder{r})
			c.Tick(time.Second, 1)
			got := c.Run().ByName[0].Phases
			want := all.Phases
			if got.Empty() || got.Timed != want.Timed || got.New != want.New {
				t.Fatalf("merged timed %+v, want %d timed, %d new", got, want.Timed, want.New)
			}
			for ph := range NumPhases {
				if got.Hist[ph].TotalCount() != want.Hist[ph].TotalCount() {
					t.Errorf("%s: %d merged, want %d", ph, got.Hist[ph].TotalCount(), want.Hist[ph].TotalCount())
				}
				for _, q := range []float64{50, 99, 100} {
					g, _ := got.Percentile(ph, q)
					w, _ := want.Percentile(ph, q)
					if g != w {
						t.Errorf("%s p%v: %v merged, want %v", ph, q, g, w)
					}
				}
			}
			if tot := c.Run().Total.Phases; tot.Timed != want.Timed {
				t.Errorf("total timed %d, want %d", tot.Timed, want.Timed)
			}
		})
	}
}

func TestPhasesWireRefusesBad(t *testing.T) {
	tests := []struct{ name, json string }{
		{"new above timed", `{"stats":[{"requests":1,"phases":{"timed":1,"new":2,"hist":[]}}]}`},
		{"too many phases", `{"stats":[{"requests":1,"phases":{"timed":1,"new":0,"hist":["","","","","",""]}}]}`},
		{"latency precision", `{"stats":[{"requests":1,"phases":{"timed":1,"new":0,"hist":["` + latencyHist(t) + `"]}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Snapshot
			if err := s.UnmarshalBinary([]byte(tt.json)); err == nil {
				t.Error("decoded; want an error")
			}
		})
	}
}

// latencyHist is a latency histogram (3 significant figures) as base64,
// which a phase (2) must refuse.
func latencyHist(t *testing.T) string {
	s := NewStats()
	s.Record(Outcome{Latency: time.Millisecond})
	b, err := (&Snapshot{Stats: []*Stats{s}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var w wireSnapshot
	if err := jsonUnmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return b64.StdEncoding.EncodeToString(w.Stats[0].Latency)
}

// TestPhasesMemory: the breakdown of one name stays lean next to its
// Stats, and recording it allocates nothing once made.
func TestPhasesMemory(t *testing.T) {
	stats := allocated(func() { NewStats() })
	phases := allocated(func() { newPhases() })
	t.Logf("Stats %d B, Phases %d B", stats, phases)
	if phases > stats/2 {
		t.Errorf("phases take %d B per name, want at most half a Stats (%d B)", phases, stats/2)
	}
	s := NewStats()
	o := timed(true, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond)
	s.Record(o)
	if n := testing.AllocsPerRun(1000, func() { s.Record(o) }); n != 0 {
		t.Errorf("Record with phases: %v allocations, want 0", n)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
