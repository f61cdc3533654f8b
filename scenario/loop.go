package scenario

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// The event-loop driver: a client of a plain-HTTP/1.1 plan run by the fast
// path's epoll loop (engine.LoopClient). It shares the iteration's state
// machine (flow.go), the rendering of each request (client.go) and the
// extractors and checks with the net/http driver, so both paths give a
// plan the same meaning; what differs is only the wire: the request is
// rendered straight into a reused buffer, and the response is read by the
// loop's parser, which keeps its header lines and as much of its body as
// the step's extractors and checks read, with no map or copy per request.

var _ engine.LoopScenario = (*Runner)(nil)

// LoopAddr is the host and port of the plan's base_url when every request
// of the scenarios this Runner runs can go on the event loops: plain
// http://, HTTP/1.1, steps (no script), paths under base_url, and no
// redirects followed (which the net/http driver handles).
func (r *Runner) LoopAddr() (host, port string, ok bool) {
	u, ok := r.loopBase()
	if !ok {
		return "", "", false
	}
	port = u.Port()
	if port == "" {
		port = "80"
	}
	return u.Hostname(), port, true
}

// loopBase is the plan's base_url when the scenarios can run on the loops.
func (r *Runner) loopBase() (*url.URL, bool) {
	if r.h2 {
		return nil, false
	}
	base := r.prog.Plan.BaseURL.Value
	if !strings.HasPrefix(base, "http://") {
		return nil, false
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" {
		return nil, false
	}
	scs := r.prog.scenarios
	if r.only != nil {
		scs = []*compiled{r.only}
	}
	for _, sc := range scs {
		if sc.script != nil || !loopSteps(sc.steps) {
			return nil, false
		}
	}
	return u, true
}

// loopSteps reports whether every request in steps can go on the loops.
func loopSteps(steps []*step) bool {
	for _, s := range steps {
		if s.kind == kRequest && (s.base == "" || s.redirects > 0 || s.grpc != nil) || s.ws != nil {
			return false
		}
		if !loopSteps(s.then) || !loopSteps(s.els) {
			return false
		}
	}
	return true
}

// NewLoopClient returns client id for an event loop (see
// engine.LoopScenario): it records into rec, whose lock its caller holds.
func (r *Runner) NewLoopClient(id int, rec *metrics.Recorder, endRun func()) engine.LoopClient {
	u, _ := r.loopBase()
	c := &Client{
		r: r, id: id, rec: rec, endRun: endRun, locked: true,
		st: r.prog.newState(uint64(id)*0x9e3779b97f4a7c15 + 1),
	}
	if r.prog.hasExpr {
		c.ex = newExprState(len(c.st.Vals))
	}
	if s := r.prog.clientSlot; s >= 0 {
		c.setInt(s, id)
	}
	lc := &LoopClient{c: c}
	if u != nil {
		lc.host = u.Host
		lc.jar.host = strings.ToLower(u.Hostname())
		lc.hostLen = len("http://") + len(u.Host)
	}
	return lc
}

// LoopClient is one simulated user on an event loop: a Client whose
// requests the loop sends.
type LoopClient struct {
	c        *Client
	host     string // the Host header: base_url's host[:port]
	hostLen  int    // len("http://host:port"): the request target follows
	wire     []byte // the request being sent
	body     []byte
	resp     Response
	jar      loopJar
	intended time.Duration
	fromIntd bool // the request's latency counts from intended (the open model's first)
	path     []byte
	attempt  int  // the request's attempts so far, less one
	again    bool // a failed attempt is sent again (retries:)
}

// Begin starts an iteration (see engine.LoopClient).
func (lc *LoopClient) Begin(seq int64, intended time.Duration) bool {
	c := lc.c
	sc, ok := c.prologue(seq)
	if !ok {
		return false
	}
	if c.ex != nil {
		c.ex.status = 0
	}
	c.first, lc.intended = true, intended
	c.begin(sc.steps)
	return true
}

// Next moves the iteration on (see engine.LoopClient).
func (lc *LoopClient) Next(now time.Duration, stop bool) engine.LoopStep {
	c := lc.c
	if lc.again {
		// The same request, rendered once, as the net/http driver
		// resends it; its latency counts from its own send.
		lc.again, lc.fromIntd = false, false
		return lc.send(c.cur)
	}
	for {
		switch c.advance(stop) {
		case actThink:
			return engine.LoopStep{Action: engine.LoopThink, Think: c.think}
		case actEnd:
			switch c.end {
			case flowInvalid:
				if !c.r.open {
					// As pauseAfterInvalid: a bad value costs one failed
					// request a second per client, not a busy loop.
					return engine.LoopStep{Action: engine.LoopPause, Think: invalidPause}
				}
			case flowStop:
				return engine.LoopStep{Action: engine.LoopStop}
			}
			return engine.LoopStep{Action: engine.LoopEnd}
		case actRequest:
			s := c.cur
			lc.fromIntd = c.first && c.r.open
			c.first = false
			c.noResp, c.missing = false, false
			if !lc.render(s) {
				lat := time.Duration(0)
				if lc.fromIntd {
					lat = now - lc.intended
				}
				c.rec.RecordLocked(s.req, metrics.Outcome{Latency: lat, Err: metrics.ErrInvalid})
				c.bad = true
				c.r.prog.invalids.note(c.r.prog.Requests[s.req] + ": a header value has a line break or control character")
				c.stepDone(c.stepFlow(s, c.failChecks(s)))
				continue
			}
			lc.attempt = 0
			return lc.send(s)
		}
	}
}

