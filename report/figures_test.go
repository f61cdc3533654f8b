package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestTimelineRealSpans: each interval's rate is over its real length — the
// last one, from the last whole second to the end of the run, is 2 ms here —
// and an interval without responses has null percentiles, never 0.
func TestTimelineRealSpans(t *testing.T) {
	run := buildRun([]string{"GET /"},
		tick{at: time.Second, clients: 2, out: []batch{{0, ok(4 * time.Millisecond), 50}}},
		tick{at: 2 * time.Second, clients: 2},
		tick{at: 2*time.Second + 2*time.Millisecond, out: []batch{{0, ok(5 * time.Millisecond), 2}}},
	)
	meta := closedMeta()
	meta.Elapsed = 2*time.Second + 2*time.Millisecond
	var b bytes.Buffer
	if err := NewSummary(meta, run).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Timeline []map[string]any `json:"timeline"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"t_s": 1.0, "span_s": 1.0, "requests": 50.0, "rps": 50.0, "p50_ms": 4.0, "p99_ms": 4.0, "max_ms": 4.0},
		{"t_s": 2.0, "span_s": 1.0, "requests": 0.0, "rps": 0.0, "p50_ms": nil, "p90_ms": nil, "p95_ms": nil, "p99_ms": nil, "max_ms": nil},
		{"t_s": 2.002, "span_s": 0.002, "requests": 2.0, "rps": 1000.0, "p50_ms": 5.0, "max_ms": 5.0},
	}
	if len(got.Timeline) != len(want) {
		t.Fatalf("%d intervals, want %d", len(got.Timeline), len(want))
	}
	for i, w := range want {
		for k, wv := range w {
			gv, present := got.Timeline[i][k]
			if !present {
				t.Errorf("interval %d: no %q", i, k)
				continue
			}
			switch wv := wv.(type) {
			case nil:
				if gv != nil {
					t.Errorf("interval %d: %s = %v, want null", i, k, gv)
				}
			case float64:
				f, isNum := gv.(float64)
				if !isNum || !hdrClose(f, wv) {
					t.Errorf("interval %d: %s = %v, want %v", i, k, gv, wv)
				}
			}
		}
	}
}
