// Package ws load-tests WebSocket servers: quick mode's clients each hold
// a connection, and each start sends a message and waits, within a
// timeout, for a message that matches (a round trip).
//
// What is measured goes into the run's metrics.Recorder under two names,
// so the summary, thresholds, JSON, HTML and distributed shares see it as
// they see HTTP requests:
//
//	"ws connect /path"  the opening handshake: status 101 when the server
//	                    switched protocols, its HTTP status when it refused
//	                    (a failure from 400), else an error kind (refused,
//	                    dns, tls, timeout; other for a non-101 below 400)
//	"ws /path"          one round trip, from the send to the matching
//	                    message (closed model) or from the start's intended
//	                    time (open model): status 200 when a message
//	                    matched; timeout when none did within the timeout;
//	                    reset when the connection closed first (with the
//	                    server's close code, counted by code)
//
// Bytes are message payloads: out, the message sent; in, every message
// read while waiting, matching or not; so are the messages counted (in
// and out). The recorder's WebSocket gauge follows the connections open.
package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/tmpl"
)

// StatusMatched is the status a round trip that got its matching message
// records: the recorder counts statuses below 400 as successes.
const StatusMatched = 200

// maxMessage bounds the size of one message read, so a server cannot make
// a client hold unbounded memory.
const maxMessage = 1 << 20

// Quick is quick mode's work: every start sends Send and waits for a
// message Expect matches.
type Quick struct {
	URL     *url.URL // ws or wss
	Header  http.Header
	Protos  []string // subprotocols offered
	Send    string   // a template (tmpl): {{ seq }}, {{ client_id }}, ...
	Binary  bool     // send binary messages, else text
	Expect  Match
	Timeout time.Duration // for the handshake, and for each round trip
	// Name is the round trip's metric name; "" means "ws /path". The
	// handshake's is Name + " connect" then, else "ws connect /path".
	Name     string
	Insecure bool // wss: skip certificate verification
	// PerStart opens a new connection for every start and closes it after
	// (the open model's arrival rate of new connections); else each
	// client keeps its connection across starts.
	PerStart bool

	once    sync.Once
	names   *tmpl.Names
	tpl     *tmpl.Template
	idSlot  int
	http    *http.Client
	initErr error
}

// Match is what a message must hold to end a round trip: Contains (a
// substring) and Regexp, each when set; neither set matches any message.
type Match struct {
	Contains string
	Regexp   *regexp.Regexp
}

// Matches reports whether msg satisfies m.
func (m Match) Matches(msg []byte) bool {
	if m.Contains != "" && !strings.Contains(string(msg), m.Contains) {
		return false
	}
	return m.Regexp == nil || m.Regexp.Match(msg)
}

// Names returns the metric names: the round trip's (index 0) and the
// handshake's (index 1).
func (q *Quick) Names() []string {
	if q.Name != "" {
		return []string{q.Name, q.Name + " connect"}
	}
	p := "/"
	if q.URL != nil && q.URL.Path != "" {
		p = q.URL.Path
	}
	return []string{"ws " + p, "ws connect " + p}
}

// CheckNames: quick mode has no checks.
func (q *Quick) CheckNames() []string { return nil }

// Protocols says both names are WebSocket's, for the reports' wording.
func (q *Quick) Protocols() []string { return []string{"ws", "ws"} }

// Validate compiles the message and checks the URL: errors are meant for
// the user and name the flags.
func (q *Quick) Validate() error {
	q.init()
	return q.initErr
}

func (q *Quick) init() {
	q.once.Do(func() {
		switch {
		case q.URL == nil || (q.URL.Scheme != "ws" && q.URL.Scheme != "wss"):
			q.initErr = errors.New("a WebSocket URL starts with ws:// or wss://")
			return
		case q.URL.Host == "":
			q.initErr = fmt.Errorf("%s: no host", q.URL)
			return
		case q.Timeout <= 0:
			q.initErr = errors.New("--timeout must be > 0: a round trip waits for its message at most that long")
			return
		}
		q.names = tmpl.NewNames()
		q.idSlot = q.names.Add("client_id")
		t, err := tmpl.Compile(q.Send, q.names, func(string) (string, bool) { return "", false })
		if err != nil {
			q.initErr = fmt.Errorf("--ws-send: %w", err)
			return
		}
		q.tpl = t
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: q.Insecure} //nolint:gosec // the user's --insecure
		tr.MaxIdleConnsPerHost = -1                                      // handshakes hijack their connection; nothing idles
		q.http = &http.Client{Transport: tr}
	})
}

// NewClient returns client id, which records into rec.
func (q *Quick) NewClient(id int, rec *metrics.Recorder, _ func()) engine.ScenarioClient {
	q.init()
	st := tmpl.NewState(q.names, uint64(id)+1)
	st.Vals[q.idSlot] = fmt.Sprint(id)
	return &Client{q: q, rec: rec, st: st}
}

var _ engine.Scenario = (*Quick)(nil)

// Client is one quick-mode client: its connection, if open, and its
// template state. One goroutine uses it.
type Client struct {
	q    *Quick
	rec  *metrics.Recorder
	st   *tmpl.State
	conn *websocket.Conn
	buf  []byte
}

