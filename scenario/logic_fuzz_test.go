package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// FuzzCompileLogic: a plan that parses compiles into a Program or into
// plan.Errors, each with a position; never a panic, whatever its
// expressions say. Seeds: the example plans (one uses every logic step).
func FuzzCompileLogic(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("base_url: http://127.0.0.1:1\nscenarios:\n  s:\n    steps:\n      - if: '{{ a.b[0] ?? 1 }}'\n        then: [ { get: / } ]\nload: { clients: 1, iterations: 1 }\n"))
	file := filepath.Join("..", "examples", "fuzz.yaml")
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := plan.Parse(file, src)
		if err != nil {
			return
		}
		prog, err := scenario.Compile(p, func(string) (string, bool) { return "", false })
		if err == nil {
			if prog == nil {
				t.Fatal("Compile returned neither a program nor an error")
			}
			return
		}
		var errs plan.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Compile error %T %q; want plan.Errors", err, err)
		}
		for _, e := range errs {
			if e.Pos.Line < 1 || e.Msg == "" {
				t.Fatalf("error without a position: %#v", e)
			}
		}
	})
}
