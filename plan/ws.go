package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// WebSocket steps. A client holds at most one connection, opened by a ws:
// step and used by the send:, expect: and close: steps after it, across
// iterations, until a close: step, a failure or the client's end:
//
//	- ws: /chat                     # base_url's path over ws:// (wss:// for https), or ws(s)://host/path
//	  headers: {Authorization: "Bearer {{ token }}"}
//	  subprotocols: [chat.v1]
//	  every: { period: 5s, send: '{"type":"ping","n":{{ seq }}}' }  # while open, whatever runs
//	  # or every: { period: 5s, ping: true, timeout: 2s }: ping frames, each awaiting its pong
//	- send: '{"say":"hi {{ client_id }}"}'
//	  expect: {contains: hi}        # optional: wait for a matching message
//	  timeout: 2s                   # required with expect:
//	  extract: {id: {json: id}}     # from the matching message
//	- expect: {json: {type: joined}}  # a message the server pushes
//	  timeout: 5s
//	- close: 1000
//
// A message matches an expect: when every check holds: contains, regex,
// json (path: value), json_exists; an empty expect: {} matches any.

// Step kinds of the WebSocket steps.
const (
	StepWS     StepKind = iota + 100 // ws: open the connection
	StepSend                         // send: a message, maybe awaiting one (Expect)
	StepExpect                       // expect: await a message
	StepClose                        // close: the connection
)

// StepWebSocket is a WebSocket step's own fields; Name, Headers, Timeout,
// Extract and OnFailure are Step's.
type StepWebSocket struct {
	URL          String   // ws: a path after base_url, or a ws(s) URL (template)
	Subprotocols []string // ws:
	Message      *String  // send: (template)
	Binary       bool     // send: a binary message, else text
	// Expect is what a message must hold (send: with expect:, and
	// expect:); HasExpect says an expect: was given (it may be empty).
	Expect    []Check
	HasExpect bool
	CloseCode int // close:
	// Every, on ws:, sends EverySend (a template) on the connection every
	// Every while it is open, whatever the other steps do (keep-alives,
	// presence); or, with EveryPing, a ping control frame, awaiting its
	// pong for EveryTimeout at most (0: the smaller of Every and the
	// step's timeout).
	Every        time.Duration
	EverySend    String
	EveryPing    bool
	EveryTimeout time.Duration
}

var (
	wsKeys       = []string{"name", "headers", "subprotocols", "timeout", "every", "on_failure"}
	sendKeys     = []string{"name", "binary", "expect", "timeout", "extract", "on_failure"}
	expectKeys   = []string{"name", "timeout", "extract", "on_failure"}
	closeKeys    = []string{"on_failure"}
	messageCheck = []string{"contains", "regex", "json", "json_exists"}
)

// IsWebSocket reports whether st is a WebSocket step.
func (st *Step) IsWebSocket() bool { return st.Kind >= StepWS && st.Kind <= StepClose }

