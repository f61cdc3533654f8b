package run

import (
	"time"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
	"github.com/fuka-load/fuka/threshold"
)

// Plan is a plan file ready to run: parsed, compiled, its thresholds and
// abort rules parsed.
type Plan struct {
	Plan       *plan.Plan
	Prog       *scenario.Program
	Thresholds []*threshold.Expr
	Aborts     []AbortRule
	// Source is the plan file as it was compiled, and Env the environment
	// variables the compile read that were set: a distributed run's job
	// carries both, so that the workers compile what the controller did.
	Source []byte
	Env    map[string]string
}

// AbortRule is one abort_when rule: Expr held over the last For.
type AbortRule struct {
	Expr *threshold.Expr
	For  time.Duration
}
