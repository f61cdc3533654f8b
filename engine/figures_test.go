package engine

import (
	"testing"
	"time"
)

// TestTimelineCoversTheRun: the timeline's intervals tile the run exactly —
// whole seconds, then a last interval from the last whole second to the end
// — so that every interval's rate is over its real length, and together they
// hold every request. The run is bounded by a request count, so it ends
// between two seconds.
func TestTimelineCoversTheRun(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, served := countingServer(t, 0)
			cfg := Config{Request: newReq(t, "GET", srv.URL+"/", nil, nil), Clients: 2, Requests: 300, MaxRPS: 250}
			res, _ := run(t, tr, cfg)
			tl := res.Run.Timeline
			if len(tl) < 2 {
				t.Fatalf("%d intervals over %v, want at least 2", len(tl), res.Elapsed)
			}
			var span time.Duration
			var requests int64
			for i, p := range tl {
				if i < len(tl)-1 && (p.Span != time.Second || p.At != time.Duration(i+1)*time.Second) {
					t.Errorf("interval %d ends at %v, spans %v; want whole seconds", i, p.At, p.Span)
				}
				span += p.Span
				requests += p.Requests
			}
			last := tl[len(tl)-1]
			if last.At != res.Elapsed || span != res.Elapsed {
				t.Errorf("the last interval ends at %v and the spans add up to %v; the run took %v", last.At, span, res.Elapsed)
			}
			if last.Span <= 0 || last.Span > time.Second {
				t.Errorf("the last interval spans %v, want (0, 1s]", last.Span)
			}
			if requests != 300 || served.Load() != 300 {
				t.Errorf("the intervals hold %d requests, the server served %d, want 300", requests, served.Load())
			}
		})
	}
}
