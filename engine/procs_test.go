package engine

import (
	"runtime"
	"testing"
)

func TestSetProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(3)
	if cpus := SetProcs(true); cpus != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("user's GOMAXPROCS: cpus %d, GOMAXPROCS %d; want 3 and 3 (kept)", cpus, runtime.GOMAXPROCS(0))
	}
	if cpus := SetProcs(false); cpus != 3 || runtime.GOMAXPROCS(0) != 4 {
		t.Errorf("default: cpus %d, GOMAXPROCS %d; want 3 and 4 (one idle P)", cpus, runtime.GOMAXPROCS(0))
	}
}
