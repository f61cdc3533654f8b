package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/metrics"
)

// text is the summary's websocket line: the open connections, then the
// messages each way and their rates.
func (w *WebSocket) text() string {
	return "open peak " + FormatInt(w.OpenPeak) + ", at the end " + FormatInt(w.OpenFinal) +
		"   messages in " + FormatInt(w.MessagesIn) + " (" + FormatRate(w.MessagesInRate) + "/s)" +
		"   out " + FormatInt(w.MessagesOut) + " (" + FormatRate(w.MessagesOutRate) + "/s)"
}

// closeNames are the close codes RFC 6455 and the IANA registry name.
var closeNames = map[int]string{
	1000: "normal closure", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
	1005: "no status", 1006: "abnormal closure", 1007: "invalid payload", 1008: "policy violation",
	1009: "message too big", 1010: "mandatory extension", 1011: "internal error", 1012: "service restart",
	1013: "try again later", 1014: "bad gateway", 1015: "TLS handshake",
}

// CloseCodeText names a close code given in decimal: "1008 policy
// violation"; an application's own code (4000–4999) or an unknown one is
// the number alone.
func CloseCodeText(code string) string {
	n, err := strconv.Atoi(code)
	if name, ok := closeNames[n]; ok && err == nil {
		return code + " " + name
	}
	return code
}

// CloseCodesText is close codes and their counts, in code order:
// "1001 going away ×2, 1008 policy violation ×3".
func CloseCodesText(closes map[string]int64) string {
	codes := make([]string, 0, len(closes))
	for c := range closes {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = CloseCodeText(c) + " ×" + FormatInt(closes[c])
	}
	return strings.Join(parts, ", ")
}

// wsAllFailed is AllFailed for a WebSocket run whose handshakes worked
// (status 101) but whose every other step failed: nothing was measured of
// the messages, which are what the run is for. "" otherwise.
func (s *Summary) wsAllFailed() string {
	if s.WebSocket == nil {
		return ""
	}
	shakes := s.Status["101"]
	rest := s.Requests - shakes
	if shakes == 0 || rest <= 0 || s.Failed < rest {
		return ""
	}
	var parts []string
	timeouts, resets := s.Errors[metrics.ErrTimeout], s.Errors[metrics.ErrReset]
	if timeouts > 0 {
		parts = append(parts, "no matching message within the timeout ("+FormatInt(timeouts)+")")
	}
	if resets > 0 {
		closed := "the connection closed first (" + FormatInt(resets)
		if len(s.WebSocket.Closes) > 0 {
			closed += "; close codes " + CloseCodesText(s.WebSocket.Closes)
		}
		parts = append(parts, closed+")")
	}
	if n := s.Failed - timeouts - resets; n > 0 {
		parts = append(parts, "other failures ("+FormatInt(n)+")")
	}
	return "every WebSocket message failed, though " + FormatInt(shakes) + " handshakes worked: " + strings.Join(parts, ", ") +
		" — does the server answer what the expect waits for?"
}
