package plan_test

import (
	"slices"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

func TestPlanTargets(t *testing.T) {
	const load = "load: { clients: 1, duration: 1s }\n"
	cases := []struct {
		name, src string
		want      []string
	}{
		{"base_url", "base_url: http://127.0.0.1:8080/\nscenarios:\n  s:\n    steps:\n      - get: /a\n      - get: /b\n",
			[]string{"http://127.0.0.1:8080"}},
		{"grpc without base_url", "scenarios:\n  s:\n    steps:\n" +
			"      - grpc: { target: grpc://127.0.0.1:9, service: a.B, method: C, message: {} }\n        timeout: 1s\n" +
			"      - grpc: { target: grpc://127.0.0.1:9, service: a.B, method: D, message: {} }\n        timeout: 1s\n",
			[]string{"grpc://127.0.0.1:9"}},
		{"base_url unused", "base_url: http://127.0.0.1:8080\nscenarios:\n  s:\n    steps:\n" +
			"      - grpc: { target: grpcs://127.0.0.1:9, service: a.B, method: C, message: {} }\n        timeout: 1s\n",
			[]string{"grpcs://127.0.0.1:9"}},
		{"http, ws on base_url and grpc", "base_url: https://127.0.0.1:8443\nscenarios:\n  s:\n    steps:\n" +
			"      - get: /a\n      - ws: /chat\n        timeout: 1s\n" +
			"      - get: http://127.0.0.1:7/x?y=1\n" +
			"      - grpc: { target: grpc://127.0.0.1:9, service: a.B, method: C, message: {} }\n        timeout: 1s\n",
			[]string{"https://127.0.0.1:8443", "http://127.0.0.1:7", "grpc://127.0.0.1:9"}},
		{"absolute ws, templated host left out", "scenarios:\n  s:\n    steps:\n" +
			"      - ws: ws://127.0.0.1:7/chat\n        timeout: 1s\n      - get: \"http://{{ host }}/x\"\n",
			[]string{"ws://127.0.0.1:7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := plan.Parse("t.yaml", []byte(c.src+load))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Targets(); !slices.Equal(got, c.want) {
				t.Errorf("Targets() = %q, want %q", got, c.want)
			}
		})
	}
}
