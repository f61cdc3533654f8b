package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fuka-load/fuka/metrics"
)

// labelWidth is the width of the label column of the text summary; every
// value starts at the same column, like wrk's and vegeta's reports.
const labelWidth = 13

// maxNameWidth bounds the name column of the by-request table; longer names
// are cut with an ellipsis so one long name cannot push the numbers off screen.
const maxNameWidth = 32

// WriteText writes the summary for people: a header naming what was attacked
// and how, then one line per measure with values in aligned columns. It uses
// only the numbers of s, so the text and the JSON never disagree.
func (s *Summary) WriteText(w io.Writer) error {
	var t textBuilder
	t.WriteString(s.headline())
	t.WriteByte('\n')
	if end := s.endText(); end != "" {
		t.row("ended", end)
	}
	if s.Warmup != nil {
		t.row("pre-connect", s.Warmup.text())
		if c := s.connectsText(); c != "" {
			t.row("connects", c)
		}
	}

	// The open model's rate is of scenario starts: the starts made are
	// compared with the starts due, and requests (several per start in a
	// plan) are counted on their own line.
	if s.StartsDue != nil && s.Starts != nil {
		st := FormatInt(*s.Starts) + " of " + FormatInt(*s.StartsDue) + " due"
		if s.RequestedStartRate != nil {
			st += "   (requested " + FormatRate(*s.RequestedStartRate) + "/s"
			if s.AchievedStartRatio != nil {
				st += ", achieved " + string(appendFixed(nil, 100**s.AchievedStartRatio, 1)) + "%"
			}
			st += ")"
		}
		st += "   dropped " + FormatInt(s.Dropped) + " (" + FormatPercent(float64(s.Dropped), float64(*s.StartsDue), 2) + ")"
		t.row("starts", st)
	}
	req := FormatInt(s.Requests) + "   " + string(appendFixed(nil, s.RPS, 1)) + "/s"
	if s.RequestedRPS != nil {
		req += "   (cap " + FormatRate(*s.RequestedRPS) + "/s"
		if s.AchievedRPSRatio != nil {
			req += ", achieved " + string(appendFixed(nil, 100**s.AchievedRPSRatio, 1)) + "%"
		}
		req += ")"
	}
	t.row("requests", req)
	if s.Retried > 0 {
		// A plan's retries: each attempt is a request above; say how many.
		t.row("retried", FormatInt(s.Retried)+" ("+FormatPercent(float64(s.Retried), float64(s.Requests), 2)+" of requests were retries of a failed attempt)")
	}

	failed := FormatInt(s.Failed) + " (" + FormatPercent(float64(s.Failed), float64(s.Requests), 2) + ")"
	if s.Failed > 0 && !s.Imported.Missing("status") {
		failed += ": " + s.FailedParts()
	}
	if s.StartsDue == nil && s.Dropped > 0 {
		failed += "    dropped " + FormatInt(s.Dropped)
	}
	t.row("failed", failed)

	t.row("data in", FormatBytes(float64(s.BytesIn))+"  "+FormatBytes(s.ThroughputBPS)+"/s     out "+FormatBytes(float64(s.BytesOut)))

	if s.Requests == 0 {
		t.row("latency", "no responses")
	} else {
		t.row("latency", latencyCells(s.Latency, s.Imported))
		if s.Imported != nil {
			t.row("", "(measured from the send by "+s.Imported.Tool+"; percentiles "+s.Imported.Percentiles+")")
		} else if s.LatencyFrom == FromIntended {
			t.row("", "(measured from the intended start: open model, no coordinated omission)")
			t.row("service time", latencyCells(s.ServiceTime, nil))
		} else {
			t.row("", "(measured from the send: closed model)")
		}
	}

	if s.Imported.Missing("status") {
		t.row("status", "not measured by "+s.Imported.Tool)
	} else {
		t.row("status", statusText(s.StatusCounts()))
	}
	if s.Errors[metrics.ErrInvalid] > 0 {
		t.row("errors", "by kind: "+errorsText(s.Errors)+" (invalid: not sent, not a transport error)")
	} else {
		t.row("errors", "transport errors: "+errorsText(s.Errors))
	}
	if w := s.WebSocket; w != nil {
		t.row("websocket", w.text())
		if len(w.Closes) > 0 {
			t.row("close codes", CloseCodesText(w.Closes)+" (the server closed while a step waited)")
		}
	}
	for i, c := range s.Checks {
		label := ""
		if i == 0 {
			label = "checks"
		}
		t.row(label, c.Mark()+" "+c.Name+"  "+FormatInt(c.Passes)+" passed, "+FormatInt(c.Fails)+" failed")
	}
	for i, th := range s.Thresholds {
		label := ""
		if i == 0 {
			label = "thresholds"
		}
		t.row(label, th.Detail)
	}
	s.findingsText(&t)

	if len(s.ByName) > 1 {
		nameTable(&t, "by request", s.ByName)
		for _, n := range s.EveryNotes() {
			t.row("", n)
		}
	}
	if len(s.Scenarios) > 1 {
		nameTable(&t, "by scenario", s.Scenarios)
	}
	if len(s.Groups) > 0 {
		nameTable(&t, "by group", s.Groups)
	}
	s.phasesText(&t)

	s.workersText(&t)

	if s.Interrupted && s.EndReason == "" {
		line := "interrupted: results cover " + FormatSpan(seconds(s.DurationS))
		if s.PlannedDurationS > 0 {
			line += " of " + FormatSpan(seconds(s.PlannedDurationS))
		}
		t.WriteString("  " + line + "\n")
	}

	s.watchedText(&t)
	for _, msg := range s.Warnings {
		t.row("WARNING", msg)
	}
	if s.ReportFile != "" {
		t.row("report", s.ReportFile)
	}
	// The fast path is the default; say so only when the load went
	// another way (HTTP/2, TLS, a plan's scenarios, a distributed run
	// whose workers did not say).
	if s.Transport != "" && s.Transport != "fast" {
		t.row("transport", s.Transport)
	}

	if _, err := io.WriteString(w, t.String()); err != nil {
		return fmt.Errorf("report: write text: %w", err)
	}
	return nil
}

