package plan_test

import (
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// TestStarter: the plan fuka init writes parses and validates, and names
// the file it is written to.
func TestStarter(t *testing.T) {
	src := strings.ReplaceAll(plan.Starter, "PLANFILE", "fuka.yaml")
	if !strings.Contains(src, "fuka validate fuka.yaml") {
		t.Errorf("the starter plan does not name its file")
	}
	if _, err := plan.Parse("fuka.yaml", []byte(src)); err != nil {
		t.Errorf("the starter plan: %v", err)
	}
}
