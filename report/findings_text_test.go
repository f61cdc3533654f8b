package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFindingsText(t *testing.T) {
	lim := 90.0
	s := &Summary{Model: ModelOpen, Findings: []Finding{
		{Kind: "cpu", Subject: SubjectTarget, Summary: "CPU 0 was at least 90% busy", AtS: 5, Confidence: ConfidenceCorrelates, Chart: "chart-cpu.core-pct",
			Evidence: []Evidence{{Series: "cpu.core.0_busy_pct", FromS: 5, ToS: 12, Peak: 100, Mean: 99.5, Limit: &lim}}},
		{Kind: "knee", Subject: SubjectLoad, Summary: "the knee: from 5s", AtS: 5, Confidence: ConfidenceMeasured,
			Evidence: []Evidence{{Series: "rps", FromS: 5, ToS: 12, Peak: 110, Mean: 100}}},
	}}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  findings     1. CPU 0 was at least 90% busy\n",
		"                  correlates; cpu.core.0_busy_pct 5s–12s mean 99.5% peak 100.0% (limit 90.0%)\n",
		"               2. the knee: from 5s\n",
		"                  measured; rps 5s–12s mean 100/s peak 110/s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Findings) != 2 || back.Findings[0].Evidence[0].Limit == nil {
		t.Fatalf("findings do not round-trip: %v %+v", err, back.Findings)
	}
	if !strings.Contains(b.String(), `"findings": [`) || !strings.Contains(b.String(), `"chart": "chart-cpu.core-pct"`) {
		t.Errorf("json:\n%s", b.String())
	}
	b.Reset()
	if err := WriteMarkdown(&b, s, Verdict{}, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "**Findings**\n\n1. CPU 0 was at least 90% busy (correlates)\n2. the knee: from 5s (measured)\n") {
		t.Errorf("markdown:\n%s", b.String())
	}
	// No findings: no section, and no key.
	s.Findings = nil
	b.Reset()
	s.WriteText(&b)
	if strings.Contains(b.String(), "findings") {
		t.Errorf("text without findings says findings:\n%s", b.String())
	}
}
