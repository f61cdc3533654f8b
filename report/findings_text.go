package report

import "strconv"

// findingsText lists the findings, the most telling first: each one's
// sentence, then how sure it is and the series it rests on.
func (s *Summary) findingsText(t *textBuilder) {
	for i, f := range s.Findings {
		label := ""
		if i == 0 {
			label = "findings"
		}
		t.row(label, strconv.Itoa(i+1)+". "+f.Summary)
		t.row("", "   "+f.Confidence+EvidenceText(f.Evidence))
	}
}

// EvidenceText is "; cpu.core.0_busy_pct 2s–6s mean 99.5% peak 100%
// (limit 90%)" for each series a finding rests on.
func EvidenceText(ev []Evidence) string {
	var b []byte
	for _, e := range ev {
		b = append(b, "; "...)
		b = append(b, e.Series...)
		b = append(b, ' ')
		b = append(b, FormatSeconds(e.FromS)...)
		b = append(b, "–"...)
		b = append(b, FormatSeconds(e.ToS)...)
		b = append(b, " mean "...)
		b = append(b, evidenceValue(e.Series, e.Mean)...)
		b = append(b, " peak "...)
		b = append(b, evidenceValue(e.Series, e.Peak)...)
		if e.Limit != nil {
			b = append(b, " (limit "...)
			b = append(b, evidenceValue(e.Series, *e.Limit)...)
			b = append(b, ')')
		}
	}
	return string(b)
}

// evidenceValue formats a value of a resource series by its unit, and the
// load's own series by theirs.
func evidenceValue(series string, v float64) string {
	switch series {
	case "rps":
		return FormatRate(v) + "/s"
	case "latency":
		return FormatMS(v)
	case "errors", "dropped":
		return FormatFixed(v, 1) + "/s"
	}
	return FormatResource(series, v)
}