// endText says why the run ended, e.g. "early, after 130ms of 3s: data ran
// out: users (end_run)"; "" when the summary does not say.
func (s *Summary) endText() string {
	return EndText(s.EndReason, s.EndDetail, seconds(s.DurationS), seconds(s.PlannedDurationS))
}

// DrainWorthSaying is how far past its planned duration a run must have
// gone, finishing the requests in flight, for EndText to say so.
const DrainWorthSaying = 500 * time.Millisecond

// EndText says why a run ended in words, for the text summary and the HTML
// report: how it ended and, for an early end, how much of the planned run
// the results cover. "" for an unknown reason.
func EndText(reason, detail string, took, planned time.Duration) string {
	var what string
	switch reason {
	case EndDuration:
		// The load stops at the planned end; what is in flight then (an
		// HTTP request, a gRPC call, a WebSocket round trip waiting for its
		// message) gets up to its timeout to finish, and is counted. A
		// drain long enough to notice is said, so that a run of "5s" that
		// took 10s, and its rates over 10s, read true.
		if over := took - planned; planned > 0 && over >= DrainWorthSaying {
			return "at the end of its planned duration (" + FormatSpan(planned) + "), then " + FormatLatency(over) +
				" more while the requests in flight finished or reached their timeout"
		}
		return "at the end of its planned duration"
	case EndIterations:
		return "when every client had run its iterations"
	case EndRequests:
		return "when every request was sent"
	case EndDataExhausted:
		what = "data ran out"
	case EndClientsDone:
		what = "every client stopped before the load's end"
	case EndAbortWhen:
		what = "abort_when"
	case EndInterrupted:
		what = "interrupted"
	case EndStopped:
		what = "stopped from the dashboard"
	default:
		return ""
	}
	if detail != "" {
		what += ": " + detail
	}
	at := "early, after " + FormatLatency(took)
	if planned > 0 {
		at += " of " + FormatSpan(planned)
	}
	return at + ": " + what
}

