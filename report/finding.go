package report

import "strings"

// Finding is one thing the run's own data says about what limited the
// load or when it stopped being served as asked: the knee, an error onset,
// dropped starts, a scale-out (the "when"), or a resource that was at its
// limit then (the "what"). The findings package computes them; the text,
// JSON and HTML reports show them in order, the most telling first. See
// docs/findings.md.
type Finding struct {
	// Kind names the rule that found it, e.g. "cpu", "listen_overflow",
	// "postgres_connections", "generator_cpu", "knee" (docs/findings.md
	// lists them all).
	Kind string `json:"kind"`
	// Subject is what the finding is about: "target" (what the target or
	// its host ran out of), "generator" (fuka was the limit, from its own
	// numbers), or "load" (a change in the load's own measures: the knee,
	// errors, dropped starts, a scale-out).
	Subject string `json:"subject"`
	// Summary says it in one sentence, with the times and values.
	Summary string `json:"summary"`
	// AtS is when it began, seconds from the load's start; EndS when it
	// ended, null when it lasted to the end of the run.
	AtS  float64  `json:"at_s"`
	EndS *float64 `json:"end_s"`
	// Confidence is how sure the finding is: "measured" (the load's or
	// fuka's own numbers say so), "strong" (the resource turned work away
	// when the load stopped being served: still a correlation, but a
	// direct one), "correlates" (the resource was saturated at the same
	// time), or "weak" (an indirect sign).
	Confidence string `json:"confidence"`
	// Score ranks the findings (higher first): the evidence's strength
	// times how much of the time in question it held.
	Score    float64    `json:"score"`
	Evidence []Evidence `json:"evidence"`
	// Chart is the id of the chart in the HTML report that shows the
	// evidence (see ChartAnchor); "" when no chart does.
	Chart string `json:"chart"`
}

// Evidence is one series a finding rests on, over the seconds it looked at.
type Evidence struct {
	Series string  `json:"series"`
	FromS  float64 `json:"from_s"`
	ToS    float64 `json:"to_s"`
	Peak   float64 `json:"peak"`
	Mean   float64 `json:"mean"`
	// Limit is what the series was compared with (e.g. max_connections,
	// 90 % busy); null when the finding has no such bound.
	Limit *float64 `json:"limit"`
}

// The findings' confidences, most sure first.
const (
	ConfidenceMeasured   = "measured"
	ConfidenceStrong     = "strong"
	ConfidenceCorrelates = "correlates"
	ConfidenceWeak       = "weak"
)

// The findings' subjects.
const (
	SubjectTarget    = "target"
	SubjectGenerator = "generator"
	SubjectLoad      = "load"
)

// ChartAnchor is the id of the HTML report's chart that draws series: the
// load's charts are chart-rps, chart-latency, chart-clients, chart-errors
// and chart-dropped; a resource series is drawn with the others of its
// prefix and unit, e.g. cpu.core.0_busy_pct in chart-cpu.core-pct. The
// report's script gives its charts the same ids.
func ChartAnchor(series string) string {
	switch series {
	case "rps", "latency", "clients", "errors", "dropped":
		return "chart-" + series
	}
	prefix := "other"
	if dot := strings.LastIndexByte(series, '.'); dot > 0 {
		prefix = series[:dot]
	}
	unit := "count"
	switch {
	case strings.HasSuffix(series, "_bytes_per_s"):
		unit = "bytes_per_s"
	case strings.HasSuffix(series, "_per_s"):
		unit = "per_s"
	case strings.HasSuffix(series, "_bytes"):
		unit = "bytes"
	case strings.HasSuffix(series, "_pct"):
		unit = "pct"
	}
	return "chart-" + prefix + "-" + unit
}
