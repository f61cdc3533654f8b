package report

import (
	"strings"
	"testing"
)

// TestWorkersText: a lost worker's share, when it was last heard of and
// how many of its requests may be missing are in the text summary.
func TestWorkersText(t *testing.T) {
	seen, n := 1.52, int64(1234)
	cases := []struct {
		name string
		w    WorkerStatus
		want string
	}{
		{"lost", WorkerStatus{Name: "w1", State: "lost", LastInterval: 1, Requests: 500, Reason: "connection lost", Share: 1.0 / 3, LastSeenS: &seen, UnreportedMax: &n},
			"lost: 33.3% of the load, last seen at 1.52 s: up to 1,234 requests not reported"},
		{"lost, estimated", WorkerStatus{Name: "w1", State: "lost", LastInterval: 1, Share: 0.5, LastSeenS: &seen, UnreportedMax: &n, UnreportedEstimated: true},
			"lost: 50.0% of the load, last seen at 1.52 s: up to about 1,234 requests not reported"},
		{"left", WorkerStatus{Name: "w1", State: "left", LastInterval: 1, Share: 0.25, LastSeenS: &seen, Reason: "interrupted on its host"},
			"left: 25.0% of the load, last seen at 1.52 s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Summary{Degraded: true, Workers: []WorkerStatus{tc.w, {Name: "w2", State: "ok", Requests: 1000, Share: 0.5}}}
			var tb textBuilder
			s.workersText(&tb)
			lines := strings.Split(tb.String(), "\n")
			found := false
			for _, l := range lines {
				if strings.TrimSpace(l) == tc.want {
					found = true
				}
			}
			if !found {
				t.Errorf("no line %q in\n%s", tc.want, tb.String())
			}
			if strings.Count(tb.String(), "% of the load") != 1 {
				t.Errorf("want one share line (the ok worker has none):\n%s", tb.String())
			}
		})
	}
}
