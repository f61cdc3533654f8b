package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/report"
)

// TestCapacityLimitedBy: the report says what limited the answer with the
// findings of the first failing step (the load's own events left out), in
// the text, the JSON and the HTML.
func TestCapacityLimitedBy(t *testing.T) {
	cpu := report.Finding{Kind: "cpu", Subject: report.SubjectTarget, Summary: "CPU 0 was at least 90% busy", Confidence: report.ConfidenceCorrelates}
	knee := report.Finding{Kind: "knee", Subject: report.SubjectLoad, Summary: "the knee: from 2s", Confidence: report.ConfidenceMeasured}
	edge := target(func(rate float64) Result {
		if rate <= 400 {
			return Result{P50MS: 1, P99MS: 2}
		}
		return Result{P50MS: 300, P99MS: 500, Limits: []report.Finding{cpu, knee}}
	})
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Min: 100, Precision: 0.2}, edge.measure(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.LimitedBy) != 1 || rep.LimitedBy[0].Kind != "cpu" {
		t.Fatalf("limited_by %+v, want the cpu finding alone", rep.LimitedBy)
	}
	var text, js, page bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "  limited by CPU 0 was at least 90% busy\n") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"limited_by":[{"kind":"cpu"`) {
		t.Errorf("json lacks limited_by")
	}
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<dt>limited by</dt><dd><ol class=\"findings\"><li>CPU 0 was at least 90% busy (correlates)</li>") {
		t.Errorf("html lacks the limited-by list")
	}
}
