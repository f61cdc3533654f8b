package scenario

import (
	"bytes"
	"cmp"
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
	"github.com/fuka-load/fuka/ws"
)

// WebSocket steps (plan/ws.go) run on the net/http driver only: a plan
// with one never goes on the event loops (loopSteps). A client holds at
// most one connection; ws: opens it (closing one already open), send:,
// expect: and close: use it. Each ws:, send: and expect: step records one
// outcome under its name: the handshake (status 101), or a message sent
// and, with an expect, the matching message (status 200).

// wsStep is a compiled WebSocket step.
type wsStep struct {
	base      string // ws(s)://host of base_url, for a path
	protos    []string
	binary    bool
	hasExpect bool
	expect    []*Checker // all must hold for a message to match
	// contains is expect's contains: when it is a template ({{ client_id }}:
	// a chat client waits for its own message), rendered at each wait.
	contains  *tmpl.Template
	closeCode int
	// every, on ws:, is the period of everyMsg's sends (a template) or,
	// with ping, of ping frames, each awaiting its pong for everyWait at
	// most; everyReq is the name index they record under.
	every     time.Duration
	everyMsg  *tmpl.Template
	ping      bool
	everyWait time.Duration
	everyReq  int
}

// wsStep compiles a ws:, send:, expect: or close: step.
func (c *compiler) wsStep(s *plan.Step, groups []string) *step {
	st := &step{timeout: s.Timeout, ws: &wsStep{protos: s.WS.Subprotocols, binary: s.WS.Binary,
		hasExpect: s.WS.HasExpect, closeCode: s.WS.CloseCode}}
	if st.timeout <= 0 {
		st.timeout = c.prog.defTimeout
	}
	switch s.Kind {
	case plan.StepWS:
		st.kind = kWS
		if u := s.WS.URL.Value; !strings.HasPrefix(u, "ws://") && !strings.HasPrefix(u, "wss://") && !strings.HasPrefix(u, "{{") {
			b := strings.TrimSuffix(c.p.BaseURL.Value, "/")
			st.ws.base = "ws" + strings.TrimPrefix(b, "http") // http→ws, https→wss
			if !strings.HasPrefix(u, "/") {
				st.ws.base += "/"
			}
		}
		st.url = c.tmplAt(s.WS.URL)
		if s.WS.Every > 0 {
			st.ws.every, st.ws.ping = s.WS.Every, s.WS.EveryPing
			st.ws.everyWait = cmp.Or(s.WS.EveryTimeout, min(s.WS.Every, st.timeout))
			if st.ws.ping {
				st.ws.everyReq = c.requestIndex(s.Name+" ping", groups)
			} else {
				st.ws.everyMsg = c.tmplAt(s.WS.EverySend)
				st.ws.everyReq = c.requestIndex(s.Name+" every", groups)
			}
			c.protocol(st.ws.everyReq, "ws")
		}
		for _, k := range sortedHeaderKeys(s.Headers) {
			if t := c.tmplAt(s.Headers[k]); t != nil {
				st.headers = append(st.headers, header{key: k, canon: http.CanonicalHeaderKey(k), val: t})
			}
		}
	case plan.StepSend:
		st.kind = kSend
		if s.WS.Message != nil {
			st.body = c.tmplAt(*s.WS.Message)
		}
	case plan.StepExpect:
		st.kind = kExpect
	case plan.StepClose:
		st.kind = kClose
		return st // records nothing: no name
	}
	st.req = c.requestIndex(s.Name, groups)
	c.protocol(st.req, "ws")
	for _, ch := range s.WS.Expect {
		if ch.Kind == plan.CheckBodyContains && strings.Contains(ch.Expr, "{{") {
			st.ws.contains = c.tmplAt(plan.String{Value: ch.Expr, Pos: ch.Pos})
			continue
		}
		ck, err := CompileCheck(ch)
		if err != nil {
			c.errorf(ch.Pos, "expect %q: %v", ch.Name, err)
			continue
		}
		st.ws.expect = append(st.ws.expect, ck)
	}
	for _, x := range s.Extract {
		ex, err := CompileExtract(x, c.prog.names)
		if err != nil {
			c.errorf(x.Pos, "extract %q: %v", x.Var, err)
			continue
		}
		st.extract = append(st.extract, ex)
		req := -1
		if x.Required {
			req = c.check(s.Name+": "+x.Var+" is extracted", st.req)
		}
		st.required = append(st.required, req)
	}
	return st
}

// wsTransport is the handshakes' transport: the plan's TLS settings over
// HTTP/1.1, the only version a WebSocket handshake here speaks.
func (r *Runner) wsTransport() http.RoundTripper {
	r.ws.once.Do(func() {
		t := r.tr.Clone()
		t.ForceAttemptHTTP2 = false
		p := new(http.Protocols)
		p.SetHTTP1(true)
		t.Protocols = p
		if t.TLSClientConfig != nil {
			t.TLSClientConfig.NextProtos = nil
		}
		t.MaxIdleConnsPerHost = -1 // a handshake hijacks its connection
		r.ws.rt = t
	})
	return r.ws.rt
}

