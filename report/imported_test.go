package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestTextImported: an imported run's summary names its tool, and shows
// what the tool did not report as "—", never as a measured 0.
func TestTextImported(t *testing.T) {
	s := &Summary{Name: "shop", Target: "http://127.0.0.1:8080/", Model: ModelClosed, LatencyFrom: FromSend,
		DurationS: 3, Requests: 100, Failed: 4, RPS: 33.3, Status: map[string]int64{},
		Latency: Latency{MeanMS: 1.5, P50MS: 1.3, P99MS: 4.9, MaxMS: 15},
		Imported: &Imported{Tool: "wrk", Format: "wrk", Percentiles: PercentilesGiven,
			NotMeasured: []string{"latency.min_ms", "latency.p95_ms", "status"}}}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"wrk run (imported)  shop  http://127.0.0.1:8080/",
		"min —       mean 1.50ms",
		"p95 —       p99 4.90ms",
		"p90 0µs", // measured (given) as 0: shown
		"(measured from the send by wrk; percentiles as given by the tool)",
		"status       not measured by wrk",
		"failed       4 (4.00%)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if (&Imported{}).Missing("x") || (*Imported)(nil).Missing("latency.p95_ms") {
		t.Error("Missing: nothing is missing unless listed")
	}
}
