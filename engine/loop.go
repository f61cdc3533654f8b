package engine

import (
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// LoopScenario is a Scenario whose clients can also run on the fast path's
// event loops: every request of its plan goes as plain HTTP/1.1 to one
// address, and a client is a state machine the loop steps (LoopClient)
// instead of a goroutine that blocks. Implemented by scenario.Runner.
type LoopScenario interface {
	Scenario
	// LoopAddr is the host and port every request goes to; ok is false
	// when some request cannot go on the loops (TLS, HTTP/2, a script,
	// another host, redirects): the run then uses net/http.
	LoopAddr() (host, port string, ok bool)
	// NewLoopClient returns client id, recording into rec. Its methods are
	// called by one event loop, with rec's lock held (RecordLocked,
	// CheckLocked).
	NewLoopClient(id int, rec *metrics.Recorder, endRun func()) LoopClient
}

// LoopAction is what a LoopClient asks its loop for.
type LoopAction uint8

const (
	LoopSend  LoopAction = iota // send Wire, then report with Response
	LoopThink                   // pause for Think, then ask again
	LoopEnd                     // the iteration is over
	LoopPause                   // the iteration is over; wait Think before the next (closed model)
	LoopStop                    // the client is done: it starts no more iterations
)

// LoopStep is a LoopClient's next move.
type LoopStep struct {
	Action   LoopAction
	Wire     []byte        // LoopSend: the request, valid until Response
	Head     bool          // LoopSend: a HEAD request (its response has no body)
	KeepBody int           // LoopSend: how much of the body the client reads (0: none)
	Timeout  time.Duration // LoopSend: connect to last byte
	Think    time.Duration // LoopThink, LoopPause
}

// LoopResult is the outcome of a request a LoopClient asked for. Head and
// Body are the loop's buffers: valid only during Response.
type LoopResult struct {
	Err               metrics.ErrorKind
	Status            int
	Head              []byte // header lines of the final response, each ending in \n
	Body              []byte // its body, de-chunked, at most KeepBody bytes
	BytesIn, BytesOut int64
	Sent, Done        time.Duration // from the run's start
	Stop              bool          // the load has ended (no retry then)
	// Phases, Timed and NewConn are a complete response's phases when
	// the run times them (Config.Phases), as metrics.Outcome has them.
	Phases  [metrics.NumPhases]time.Duration
	Timed   uint8
	NewConn bool
}

// LoopClient is one client of a LoopScenario, run by an event loop.
type LoopClient interface {
	// Begin starts an iteration: seq numbers the start, intended is when
	// it was due (from the run's start). It returns false when the client
	// must stop (its unique data ran out).
	Begin(seq int64, intended time.Duration) bool
	// Next moves the iteration on to its next request, pause or end.
	// stop says the load has ended: the iteration ends before its next
	// step.
	Next(now time.Duration, stop bool) LoopStep
	// Response reports the outcome of the request Next asked for.
	Response(r *LoopResult)
}

// fastPlan reports whether the plan w runs on the event loops.
func (c *Config) fastPlan(w Plan) (LoopScenario, bool) {
	ls, ok := w.Scenario.(LoopScenario)
	if c.ForceStd || w.HTTP2 || !ok {
		return nil, false
	}
	if _, _, ok := ls.LoopAddr(); !ok {
		return nil, false
	}
	return ls, true
}

// fastParts reports whether every part of w runs on the event loops.
func (c *Config) fastParts(w Parts) bool {
	for _, p := range w.Parts {
		if _, ok := c.fastPlan(Plan{Scenario: p.Scenario, HTTP2: w.HTTP2}); !ok {
			return false
		}
	}
	return len(w.Parts) > 0
}