// send asks the loop to send lc.wire, s's request.
func (lc *LoopClient) send(s *step) engine.LoopStep {
	keep := 0
	if s.needBody {
		keep = maxCapture
	}
	return engine.LoopStep{Action: engine.LoopSend, Wire: lc.wire, Head: s.method == "HEAD", KeepBody: keep, Timeout: s.timeout}
}

// Response takes the outcome of the request Next asked for (see
// engine.LoopClient).
func (lc *LoopClient) Response(r *engine.LoopResult) {
	c, s := lc.c, lc.c.cur
	from := r.Sent
	if lc.fromIntd {
		from = lc.intended
	}
	lat := r.Done - from
	o := metrics.Outcome{Latency: lat, Service: r.Done - r.Sent, Status: r.Status, Err: r.Err,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, Retry: lc.attempt > 0,
		Phases: r.Phases, Timed: r.Timed, NewConn: r.NewConn}
	c.rec.RecordLocked(s.req, o)
	if r.Err == metrics.ErrNone && len(r.Head) > 0 {
		lc.jar.store(r.Head, lc.path) // every response's cookies, a failed attempt's too
	}
	if failed := r.Err != metrics.ErrNone || r.Status >= 500; failed && lc.attempt < s.retries && !r.Stop {
		// Each attempt is a request of its own in the counts; the
		// checks judge the last.
		lc.attempt++
		lc.again = true
		return
	}
	if r.Err != metrics.ErrNone {
		c.stepDone(c.stepFlow(s, c.outcome(s, nil)))
		return
	}
	lc.resp = Response{Status: r.Status, Body: r.Body, Latency: lat, head: r.Head}
	if lc.resp.head == nil {
		lc.resp.head = []byte{} // no header lines: still the raw form, not a map
	}
	ok := c.outcome(s, &lc.resp)
	lc.resp.Body, lc.resp.head = nil, nil // the loop's buffers
	c.stepDone(c.stepFlow(s, ok))
}

// render renders s's request as HTTP/1.1 into lc.wire, as net/http would
// send it: the request line, the step's headers, Host, User-Agent,
// Content-Type, the jar's cookies, Content-Length, then the body. It
// returns false when a header value would break the request (a line break
// in an extracted or data value): nothing is sent.
func (lc *LoopClient) render(s *step) bool {
	c := lc.c
	c.renderURL(s)
	target := c.ubuf[lc.hostLen:]
	if i := bytes.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	lc.body = c.renderBody(s, lc.body[:0])
	w := append(lc.wire[:0], s.method...)
	w = append(w, ' ')
	if len(target) == 0 || target[0] != '/' {
		w = append(w, '/')
	}
	at := len(w)
	w = append(w, target...)
	path := w[at:]
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	lc.path = append(lc.path[:0], path...)
	w = append(w, " HTTP/1.1\r\n"...)
	var host, ua, ctype, cookie bool
	for _, h := range s.headers {
		if h.shadowed {
			// Not sent, but judged as net/http judges it.
			at := len(w)
			ok := validHeaderValue(view(h.val.Render(w, c.st)[at:]))
			if w = w[:at]; !ok {
				lc.wire = w
				return false
			}
			continue
		}
		w = append(w, h.canon...)
		w = append(w, ": "...)
		at := len(w)
		w = h.val.Render(w, c.st)
		if !validHeaderValue(view(w[at:])) {
			lc.wire = w
			return false
		}
		switch h.canon {
		case "Host":
			host = true
		case "User-Agent":
			ua = true
		case "Content-Type":
			ctype = true
		case "Cookie":
			cookie = true
			w = lc.jar.appendCookies(w, lc.path, true)
		}
		w = append(w, "\r\n"...)
	}
	if !host {
		w = append(append(append(w, "Host: "...), lc.host...), "\r\n"...)
	}
	if !ua && c.r.ua != "" {
		w = append(append(append(w, "User-Agent: "...), c.r.ua...), "\r\n"...)
	}
	if !ctype && s.contentType != "" {
		w = append(append(append(w, "Content-Type: "...), s.contentType...), "\r\n"...)
	}
	if !cookie && len(lc.jar.cookies) > 0 {
		at := len(w)
		w = append(w, "Cookie: "...)
		if w2 := lc.jar.appendCookies(w, lc.path, false); len(w2) > len(w) {
			w = append(w2, "\r\n"...)
		} else {
			w = w[:at]
		}
	}
	if len(lc.body) > 0 || s.method == "POST" || s.method == "PUT" || s.method == "PATCH" {
		w = append(w, "Content-Length: "...)
		w = strconv.AppendInt(w, int64(len(lc.body)), 10)
		w = append(w, "\r\n"...)
	}
	w = append(w, "\r\n"...)
	lc.wire = append(w, lc.body...)
	return true
}
