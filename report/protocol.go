package report

import (
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/grpccall/grpcstatus"
)

// The protocols a request name may speak other than HTTP
// (NameSummary.Protocol, Meta.Protocols).
const (
	// ProtoGRPC: a gRPC call, its code counted as an HTTP-like status
	// (grpcstatus): OK 200, a failed call 400 or more.
	ProtoGRPC = "grpc"
	// ProtoWS: a WebSocket handshake (101 when the server switched
	// protocols, else its HTTP status) or message (200: sent, or matched
	// by an expect).
	ProtoWS = "ws"
)

// StatusCount is one status of a summary, with the protocol of the names
// that recorded it and what it means there.
type StatusCount struct {
	Key   string // the status map's key: "503", "invalid"
	Proto string // "" (HTTP), ProtoGRPC or ProtoWS
	Label string // "503", "503 Unavailable (gRPC 14)", "101 ws handshake"
	N     int64
}

// StatusCounts are s's statuses in numeric order ("invalid" last), each
// split by the protocol of the names that recorded it and labelled for it
// (StatusLabel). A status of HTTP names keeps its bare number, so an HTTP
// run reads as it always did; in a plan that mixes protocols, a number two
// of them recorded is two entries.
func (s *Summary) StatusCounts() []StatusCount {
	by := map[string]map[string]int64{}
	for _, n := range s.ByName {
		if n.Protocol == "" {
			continue
		}
		m := by[n.Protocol]
		if m == nil {
			m = map[string]int64{}
			by[n.Protocol] = m
		}
		for k, c := range n.Status {
			m[k] += c
		}
	}
	return splitStatus(s.Status, by)
}

// StatusCounts are n's statuses, labelled for its protocol.
func (n *NameSummary) StatusCounts() []StatusCount {
	return splitStatus(n.Status, map[string]map[string]int64{n.Protocol: n.Status})
}

// splitStatus splits total by the protocols' counts in by; what no
// protocol in by recorded is HTTP's, listed first at its number.
func splitStatus(total map[string]int64, by map[string]map[string]int64) []StatusCount {
	protos := [...]string{ProtoGRPC, ProtoWS}
	var out []StatusCount
	for _, k := range sortedStatusKeys(total) {
		var n [len(protos)]int64
		http := total[k]
		for i, p := range protos {
			n[i] = min(by[p][k], http)
			http -= n[i]
		}
		if http > 0 {
			out = append(out, StatusCount{Key: k, Label: k, N: http})
		}
		for i, p := range protos {
			if n[i] > 0 {
				out = append(out, StatusCount{Key: k, Proto: p, Label: StatusLabel(p, k), N: n[i]})
			}
		}
	}
	return out
}

// StatusLabel is what status key k means for protocol proto: the number
// for HTTP; for gRPC the code's name and number ("503 Unavailable (gRPC
// 14)", per docs/json.md's table); for WebSocket names a 101 is a
// handshake, a 200 a message (sent, or matched by an expect), anything
// else the handshake's HTTP status.
func StatusLabel(proto, k string) string {
	switch proto {
	case ProtoGRPC:
		return grpcstatus.Label(k)
	case ProtoWS:
		switch k {
		case "101":
			return "101 ws handshake"
		case "200":
			return "200 ws message"
		}
	}
	return k
}

// protocols says which protocols s's names spoke: HTTP (a WebSocket
// handshake is HTTP too), gRPC. A summary without names is HTTP's.
func (s *Summary) protocols() (http, grpc bool) {
	for _, n := range s.ByName {
		if n.Protocol == ProtoGRPC {
			grpc = true
		} else {
			http = true
		}
	}
	return http || !grpc, grpc
}

// webSocketOnly: every request name is a WebSocket handshake or message.
func (s *Summary) webSocketOnly() bool {
	for _, n := range s.ByName {
		if n.Protocol != ProtoWS {
			return false
		}
	}
	return len(s.ByName) > 0
}

// SetTransport sets Transport from the client that sent the load, t
// ("fast", "net/http", or what a distributed run's workers said): gRPC
// calls go through grpc-go's own HTTP/2 client, so a run of gRPC names
// only says "grpc", and a plan that mixes them with HTTP (or WebSocket)
// steps t+"+grpc".
func (s *Summary) SetTransport(t string) {
	switch http, grpc := s.protocols(); {
	case grpc && (!http || t == ""):
		t = ProtoGRPC
	case grpc:
		t += "+" + ProtoGRPC
	}
	s.Transport = t
}

// failedCounts are the failed responses by what failed them: HTTP's status
// of 400 or more, a gRPC code other than OK, a status outside 100..599.
func (s *Summary) failedCounts() (http, grpc, invalid int64) {
	for k, n := range s.Status {
		if k == StatusKey(0) {
			invalid += n
		} else if code, err := strconv.Atoi(k); err == nil && code >= 400 {
			http += n
		}
	}
	for _, n := range s.ByName {
		if n.Protocol != ProtoGRPC {
			continue
		}
		for k, c := range n.Status {
			if code, err := strconv.Atoi(k); err == nil && code >= 400 {
				grpc += c
			}
		}
	}
	grpc = min(grpc, http)
	return http - grpc, grpc, invalid
}

// ProtocolNote says, for a run that was not all HTTP, what its protocols
// were and how their calls count, e.g. "gRPC: a call counts as a request;
// it fails on a code other than OK"; "" for an HTTP run.
func (s *Summary) ProtocolNote() string {
	var http, grpc, ws bool
	for _, n := range s.ByName {
		switch n.Protocol {
		case ProtoGRPC:
			grpc = true
		case ProtoWS:
			ws = true
		default:
			http = true
		}
	}
	if !grpc && !ws {
		return ""
	}
	var parts []string
	if http {
		parts = append(parts, "HTTP")
	}
	if grpc {
		parts = append(parts, "gRPC: a call counts as a request; it fails on a code other than OK")
	}
	if ws {
		parts = append(parts, "WebSocket: a handshake (101) and a message (200: sent, or matched by an expect) count as requests")
	}
	return strings.Join(parts, "; ")
}

// EveryNotes say what a WebSocket plan's every: rows are, one note for
// the sends' rows and one for the pings', each naming its rows: `"chat
// every": a ws: step's every: sends, one a request (200: sent; no reply
// awaited)`. None when no name is such a row: a WebSocket name that is
// another WebSocket name (a ws: step's) plus " every" or " ping".
func (s *Summary) EveryNotes() []string {
	ws := map[string]bool{}
	for _, n := range s.ByName {
		if n.Protocol == ProtoWS {
			ws[n.Name] = true
		}
	}
	var every, ping []string
	for _, n := range s.ByName {
		if n.Protocol != ProtoWS {
			continue
		}
		if base, ok := strings.CutSuffix(n.Name, " every"); ok && ws[base] {
			every = append(every, `"`+n.Name+`"`)
		} else if base, ok := strings.CutSuffix(n.Name, " ping"); ok && ws[base] {
			ping = append(ping, `"`+n.Name+`"`)
		}
	}
	var notes []string
	if len(every) > 0 {
		notes = append(notes, strings.Join(every, ", ")+": a ws: step's every: sends, one a request (200: sent; no reply awaited)")
	}
	if len(ping) > 0 {
		notes = append(notes, strings.Join(ping, ", ")+": a ws: step's every: ping frames (latency: ping → pong; timeout: no pong in time)")
	}
	return notes
}
