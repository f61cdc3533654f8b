package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// protocolRun is one second of a run of names recording batches.
func protocolRun(names []string, batches ...batch) (*metrics.Run, Meta) {
	meta := closedMeta()
	return buildRun(names, tick{at: time.Second, clients: 2, out: batches}), meta
}

func TestProtocolWording(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		names     []string
		protos    []string
		out       []batch
		engine    string // the transport the engine said
		failed    string // the text's failed row after the share
		status    string // the text's status row
		transport string
		byName    []string // each requests_by_name[].protocol
		allFailed string   // AllFailed(), "" when some succeeded
	}{
		{
			name: "HTTP", names: []string{"GET /"}, protos: nil,
			out:    []batch{{0, ok(ms), 5}, {0, status(503, ms), 1}},
			engine: "net/http", failed: "1 HTTP ≥ 400, 0 transport errors", status: "200: 5   503: 1",
			transport: "net/http", byName: []string{""},
		},
		{
			name: "gRPC", names: []string{"shop.Cart/Add"}, protos: []string{ProtoGRPC},
			out:    []batch{{0, ok(ms), 8}, {0, status(503, ms), 2}},
			engine: "net/http", failed: "2 gRPC non-OK, 0 transport errors",
			status:    "200 OK (gRPC 0): 8   503 Unavailable (gRPC 14): 2",
			transport: "grpc", byName: []string{"grpc"},
		},
		{
			name: "gRPC all failed", names: []string{"shop.Cart/Add"}, protos: []string{ProtoGRPC},
			out:    []batch{{0, status(503, ms), 2}, {0, failure(metrics.ErrReset, ms), 1}},
			engine: "net/http", failed: "2 gRPC non-OK, 1 transport error",
			status:    "503 Unavailable (gRPC 14): 2",
			transport: "grpc", byName: []string{"grpc"},
			allFailed: "every request failed: gRPC Unavailable (2), the connection was reset or closed before a response (1)",
		},
		{
			name: "mixed plan", names: []string{"home", "add", "chat connect", "chat"},
			protos: []string{"", ProtoGRPC, ProtoWS, ProtoWS},
			out: []batch{
				{0, ok(ms), 5}, {0, status(503, ms), 1},
				{1, ok(ms), 8}, {1, status(503, ms), 2},
				{2, status(101, ms), 3}, {3, ok(ms), 4},
			},
			engine: "net/http", failed: "1 HTTP ≥ 400, 2 gRPC non-OK, 0 transport errors",
			status:    "101 ws handshake: 3   200: 5   200 OK (gRPC 0): 8   200 ws message: 4   503: 1   503 Unavailable (gRPC 14): 2",
			transport: "net/http+grpc", byName: []string{"", "grpc", "ws", "ws"},
		},
		{
			name: "WebSocket quick mode", names: []string{"ws /echo", "ws connect /echo"}, protos: []string{ProtoWS, ProtoWS},
			out:    []batch{{0, ok(ms), 4}, {0, failure(metrics.ErrTimeout, ms), 1}, {1, status(101, ms), 2}, {1, status(403, ms), 1}},
			engine: "net/http", failed: "1 handshake refused (HTTP ≥ 400), 1 transport error",
			status:    "101 ws handshake: 2   200 ws message: 4   403: 1",
			transport: "net/http", byName: []string{"ws", "ws"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run, meta := protocolRun(tc.names, tc.out...)
			meta.Protocols = tc.protos
			s := NewSummary(meta, run)
			s.SetTransport(tc.engine)
			var text bytes.Buffer
			if err := s.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			rows := map[string]string{}
			for _, line := range strings.Split(text.String(), "\n") {
				if f := strings.Fields(line); len(f) > 0 {
					rows[f[0]] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), f[0]))
				}
			}
			if _, parts, _ := strings.Cut(rows["failed"], ": "); parts != tc.failed {
				t.Errorf("failed row %q, want …%q", rows["failed"], tc.failed)
			}
			if rows["status"] != tc.status {
				t.Errorf("status row\n got %q\nwant %q", rows["status"], tc.status)
			}
			if rows["transport"] != tc.transport || s.Transport != tc.transport {
				t.Errorf("transport row %q, JSON %q, want %q", rows["transport"], s.Transport, tc.transport)
			}
			var js bytes.Buffer
			if err := s.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				ByName []map[string]any `json:"requests_by_name"`
			}
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.byName {
				got, has := doc.ByName[i]["protocol"]
				if want == "" && has || want != "" && got != want {
					t.Errorf("requests_by_name[%d].protocol = %v (present %v), want %q (absent for HTTP)", i, got, has, want)
				}
			}
			if got := s.AllFailed(); got != tc.allFailed {
				t.Errorf("AllFailed\n got %q\nwant %q", got, tc.allFailed)
			}
		})
	}
}

// TestAllFailedGRPCHint: a gRPC run whose every call was reset asks
// whether the target speaks gRPC, not HTTP.
func TestAllFailedGRPCHint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		protos []string
		want   string
	}{
		{"HTTP", nil, "does the target speak HTTP on that port?"},
		{"gRPC", []string{ProtoGRPC}, "does the target speak gRPC on that port (grpcs:// for TLS)?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, meta := protocolRun([]string{"x"}, batch{0, failure(metrics.ErrReset, time.Millisecond), 3})
			meta.Protocols = tc.protos
			if got := NewSummary(meta, run).AllFailed(); !strings.HasSuffix(got, " — "+tc.want) {
				t.Errorf("AllFailed %q, want the hint %q", got, tc.want)
			}
		})
	}
}