type wsShared struct {
	once sync.Once
	rt   http.RoundTripper
}

// wsRun runs a WebSocket step; ok is false when it failed.
func (c *Client) wsRun(s *step, from time.Time) bool {
	if s.kind == kClose {
		c.Close()
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	sent := time.Now()
	if from.IsZero() {
		from = sent
	}
	if s.kind == kWS {
		return c.wsDial(ctx, s, sent, from)
	}
	if c.wsConn == nil { // never opened, or dropped by a failure
		c.noResp = true
		c.record(s.req, sent, from, 0, 0, 0, metrics.ErrReset, false, nil)
		c.failRequired(s)
		return false
	}
	var o wsOutcome
	var err error
	if s.kind == kSend {
		c.buf = s.body.Render(c.buf[:0], c.st)
		typ := websocket.MessageText
		if s.ws.binary {
			typ = websocket.MessageBinary
		}
		o.out = int64(len(c.buf))
		if err = c.wsConn.Write(ctx, typ, c.buf); err == nil {
			o.msgsOut = 1
		}
		if err == nil && !s.ws.hasExpect {
			o.status = ws.StatusMatched
			c.wsRecord(s.req, sent, from, o)
			return true
		}
	}
	var msg, want []byte
	if s.ws.contains != nil {
		c.ubuf = s.ws.contains.Render(c.ubuf[:0], c.st)
		want = c.ubuf
	}
	for err == nil {
		if msg, err = c.wsRead(ctx); err == nil {
			// Every message read counts, those skipped over too: the
			// ones that came while no expect waited are read here.
			o.in += int64(len(msg))
			o.msgsIn++
			if bytes.Contains(msg, want) && matches(s.ws.expect, msg) {
				break
			}
		}
	}
	if err != nil {
		var code int
		o.kind, code = ws.ReadFailure(ctx, err)
		o.close = ws.CloseCode(code)
		c.drop(false)
		c.noResp = true
		c.wsRecord(s.req, sent, from, o)
		c.failRequired(s)
		return false
	}
	o.status = ws.StatusMatched
	c.wsRecord(s.req, sent, from, o)
	return c.outcome(s, &Response{Status: ws.StatusMatched, Body: msg})
}

// wsOutcome is what a send or an expect step did.
type wsOutcome struct {
	status          int
	kind            metrics.ErrorKind
	in, out         int64 // payload bytes
	msgsIn, msgsOut int64
	close           int // the server's close code, 0: none
}

// wsRecord records a send or an expect step's outcome under req.
func (c *Client) wsRecord(req int, sent, from time.Time, w wsOutcome) {
	now := time.Now()
	c.rec.Record(req, metrics.Outcome{Latency: now.Sub(from), Service: now.Sub(sent), Status: w.status, Err: w.kind,
		BytesIn: w.in, BytesOut: w.out, MsgsIn: w.msgsIn, MsgsOut: w.msgsOut, Close: w.close})
}

// matches: every check holds on msg.
func matches(checks []*Checker, msg []byte) bool {
	r := Response{Status: ws.StatusMatched, Body: msg}
	for _, ck := range checks {
		if !ck.Apply(&r) {
			return false
		}
	}
	return true
}

// wsDial opens the client's connection, closing one already open.
func (c *Client) wsDial(ctx context.Context, s *step, sent, from time.Time) bool {
	c.Close()
	c.renderWSURL(s)
	h := http.Header{}
	for _, hd := range s.headers {
		h.Set(hd.key, string(hd.val.Render(nil, c.st)))
	}
	if c.r.ua != "" && h.Get("User-Agent") == "" {
		h.Set("User-Agent", c.r.ua)
	}
	var jar http.CookieJar
	if c.hc != nil {
		jar = c.hc.Jar // the cookies earlier HTTP steps got go with the handshake
	}
	conn, resp, err := websocket.Dial(ctx, string(c.buf), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: c.r.wsTransport(), Jar: jar}, HTTPHeader: h, Subprotocols: s.ws.protos,
	})
	status, kind := ws.HandshakeOutcome(ctx, resp, err)
	c.record(s.req, sent, from, status, 0, 0, kind, false, nil)
	if err != nil {
		c.rec.OpenWS(0)
		c.noResp = kind != metrics.ErrNone
		return false
	}
	c.rec.OpenWS(1)
	conn.SetReadLimit(ws.MaxMessage)
	c.wsConn = conn
	if s.ws.every > 0 {
		c.startLive(conn, s)
	}
	return true
}

// wsLive is what runs beside an open connection: its every: sender and,
// for ping frames, a reader. coder/websocket reads a pong only while a
// Read is in progress, and a client may think or send for longer than a
// ping waits; so with pings one goroutine reads every message, and expect
// steps take them from in, in order, as they would from the connection.
type wsLive struct {
	stop func() // stops the sender and waits for it

	// mu guards st, the sender's copy of the client's values (shareVals):
	// a send renders its template from it, {{ seq }} counting this
	// connection's every: messages.
	mu sync.Mutex
	st *tmpl.State

	in   chan wsMsg    // ping: the messages read, for expect steps
	quit chan struct{} // ping: closed to end the reader
	done chan struct{} // ping: closed when the reader has ended
}

