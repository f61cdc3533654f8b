package importer

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
	"github.com/fuka-load/fuka/threshold"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name.golden (or writes it with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// mustCompile checks a generated plan the way `fuka validate` does: parse,
// compile the templates, parse the thresholds. The plan is taken to live
// in dir (data files are relative to it). Environment variables are unset.
func mustCompile(t testing.TB, dir string, src []byte) *scenario.Program {
	t.Helper()
	prog, err := compile(dir, src)
	if err != nil {
		t.Fatalf("the generated plan does not validate:\n%v\n--- plan:\n%s", err, src)
	}
	return prog
}

func compile(dir string, src []byte) (*scenario.Program, error) {
	p, err := plan.Parse(filepath.Join(dir, "plan.yaml"), src)
	if err != nil {
		return nil, err
	}
	prog, err := scenario.Compile(p, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, th := range p.Thresholds {
		if _, err := threshold.Parse(th.Expr.Value); err != nil {
			errs = append(errs, err)
		}
	}
	return prog, errors.Join(errs...)
}

// hasNote reports whether one of the notes contains sub.
func hasNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}
