package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/feeder"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/tmpl"
)

// maxCapture bounds the body kept for extraction and checks; the rest is
// read and counted, not kept.
const maxCapture = 16 << 20

// Options shape the HTTP transport all clients share.
type Options struct {
	Insecure bool
	// HTTP2 forces HTTP/2 (h2c with prior knowledge over http://), HTTP1
	// HTTP/1.1; else https negotiates h2 by ALPN. A plan's http_version
	// and tls (defaults) apply where these are unset.
	HTTP2, HTTP1 bool
	TLS          *client.TLS // client certificate and CA; nil: the plan's, else none
	MaxConns     int
	UserAgent    string
	// Phases times each request's phases (metrics.Stats.Phases).
	Phases bool
}

// Runner binds a Program to a transport and a metrics recorder layout; the
// engine asks it for clients.
type Runner struct {
	prog *Program
	tr   *http.Transport
	rt   http.RoundTripper // tr, sending each request at most once (client.SendOnce)
	ua   string
	h2   bool // requests go as HTTP/2
	open bool
	// phases: each request's phases are timed (Options.Phases).
	phases bool
	only   *compiled // when set, every client runs this scenario
	grpc   *grpcConns

	ws *wsShared // the WebSocket handshakes' transport (ws.go), shared by Only's copies
	// gate is the run's lease (SetGate), shared by Only's copies: the
	// transport asks it at each HTTP/1.x request's write.
	gate *atomic.Pointer[func() bool]
}

// SetGate makes the run's net/http requests go only while gate says so,
// asked right before each request's first byte is written (client.Options
// Gate); nil: always. The engine sets a distributed worker's lease here
// (engine.Lease.Holds). A request refused there never left: it is not
// recorded, and its client waits for the gate to send it (see send).
func (r *Runner) SetGate(gate func() bool) {
	if gate == nil {
		r.gate.Store(nil)
		return
	}
	r.gate.Store(&gate)
}

// gateOpen is the transport's Gate: whether the run's gate, if any, lets
// a request go now.
func gateOpen(p *atomic.Pointer[func() bool]) func() bool {
	return func() bool {
		g := p.Load()
		return g == nil || (*g)()
	}
}

// Only returns a Runner whose clients all run the named scenario (a plan
// whose scenarios have their own loads runs one such Runner per scenario).
// open tells whether that scenario's load is the open model.
func (r *Runner) Only(name string, open bool) (*Runner, error) {
	for _, sc := range r.prog.scenarios {
		if sc.name == name {
			c := *r
			c.only, c.open = sc, open
			return &c, nil
		}
	}
	return nil, fmt.Errorf("no scenario %q", name)
}

// NewRunner returns a Runner for prog. open tells whether the load is the
// open model (latency of an iteration's first request is then measured from
// the intended start).
func NewRunner(prog *Program, o Options, open bool) *Runner {
	if !o.HTTP1 && !o.HTTP2 {
		o.HTTP1, o.HTTP2 = prog.http1, prog.http2
	}
	if o.TLS == nil {
		o.TLS = prog.tls
	}
	gate := new(atomic.Pointer[func() bool])
	tr, rt := client.Transport(client.Options{
		Insecure: o.Insecure, HTTP2: o.HTTP2, HTTP1: o.HTTP1, TLS: o.TLS,
		MaxConns: max(o.MaxConns, 2), UserAgent: o.UserAgent, Phases: o.Phases,
		Gate: gateOpen(gate),
	})
	return &Runner{prog: prog, tr: tr, rt: rt, ua: o.UserAgent, h2: o.HTTP2, open: open, phases: o.Phases, ws: &wsShared{}, grpc: &grpcConns{conf: grpcTLS(o, prog), phases: o.Phases}, gate: gate}
}

// Names are the request names, by the index used for metrics.
func (r *Runner) Names() []string { return r.prog.Requests }

// Protocols is each request name's protocol when not HTTP, by index (see
// Program.Protos); nil when every request is HTTP.
func (r *Runner) Protocols() []string { return r.prog.Protos }