// wsStep reads a ws:, send:, expect: or close: step.
func (ps *parser) wsStep(st *Step, action entry, es []entry) {
	keys := map[string][]string{"ws": wsKeys, "send": sendKeys, "expect": expectKeys, "close": closeKeys}[action.Key]
	switch action.Key {
	case "ws":
		st.Kind = StepWS
		if s, ok := ps.nonEmpty("ws", action.V); ok {
			st.WS.URL = s
			if err := checkWSURL(s.Value); err != nil {
				ps.errorf(action.V, "ws: %v", err)
			}
		}
	case "send":
		st.Kind = StepSend
		if action.V.Kind != yaml.ScalarNode || isNull(action.V) {
			ps.errorf(action.V, "send: want the message, a string, got %s", describe(action.V))
		} else {
			st.WS.Message = &String{Value: action.V.Value, Pos: ps.pos(action.V)}
		}
	case "expect":
		st.Kind = StepExpect
		st.WS.Expect, st.WS.HasExpect = ps.messageChecks(action.V), true
	case "close":
		st.Kind = StepClose
		st.WS.CloseCode = 1000
		if !isNull(action.V) && action.V.Value != "true" {
			if n, ok := ps.integer("close", action.V); ok {
				if n != 1000 && (n < 3000 || n > 4999) {
					ps.errorf(action.V, "close: want 1000 (normal) or an application code 3000 to 4999, got %d", n)
				}
				st.WS.CloseCode = n
			}
		}
	}
	var timeout *entry
	for i, e := range es {
		if slices.Contains(actionKeys, e.Key) && (e.Key != "expect" || action.Key != "send") {
			continue // the action, or a second one (reported by step)
		}
		if !slices.Contains(keys, e.Key) {
			ps.unknown(e, action.Key+" step", keys)
			continue
		}
		switch e.Key {
		case "name":
			if s, ok := ps.nonEmpty("name", e.V); ok {
				st.Name = s.Value
			}
		case "headers":
			st.Headers = ps.headers("headers", e.V)
		case "subprotocols":
			items, _ := ps.list(e.V, "subprotocols")
			for _, it := range items {
				if s, ok := ps.nonEmpty("subprotocols", it); ok {
					st.WS.Subprotocols = append(st.WS.Subprotocols, s.Value)
				}
			}
		case "every":
			ps.every(st, e)
		case "binary":
			st.WS.Binary, _ = ps.boolean("binary", e.V)
		case "expect":
			st.WS.Expect, st.WS.HasExpect = ps.messageChecks(e.V), true
		case "timeout":
			timeout = &es[i]
			st.Timeout, _ = ps.positive("timeout", e.V)
		case "extract":
			st.Extract = ps.extracts(e.V)
			ps.noTrailerExtracts(st.Extract)
		case "on_failure":
			ps.onFailure(st, es)
		}
	}
	// A wait without a bound would hold the client for ever on a server
	// that never answers: an expect must say how long it waits.
	if st.WS.HasExpect && timeout == nil {
		ps.errorf(action.K, "%s: an expect needs a timeout: how long to wait for the message (e.g. timeout: 5s)", action.Key)
	}
	if len(st.Extract) > 0 && !st.WS.HasExpect {
		ps.errorf(action.K, "%s: extract needs an expect: it reads the matching message", action.Key)
	}
	if st.Name == "" {
		st.Name = wsName(st)
	}
}

// every reads `every: { period: 5s, send: '{"type":"ping"}' }` or
// `every: { period: 5s, ping: true, timeout: 2s }`.
func (ps *parser) every(st *Step, e entry) {
	es, ok := ps.mapping(e.V, "every")
	if !ok {
		return
	}
	var send, ping *entry
	period := false
	for i, x := range es {
		switch x.Key {
		case "period":
			period = true
			if d, ok := ps.positive("every: period", x.V); ok {
				if d < 10*time.Millisecond {
					ps.errorf(x.V, "every: period: want at least 10ms, got %v", d)
				}
				st.WS.Every = d
			}
		case "send":
			send = &es[i]
			if s, ok := ps.nonEmpty("every: send", x.V); ok {
				st.WS.EverySend = s
			}
		case "ping":
			ping = &es[i]
			st.WS.EveryPing, _ = ps.boolean("every: ping", x.V)
		case "timeout":
			st.WS.EveryTimeout, _ = ps.positive("every: timeout", x.V)
		default:
			ps.unknown(x, "every", everyKeys)
		}
	}
	switch {
	case send != nil && ping != nil:
		ps.errorf(ping.K, "every: send or ping, not both: one every: does one thing")
	case send == nil && ping == nil:
		ps.errorf(e.K, "every: wants send (a message) or ping: true")
	case send == nil && !st.WS.EveryPing && ping.V.Value == "false":
		ps.errorf(ping.V, "every: ping: false sends nothing; want ping: true, or send")
	}
	if !period {
		ps.errorf(e.K, "every: wants a period (e.g. period: 5s)")
	}
}

var everyKeys = []string{"period", "send", "ping", "timeout"}

// wsName is a WebSocket step's default name in results.
func wsName(st *Step) string {
	switch st.Kind {
	case StepWS:
		return "WS " + st.WS.URL.Value
	case StepSend:
		if st.WS.HasExpect {
			return "WS send+expect"
		}
		return "WS send"
	case StepExpect:
		return "WS expect"
	}
	return "WS close"
}

