package scenario

import (
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
)

// A client's iteration is an explicit state machine, so that one
// implementation of the plan's semantics (steps, groups, if, loop, foreach,
// set, on_failure, think times) serves both drivers: the net/http driver
// (Client.Iterate, a goroutine per client that blocks on each request and
// pause) and the event-loop driver (LoopClient, a client the fast path's
// epoll loop steps on each response and timer). The machine never waits and
// never sends: advance says what the iteration needs next — a request sent
// (c.cur), a pause (c.think), or nothing more (c.end) — and the driver
// reports the request's outcome with stepDone before advancing again.

// flow is what a client does after a step.
type flow uint8

const (
	flowOn      flow = iota // the next step
	flowEnd                 // end the iteration
	flowInvalid             // end the iteration: a request could not be built (pauseAfterInvalid)
	flowStop                // stop the client
)

// action is what advance asks the driver for.
type action uint8

const (
	actRequest action = iota // send c.cur's request, then call stepDone
	actThink                 // pause for c.think, then advance again
	actEnd                   // the iteration is over: c.end says how
)

// frame is one list of steps being run: the scenario's, an if's branch, or
// a loop's or foreach's steps, which run once per turn.
type frame struct {
	steps []*step
	i     int   // the next step to run
	owner *step // kLoop, kForeach: the step whose turns this frame runs
	turn  int   // the turn running; -1 before the first
	els   []gjson.Result
	items []any
}

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

// begin starts an iteration over steps.
func (c *Client) begin(steps []*step) {
	c.stack = c.stack[:0]
	c.push(steps, nil)
	c.end = flowOn
}

// push adds a frame, reusing the element slices of a frame that was there.
func (c *Client) push(steps []*step, owner *step) *frame {
	n := len(c.stack)
	if n < cap(c.stack) {
		c.stack = c.stack[:n+1]
	} else {
		c.stack = append(c.stack, frame{})
	}
	f := &c.stack[n]
	*f = frame{steps: steps, owner: owner, turn: -1, els: f.els[:0], items: f.items[:0]}
	if owner != nil {
		f.i = len(steps) // the first turn starts it
	}
	return f
}

// finish ends the iteration with f.
func (c *Client) finish(f flow) action {
	c.stack = c.stack[:0]
	c.end = f
	return actEnd
}

// stepDone tells the machine how the request step c.cur ended: the flow
// (see step) decides whether the iteration goes on.
func (c *Client) stepDone(f flow) {
	if f != flowOn {
		c.finish(f)
	}
}

// advance runs the iteration to its next request or pause, or to its end.
// stop says the load has ended: the iteration ends before its next step.
func (c *Client) advance(stop bool) action {
	for len(c.stack) > 0 {
		if stop {
			return c.finish(flowEnd)
		}
		f := &c.stack[len(c.stack)-1]
		if f.i == len(f.steps) {
			if f.owner == nil {
				c.stack = c.stack[:len(c.stack)-1]
				continue
			}
			act, fl, more := c.nextTurn(f)
			if fl != flowOn {
				return c.finish(fl)
			}
			if !more {
				c.stack = c.stack[:len(c.stack)-1]
				continue
			}
			if act == actThink {
				return actThink
			}
			continue
		}
		s := f.steps[f.i]
		f.i++
		fl := flowOn
		switch s.kind {
		case kThink:
			c.think = c.thinkTime(s.think)
			return actThink
		case kRequest, kWS, kSend, kExpect, kClose:
			c.cur = s
			return actRequest
		case kIf:
			yes, ok := c.cond(s)
			switch {
			case !ok:
				fl = failed(s, true)
			case yes:
				c.push(s.then, nil)
			default:
				c.push(s.els, nil)
			}
		case kLoop:
			c.push(s.then, s)
		case kForeach:
			fl = c.enterForeach(s)
		case kSet:
			fl = c.set(s)
		}
		if fl != flowOn {
			return c.finish(fl)
		}
	}
	return actEnd // c.end: flowOn from begin, or what stepDone set
}

// nextTurn starts the next turn of f's loop or foreach: more is false when
// there is none. A turn after the first may begin with the step's pause
// (act actThink, c.think set).
func (c *Client) nextTurn(f *frame) (act action, fl flow, more bool) {
	s, turn := f.owner, f.turn+1
	switch s.kind {
	case kLoop:
		if s.cond == nil && turn >= s.count || s.cond != nil && turn >= s.max {
			return actEnd, flowOn, false
		}
		if s.cond != nil {
			yes, ok := c.cond(s)
			if !ok {
				return actEnd, failed(s, true), false
			}
			if !yes {
				return actEnd, flowOn, false
			}
		}
		c.turnIndex(s, turn)
	case kForeach:
		n := len(f.items)
		if s.cond.slot >= 0 {
			n = len(f.els)
		}
		if turn >= n || s.max > 0 && turn >= s.max {
			return actEnd, flowOn, false
		}
		if s.cond.slot >= 0 {
			c.element(s, f.els[turn])
		} else {
			it := f.items[turn]
			txt, isJSON := text(it)
			c.ex.setTyped(c.st, s.as, txt, it)
			if len(s.fields) > 0 {
				c.fields(s, gjson.Parse(txt), isJSON)
			}
		}
	}
	f.turn, f.i = turn, 0
	if turn > 0 && s.turnThink != nil {
		c.think = c.thinkTime(*s.turnThink)
		return actThink, flowOn, true
	}
	return actEnd, flowOn, true
}

// enterForeach evaluates a foreach's list and pushes the frame of its
// turns. A variable holding JSON text is walked as it is, without parsing
// it into values.
func (c *Client) enterForeach(s *step) flow {
	if s.cond.slot >= 0 {
		doc := gjson.Parse(c.st.Vals[s.cond.slot])
		if !doc.IsArray() || !gjson.Valid(doc.Raw) {
			c.check(s.errCheck, false)
			return failed(s, true)
		}
		f := c.push(s.then, s)
		doc.ForEach(func(_, el gjson.Result) bool {
			f.els = append(f.els, el)
			return s.max <= 0 || len(f.els) < s.max
		})
		return flowOn
	}
	v, err := c.eval(s.cond)
	items, ok := list(v)
	if err != nil || !ok {
		c.check(s.errCheck, false)
		return failed(s, true)
	}
	f := c.push(s.then, s)
	f.items = append(f.items, items...)
	return flowOn
}

// stepFlow is the flow after a request step whose checks passed (ok) or
// not; c.bad, c.missing and c.noResp say what else went wrong.
func (c *Client) stepFlow(s *step, ok bool) flow {
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

// thinkTime draws a pause from th.
func (c *Client) thinkTime(th plan.Think) time.Duration {
	d := th.Min
	if th.Max > th.Min {
		d += time.Duration(c.st.Rand.Int64N(int64(th.Max - th.Min)))
	}
	return d
}

// cond evaluates an if's or while's condition; ok is false when it could
// not be evaluated (counted as a failed check).
func (c *Client) cond(s *step) (yes, ok bool) {
	v, err := c.eval(s.cond)
	b, isBool := v.(bool)
	if err != nil || !isBool {
		c.check(s.errCheck, false)
		return false, false
	}
	return b, true
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
			c.check(s.errCheck, false)
			return failed(s, true)
		}
		txt, _ := text(val)
		c.ex.setTyped(c.st, v.slot, txt, val)
	}
	return flowOn
}
