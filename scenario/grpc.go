package scenario

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/plan"
)

// A grpc: step is a request step (kRequest) whose grpc is set: it renders
// its message (json:'s templating) and metadata (headers') as an HTTP step
// renders its body and headers, then makes one unary call through
// grpccall instead of net/http. Such steps keep a plan off the event loops
// (loopSteps), which speak HTTP/1.1 only. The method's schema comes from
// the target's server reflection: eagerly with ResolveGRPC before a run,
// else on the first call.

// grpcCall is one distinct (target, service, method) of a program, shared
// by its steps and clients.
type grpcCall struct {
	target      string
	service, fn string
	pos         plan.Pos
	msgs        []plan.String // the steps' messages, checked once the method is known
	once        sync.Once
	m           *grpccall.Method
	err         error
}

// grpcKey is a call's key in Program.grpc.
func grpcKey(target, service, fn string) string { return target + " " + service + "/" + fn }

// grpcStep compiles s's call; the rest of the step is compiled as an HTTP
// request's.
func (c *compiler) grpcStep(s *plan.Step, st *step, name string) {
	if c.prog.grpc == nil {
		c.prog.grpc = map[string]*grpcCall{}
	}
	k := grpcKey(s.Path.Value, s.GRPC.Service.Value, s.GRPC.Method.Value)
	g := c.prog.grpc[k]
	if g == nil {
		g = &grpcCall{target: s.Path.Value, service: s.GRPC.Service.Value, fn: s.GRPC.Method.Value, pos: s.GRPC.Pos}
		c.prog.grpc[k] = g
		if schema := c.p.GRPCSchema; schema != nil { // the plan's protos: no reflection
			m, err := grpccall.Find(schema, g.service, g.fn)
			if err == nil && !m.Callable() {
				err = errors.New("a client-streaming method; grpc: steps send one message")
			}
			if err != nil {
				c.errorf(s.GRPC.Pos, "grpc %s/%s: %v", g.service, g.fn, err)
			}
			g.once.Do(func() { g.m, g.err = m, err })
		}
	}
	st.grpc, st.expect = g, -1
	codes := s.GRPC.RetryCodes
	if codes == nil {
		codes = plan.DefaultRetryCodes
	}
	for _, code := range codes {
		st.retryCodes |= 1 << code
	}
	if n := s.GRPC.Expect; n > 0 {
		st.count = n
		st.expect = c.check(fmt.Sprintf("%s: %d answers", name, n), st.req)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Headers)) {
		if t := c.tmplAt(s.Headers[k]); t != nil {
			st.headers = append(st.headers, header{key: k, canon: k, val: t})
		}
	}
	if s.JSON != nil {
		st.json = c.jsonBody(*s.JSON)
		g.msgs = append(g.msgs, *s.JSON)
	}
}