// headline is the first line:
//
//	fuka attack  GET http://127.0.0.1:8080/   closed model, 64 clients, 10s
func (s *Summary) headline() string {
	var b strings.Builder
	if s.Imported != nil {
		b.WriteString(s.Imported.Tool + " run (imported)  " + s.Name + "  ")
	} else if s.Name != "" {
		b.WriteString("fuka run  " + s.Name + "  ") // a plan
	} else {
		b.WriteString("fuka attack  ")
	}
	if s.Method != "" {
		b.WriteString(s.Method + " ")
	}
	b.WriteString(s.Target)

	var how []string
	if s.Model != "" {
		how = append(how, s.Model+" model")
	}
	if s.Model == ModelOpen {
		if s.RateProfile != "" {
			how = append(how, "rate "+s.RateProfile)
		}
		c := FormatInt(int64(s.Clients)) + " clients"
		if s.MaxClients > 0 {
			c += " (max " + FormatInt(int64(s.MaxClients)) + ")"
		}
		how = append(how, c)
	} else {
		how = append(how, FormatInt(int64(s.Clients))+" clients")
		if s.RampUpS > 0 {
			how = append(how, "ramp-up "+FormatSpan(seconds(s.RampUpS)))
		}
		if s.RequestedRPS != nil && *s.RequestedRPS > 0 {
			how = append(how, "max "+FormatRate(*s.RequestedRPS)+"/s")
		}
	}
	if s.PlannedDurationS > 0 {
		how = append(how, FormatSpan(seconds(s.PlannedDurationS)))
	} else {
		how = append(how, "took "+FormatLatency(seconds(s.DurationS))) // bounded by a request count
	}
	b.WriteString("   " + strings.Join(how, ", "))
	return b.String()
}

// nameTable writes a per-name table, its header on the label's line:
//
//	by request   name        requests      rps     p50     p95     p99  failed
//	             checkout       2,000    200.0  1.20ms  3.40ms  9.10ms   0.50%
func nameTable(t *textBuilder, title string, names []NameSummary) {
	head := []string{"name", "requests", "rps", "p50", "p95", "p99", "failed"}
	// Retries are shown where a plan made some, and then for every name.
	retries := false
	for _, n := range names {
		retries = retries || n.Retried > 0
	}
	if retries {
		head = append(head, "retried")
	}
	rows := [][]string{head}
	for _, n := range names {
		p50, p95, p99 := FormatLatency(dur(n.Latency.P50MS)), FormatLatency(dur(n.Latency.P95MS)), FormatLatency(dur(n.Latency.P99MS))
		failed := FormatPercent(float64(n.Failed), float64(n.Requests), 2)
		if n.Requests == 0 {
			// Nothing was measured: 0µs would read as instant, and 0.00%
			// failed as healthy (a round trip that never ran because
			// every handshake failed, whose row holds the failures).
			p50, p95, p99, failed = "–", "–", "–", "–"
		}
		r := []string{
			clip(n.Name, maxNameWidth),
			FormatInt(n.Requests),
			string(appendFixed(nil, n.RPS, 1)),
			p50, p95, p99,
			failed,
		}
		if retries {
			r = append(r, FormatInt(n.Retried))
		}
		rows = append(rows, r)
	}
	width := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for i, r := range rows {
		var b strings.Builder
		for j, c := range r {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j == 0 {
				b.WriteString(c + pad) // names read left-aligned
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		label := ""
		if i == 0 {
			label = title
		}
		t.row(label, b.String())
	}
}

// latencyCells renders a distribution in fixed-width cells, so that the
// latency and service-time lines line up column by column; a figure an
// imported run's tool did not report is "—".
func latencyCells(l Latency, im *Imported) string {
	cells := [...]struct {
		label string
		ms    float64
	}{
		{"min", l.MinMS}, {"mean", l.MeanMS}, {"p50", l.P50MS}, {"p90", l.P90MS},
		{"p95", l.P95MS}, {"p99", l.P99MS}, {"p99.9", l.P999MS}, {"max", l.MaxMS},
	}
	keys := [...]string{"min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}
	var b strings.Builder
	for i, c := range cells {
		v := FormatLatency(dur(c.ms))
		if im.Missing("latency." + keys[i] + "_ms") {
			v = "—"
		}
		fmt.Fprintf(&b, "%s %-7s ", c.label, v)
	}
	return b.String()
}

// statusText lists status codes in numeric order, "invalid" last, each
// labelled for its protocol (StatusCounts): "200: 1,234,555   503: 12".
func statusText(counts []StatusCount) string {
	if len(counts) == 0 {
		return "none"
	}
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = c.Label + ": " + FormatInt(c.N)
	}
	return strings.Join(parts, "   ")
}

// sortedStatusKeys are m's keys in numeric order, words ("invalid") last.
func sortedStatusKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		switch {
		case errA == nil && errB == nil:
			return a < b
		case errA == nil || errB == nil:
			return errA == nil // numbers before words
		}
		return keys[i] < keys[j]
	})
	return keys
}

