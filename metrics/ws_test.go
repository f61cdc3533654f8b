package metrics

import (
	"testing"
	"time"
)

// TestWebSocketSeries: messages and close codes add up by name and per
// interval; the open connections are a gauge that each tick reads across
// the sources.
func TestWebSocketSeries(t *testing.T) {
	a, b := NewRecorder(2), NewRecorder(2)
	col := NewCollector([]string{"ws /x", "ws connect /x"}, []*Recorder{a, b})
	a.OpenWS(1)
	a.OpenWS(1)
	b.OpenWS(1)
	a.Record(0, Outcome{Status: 200, MsgsIn: 3, MsgsOut: 1})
	b.Record(0, Outcome{Err: ErrReset, MsgsIn: 1, MsgsOut: 1, Close: 1008})
	p1 := col.Tick(time.Second, 3)
	for _, n := range []int64{1, 1, -1, -1} { // two short connections in the interval
		b.OpenWS(n)
	}
	a.OpenWS(-1)
	b.OpenWS(0) // a failed handshake: nothing more open
	a.Record(0, Outcome{Err: ErrReset, Close: 1001})
	p2 := col.Tick(2*time.Second, 3)
	run := col.Run()
	if !run.WebSocket {
		t.Error("run.WebSocket false after handshakes")
	}
	if p1.WSOpen != 3 || p2.WSOpen != 2 {
		t.Errorf("open at the ticks %d, %d; want 3, 2", p1.WSOpen, p2.WSOpen)
	}
	if p1.WSPeak != 3 || p2.WSPeak != 5 {
		t.Errorf("peaks in the intervals %d, %d; want 3, 2+3", p1.WSPeak, p2.WSPeak)
	}
	if p1.MsgsIn != 4 || p1.MsgsOut != 2 || p2.MsgsIn != 0 || p2.MsgsOut != 0 {
		t.Errorf("messages per interval in/out %d/%d then %d/%d; want 4/2 then 0/0", p1.MsgsIn, p1.MsgsOut, p2.MsgsIn, p2.MsgsOut)
	}
	rt := run.ByName[0]
	if rt.MsgsIn != 4 || rt.MsgsOut != 2 || rt.Closes[1008] != 1 || rt.Closes[1001] != 1 || len(rt.Closes) != 2 {
		t.Errorf("by name: in %d out %d closes %v", rt.MsgsIn, rt.MsgsOut, rt.Closes)
	}
	if run.Total.MsgsIn != 4 || run.Total.Closes[1008] != 1 {
		t.Errorf("total: in %d closes %v", run.Total.MsgsIn, run.Total.Closes)
	}
	if c := run.ByName[0].Clone(); c.Closes[1001] != 1 {
		t.Errorf("clone closes %v", c.Closes)
	} else if c.Closes[1001] = 9; run.ByName[0].Closes[1001] != 1 {
		t.Error("a clone shares its close codes with the original")
	}
}

// TestWebSocketSnapshot: a worker's messages, close codes and open
// connections cross the wire; the controller's recorders (one per worker)
// sum to the run's open connections, a worker's later snapshot replaces
// its earlier count, and a lost worker holds none.
func TestWebSocketSnapshot(t *testing.T) {
	wire := func(s *Snapshot) *Snapshot {
		t.Helper()
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var out Snapshot
		if err := out.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	st := NewStats()
	st.Record(Outcome{Err: ErrReset, MsgsIn: 5, MsgsOut: 2, Close: 4000})
	w1, w2 := NewRecorder(1), NewRecorder(1)
	col := NewCollector([]string{"ws /x"}, []*Recorder{w1, w2})
	for _, m := range []struct {
		rec *Recorder
		s   *Snapshot
	}{
		{w1, &Snapshot{Interval: 1, WS: true, WSOpen: 7, WSPeak: 9, Stats: []*Stats{st}}},
		{w1, &Snapshot{Interval: 2, WS: true, WSOpen: 4}},
		{w2, &Snapshot{Interval: 1, WS: true, WSOpen: 5}},
	} {
		if err := m.rec.MergeSnapshot(wire(m.s)); err != nil {
			t.Fatal(err)
		}
	}
	p := col.Tick(time.Second, 0)
	if !col.Run().WebSocket || p.WSOpen != 9 || p.WSPeak != 14 {
		t.Errorf("websocket %v open %d peak %d, want true, 4+5 and 9+5", col.Run().WebSocket, p.WSOpen, p.WSPeak)
	}
	got := col.Run().Total
	if got.MsgsIn != 5 || got.MsgsOut != 2 || got.Closes[4000] != 1 {
		t.Errorf("after the wire: in %d out %d closes %v", got.MsgsIn, got.MsgsOut, got.Closes)
	}
	w2.SetWS(0, 0)
	if p := col.Tick(2*time.Second, 0); p.WSOpen != 4 || p.WSPeak != 4 {
		t.Errorf("open %d peak %d after worker 2 was lost, want 4 and 4", p.WSOpen, p.WSPeak)
	}
	// An HTTP worker's snapshot says nothing of WebSocket.
	h := wire(&Snapshot{Interval: 1})
	if h.WS {
		t.Error("a snapshot without WebSocket decodes as one")
	}
	var bad Snapshot
	if err := bad.UnmarshalBinary([]byte(`{"interval":1,"stats":[{"requests":1,"closes":{"70000":1}}]}`)); err == nil {
		t.Error("a close code out of range decodes")
	}
}