// ResolveGRPC learns the schema of every grpc: step's method from its
// target's server reflection, within timeout each. Errors are plan.Errors
// at the step's grpc: (unknown service or method, a streaming method, a
// target that does not answer) or at a message the method's input cannot
// take, as fuka validate places them with protos:.
func (p *Program) ResolveGRPC(ctx context.Context, o Options, timeout time.Duration) error {
	var errs plan.Errors
	for _, k := range slices.Sorted(maps.Keys(p.grpc)) {
		g := p.grpc[k]
		m, err := g.resolve(ctx, grpcTLS(o, p), timeout)
		if err != nil {
			errs = append(errs, &plan.Error{Pos: g.pos, Msg: "grpc " + g.service + "/" + g.fn + " at " + g.target + ": " + err.Error()})
			continue
		}
		for _, msg := range g.msgs {
			if err := plan.CheckGRPCMessage(msg.Value, m.Desc.Input()); err != nil {
				errs = append(errs, &plan.Error{Pos: msg.Pos, Msg: fmt.Sprintf("grpc message for %s (%s): %v", m.Desc.FullName(), m.Desc.Input().FullName(), err)})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// GRPCFiles are the files that define the methods of the program's grpc:
// steps, as resolved (from protos: or by ResolveGRPC): what a distributed
// run's controller ships (with their imports) to its workers. A method
// not resolved yet is an error.
func (p *Program) GRPCFiles() ([]protoreflect.FileDescriptor, error) {
	var files []protoreflect.FileDescriptor
	for _, k := range slices.Sorted(maps.Keys(p.grpc)) {
		g := p.grpc[k]
		if g.m == nil {
			return nil, fmt.Errorf("grpc %s/%s at %s: not resolved", g.service, g.fn, g.target)
		}
		files = append(files, g.m.Desc.ParentFile())
	}
	return files, nil
}

// UnresolvedGRPC names the grpc: steps' methods whose schema is not known
// yet ("fuka.demo.Cart/Add at grpc://host:port"): those without protos:
// before ResolveGRPC, which nothing has checked against a schema.
func (p *Program) UnresolvedGRPC() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p.grpc)) {
		if g := p.grpc[k]; g.m == nil && g.err == nil {
			out = append(out, g.service+"/"+g.fn+" at "+g.target)
		}
	}
	return out
}

// HasGRPC reports whether the program has grpc: steps.
func (p *Program) HasGRPC() bool { return len(p.grpc) > 0 }

// UseGRPCSchema takes the methods of the grpc: steps from reg, the schema
// a distributed run's controller resolved, so that no step asks its target
// (a method resolved from the plan's protos: stays). A method missing
// from reg is an error at its step.
func (p *Program) UseGRPCSchema(reg *protoregistry.Files) error {
	var errs plan.Errors
	for _, k := range slices.Sorted(maps.Keys(p.grpc)) {
		g := p.grpc[k]
		g.once.Do(func() {
			g.m, g.err = grpccall.Find(reg, g.service, g.fn)
			if g.err == nil && !g.m.Callable() {
				g.m, g.err = nil, errors.New("a client-streaming method; grpc: steps send one message")
			}
		})
		if g.err != nil {
			errs = append(errs, &plan.Error{Pos: g.pos, Msg: "grpc " + g.service + "/" + g.fn + ": not in the schema the controller sent: " + g.err.Error()})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (g *grpcCall) resolve(ctx context.Context, conf *tls.Config, timeout time.Duration) (*grpccall.Method, error) {
	g.once.Do(func() {
		t, err := grpccall.ParseTarget(g.target, conf)
		if err != nil {
			g.err = err
			return
		}
		cc, err := grpccall.Dial(t)
		if err != nil {
			g.err = err
			return
		}
		defer cc.Close()
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		g.m, g.err = grpccall.Reflect(ctx, cc, g.service+"/"+g.fn)
		if g.err == nil && !g.m.Callable() {
			g.m, g.err = nil, errors.New("a client-streaming method; grpc: steps send one message")
		}
	})
	return g.m, g.err
}

// grpcTLS is the TLS configuration of grpcs:// targets: the run's client
// certificate and CA, else the plan's.
func grpcTLS(o Options, p *Program) *tls.Config {
	conf := &tls.Config{InsecureSkipVerify: o.Insecure} //nolint:gosec // --insecure asks for it
	t := o.TLS
	if t == nil {
		t = p.tls
	}
	if t != nil {
		conf.Certificates, conf.RootCAs = t.Certificates, t.RootCAs
	}
	return conf
}

// grpcConns are a Runner's connections, one per target, made on first use
// and closed by Runner.Close.
type grpcConns struct {
	mu     sync.Mutex
	conf   *tls.Config
	phases bool // time the calls' phases (--phases)
	conns  map[string]*grpc.ClientConn
	times  map[string]*grpccall.ConnTimes // with phases, by target
	said   atomic.Pointer[string]         // the first failed call's answer (FailureHint)
}

// FailureHint says what the server answered the first gRPC call that
// failed (grpccall.Said), "" when none did: what the summary adds when
// every request failed, since a code alone rarely says what to change.
func (r *Runner) FailureHint() string {
	if r.grpc == nil {
		return ""
	}
	if p := r.grpc.said.Load(); p != nil {
		return *p
	}
	return ""
}

// conn is target's connection and, with phases, its ConnTimes.
func (gc *grpcConns) conn(target string) (*grpc.ClientConn, *grpccall.ConnTimes, error) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if cc := gc.conns[target]; cc != nil {
		return cc, gc.times[target], nil
	}
	t, err := grpccall.ParseTarget(target, gc.conf)
	if err != nil {
		return nil, nil, err
	}
	var ct *grpccall.ConnTimes
	if gc.phases {
		ct = &grpccall.ConnTimes{}
	}
	cc, err := grpccall.DialTimed(t, ct)
	if err != nil {
		return nil, nil, err
	}
	if gc.conns == nil {
		gc.conns, gc.times = map[string]*grpc.ClientConn{}, map[string]*grpccall.ConnTimes{}
	}
	gc.conns[target], gc.times[target] = cc, ct
	return cc, ct, nil
}

func (gc *grpcConns) close() {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	for _, cc := range gc.conns {
		_ = cc.Close()
	}
	gc.conns = nil
}

// grpcRequest makes s's call and applies its extractors and checks to the
// answer's JSON form and metadata. A message the rendered values make
// invalid for the schema (a string in a number field) is not sent: it
// counts as an invalid request, as an HTTP request with a line break in a
// header does. With retries, a call that got no answer or a code of the
// step's retry_codes is sent again, each attempt a request of its own and
// each retry counted as one, as HTTP steps' retries are; none starts
// after ctx (the load) has ended.
func (c *Client) grpcRequest(ctx context.Context, s *step, from time.Time) bool {
	g := s.grpc
	m, err := g.resolve(context.Background(), c.r.grpc.conf, s.timeout)
	var cc *grpc.ClientConn
	var ct *grpccall.ConnTimes
	if err == nil {
		cc, ct, err = c.r.grpc.conn(g.target)
	}
	var wire []byte
	if err == nil {
		c.buf = c.buf[:0]
		if s.json != nil {
			c.buf = s.json.render(c.buf, c.st)
		}
		if wire, err = m.Encode(c.buf); err != nil {
			err = fmt.Errorf("bad message: %w", err)
		}
	}
	md := metadata.MD{}
	for _, h := range s.headers {
		v := string(h.val.Render(nil, c.st))
		if !validHeaderValue(v) && err == nil {
			err = errors.New("metadata " + h.key + ": the value has a line break or control character")
		}
		md.Append(h.key, v)
	}
	if err != nil {
		c.invalid(s, from, err.Error())
		return c.failChecks(s)
	}
	for attempt := 0; ; attempt++ {
		r, n, status, kind := c.grpcCall(s, m, grpcConn{cc, ct}, md, wire, from, attempt > 0)
		if attempt < s.retries && ctx.Err() == nil && (kind != metrics.ErrNone || s.retryable(status)) {
			from = time.Time{} // a retry's latency is from its own send
			continue
		}
		if s.expect >= 0 { // judged on the last attempt, as every check
			c.check(s.expect, n >= s.count)
		}
		return c.outcome(s, r)
	}
}

// retryable reports whether a call answered with status is retried: its
// code is among the step's retry_codes.
func (s *step) retryable(status int) bool {
	code, ok := grpccall.Code(status)
	return ok && code != 0 && code < 32 && s.retryCodes&(1<<code) != 0
}

// grpcConn is a target's connection and, with --phases, its ConnTimes.
type grpcConn struct {
	cc *grpc.ClientConn
	ct *grpccall.ConnTimes
}

// grpcCall makes one attempt of s's call and records it; r is nil when no
// answer came, n is how many answers came.
func (c *Client) grpcCall(s *step, m *grpccall.Method, conn grpcConn, md metadata.MD, wire []byte, from time.Time, retry bool) (r *Response, n int, status int, kind metrics.ErrorKind) {
	cc := conn.cc
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), s.timeout)
	defer cancel()
	sent := time.Now()
	if from.IsZero() {
		from = sent
	}
	var out []byte
	var in int64
	var err error
	var got grpccall.Metadata
	var times grpccall.CallTimes
	switch {
	case conn.ct != nil:
		gotMD := &got
		if !s.needMD {
			gotMD = nil
		}
		n, in, err = m.CallTimed(ctx, cc, wire, &out, s.count, &times, gotMD)
	case s.needMD:
		n, in, err = m.CallMD(ctx, cc, wire, &out, s.count, &got)
	default:
		n, in, err = m.Call(ctx, cc, wire, &out, s.count)
	}
	status, kind = grpccall.Classify(ctx, err)
	if kind != metrics.ErrNone {
		in = 0
	} else if err != nil && c.r.grpc.said.Load() == nil {
		said := grpccall.Said(err)
		c.r.grpc.said.CompareAndSwap(nil, &said)
	}
	var lat time.Duration
	if conn.ct != nil {
		lat = c.recordTimed(s.req, sent, from, status, in, int64(5+len(wire)), kind, retry, &times, conn.ct)
	} else {
		lat = c.record(s.req, sent, from, status, in, int64(5+len(wire)), kind, retry, nil)
	}
	if kind != metrics.ErrNone {
		return nil, n, status, kind
	}
	r = &Response{Status: status, Latency: lat}
	if s.needMD {
		r.Header, r.Trailer = http.Header(got.Header), http.Header(got.Trailer)
	}
	if err == nil && s.needBody {
		r.Body, _ = m.DecodeJSON(out)
	}
	return r, n, status, kind
}

// recordTimed is record for a call timed by phase (--phases): an answered
// call has its time to first byte and transfer, and the first one on a new
// connection the connection's connect and TLS.
func (c *Client) recordTimed(req int, sent, from time.Time, status int, in, out int64, kind metrics.ErrorKind, retry bool, times *grpccall.CallTimes, ct *grpccall.ConnTimes) time.Duration {
	now := time.Now()
	o := metrics.Outcome{Latency: now.Sub(from), Service: now.Sub(sent), Status: status, Err: kind, BytesIn: in, BytesOut: out, Retry: retry}
	if kind == metrics.ErrNone {
		times.Put(&o, now)
		ct.Take(&o)
	}
	c.rec.Record(req, o)
	return o.Latency
}
