package scenario_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/report"
)

// TestChecksOfLogicAndScriptScopes: the two kinds of check that belong to
// no request count differently. A script's "no script error" check counts
// in its scenario's checks; a logic step's (an expression that could not be
// evaluated) counts in the whole run's only, not in its scenario's.
func TestChecksOfLogicAndScriptScopes(t *testing.T) {
	path := writePlan(t, "", `
base_url: http://127.0.0.1:1
scenarios:
  scripted:
    script: s.star
    function: run
  logic:
    steps:
      - get: /a
        name: a
        check: { status: 200 }
      - set: { x: '{{ 1 + 1 }}' }
load: { clients: 1, duration: 1s }
`, map[string]string{"s.star": "def run(ctx):\n    http.get(\"/b\", name=\"b\")\n"})
	prog := compile(t, path)
	run, _ := synthRun(t, prog, 1)
	sum := report.NewSummary(report.Meta{Elapsed: time.Second}, run)
	v := prog.Values(sum, run)
	ratio := func(keep func(name string) bool) float64 {
		var pass, all int64
		for i, name := range run.CheckNames {
			if keep(name) {
				pass += run.Checks[i][0]
				all += run.Checks[i][0] + run.Checks[i][1]
			}
		}
		return float64(pass) / float64(all)
	}
	var logicCheck bool
	for _, name := range run.CheckNames {
		logicCheck = logicCheck || strings.HasPrefix(name, "set")
	}
	if !logicCheck {
		t.Fatalf("checks %q: want a logic step's check (set ...)", run.CheckNames)
	}
	tests := []struct {
		scope string
		keep  func(name string) bool
	}{
		{"", func(string) bool { return true }},
		{"scripted", func(n string) bool { return n == "scripted: no script error" }},
		{"logic", func(n string) bool { return strings.HasPrefix(n, "a: ") }},
	}
	for _, tt := range tests {
		t.Run("scope "+tt.scope, func(t *testing.T) {
			got, ok := v.Value(tt.scope, "checks")
			if want := ratio(tt.keep); !ok || got != want {
				t.Errorf("checks %v (ok %v), want %v (checks %q, counts %v)", got, ok, want, run.CheckNames, run.Checks)
			}
		})
	}
}
