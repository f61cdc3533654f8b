package html

import (
	"strings"

	"github.com/fuka-load/fuka/report"
)

// findingView is one finding as the page shows it: its sentence, how sure
// it is, the evidence in words and a link to its chart.
type findingView struct {
	Kind, Subject, Summary, Confidence, Badge, Chart string
	Evidence                                         []string
}

func findingViews(fs []report.Finding) []findingView {
	var out []findingView
	for _, f := range fs {
		v := findingView{Kind: f.Kind, Subject: f.Subject, Summary: f.Summary, Confidence: f.Confidence, Chart: f.Chart}
		switch f.Confidence {
		case report.ConfidenceMeasured, report.ConfidenceStrong:
			v.Badge = "fail"
		default:
			v.Badge = "warn"
		}
		for _, e := range f.Evidence {
			// The text summary's evidence, one series at a time.
			v.Evidence = append(v.Evidence, strings.TrimPrefix(report.EvidenceText([]report.Evidence{e}), "; "))
		}
		out = append(out, v)
	}
	return out
}
