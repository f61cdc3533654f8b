package html

import "github.com/fuka-load/fuka/report"

// wsFacts are a WebSocket run's totals: the connections open, the
// messages each way and the servers' close codes; none for another run.
func wsFacts(s *report.Summary) []fact {
	w := s.WebSocket
	if w == nil {
		return nil
	}
	f := []fact{
		{Label: "WebSocket connections open", Value: "peak " + report.FormatInt(w.OpenPeak) + ", at the end " + report.FormatInt(w.OpenFinal)},
		{Label: "WebSocket messages in / out", Value: report.FormatInt(w.MessagesIn) + " / " + report.FormatInt(w.MessagesOut) +
			" (" + report.FormatRate(w.MessagesInRate) + "/s in, " + report.FormatRate(w.MessagesOutRate) + "/s out)"},
	}
	if len(w.Closes) > 0 {
		// The same failures are among the transport errors, as reset.
		f = append(f, fact{Label: "closed by the server", Value: report.CloseCodesText(w.Closes) + " (counted as reset errors)", Bad: true})
	}
	return f
}
