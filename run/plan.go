package run

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fuka-load/fuka/client"
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

// CompileFile is Compile of the plan file at path, with this process's
// environment.
func CompileFile(path, baseURL string) (*Plan, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return Compile(path, src, baseURL, os.LookupEnv)
}

// Compile parses and compiles the plan src read from path, with its
// environment variables looked up by lookup (a worker gets the
// controller's: see PrepareJob) and base_url replaced by baseURL when that
// is set. Every problem is reported at once, each as file:line:col (the
// error is a plan.Errors).
func Compile(path string, src []byte, baseURL string, lookup func(string) (string, bool)) (*Plan, error) {
	return compile(path, src, baseURL, lookup, nil)
}

// compile is Compile; a non-nil protos is a worker's: the schema its
// controller sent stands for the plan's protos: files (plan.ParseWithProtos).
func compile(path string, src []byte, baseURL string, lookup func(string) (string, bool), protos *protoregistry.Files) (*Plan, error) {
	parsePlan := plan.Parse
	if protos != nil {
		parsePlan = func(file string, src []byte) (*plan.Plan, error) { return plan.ParseWithProtos(file, src, protos) }
	}
	p, err := parsePlan(path, src)
	if err != nil {
		return nil, err
	}
	read := map[string]string{}
	var mu sync.Mutex
	env := func(k string) (string, bool) {
		v, ok := lookup(k)
		if ok {
			mu.Lock()
			read[k] = v
			mu.Unlock()
		}
		return v, ok
	}
	if baseURL != "" {
		if _, err := client.ParseURL(baseURL); err != nil {
			return nil, fmt.Errorf("--base-url: %w", err)
		}
		p.BaseURL.Value = baseURL
	}
	var errs plan.Errors
	prog, err := scenario.Compile(p, env)
	if pe, ok := err.(plan.Errors); ok {
		errs = append(errs, pe...)
	} else if err != nil {
		return nil, err
	}
	c := &Plan{Plan: p, Prog: prog, Source: src, Env: read}
	parse := func(s plan.String) *threshold.Expr {
		e, err := threshold.Parse(s.Value)
		if err != nil {
			pos := s.Pos
			msg := err.Error()
			var te *threshold.Error
			if errors.As(err, &te) {
				pos.Column += te.Offset
				msg = te.Msg
			}
			errs = append(errs, &plan.Error{Pos: pos, Msg: fmt.Sprintf("threshold %q: %s", s.Value, msg)})
		}
		return e
	}
	for _, t := range p.Thresholds {
		if e := parse(t.Expr); e != nil {
			c.Thresholds = append(c.Thresholds, e)
		}
	}
	for _, a := range p.AbortWhen {
		e := parse(a.Expr)
		if e == nil {
			continue
		}
		if prog != nil {
			// A rule that can never fire would watch nothing in silence.
			if msg := prog.CheckAbort(e); msg != "" {
				errs = append(errs, &plan.Error{Pos: a.Expr.Pos, Msg: fmt.Sprintf("abort_when %q: %s", a.Expr.Value, msg)})
				continue
			}
		}
		c.Aborts = append(c.Aborts, AbortRule{e, a.For})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// OwnLoads reports whether any scenario has its own load or start: then
// each scenario runs as its own part (see partsConfig) instead of sharing
// the plan's load by weight.
func (c *Plan) OwnLoads() bool {
	for _, sc := range c.Plan.Scenarios {
		if sc.Load != nil || sc.StartAfter.Value != "" {
			return true
		}
	}
	return false
}

// Timeout is the longest request timeout of the plan: a distributed run's
// controller waits that long past the end for its workers' last requests.
func (c *Plan) Timeout() time.Duration {
	t := c.Plan.Defaults.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	for _, sc := range c.Plan.Scenarios {
		plan.Walk(sc.Steps, func(s *plan.Step) { t = max(t, s.Timeout) })
	}
	return t
}
