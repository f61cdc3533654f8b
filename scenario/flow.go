package scenario

import (
	"context"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
)

// flow is what a client does after a step.
type flow uint8

const (
	flowOn      flow = iota // the next step
	flowEnd                 // end the iteration
	flowInvalid             // end the iteration: a request could not be built (pauseAfterInvalid)
	flowStop                // stop the client
)

// failed is the flow after step s failed. hard is a failure later steps
// cannot do without (a missing required value, an expression that could
// not be evaluated): unless on_failure says otherwise it ends the
// iteration, where a failed check goes on.
func failed(s *step, hard bool) flow {
	switch s.onFail {
	case plan.FailContinue:
		return flowOn
	case plan.FailNextIteration:
		return flowEnd
	case plan.FailStopClient:
		return flowStop
	}
	if hard {
		return flowEnd
	}
	return flowOn
}

// run runs steps in order.
func (c *Client) run(ctx context.Context, steps []*step) flow {
	for _, s := range steps {
		if ctx.Err() != nil {
			return flowEnd
		}
		f := flowOn
		switch s.kind {
		case kThink:
			if !c.sleep(ctx, s.think) {
				return flowEnd
			}
		case kRequest:
			f = c.step(ctx, s)
		case kIf:
			f = c.ifStep(ctx, s)
		case kLoop:
			f = c.loop(ctx, s)
		case kForeach:
			f = c.foreach(ctx, s)
		case kSet:
			f = c.set(s)
		}
		if f != flowOn {
			return f
		}
	}
	return flowOn
}

// step sends a request step's request.
func (c *Client) step(ctx context.Context, s *step) flow {
	from := time.Time{}
	if c.first && c.r.open {
		from = c.intended
	}
	c.first = false
	c.noResp, c.missing = false, false
	ok := c.request(ctx, s, from)
	switch {
	case c.bad:
		c.bad = false
		return flowInvalid
	case !ok && s.abortOnFail:
		return flowEnd
	case c.missing:
		return failed(s, true)
	case !ok || c.noResp:
		return failed(s, false)
	}
	return flowOn
}

// sleep pauses for a think time; false when ctx ended it.
func (c *Client) sleep(ctx context.Context, th plan.Think) bool {
	d := th.Min
	if th.Max > th.Min {
		d += time.Duration(c.st.Rand.Int64N(int64(th.Max - th.Min)))
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// cond evaluates an if's or while's condition; ok is false when it could
// not be evaluated (counted as a failed check).
func (c *Client) cond(s *step) (yes, ok bool) {
	v, err := c.eval(s.cond)
	b, isBool := v.(bool)
	if err != nil || !isBool {
		c.rec.Check(s.errCheck, false)
		return false, false
	}
	return b, true
}

func (c *Client) ifStep(ctx context.Context, s *step) flow {
	yes, ok := c.cond(s)
	switch {
	case !ok:
		return failed(s, true)
	case yes:
		return c.run(ctx, s.then)
	}
	return c.run(ctx, s.els)
}

// between pauses between two turns of a loop or foreach.
func (c *Client) between(ctx context.Context, s *step, turn int) bool {
	if turn == 0 || s.turnThink == nil {
		return true
	}
	return c.sleep(ctx, *s.turnThink)
}

// turnIndex sets a loop's as: variable to the turn's number.
func (c *Client) turnIndex(s *step, turn int) {
	if s.as < 0 {
		return
	}
	text := strconv.Itoa(turn) // small numbers are not allocated
	if c.ex != nil {
		c.ex.setTyped(c.st, s.as, text, turn)
	} else {
		c.st.Vals[s.as] = text
	}
}

// loop runs a loop's steps count times, or while its condition holds and
// at most max times.
func (c *Client) loop(ctx context.Context, s *step) flow {
	for turn := 0; ; turn++ {
		if s.cond == nil && turn >= s.count || s.cond != nil && turn >= s.max {
			return flowOn
		}
		if s.cond != nil {
			yes, ok := c.cond(s)
			if !ok {
				return failed(s, true)
			}
			if !yes {
				return flowOn
			}
		}
		if !c.between(ctx, s, turn) {
			return flowEnd
		}
		c.turnIndex(s, turn)
		if f := c.run(ctx, s.then); f != flowOn {
			return f
		}
	}
}

// foreach runs its steps for each element of a list. A variable holding
// JSON text is walked as it is, without parsing it into values.
func (c *Client) foreach(ctx context.Context, s *step) flow {
	if s.cond.slot >= 0 {
		doc := gjson.Parse(c.st.Vals[s.cond.slot])
		if !doc.IsArray() || !gjson.Valid(doc.Raw) {
			c.rec.Check(s.errCheck, false)
			return failed(s, true)
		}
		turn, f := 0, flowOn
		doc.ForEach(func(_, el gjson.Result) bool {
			if s.max > 0 && turn >= s.max {
				return false
			}
			if !c.between(ctx, s, turn) {
				f = flowEnd
				return false
			}
			c.element(s, el)
			turn++
			f = c.run(ctx, s.then)
			return f == flowOn
		})
		return f
	}
	v, err := c.eval(s.cond)
	items, ok := list(v)
	if err != nil || !ok {
		c.rec.Check(s.errCheck, false)
		return failed(s, true)
	}
	for turn, it := range items {
		if s.max > 0 && turn >= s.max {
			break
		}
		if !c.between(ctx, s, turn) {
			return flowEnd
		}
		txt, isJSON := text(it)
		c.ex.setTyped(c.st, s.as, txt, it)
		if len(s.fields) > 0 {
			c.fields(s, gjson.Parse(txt), isJSON)
		}
		if f := c.run(ctx, s.then); f != flowOn {
			return f
		}
	}
	return flowOn
}

// element sets a foreach's as: variable (and its fields) to el.
func (c *Client) element(s *step, el gjson.Result) {
	if el.Type == gjson.String {
		c.st.Vals[s.as] = el.Str
	} else {
		c.st.Vals[s.as] = el.Raw
		c.ex.setJSON(c.st, s.as)
	}
	c.fields(s, el, el.IsObject() || el.IsArray())
}

// fields sets the {{ as.path }} variables from element el.
func (c *Client) fields(s *step, el gjson.Result, structured bool) {
	for _, f := range s.fields {
		v := ""
		if structured {
			r := el.Get(f.path)
			if r.Type == gjson.String {
				v = r.Str
			} else if r.Exists() {
				v = r.Raw
			}
		}
		c.st.Vals[f.slot] = v
	}
}

// set sets variables from expressions and templates.
func (c *Client) set(s *step) flow {
	for _, v := range s.sets {
		if v.tmpl != nil {
			c.st.Vals[v.slot] = string(v.tmpl.Render(nil, c.st))
			continue
		}
		val, err := c.eval(v.expr)
		if err != nil {
			c.rec.Check(s.errCheck, false)
			return failed(s, true)
		}
		txt, _ := text(val)
		c.ex.setTyped(c.st, v.slot, txt, val)
	}
	return flowOn
}
