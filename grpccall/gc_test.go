package grpccall

import (
	"os"
	"runtime/debug"
	"testing"
)

func gcPercentNow() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestHoldGC: quick-mode gRPC clients raise the GC target while they run,
// two runs at once restore it only after both, and a user's GOGC is left
// alone.
func TestHoldGC(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the target is the user's")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	target := Target{Addr: "127.0.0.1:1"} // grpc.NewClient connects on the first call: none here
	a, b := &Quick{Target: target, Slots: 1}, &Quick{Target: target, Slots: 1}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"first run's first client", func() { _, _, _ = a.conn(0) }, gcPercent},
		{"its second client", func() { _, _, _ = a.conn(1) }, gcPercent},
		{"a second run", func() { _, _, _ = b.conn(0) }, gcPercent},
		{"the first run ends", a.CloseIdle, gcPercent},
		{"it ends twice", a.CloseIdle, gcPercent},
		{"the second ends: back to the user's", b.CloseIdle, 150},
		{"a run again", func() { _, _, _ = a.conn(0) }, gcPercent},
		{"and its end", a.CloseIdle, 150},
	}
	for _, s := range steps {
		s.do()
		if got := gcPercentNow(); got != s.want {
			t.Fatalf("%s: GC percent %d, want %d", s.name, got, s.want)
		}
	}
	t.Run("GOGC set", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		_, _, _ = a.conn(0)
		defer a.CloseIdle()
		if got := gcPercentNow(); got != 150 {
			t.Fatalf("GC percent %d with GOGC set, want 150", got)
		}
	})
}
