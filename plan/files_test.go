package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// TestReadBodyFile: a file of exactly MaxBodyFile bytes is read whole, one
// byte more is refused, and an endless file (/dev/zero, whose size reads 0)
// is refused after the limit instead of being read until memory runs out.
func TestReadBodyFile(t *testing.T) {
	dir := t.TempDir()
	sized := func(name string, n int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(n); err != nil { // sparse: no disk used
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		path   string
		size   int // want, unless tooBig
		tooBig bool
	}{
		{"empty", sized("empty", 0), 0, false},
		{"small", sized("small", 10), 10, false},
		{"exactly the limit", sized("limit", plan.MaxBodyFile), plan.MaxBodyFile, false},
		{"one byte over", sized("over", plan.MaxBodyFile+1), 0, true},
		{"endless", "/dev/zero", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Skip(err)
			}
			b, err := plan.ReadBodyFile(tt.path)
			var tl *plan.ErrTooLarge
			if tt.tooBig {
				if !errors.As(err, &tl) || tl.Limit != plan.MaxBodyFile {
					t.Fatalf("err %v, want ErrTooLarge{%d}", err, plan.MaxBodyFile)
				}
				if err.Error() != "more than 64 MiB, the limit (fuka keeps it in memory)" {
					t.Errorf("message %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.size || b == nil {
				t.Errorf("read %d bytes (nil %v), want %d", len(b), b == nil, tt.size)
			}
		})
	}
}
