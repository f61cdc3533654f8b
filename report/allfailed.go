package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/grpccall/grpcstatus"
	"github.com/fuka-load/fuka/metrics"
)

// AllFailed says, plainly, that no request got a successful response and
// why, with a hint for the usual causes: "every request failed: connection
// refused (50) — is the target running at http://127.0.0.1:8080/?". It is ""
// when at least one request succeeded, and for a run stopped before it sent
// anything (Ctrl-C). A run in which every request failed measured the
// failure, not the target: its exit code and history status say so.
func (s *Summary) AllFailed() string {
	if s.Failed < s.Requests {
		return s.wsAllFailed()
	}
	if s.Requests == 0 {
		if s.Interrupted {
			return ""
		}
		return "no request was sent"
	}
	type part struct {
		what, hint string
		n          int64
	}
	var parts []part
	speaks := "does the target speak HTTP on that port?"
	if http, _ := s.protocols(); !http {
		speaks = "does the target speak gRPC on that port (grpcs:// for TLS)?"
	}
	where := s.Target
	if len(s.Targets) > 1 {
		where = strings.Join(s.Targets, ", ") // Target is "N targets"
	}
	hints := map[metrics.ErrorKind][2]string{
		metrics.ErrRefused:  {"connection refused", "is the target running at " + where + "?"},
		metrics.ErrTLS:      {"TLS handshake failed", "a self-signed or private certificate? --insecure skips verification"},
		metrics.ErrDNS:      {"the host name did not resolve (DNS)", "is the host name in " + where + " right?"},
		metrics.ErrTimeout:  {"no response within the timeout", "is the target reachable, and answering?"},
		metrics.ErrReset:    {"the connection was reset or closed before a response", speaks},
		metrics.ErrBodyRead: {"the response body could not be read", ""},
		metrics.ErrOther:    {"a malformed response or a local error", ""},
		metrics.ErrInvalid:  {"invalid, not sent", "the values rendered into the request could not be sent; the warning \"not sent (invalid)\" says why"},
	}
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		if n := s.Errors[k]; n > 0 {
			h := hints[k]
			parts = append(parts, part{h[0], h[1], n})
		}
	}
	for _, c := range s.StatusCounts() {
		what := "HTTP " + c.Key
		switch {
		case c.Key == StatusKey(0):
			what = "an invalid status"
		case c.Proto == ProtoGRPC:
			what = "gRPC " + grpcstatus.Name(c.Key) // "gRPC Unavailable": the status row has its number
		}
		parts = append(parts, part{what, "", c.N})
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].n > parts[j].n })
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.what + " (" + strconv.FormatInt(p.n, 10) + ")"
	}
	msg := "every request failed: " + strings.Join(texts, ", ")
	if s.h2c && len(s.Status) == 0 {
		// No response at all to h2c with prior knowledge: the server
		// answered in HTTP/1.1 (net/http's HTTP/2 client reads that as a
		// malformed frame) or closed the connection.
		return msg + " — the server does not speak h2c (HTTP/2 without TLS, which --http2 or http_version: 2 sends to http:// URLs): drop --http2, or use https"
	}
	if len(parts) > 0 && parts[0].hint != "" {
		msg += " — " + parts[0].hint
	}
	return msg
}