// FailedParts says what the failed requests were, so that a reader sees at
// a glance whether the target answered with errors or could not be reached:
// "461 HTTP ≥ 400, 0 transport errors" (and "2 invalid status" when
// responses had a status outside 100..599); in a run of WebSocket names
// only, "3 handshakes refused (HTTP ≥ 400), …". A gRPC call fails on a code
// other than OK: "12 gRPC non-OK", after HTTP's count in a plan that
// mixes them.
func (s *Summary) FailedParts() string {
	http, grpc, invalid := s.failedCounts()
	var out string
	if s.webSocketOnly() {
		// A WebSocket run's only HTTP statuses are its handshakes'.
		word := " handshakes refused (HTTP ≥ 400), "
		if http == 1 {
			word = " handshake refused (HTTP ≥ 400), "
		}
		out = FormatInt(http) + word
	} else if hasHTTP, hasGRPC := s.protocols(); hasHTTP {
		out = FormatInt(http) + " HTTP ≥ 400, "
		if hasGRPC {
			out += FormatInt(grpc) + " gRPC non-OK, "
		}
	} else {
		out = FormatInt(grpc) + " gRPC non-OK, "
	}
	if invalid > 0 {
		out += FormatInt(invalid) + " invalid status, "
	}
	transport := s.Errors.Total()
	if n := s.Errors[metrics.ErrInvalid]; n > 0 {
		// Nothing went on the wire: not a transport error.
		transport -= n
		out += FormatInt(n) + " invalid (not sent), "
	}
	word := " transport errors"
	if transport == 1 {
		word = " transport error"
	}
	return out + FormatInt(transport) + word
}

// errorsText lists the kinds that occurred, in kind order: "timeout 3  reset 1".
func errorsText(c ErrorCounts) string {
	var parts []string
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		if c[k] != 0 {
			parts = append(parts, k.String()+" "+FormatInt(c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "  ")
}

// clip cuts s to n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// seconds converts float seconds to a duration, to the millisecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// textBuilder collects the lines of the text summary.
type textBuilder struct{ strings.Builder }

// row writes one line: two spaces, the label padded to labelWidth, the value;
// trailing spaces from fixed-width cells are trimmed.
func (t *textBuilder) row(label, value string) {
	line := "  " + label + strings.Repeat(" ", max(1, labelWidth-utf8.RuneCountInString(label))) + value
	t.WriteString(strings.TrimRight(line, " "))
	t.WriteByte('\n')
}

// workersText lists a distributed run's workers; a lost one is named with
// the last interval that arrived from it.
func (s *Summary) workersText(t *textBuilder) {
	for i, w := range s.Workers {
		label := ""
		if i == 0 {
			label = "workers"
		}
		line := w.Name + "  " + w.State + "  " + FormatInt(w.Requests) + " requests"
		if w.State != "ok" {
			line += ", last interval " + strconv.Itoa(w.LastInterval)
			if w.Reason != "" {
				line += " (" + w.Reason + ")"
			}
		}
		t.row(label, line)
		if w.State == "ok" {
			continue
		}
		// What is missing, on a line of its own: its share, when it was
		// last heard of, and (lost) how many of its requests may be
		// missing from these numbers.
		lost := "  " + w.State + ": " + strconv.FormatFloat(100*w.Share, 'f', 1, 64) + "% of the load"
		if w.LastSeenS != nil {
			lost += ", last seen at " + strconv.FormatFloat(*w.LastSeenS, 'f', 2, 64) + " s"
		}
		if w.UnreportedMax != nil {
			n := FormatInt(*w.UnreportedMax)
			if w.UnreportedEstimated {
				n = "about " + n
			}
			lost += ": up to " + n + " requests not reported"
		}
		t.row("", lost)
	}
	if s.Degraded {
		t.WriteString("  degraded: a worker was lost or left early; its load after its last interval is missing (exit code 4)\n")
	}
}
