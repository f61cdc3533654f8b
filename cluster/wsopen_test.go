package cluster

import (
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// The controller merges every worker's snapshots into one recorder; the
// WebSocket connections open are a gauge per worker, so each tick holds
// their sum (a worker's latest, several snapshots merged at once), a worker
// that sent none this tick keeps its last, and a lost worker's count goes.
// The most open at once is the sum of the workers' most in the tick.
func TestMergedWSOpen(t *testing.T) {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"ws /x"}, []*metrics.Recorder{rec})
	a, b, c := &member{state: "ok", rec: rec}, &member{state: "ok", rec: rec}, &member{state: "ok", rec: rec}
	tk := &ticker{col: col, rec: rec, members: []*member{a, b, c}, next: 1}
	snap := func(m *member, k int, open, peak int64) {
		m.pending = append(m.pending, &metrics.Snapshot{Interval: k, WS: true, WSOpen: open, WSPeak: peak})
	}
	for _, step := range []struct {
		name       string
		do         func()
		open, peak int64
	}{
		{"each worker's count", func() { snap(a, 1, 7, 9); snap(b, 1, 5, 5); snap(c, 1, 1, 3) }, 13, 17},
		{"the latest of two, one silent", func() { snap(a, 2, 6, 8); snap(a, 3, 4, 6); snap(b, 2, 2, 5) }, 7, 8 + 5 + 1},
		{"a worker lost", func() { c.state = "lost"; snap(a, 4, 4, 4) }, 6, 4 + 2},
		{"all closed", func() { snap(a, 5, 0, 4); snap(b, 5, 0, 2) }, 0, 6},
		{"none open", func() {}, 0, 0},
	} {
		step.do()
		tk.mergeAll()
		if p := col.Tick(time.Second, 0); p.WSOpen != step.open || p.WSPeak != step.peak {
			t.Errorf("%s: open %d, peak %d; want %d, %d", step.name, p.WSOpen, p.WSPeak, step.open, step.peak)
		}
	}
	if !col.Run().WebSocket {
		t.Error("not a WebSocket run")
	}
}