// CheckNames are the check names, by index.
func (r *Runner) CheckNames() []string { return r.prog.Checks }

// Close releases idle connections.
func (r *Runner) Close() { r.tr.CloseIdleConnections(); r.grpc.close() }

var _ engine.Scenario = (*Runner)(nil)

// Client is one simulated user: its own variables, cookie jar and random
// source. It is used by one goroutine.
type Client struct {
	r      *Runner
	id     int
	st     *tmpl.State
	hc     *http.Client
	rec    *metrics.Recorder
	endRun func()
	buf    []byte
	ubuf   []byte // buf with what a URL may not hold escaped
	body   bytes.Buffer
	hdrs   []renderedHeader
	bad    bool          // the last request could not be built (invalid)
	scr    *scriptClient // a script scenario's state (script_run.go)

	ex       *exprState // nil when the plan has no logic steps
	iter     int64      // the client's iterations so far
	first    bool       // no request sent yet in this iteration
	intended time.Time  // when this iteration was due
	noResp   bool       // the last request got no response
	missing  bool       // the last request lacked a required value

	// The iteration's state machine (flow.go).
	stack   []frame
	cur     *step           // actRequest: the request step to send
	think   time.Duration   // actThink: the pause
	end     flow            // actEnd: how the iteration ended
	locked  bool            // rec's lock is held by the caller (the event loop)
	stop    context.Context // the load's end (Iterate's ctx): a gated request waits for it at most
	refused bool            // send gave up a request the gate refused: the load ended first

	wsConn *websocket.Conn // the connection a ws: step opened (ws.go)
	wsLive *wsLive         // what runs beside wsConn: its every: sender; nil: none
}

// renderedHeader is a step's header with its template rendered.
type renderedHeader struct{ key, val string }

