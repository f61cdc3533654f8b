package helm

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestInvalidValues: values that cannot make a working run fail at install
// time (values.schema.json or the chart's own checks) with a message that
// names the value.
func TestInvalidValues(t *testing.T) {
	plan := map[string]any{"text": "name: x\n"}
	tests := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"no plan", map[string]any{}, "no plan to run"},
		{"two plans", map[string]any{"plan": map[string]any{"text": "name: x\n", "existingConfigMap": "p"}}, "not both"},
		{"no certs", map[string]any{"plan": plan, "certs": map[string]any{"existingSecret": ""}}, "certs.existingSecret"},
		{"zero workers", map[string]any{"plan": plan, "workers": map[string]any{"count": 0}}, "count"},
		{"misspelt key", map[string]any{"plan": plan, "worker": map[string]any{"count": 3}}, "worker"},
		{"misspelt role key", map[string]any{"plan": plan, "workers": map[string]any{"nodeSelecter": map[string]any{"a": "b"}}}, "nodeSelecter"},
		{"unknown anti-affinity", map[string]any{"plan": plan, "workers": map[string]any{"podAntiAffinity": "always"}}, "podAntiAffinity"},
		{"anti-affinity twice", map[string]any{"plan": plan, "workers": map[string]any{
			"podAntiAffinity": "soft", "affinity": map[string]any{"podAntiAffinity": map[string]any{}}}}, "not both"},
		{"bad port", map[string]any{"plan": plan, "controller": map[string]any{"listenPort": 70000}}, "listenPort"},
		{"bad wait", map[string]any{"plan": plan, "controller": map[string]any{"waitWorkers": "5 minutes"}}, "waitWorkers"},
		{"bad loss policy", map[string]any{"plan": plan, "controller": map[string]any{"onWorkerLoss": "retry"}}, "onWorkerLoss"},
		{"bad output", map[string]any{"plan": plan, "controller": map[string]any{"output": "html"}}, "output"},
		{"data outside /plan", map[string]any{"plan": plan, "data": map[string]any{"../users.csv": "a"}}, "../users.csv"},
		{"absolute data path", map[string]any{"plan": plan, "data": map[string]any{"/etc/users.csv": "a"}}, "/etc/users.csv"},
		{"data over the plan", map[string]any{"plan": plan, "data": map[string]any{"plan.yaml": "a"}}, "the plan itself"},
		{"data keys collide", map[string]any{"plan": plan, "data": map[string]any{"a/b.csv": "1", "a_b.csv": "2"}}, "both would be stored"},
		{"plan file in a folder", map[string]any{"plan": map[string]any{"existingConfigMap": "p", "file": "x/plan.yaml"}}, "plan.file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := renderFiles(t, "load", tt.vals)
			if err == nil {
				t.Fatalf("rendered; want an error with %q", tt.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %q", err, tt.want)
			}
		})
	}
}

// TestLint runs Helm's own chart linter (Chart.yaml, values, templates
// rendered and parsed) on every values file.
func TestLint(t *testing.T) {
	for _, f := range []string{"defaults.yaml", "ten-workers-node-selector.yaml", "existing-configmap.yaml", "anti-affinity.yaml", "results-pvc.yaml"} {
		t.Run(f, func(t *testing.T) {
			l := lint.All(chartDir, readValues(t, f), namespace, false)
			for _, m := range l.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("lint: %v", m)
				} else {
					t.Logf("lint: %v", m)
				}
			}
		})
	}
}
