package grpccall

import (
	"os"
	"runtime/debug"
	"sync"
)

// gRPC's client allocates about 80 objects (5–6 KB) per unary call, and a
// load generator's live heap is small (a few MB of histograms), so at Go's
// default GOGC=100 the collector runs dozens of times a second: 10–12% of
// the generator's CPU per call on the demo's Add. While quick-mode gRPC
// clients run, the heap may grow to gcPercent/100+1 times the live heap
// instead (a few tens of MB here); a GOGC set by the user wins.
const gcPercent = 400

var gc struct {
	sync.Mutex
	holders int
	prev    int
}

// holdGC raises the GC target for the first holder; releaseGC restores
// it after the last.
func holdGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	gc.Lock()
	defer gc.Unlock()
	if gc.holders == 0 {
		gc.prev = debug.SetGCPercent(gcPercent)
	}
	gc.holders++
}

func releaseGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	gc.Lock()
	defer gc.Unlock()
	if gc.holders == 0 {
		return
	}
	if gc.holders--; gc.holders == 0 {
		debug.SetGCPercent(gc.prev)
	}
}
