package cli

import (
	"regexp"
	"testing"
)

// These tests check that the figures fuka prints say what they mean: the
// rules that watch a run, why a run ended, what failed, and how a run in
// which nothing got through is reported.

// TestAbortWhenRefusesInertRules: an abort_when rule that could never fire
// (a metric its scope does not have, a scope that does not exist) is a plan
// error at its file:line:col, found by validate and run before anything is
// sent; the metrics thresholds know are all accepted.
func TestAbortWhenRefusesInertRules(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	const head = `base_url: BASE
scenarios:
  s:
    steps:
      - group: g
        steps:
          - get: /x
            name: x
load: { clients: 1, iterations: 1 }
abort_when:
`
	tests := []struct {
		rule string
		want string // "" = valid; else the message after file:line:col
	}{
		{"p999 > 1s", ""},
		{"min > 1s", ""},
		{"mean > 1s", ""},
		{"max > 1s", ""},
		{"g.p99 > 1s", ""},
		{"x.error_rate > 10%", ""},
		{"rps < 1", ""},
		{"dropped > 5", ""},
		{"checks < 90%", `abort_when "checks < 90%": the plan has no checks`},
		{"nosuch.p99 > 1s", `abort_when "nosuch.p99 > 1s": no request, scenario or group is named "nosuch"`},
		{"s.dropped > 1", `abort_when "s.dropped > 1": dropped is counted for the whole run only`},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			path := writePlanFile(t, t.TempDir(), "plan.yaml", tg.URL, head+"  - threshold: "+tt.rule+"\n")
			r := fuka(t, "validate", path)
			if tt.want == "" {
				if r.code != 0 {
					t.Errorf("exit %d, want 0; stderr %s", r.code, r.err)
				}
				return
			}
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			// The rule is on line 11, its text starts at column 16.
			re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:11:16: ` + regexp.QuoteMeta(tt.want))
			if !re.MatchString(r.err) {
				t.Errorf("stderr does not point at the rule with %q:\n%s", tt.want, r.err)
			}
		})
	}
	if n := tg.n.Load(); n != 0 {
		t.Errorf("validate sent %d requests", n)
	}
}
