package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// phased is a 200 with a phase breakdown: on a new connection (connect 1ms,
// tls 3ms, ttfb 40ms), or a reused one (ttfb 20ms); transfer 5ms either way.
func phased(newConn bool) metrics.Outcome {
	o := metrics.Outcome{Latency: 30 * time.Millisecond, Service: 30 * time.Millisecond, Status: 200, NewConn: newConn}
	o.Phases[metrics.PhaseTTFB], o.Phases[metrics.PhaseTransfer] = 20*time.Millisecond, 5*time.Millisecond
	o.Timed = metrics.PhaseTTFB.Bit() | metrics.PhaseTransfer.Bit()
	if newConn {
		o.Phases[metrics.PhaseConnect], o.Phases[metrics.PhaseTLS] = time.Millisecond, 3*time.Millisecond
		o.Timed |= metrics.PhaseConnect.Bit() | metrics.PhaseTLS.Bit()
		o.Phases[metrics.PhaseTTFB] = 40 * time.Millisecond
	}
	return o
}

func phasedSummary(transport string) *Summary {
	run := buildRun([]string{"GET /", "POST /login"}, tick{at: time.Second, clients: 2, out: []batch{
		{0, phased(true), 2}, {0, phased(false), 98},
		{1, metrics.Outcome{Latency: time.Millisecond, Status: 200}, 10}, // phases off for this name
	}})
	s := NewSummary(Meta{Elapsed: time.Second, Model: ModelClosed}, run)
	s.Transport = transport
	return s
}

func TestPhasesJSON(t *testing.T) {
	s := phasedSummary("net/http")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ByName[1].Phases != nil || strings.Count(string(b), `"phases"`) != 1 {
		t.Fatalf("phases of an untimed name: %s", b)
	}
	p := back.ByName[0].Phases
	if p == nil || p.Timed != 100 || p.NewConnections != 2 {
		t.Fatalf("phases %+v, want 100 timed, 2 new", p)
	}
	tests := []struct {
		name  string
		st    *PhaseStat
		count int64
		p50   float64
	}{
		{"dns", p.DNS, 0, 0},
		{"connect", p.Connect, 2, 1},
		{"tls", p.TLS, 2, 3},
		{"ttfb", p.TTFB, 100, 20},
		{"transfer", p.Transfer, 100, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.count == 0 {
				if tt.st != nil {
					t.Fatalf("%+v, want null (not measured)", tt.st)
				}
				return
			}
			if tt.st == nil || tt.st.Count != tt.count || tt.st.P50MS < tt.p50*0.98 || tt.st.P50MS > tt.p50*1.02 {
				t.Fatalf("%+v, want count %d, p50 %vms", tt.st, tt.count, tt.p50)
			}
		})
	}
}

func TestPhasesText(t *testing.T) {
	tests := []struct {
		transport string
		want      []string
	}{
		{"net/http", []string{
			"phases       name   responses  new conns  dns          connect              tls             ttfb         transfer",
			// 2 significant digits: a value reads as its bucket's top, within 1 %.
			"GET /        100          2    –  1.00ms / 1.00ms  3.01ms / 3.01ms  20.1ms / 40.2ms  5.02ms / 5.02ms",
			"(p50 / p99; dns, connect and tls over the responses that opened their connection, ttfb from the connection ready to the first response byte)",
		}},
		{"fast", []string{"dns –: the fast path resolves the host once, before the run)"}},
	}
	for _, tt := range tests {
		t.Run(tt.transport, func(t *testing.T) {
			var buf bytes.Buffer
			if err := phasedSummary(tt.transport).WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("text lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "POST /login  ") && strings.Count(out, "POST /login") > 1 {
				t.Errorf("a name without phases is in the phase table:\n%s", out)
			}
		})
	}
	var buf bytes.Buffer
	s := phasedSummary("fast")
	s.ByName[0].Phases = nil
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "phases") {
		t.Errorf("phases off, yet a phase table:\n%s", buf.String())
	}
}