// wsMsg is a message the reader read, or the error that ended it.
type wsMsg struct {
	msg []byte
	err error
}

// wsQueue bounds the messages read ahead of the expect steps (at most
// ws.MaxMessage bytes each): when it is full the reader waits, as an
// unread socket would.
const wsQueue = 64

// startLive starts s's every: sender on conn (and, for pings, the reader).
func (c *Client) startLive(conn *websocket.Conn, s *step) {
	l := &wsLive{st: &tmpl.State{Vals: make([]string, len(c.st.Vals)),
		Rand: rand.New(rand.NewPCG(c.st.Rand.Uint64(), c.st.Rand.Uint64()))}}
	copy(l.st.Vals, c.st.Vals)
	if s.ws.ping {
		l.in, l.quit, l.done = make(chan wsMsg, wsQueue), make(chan struct{}), make(chan struct{})
		go l.read(conn)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.stop = func() { stop(); <-done }
	go func() { defer close(done); c.everyLoop(ctx, conn, s, l) }()
	c.wsLive = l
}

// read reads conn's messages into l.in until the connection ends.
func (l *wsLive) read(conn *websocket.Conn) {
	defer close(l.done)
	for {
		_, msg, err := conn.Read(context.Background()) // ends when the connection closes
		select {
		case l.in <- wsMsg{msg, err}:
		case <-l.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// shareVals copies the client's values to its every: sender.
func (c *Client) shareVals() {
	l := c.wsLive
	l.mu.Lock()
	copy(l.st.Vals, c.st.Vals)
	l.mu.Unlock()
}

// wsRead returns the connection's next message: from the reader when
// there is one, else from the connection.
func (c *Client) wsRead(ctx context.Context) ([]byte, error) {
	if l := c.wsLive; l != nil && l.in != nil {
		select {
		case m := <-l.in:
			return m.msg, m.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	_, msg, err := c.wsConn.Read(ctx)
	return msg, err
}

// everyLoop sends s's every: message, or a ping, on conn each period
// until ctx ends (the connection is about to close), recording each. A
// failed send ends it, as does a failed ping other than a missing pong.
func (c *Client) everyLoop(ctx context.Context, conn *websocket.Conn, s *step, l *wsLive) {
	t := time.NewTicker(s.ws.every)
	defer t.Stop()
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Not from ctx: a send or ping in flight when the client closes
		// the connection ends, within everyWait, and is recorded.
		wctx, cancel := context.WithTimeout(context.Background(), s.ws.everyWait)
		var o metrics.Outcome
		sent := time.Now()
		var err error
		if s.ws.ping {
			err = conn.Ping(wctx)
		} else {
			l.mu.Lock()
			buf = s.ws.everyMsg.Render(buf[:0], l.st)
			l.mu.Unlock()
			o.BytesOut, o.MsgsOut = int64(len(buf)), 1
			err = conn.Write(wctx, websocket.MessageText, buf)
		}
		o.Latency = time.Since(sent)
		cancel()
		o.Service, o.Status = o.Latency, ws.StatusMatched
		if err != nil {
			var code int
			o.Status, o.BytesOut, o.MsgsOut = 0, 0, 0
			o.Err, code = ws.ReadFailure(wctx, err)
			o.Close = ws.CloseCode(code)
		}
		c.rec.Record(s.ws.everyReq, o) // takes the recorder's lock: the client's goroutine records too
		if err != nil && (o.Err != metrics.ErrTimeout || !s.ws.ping) {
			return
		}
	}
}

// drop closes the client's connection, if one is open, after stopping its
// every: sender: with a normal closure, or at once after a failure.
func (c *Client) drop(normal bool) {
	l := c.wsLive
	if l != nil {
		l.stop()
		c.wsLive = nil
		if l.quit != nil {
			close(l.quit)
		}
	}
	if c.wsConn == nil {
		return
	}
	c.rec.OpenWS(-1)
	if normal {
		_ = c.wsConn.Close(websocket.StatusNormalClosure, "")
	} else {
		c.wsConn.CloseNow()
	}
	c.wsConn = nil
	if l != nil && l.done != nil {
		<-l.done // the connection closed: its Read has returned
	}
}

// renderWSURL renders a ws step's URL into c.buf.
func (c *Client) renderWSURL(s *step) {
	c.buf = append(c.buf[:0], s.ws.base...)
	c.buf = s.url.Render(c.buf, c.st)
}

// failRequired counts the required extractions of a step that got no
// message as failed.
func (c *Client) failRequired(s *step) {
	for _, i := range s.required {
		if i >= 0 {
			c.check(i, false)
		}
	}
}

// Close closes the client's WebSocket connection, if one is open, with a
// normal closure: a close: step, a new ws: step, or the engine when the
// client's load ends.
func (c *Client) Close() { c.drop(true) }
