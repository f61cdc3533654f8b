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
	p, err := plan.Parse("fuka.yaml", []byte(src))
	if err != nil {
		t.Fatalf("the starter plan: %v", err)
	}
	// It shows the logic a plan can have: a loop and a condition.
	kinds := map[plan.StepKind]bool{}
	for _, sc := range p.Scenarios {
		plan.Walk(sc.Steps, func(st *plan.Step) { kinds[st.Kind] = true })
	}
	if !kinds[plan.StepLoop] || !kinds[plan.StepIf] {
		t.Errorf("the starter plan has no loop or no if")
	}
}
