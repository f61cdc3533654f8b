package scenario_test

import (
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// TestLogicCompileErrors: expressions are compiled with the plan, and every
// mistake names file:line:column, the column being that of the mistake
// inside the expression.
func TestLogicCompileErrors(t *testing.T) {
	tests := []struct {
		name, steps, want string
	}{
		{
			name: "unknown variable in if",
			steps: `
      - if: '{{ status == 200 && nope > 1 }}'
        then: [ { get: /a } ]`,
			want: `plan.yaml:6:34: if: expression "status == 200 && nope > 1": unknown name nope`,
		},
		{
			name: "bad syntax in while",
			steps: `
      - loop: { while: "{{ 1 + }}", max: 3 }
        steps: [ { get: /a } ]`,
			want: `plan.yaml:6:30: while: expression "1 +": unexpected token EOF`,
		},
		{
			name: "unknown variable in foreach in",
			steps: `
      - foreach: { in: '{{ products }}', as: p }
        steps: [ { get: /a } ]`,
			want: `plan.yaml:6:28: foreach: in: expression "products": unknown name products`,
		},
		{
			name: "if that is not true or false",
			steps: `
      - if: '{{ "yes" }}'
        then: [ { get: /a } ]`,
			want: `plan.yaml:6:17: if: expression "\"yes\"": expected bool, but got string`,
		},
		{
			name: "unknown variable in a template inside a loop",
			steps: `
      - loop: { count: 2 }
        steps: [ { get: "/a/{{ nope }}" } ]`,
			want: `unknown variable "nope"`,
		},
		{
			name: "unknown column of a data source",
			steps: `
      - set: { x: '{{ users.nope }}' }`,
			want: `plan.yaml:6:29: set "x": expression "users.nope": unknown field nope`,
		},
		{
			name: "foreach as a data source's name",
			steps: `
      - foreach: { in: '{{ [1, 2] }}', as: users }
        steps: [ { get: /a } ]`,
			want: `foreach: as: "users" is the name of a data source`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "base_url: http://127.0.0.1:1\ndata: { users: { csv: users.csv } }\nscenarios:\n  s:\n    steps:" + tc.steps + "\nload: { clients: 1, iterations: 1 }\n"
			path := writePlan(t, "", src, map[string]string{"users.csv": "name\nann\n"})
			p, err := plan.ParseFile(path)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, err = scenario.Compile(p, nil)
			if err == nil {
				t.Fatalf("compiled; want %s", tc.want)
			}
			got := strings.ReplaceAll(err.Error(), path, "plan.yaml")
			if !strings.Contains(got, tc.want) {
				t.Errorf("error\n%s\nwant it to contain\n%s", got, tc.want)
			}
		})
	}
}
