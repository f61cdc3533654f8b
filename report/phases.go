package report

import (
	"strings"
	"unicode/utf8"

	"github.com/fuka-load/fuka/metrics"
)

// PhaseSummary is where one request name's time went (--phases): DNS,
// connect, TLS, time to first byte and transfer. Only responses read whole
// are broken down (Timed of them). A request on a reused connection has no
// DNS, connect or TLS: those three cover the NewConnections responses that
// opened their connection, and each only where it happened, so a phase is
// null when no response had it: DNS for a literal IP, or on the fast path,
// which resolves the host once before the run; TLS on plain HTTP.
type PhaseSummary struct {
	Timed          int64      `json:"timed"`
	NewConnections int64      `json:"new_connections"`
	DNS            *PhaseStat `json:"dns"`
	Connect        *PhaseStat `json:"connect"`
	TLS            *PhaseStat `json:"tls"`
	TTFB           *PhaseStat `json:"ttfb"`
	Transfer       *PhaseStat `json:"transfer"`
}

// PhaseStat is one phase's distribution in milliseconds, to the
// microsecond (the phase histograms keep 2 significant digits).
type PhaseStat struct {
	Count  int64   `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// PhaseSummaryOf is p's summary; nil when p timed nothing (phases off).
func PhaseSummaryOf(p *metrics.Phases) *PhaseSummary {
	if p.Empty() {
		return nil
	}
	stat := func(ph metrics.Phase) *PhaseStat {
		h := p.Hist[ph]
		if h.TotalCount() == 0 {
			return nil
		}
		ms := func(us int64) float64 { return round(float64(us)/1000, 3) }
		return &PhaseStat{
			Count:  h.TotalCount(),
			MeanMS: round(h.Mean()/1000, 3),
			P50MS:  ms(h.ValueAtPercentile(50)),
			P90MS:  ms(h.ValueAtPercentile(90)),
			P99MS:  ms(h.ValueAtPercentile(99)),
			MaxMS:  ms(h.Max()),
		}
	}
	return &PhaseSummary{
		Timed: p.Timed, NewConnections: p.New,
		DNS: stat(metrics.PhaseDNS), Connect: stat(metrics.PhaseConnect), TLS: stat(metrics.PhaseTLS),
		TTFB: stat(metrics.PhaseTTFB), Transfer: stat(metrics.PhaseTransfer),
	}
}

// Stats are the phases in order, with their names (nil: not measured).
func (p *PhaseSummary) Stats() []NamedPhase {
	return []NamedPhase{
		{metrics.PhaseDNS.String(), p.DNS}, {metrics.PhaseConnect.String(), p.Connect}, {metrics.PhaseTLS.String(), p.TLS},
		{metrics.PhaseTTFB.String(), p.TTFB}, {metrics.PhaseTransfer.String(), p.Transfer},
	}
}

// NamedPhase is one phase of a PhaseSummary.
type NamedPhase struct {
	Name string
	Stat *PhaseStat
}

// PhaseCell is a phase's p50 and p99 for a table: "1.20ms / 3.40ms", or
// "–" when not measured.
func PhaseCell(st *PhaseStat) string {
	if st == nil {
		return "–"
	}
	return FormatLatency(dur(st.P50MS)) + " / " + FormatLatency(dur(st.P99MS))
}

// PhaseNote says how to read the phase table: what the cells are, whom
// the connection phases cover, and why DNS has no figure where it has none.
func (s *Summary) PhaseNote() string {
	note := "p50 / p99; dns, connect and tls over the responses that opened their connection, " +
		"ttfb from the connection ready to the first response byte"
	if s.Transport == "fast" {
		note += "; dns –: the fast path resolves the host once, before the run"
	}
	// A gRPC call's connection is grpc-go's HTTP/2 connection, shared by
	// calls (grpccall/phases.go).
	const grpc = "connect and tls over the calls that were the first answered on a new connection, " +
		"ttfb from the call's stream open to the response headers, transfer to the end of the call; " +
		"dns –: grpc-go's resolver looks the name up, untimed"
	switch http, hasGRPC := s.protocols(); {
	case hasGRPC && !http:
		note = "p50 / p99; " + grpc
	case hasGRPC:
		note += "; gRPC calls: " + grpc
	}
	return note
}

// hasPhases reports whether any name of s has a phase breakdown.
func (s *Summary) hasPhases() bool {
	for _, n := range s.ByName {
		if n.Phases != nil {
			return true
		}
	}
	return false
}

// phasesText writes the phase table of the names that have one:
//
//	phases       name   responses  new  dns  connect          tls  ttfb             transfer
//	             GET /     20,000   16  –    120µs / 400µs    –    1.20ms / 3.40ms  10µs / 20µs
func (s *Summary) phasesText(t *textBuilder) {
	if !s.hasPhases() {
		return
	}
	head := []string{"name", "responses", "new conns"}
	for _, ph := range (&PhaseSummary{}).Stats() {
		head = append(head, ph.Name)
	}
	rows := [][]string{head}
	for _, n := range s.ByName {
		if n.Phases == nil {
			continue
		}
		r := []string{clip(n.Name, maxNameWidth), FormatInt(n.Phases.Timed), FormatInt(n.Phases.NewConnections)}
		for _, ph := range n.Phases.Stats() {
			r = append(r, PhaseCell(ph.Stat))
		}
		rows = append(rows, r)
	}
	table(t, "phases", rows)
	t.row("", "("+s.PhaseNote()+")")
}

// table writes rows as aligned columns, the first left-aligned and the
// others right-aligned, title on the first line's label.
func table(t *textBuilder, title string, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for i, r := range rows {
		line := ""
		for j, c := range r {
			pad := width[j] - utf8.RuneCountInString(c)
			if j == 0 {
				line += c + spaces(pad)
			} else {
				line += "  " + spaces(pad) + c
			}
		}
		label := ""
		if i == 0 {
			label = title
		}
		t.row(label, line)
	}
}

func spaces(n int) string { return strings.Repeat(" ", max(n, 0)) }