// NewClient returns client id, recording into rec. endRun ends the whole run
// (a unique data feeder with on_exhausted: end_run ran out).
func (r *Runner) NewClient(id int, rec *metrics.Recorder, endRun func()) engine.ScenarioClient {
	jar, _ := cookiejar.New(nil) // per client: cookies round-trip like a browser's
	c := &Client{
		r: r, id: id, rec: rec, endRun: endRun,
		st: r.prog.newState(uint64(id)*0x9e3779b97f4a7c15 + 1),
		hc: &http.Client{
			Transport: r.rt, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if r.prog.hasExpr {
		c.ex = newExprState(len(c.st.Vals))
	}
	if s := r.prog.clientSlot; s >= 0 {
		c.setInt(s, id)
	}
	return c
}

// setInt sets a built-in variable to n.
func (c *Client) setInt(slot, n int) {
	text := strconv.Itoa(n)
	if c.ex != nil {
		c.ex.setTyped(c.st, slot, text, n)
	} else {
		c.st.Vals[slot] = text
	}
}

// Iterate runs the client's scenario once: in the closed model the scenario
// is chosen by the client's id, in the open model by the start's number seq.
// intended is when the iteration was due. It returns false when the client
// must stop (its unique data ran out). Cancelling ctx ends the iteration
// between requests; a request in flight finishes within its timeout.
func (c *Client) Iterate(ctx context.Context, seq int64, intended time.Time) bool {
	c.stop = ctx
	sc, ok := c.prologue(seq)
	if !ok {
		return false
	}
	if sc.script != nil {
		return c.runScript(ctx, sc, intended)
	}
	if c.ex != nil {
		c.ex.status = 0
	}
	c.first, c.intended = true, intended
	switch c.drive(ctx, sc.steps) {
	case flowInvalid:
		return c.pauseAfterInvalid(ctx)
	case flowStop:
		return false
	}
	return true
}

// prologue begins an iteration: it picks the scenario (in the closed
// model by the client's id, in the open model by the start's number seq)
// and takes its feeders' rows; false when the client must stop (its unique
// data ran out).
func (c *Client) prologue(seq int64) (*compiled, bool) {
	n := int64(c.id)
	if c.r.open {
		n = seq
	}
	sc := c.r.only
	if sc == nil {
		sc = c.r.prog.pick(n)
	}
	for _, b := range sc.feeders {
		row, err := b.f.Next(c.st.Rand)
		if errors.Is(err, feeder.ErrExhausted) {
			if b.endRun && c.endRun != nil {
				c.endRun()
			}
			return nil, false
		}
		for i, slot := range b.slots {
			if i < len(row) {
				c.st.Vals[slot] = row[i]
			}
		}
	}
	if c.r.prog.usesIter {
		c.setInt(c.r.prog.iterSlot, int(c.iter))
	}
	c.iter++
	return sc, true
}

// drive runs an iteration of steps on the net/http path: each request is
// sent and awaited, each pause slept, by this goroutine.
func (c *Client) drive(ctx context.Context, steps []*step) flow {
	c.begin(steps)
	for {
		act := c.advance(ctx.Err() != nil)
		if c.wsLive != nil && act != actEnd {
			c.shareVals() // before the client waits: the every: sender sees what the steps set
		}
		switch act {
		case actThink:
			if !c.sleep(ctx, c.think) {
				c.finish(flowEnd)
			}
		case actRequest:
			c.stepDone(c.step(ctx, c.cur))
		case actEnd:
			return c.end
		}
	}
}

// step sends a request step's request and returns the flow after it.
func (c *Client) step(ctx context.Context, s *step) flow {
	from := time.Time{}
	if c.first && c.r.open {
		from = c.intended
	}
	c.first = false
	c.noResp, c.missing = false, false
	if s.ws != nil {
		return c.stepFlow(s, c.wsRun(s, from))
	}
	return c.stepFlow(s, c.request(ctx, s, from))
}

// sleep pauses for d; false when ctx ended it.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// check counts one check result.
func (c *Client) check(i int, pass bool) {
	if c.locked {
		c.rec.CheckLocked(i, pass)
		return
	}
	c.rec.Check(i, pass)
}

// invalidPause is how long a closed-model client waits after a request
// its values made impossible to send, before its next iteration.
const invalidPause = time.Second

// pauseAfterInvalid ends an iteration whose request could not be built
// (its later steps would use what it did not fetch). In the closed model
// the client then waits invalidPause, so a bad data row or extracted value
// costs one failed request a second per client rather than a loop of
// hundreds of thousands; in the open model the arrivals keep their rate.
func (c *Client) pauseAfterInvalid(ctx context.Context) bool {
	if c.r.open {
		return true
	}
	t := time.NewTimer(invalidPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// request sends one step's request and applies its extractors and checks
// to the response; with retries, it sends the same request again (rendered
// once) after a failed attempt, unless ctx says the load has ended. It
// reports whether every check passed.
func (c *Client) request(ctx context.Context, s *step, from time.Time) bool {
	if s.grpc != nil {
		return c.grpcRequest(ctx, s, from) // grpc.go
	}
	c.renderURL(s)
	rawURL := string(c.ubuf)
	body := c.renderBody(s, nil)
	c.hdrs = c.hdrs[:0]
	for _, h := range s.headers {
		v := string(h.val.Render(nil, c.st))
		if !validHeaderValue(v) {
			// An extracted or data value with a line break would end the
			// header and start another: the request is not sent.
			c.invalid(s, from, "header "+h.key+": the value has a line break or control character")
			return c.failChecks(s)
		}
		c.hdrs = append(c.hdrs, renderedHeader{h.key, v})
	}
	h := hop{method: s.method, url: rawURL, body: body, req: s.req, contentType: s.contentType}
	c.refused = false
	for attempt := 0; ; attempt++ {
		r, failed := c.send(s, h, from, attempt > 0)
		if c.refused {
			return true // never sent, and the load has ended: nothing to judge
		}
		if failed && attempt < s.retries && ctx.Err() == nil {
			// Each attempt was recorded as a request of its own; a retry's
			// latency is measured from its own send.
			from = time.Time{}
			continue
		}
		if r != nil && s.redirects > 0 {
			if r = c.follow(ctx, s, h, r); c.refused {
				return true
			}
		}
		return c.outcome(s, r)
	}
}

// renderURL renders s's URL, its query and escapes into c.ubuf.
func (c *Client) renderURL(s *step) {
	c.buf = s.url.Render(append(c.buf[:0], s.base...), c.st)
	if len(s.query) > 0 {
		sep := byte('?')
		if bytes.IndexByte(c.buf, '?') >= 0 {
			sep = '&'
		}
		for _, q := range s.query {
			c.buf = append(c.buf, sep)
			c.buf = append(c.buf, url.QueryEscape(q.key)...)
			c.buf = append(c.buf, '=')
			c.buf = append(c.buf, url.QueryEscape(string(q.val.Render(nil, c.st)))...)
			sep = '&'
		}
	}
	// A value with a space or a line break must not reach the request
	// line raw: it is percent-encoded, as a browser would send it.
	c.ubuf = client.AppendFixedURL(c.ubuf[:0], c.buf)
}

// renderBody appends s's body to dst (nil: none).
func (c *Client) renderBody(s *step, dst []byte) []byte {
	switch {
	case s.body != nil:
		return s.body.Render(dst, c.st)
	case s.json != nil:
		return s.json.render(dst, c.st) // JSON-escapes each value: see program.go, jsonBody
	case len(s.form) > 0:
		vals := url.Values{}
		for _, f := range s.form {
			vals.Add(f.key, string(f.val.Render(nil, c.st)))
		}
		return append(dst, vals.Encode()...)
	case s.multipart != nil:
		return s.multipart.render(dst, c.st)
	case s.bodyStatic != nil:
		if dst == nil {
			return s.bodyStatic // read only
		}
		return append(dst, s.bodyStatic...)
	}
	return dst
}

// outcome applies a step's extractors and checks to its final response r
// (nil when none came) and reports whether every check passed.
func (c *Client) outcome(s *step, r *Response) bool {
	// An if: after this step sees the final response's status: the
	// last hop's when redirects were followed, 0 when none came.
	if c.ex != nil {
		c.ex.status = 0
		if r != nil {
			c.ex.status = r.Status
		}
	}
	if r == nil {
		c.noResp = true
		for _, i := range s.required {
			if i >= 0 {
				c.check(i, false)
			}
		}
		return c.failChecks(s)
	}
	for i, x := range s.extract {
		found, isJSON := x.apply(r, c.st)
		if isJSON && c.ex != nil {
			c.ex.setJSON(c.st, x.Slot)
		}
		if req := s.required[i]; req >= 0 {
			c.check(req, found)
			c.missing = c.missing || !found
		}
	}
	pass := true
	for i, ck := range s.checks {
		ok := ck.Apply(r)
		c.check(s.checkIdx[i], ok)
		pass = pass && ok
	}
	return pass
}

// send sends one attempt of a step's request and records it. It returns the
// response (nil when none came) and whether the attempt failed in a way a
// retry may fix: no response, or a 5xx.
//
// An attempt the run's gate refused at its write (SetGate: a distributed
// worker's lease ran out) never left: it is not recorded, and the same
// request goes once the gate opens again, as on the event loops. If the
// load ends first, send returns no response and sets c.refused: the step
// has no outcome (its checks are not judged).
func (c *Client) send(s *step, h hop, from time.Time, retry bool) (*Response, bool) {
	for {
		r, failed, gated := c.attempt(s, h, from, retry)
		if !gated {
			return r, failed
		}
		if !c.waitGate() {
			c.refused = true
			return nil, false
		}
	}
}

// gateWait is how often a client whose request the gate refused looks
// at the gate again (as engine's leaseWait).
const gateWait = 10 * time.Millisecond

// waitGate waits until the run's gate opens: false when the load ended
// first.
func (c *Client) waitGate() bool {
	if c.stop == nil {
		return false
	}
	t := time.NewTicker(gateWait)
	defer t.Stop()
	for open := gateOpen(c.r.gate); ; {
		select {
		case <-c.stop.Done():
			return false
		case <-t.C:
		}
		if open() {
			return true
		}
	}
}

// attempt is one try of send; gated says the gate refused it at its write
// (nothing recorded).
func (c *Client) attempt(s *step, h hop, from time.Time, retry bool) (_ *Response, failed, gated bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	ex := client.NewExchange()
	defer ex.Release()
	ex.TimePhases(c.r.phases)
	var rd io.Reader
	if h.body != nil {
		rd = bytes.NewReader(h.body)
	}
	req, err := http.NewRequestWithContext(ex.Trace(ctx), h.method, h.url, rd)
	if err != nil {
		c.invalid(s, from, err.Error())
		return nil, false, false // the same request cannot be built on a retry either
	}
	req.Header.Set("User-Agent", c.r.ua)
	if h.contentType != "" {
		req.Header.Set("Content-Type", h.contentType)
	}
	for _, h := range c.hdrs {
		if http.CanonicalHeaderKey(h.key) == "Host" {
			req.Host = h.val
			continue
		}
		req.Header.Set(h.key, h.val)
	}
	sent := time.Now()
	if from.IsZero() {
		from = sent
	}
	wire := client.WireSize(req, int64(len(h.body)))
	resp, err := c.hc.Do(req)
	if err != nil && errors.Is(err, client.ErrGated) {
		return nil, false, true
	}
	if err != nil {
		in, out := ex.Bytes(nil, 0, wire)
		c.record(h.req, sent, from, 0, in, out, client.Classify(err), retry, nil)
		return nil, true, false
	}
	c.body.Reset()
	var n int64
	if s.needBody {
		n, err = c.body.ReadFrom(io.LimitReader(resp.Body, maxCapture))
		if err == nil {
			var m int64
			m, err = io.Copy(io.Discard, resp.Body)
			n += m
		}
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	in, out := ex.Bytes(resp, n, wire)
	if err != nil {
		kind := client.Classify(err)
		if kind != metrics.ErrTimeout {
			kind = metrics.ErrBodyRead
		}
		c.record(h.req, sent, from, 0, in, out, kind, retry, nil)
		return nil, true, false
	}
	lat := c.record(h.req, sent, from, resp.StatusCode, in, out, metrics.ErrNone, retry, ex)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: c.body.Bytes(), Latency: lat, Cookies: resp.Cookies()}
	return r, resp.StatusCode >= 500, false
}

// invalid records a request that its rendered values made impossible to
// send (see metrics.ErrInvalid): nothing went on the wire. why is the
// problem, kept by request name for the end of the run (see
// Program.InvalidReasons). The caller fails its checks, and the iteration
// ends (see Iterate).
func (c *Client) invalid(s *step, from time.Time, why string) {
	now := time.Now()
	if from.IsZero() {
		from = now
	}
	c.record(s.req, now, from, 0, 0, 0, metrics.ErrInvalid, false, nil)
	c.bad = true
	if len(why) > maxInvalidReason { // a rendered URL or value can be long
		why = strings.ToValidUTF8(why[:maxInvalidReason], "") + "…"
	}
	c.r.prog.invalids.note(c.r.prog.Requests[s.req] + ": " + why)
}

// maxInvalidReason bounds the bytes of an invalid request's reason kept.
const maxInvalidReason = 300

// validHeaderValue reports whether v can be sent as a header value: no
// line break and no other control character but tab (RFC 9110, 5.5).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// record records one request (one attempt) and returns its latency. ex,
// when the whole response was read, gives the request's phases.
func (c *Client) record(req int, sent, from time.Time, status int, in, out int64, kind metrics.ErrorKind, retry bool, ex *client.Exchange) time.Duration {
	now := time.Now()
	lat := now.Sub(from)
	o := metrics.Outcome{
		Latency: lat, Service: now.Sub(sent), Status: status, Err: kind, BytesIn: in, BytesOut: out, Retry: retry,
	}
	if ex != nil {
		ex.Phases(&o, now)
	}
	c.rec.Record(req, o)
	return lat
}

// failChecks counts every check of a step that got no response as failed.
func (c *Client) failChecks(s *step) bool {
	for i := range s.checks {
		c.check(s.checkIdx[i], false)
	}
	return len(s.checks) == 0
}
