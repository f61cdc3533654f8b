package history

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/report"
)

// TestWriteMarkdown: the comparison names the baseline, counts the
// regressions, and has a table row per request name with each change and
// its verdict; names cannot break the table.
func TestWriteMarkdown(t *testing.T) {
	a, b, ra, rb := pair()
	c := Compare(a, b, ra, rb, DefaultNoise)
	var out strings.Builder
	if err := c.WriteMarkdown(&out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"**Compared with \\#12, shop, 2026-05-01 10:00:00, completed, 60,000 requests** (noise 5%): 2 regressions",
		"| request | p95 | p99 | rps | error % |",
		"| list products | 10.00ms → 14.00ms (+40.0%) ▲ **regressed** | 20.00ms → 30.00ms (+50.0%) ▲ **regressed** |",
		"| checkout | 50.00ms → 40.00ms (-20.0%) ▼ improved |",
		"| login | only in the previous run |",
		"| search | only in this run |",
		"&lt;script&gt;",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in\n%s", want, md)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(md), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " |") != int(NumMetrics)+1 {
			t.Errorf("line %d has %d cells: %q", i+1, strings.Count(line, " |"), line)
		}
	}
}

// TestPrevious: the baseline of a run is the newest completed run of the
// same plan (a quick attack's: of the same target, with no plan); no
// history, and no such run, are said apart.
func TestPrevious(t *testing.T) {
	a, b, _, _ := pair()
	path := filepath.Join(t.TempDir(), "h.db")
	if _, err := Previous(path, b); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("no history: %v, want ErrNoHistory", err)
	}
	attack := *a
	attack.Name, attack.Target = "", "http://127.0.0.1:9/"
	other := *a
	other.Name = "other"
	save := func(s *report.Summary, status string) int64 {
		t.Helper()
		id, _, err := Save(path, s, status)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := save(a, StatusCompleted)
	save(a, StatusInterrupted)
	save(&other, StatusCompleted)
	attackID := save(&attack, StatusCompleted)
	tests := []struct {
		name   string
		sum    *report.Summary
		wantID int64
		err    error
	}{
		{"plan: newest completed of that plan", b, want, nil},
		{"attack: same target, no plan", &attack, attackID, nil},
		{"attack on another target", func() *report.Summary { s := attack; s.Target = "http://127.0.0.1:10/"; return &s }(), 0, ErrNotFound},
		{"plan never run", func() *report.Summary { s := *b; s.Name = "new"; return &s }(), 0, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			side, err := Previous(path, tt.sum)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if side.Run.ID != tt.wantID || side.Sum.Name != tt.sum.Name {
				t.Errorf("previous run #%d %q, want #%d", side.Run.ID, side.Sum.Name, tt.wantID)
			}
		})
	}
}
