package monitor

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSchedWait(t *testing.T) {
	root := t.TempDir()
	write := func(tid, stat string) {
		d := filepath.Join(root, "7", "task", tid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "schedstat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("7", "100 1000000000 5\n")
	write("8", "100 0 5\n")
	s := NewSchedWait(root, 7, "proc.7")
	at := time.Unix(100, 0)
	s.now = func() time.Time { return at }
	if v := mustSample(t, s); len(v) != 0 {
		t.Fatalf("first sample %v, want nothing", v)
	}
	// Over 2 s: thread 7 waited 1.5 s, thread 8 0.5 s, thread 9 is new
	// (no wait to count yet): 2 s of waiting in 2 s is one thread's worth.
	write("7", "200 2500000000 9\n")
	write("8", "200 500000000 9\n")
	write("9", "200 900000000 9\n")
	at = at.Add(2 * time.Second)
	if v := mustSample(t, s); v["proc.7.cpu_wait_pct"] != 100 {
		t.Errorf("sample %v, want proc.7.cpu_wait_pct 100", v)
	}
	// Thread 8 ended: its wait goes with it, never a negative.
	os.RemoveAll(filepath.Join(root, "7", "task", "8"))
	at = at.Add(time.Second)
	if v := mustSample(t, s); v["proc.7.cpu_wait_pct"] != 0 {
		t.Errorf("sample %v, want 0", v)
	}
	if _, err := NewSchedWait(root, 99, "x").Sample(t.Context()); err == nil {
		t.Error("a missing process is no error")
	}
}