// Iterate connects if the client has no connection, then makes one round
// trip. A failed handshake ends the start; a failed round trip drops the
// connection (the next start connects again).
func (c *Client) Iterate(_ context.Context, _ int64, intended time.Time) bool {
	if c.conn == nil && !c.connect(intended) {
		return true
	}
	c.roundTrip(intended)
	if c.q.PerStart {
		c.Close()
	}
	return true
}

// from is when a measurement starts: the intended time in the open
// model (PerStart), so a late start shows in the latency; else the send.
func (c *Client) from(intended, sent time.Time) time.Time {
	if c.q.PerStart && !intended.IsZero() && intended.Before(sent) {
		return intended
	}
	return sent
}

// connect makes the opening handshake and records it.
func (c *Client) connect(intended time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.q.Timeout)
	defer cancel()
	sent := time.Now()
	conn, resp, err := websocket.Dial(ctx, c.q.URL.String(), &websocket.DialOptions{
		HTTPClient: c.q.http, HTTPHeader: c.q.Header, Subprotocols: c.q.Protos,
	})
	var o metrics.Outcome
	o.Status, o.Err = HandshakeOutcome(ctx, resp, err)
	now := time.Now()
	o.Latency, o.Service = now.Sub(c.from(intended, sent)), now.Sub(sent)
	c.rec.Record(1, o)
	if err != nil {
		c.rec.OpenWS(0)
		return false
	}
	c.rec.OpenWS(1)
	conn.SetReadLimit(maxMessage)
	c.conn = conn
	return true
}

// roundTrip sends the message and reads until one matches, the timeout
// passes or the connection ends, and records the outcome.
func (c *Client) roundTrip(intended time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), c.q.Timeout)
	defer cancel()
	c.buf = c.q.tpl.Render(c.buf[:0], c.st)
	typ := websocket.MessageText
	if c.q.Binary {
		typ = websocket.MessageBinary
	}
	sent := time.Now()
	o := metrics.Outcome{BytesOut: int64(len(c.buf))}
	err := c.conn.Write(ctx, typ, c.buf)
	if err == nil {
		o.MsgsOut = 1
	}
	for err == nil {
		var msg []byte
		if _, msg, err = c.conn.Read(ctx); err == nil {
			o.BytesIn += int64(len(msg))
			o.MsgsIn++
			if c.q.Expect.Matches(msg) {
				o.Status = StatusMatched
				break
			}
		}
	}
	if err != nil {
		o.Err, o.Close = c.failure(ctx, err)
	}
	now := time.Now()
	o.Latency, o.Service = now.Sub(c.from(intended, sent)), now.Sub(sent)
	c.rec.Record(0, o)
}

// failure classifies a round trip's error and drops the connection: after
// a timeout coder/websocket has closed it, and after a close frame or a
// broken socket it is of no further use. It returns the error kind and
// the server's close code (Outcome.Close), 0 when it sent none.
func (c *Client) failure(ctx context.Context, err error) (metrics.ErrorKind, int) {
	kind, code := ReadFailure(ctx, err)
	c.conn.CloseNow()
	c.conn = nil
	c.rec.OpenWS(-1)
	return kind, CloseCode(code)
}

// Close closes the client's connection with a normal closure, if it has
// one: the engine calls it when the client's load ends.
func (c *Client) Close() {
	if c.conn != nil {
		_ = c.conn.Close(websocket.StatusNormalClosure, "")
		c.conn = nil
		c.rec.OpenWS(-1)
	}
}

// CloseCode is a close code from ReadFailure as Outcome.Close counts it:
// 0 for none (-1).
func CloseCode(code int) int { return max(code, 0) }

// HandshakeOutcome classifies a handshake that Dial ended with resp and
// err, ctx being its deadline: the status recorded (101 on success, the
// server's status from 400) and the error kind.
func HandshakeOutcome(ctx context.Context, resp *http.Response, err error) (status int, kind metrics.ErrorKind) {
	switch {
	case err == nil:
		return http.StatusSwitchingProtocols, metrics.ErrNone
	case ctx.Err() != nil:
		return 0, metrics.ErrTimeout
	case resp != nil && resp.StatusCode >= 400:
		return resp.StatusCode, metrics.ErrNone
	case resp != nil:
		return 0, metrics.ErrOther // answered, but did not switch protocols
	}
	if k := client.Classify(err); k != metrics.ErrNone {
		return 0, k
	}
	return 0, metrics.ErrOther
}

// ReadFailure classifies an error of a send or a wait: a close frame
// (code >= 0) is a reset, as is a broken connection; ctx's deadline
// passing is a timeout.
func ReadFailure(ctx context.Context, err error) (kind metrics.ErrorKind, code int) {
	if c := websocket.CloseStatus(err); c != -1 {
		return metrics.ErrReset, int(c)
	}
	if ctx.Err() != nil {
		return metrics.ErrTimeout, -1
	}
	return metrics.ErrReset, -1
}

// MaxMessage bounds one message read (see SetReadLimit).
const MaxMessage = maxMessage
