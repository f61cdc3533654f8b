package run

import (
	"slices"
	"testing"
	"time"

	"github.com/fuka-load/fuka/plan"
)

// TestStepsInsideLogic: the body and multipart files a distributed run
// ships and the timeout its controller waits for are found inside an if's
// else: and a loop, not only in groups.
func TestStepsInsideLogic(t *testing.T) {
	req := func(file string, timeout time.Duration) *plan.Step {
		return &plan.Step{Kind: plan.StepRequest, Method: "POST", BodyFile: plan.String{Value: file}, Timeout: timeout}
	}
	steps := []*plan.Step{
		{Kind: plan.StepIf, If: &plan.Expr{Src: "true"},
			Steps: []*plan.Step{req("then.bin", 0)},
			Else: []*plan.Step{req("else.bin", 42*time.Second),
				{Kind: plan.StepRequest, Method: "POST", StepHTTP: plan.StepHTTP{Multipart: &plan.Multipart{Parts: []plan.MultipartPart{
					{Name: "f", File: plan.String{Value: "part.bin"}}, {Name: "v", Value: &plan.String{Value: "x"}}}}}}}},
		{Kind: plan.StepLoop, Loop: &plan.Loop{Count: 2}, Steps: []*plan.Step{req("loop.bin", 0)}},
	}
	if got, want := stepFiles(steps), []string{"then.bin", "else.bin", "part.bin", "loop.bin"}; !slices.Equal(got, want) {
		t.Errorf("stepFiles = %q, want %q", got, want)
	}
	c := &Plan{Plan: &plan.Plan{Scenarios: []*plan.Scenario{{Name: "s", Steps: steps}}}}
	if got := c.Timeout(); got != 42*time.Second {
		t.Errorf("Timeout = %v, want 42s (the else: step's)", got)
	}
}
