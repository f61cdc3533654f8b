package metrics

import (
	"testing"
	"time"
)

// TestConnects: new connections are counted per interval and for the run,
// and cross the wire in snapshots, so a distributed run's timeline has its
// workers' connects.
func TestConnects(t *testing.T) {
	rec := NewRecorder(1)
	col := NewCollector([]string{"GET /"}, []*Recorder{rec})
	rec.Connect()
	rec.Lock()
	rec.ConnectLocked()
	rec.ConnectLocked()
	rec.Unlock()
	if p := col.Tick(time.Second, 1); p.Connects != 3 {
		t.Fatalf("first interval: %d connects, want 3", p.Connects)
	}

	worker := &Snapshot{Interval: 2, Connects: 5, Stats: []*Stats{nil}}
	b, err := worker.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Snapshot
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Connects != 5 {
		t.Fatalf("decoded %d connects, want 5", got.Connects)
	}
	if err := rec.MergeSnapshot(&got); err != nil {
		t.Fatal(err)
	}
	rec.Connect()
	if p := col.Tick(2*time.Second, 1); p.Connects != 6 {
		t.Fatalf("second interval: %d connects, want 6 (5 merged + 1)", p.Connects)
	}
	if p := col.Tick(3*time.Second, 1); p.Connects != 0 {
		t.Fatalf("third interval: %d connects, want 0 (each interval resets)", p.Connects)
	}
	if n := col.Run().Connects; n != 9 {
		t.Fatalf("run: %d connects, want 9", n)
	}

	// A worker that predates connects sends none: 0.
	var old Snapshot
	if err := old.UnmarshalBinary([]byte(`{"interval":1,"stats":[],"dropped":0,"clients":0}`)); err != nil || old.Connects != 0 {
		t.Fatalf("old snapshot: %v, connects %d", err, old.Connects)
	}
}
