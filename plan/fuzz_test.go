package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// FuzzParse checks that Parse never panics and always answers with either
// a Plan that passes Validate or a non-empty Errors, sorted, every one with
// a line in the parsed file. The seeds are every plan in testdata and
// examples/.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/good/*.yaml", "testdata/bad/*.yaml", "../examples/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	// The good plans' data files live in testdata/good.
	const file = "testdata/good/fuzz.yaml"
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := plan.Parse(file, src)
		if err == nil {
			if p == nil {
				t.Fatal("Parse returned neither a plan nor an error")
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("Parse accepted a plan that Validate rejects:\n%v\nplan:\n%s", err, src)
			}
			return
		}
		if p != nil {
			t.Fatal("Parse returned a plan and an error")
		}
		var errs plan.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Parse error %T %q; want a non-empty plan.Errors", err, err)
		}
		for _, e := range errs {
			if e.Pos.Line < 1 || e.Pos.Column < 0 || e.Pos.File != file || e.Msg == "" {
				t.Fatalf("error without a position in %s: %#v", file, e)
			}
		}
		if !slices.IsSortedFunc(errs, func(a, b *plan.Error) int {
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line - b.Pos.Line
			}
			return a.Pos.Column - b.Pos.Column
		}) {
			t.Fatalf("errors not sorted by position:\n%v", err)
		}
	})
}
