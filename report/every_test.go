package report

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryNote: a WebSocket plan's every: rows are explained under the
// by-request table, only when the run has them.
func TestEveryNote(t *testing.T) {
	row := func(name, proto string) NameSummary { return NameSummary{Name: name, Protocol: proto, Requests: 1} }
	for _, tc := range []struct {
		name  string
		names []NameSummary
		want  []string
	}{
		{"sends", []NameSummary{row("join", ProtoWS), row("join every", ProtoWS), row("say", ProtoWS)},
			[]string{`"join every": a ws: step's every: sends, one a request (200: sent; no reply awaited)`}},
		{"pings", []NameSummary{row("join", ProtoWS), row("join ping", ProtoWS)},
			[]string{`"join ping": a ws: step's every: ping frames (latency: ping → pong; timeout: no pong in time)`}},
		{"both", []NameSummary{row("a", ProtoWS), row("a every", ProtoWS), row("b", ProtoWS), row("b ping", ProtoWS), row("c", ProtoWS), row("c every", ProtoWS)},
			[]string{`"a every", "c every": a ws: step's every: sends, one a request (200: sent; no reply awaited)`,
				`"b ping": a ws: step's every: ping frames (latency: ping → pong; timeout: no pong in time)`}},
		{"no every rows", []NameSummary{row("ws connect /chat", ProtoWS), row("ws /chat", ProtoWS)}, nil},
		{"a send named ... ping without its ws: step", []NameSummary{row("join", ProtoWS), row("heart ping", ProtoWS)}, nil},
		{"HTTP names", []NameSummary{row("GET /", ""), row("GET / every", "")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Summary{Name: "chat", Target: "ws://127.0.0.1:8080", Model: ModelClosed, Requests: int64(len(tc.names)), ByName: tc.names}
			if got := s.EveryNotes(); !slices.Equal(got, tc.want) {
				t.Errorf("EveryNotes() = %q, want %q", got, tc.want)
			}
			var b strings.Builder
			if err := s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.want {
				if !strings.Contains(b.String(), "  "+n+"\n") {
					t.Errorf("the text report does not say %q:\n%s", n, b.String())
				}
			}
			if has := strings.Contains(b.String(), "step's every:"); has != (tc.want != nil) {
				t.Errorf("the text report explains every: rows: %v, want %v\n%s", has, tc.want != nil, b.String())
			}
		})
	}
}