// messageChecks reads an expect: mapping: the checks a message must pass.
func (ps *parser) messageChecks(n *yaml.Node) []Check {
	if isNull(n) {
		return nil
	}
	es, ok := ps.mapping(n, "expect")
	if !ok {
		return nil
	}
	var out []Check
	for _, e := range es {
		at := ps.pos(e.K)
		switch e.Key {
		case "contains":
			out = ps.textCheck(out, e, CheckBodyContains, "message contains %q", at)
		case "regex":
			out = ps.textCheck(out, e, CheckBodyRegex, "message matches %q", at)
		case "json":
			out = append(out, ps.jsonChecks(e.V)...)
		case "json_exists":
			out = append(out, ps.jsonExists(e.V)...)
		default:
			ps.unknown(e, "expect", messageCheck)
		}
	}
	return out
}

// checkWSURL accepts a path for base_url, a ws:// or wss:// URL, or a
// template.
func checkWSURL(p string) error {
	switch {
	case strings.HasPrefix(p, "ws://"), strings.HasPrefix(p, "wss://"):
		return checkPath("http" + strings.TrimPrefix(p, "ws"))
	case strings.HasPrefix(p, "http://"), strings.HasPrefix(p, "https://"):
		return fmt.Errorf("bad URL %q: want ws://host/path or wss://host/path", clip(p))
	}
	return checkPath(p)
}

// wsErrors checks a scenario's WebSocket steps: send, expect and close
// need a ws step somewhere in the scenario, and a ws step with a path a
// base_url.
func (p *Plan) wsErrors(c *collector, steps []*Step) {
	var first *Step
	opens := false
	var walk func([]*Step)
	walk = func(ss []*Step) {
		for _, st := range ss {
			switch {
			case st.Kind == StepWS:
				opens = true
				u := st.WS.URL.Value
				if p.BaseURL.Value == "" && !strings.HasPrefix(u, "ws://") && !strings.HasPrefix(u, "wss://") && !strings.HasPrefix(u, "{{") {
					c.add(st.WS.URL.Pos, "ws: %q is a path, and the plan has no base_url; give one or a ws:// URL", clip(u))
				}
			case st.IsWebSocket() && first == nil:
				first = st
			}
			walk(st.Steps)
			walk(st.Else)
		}
	}
	walk(steps)
	if first != nil && !opens {
		c.add(first.Pos, "%s: no ws: step in this scenario opens a connection to use", wsName(first))
	}
}

// wsStepErrors checks a WebSocket step as Parse does, for plans built in
// code.
func wsStepErrors(c *collector, st *Step) {
	switch {
	case st.Kind == StepWS && st.WS.URL.Value == "":
		c.add(st.Pos, "ws: want a path or a ws:// URL")
	case st.Kind == StepSend && st.WS.Message == nil:
		c.add(st.Pos, "send: want the message")
	case st.WS.HasExpect && st.Timeout <= 0:
		c.add(st.Pos, "%s: an expect needs a timeout: how long to wait for the message (e.g. timeout: 5s)", wsName(st))
	case st.WS.Every < 0 || st.WS.EveryTimeout < 0:
		c.add(st.Pos, "every: period and timeout must be more than 0")
	case st.WS.Every > 0 && st.WS.EveryPing == (st.WS.EverySend.Value != ""):
		c.add(st.Pos, "every: wants send (a message) or ping: true, one of them")
	}
	headerErrors(c, "headers", st.Headers)
}

// textCheck appends a contains or regex check on the body (or a WebSocket
// message) from entry e, named by format; a regex is compiled now so a bad
// one is an error at its place in the plan.
func (ps *parser) textCheck(out []Check, e entry, kind CheckKind, format string, at Pos) []Check {
	s, ok := ps.nonEmpty(e.Key, e.V)
	if !ok {
		return out
	}
	if kind == CheckBodyRegex {
		if err := compileRegex(s.Value); err != nil {
			ps.errorf(e.V, "%s: %v", e.Key, err)
			return out
		}
	}
	return append(out, Check{Kind: kind, Name: fmt.Sprintf(format, s.Value), Expr: s.Value, Pos: at})
}
