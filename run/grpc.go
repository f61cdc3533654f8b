package run

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
)

// A gRPC attack travels as an attack job like an HTTP one: its URL is
// grpc://host:port or grpcs://host:port, its method the call
// ("pkg.Service/Method"), its body the JSON message and its headers the
// metadata, so that a distributed run's workers build it as the
// controller does (each resolves the method through the target's server
// reflection).

// grpcJob fills j's gRPC fields from the flags; a URL that is not gRPC
// leaves j alone but refuses --call.
func (f *AttackFlags) grpcJob(j *fukapb.AttackJob, rawURL string) error {
	if !grpccall.IsURL(rawURL) {
		if f.Call != "" {
			return fmt.Errorf("--call %s: a gRPC method needs a grpc:// or grpcs:// URL, not %s", f.Call, rawURL)
		}
		return nil
	}
	if f.Call == "" {
		return fmt.Errorf("%s: name the method with --call pkg.Service/Method", rawURL)
	}
	if _, _, err := grpccall.SplitMethod(f.Call); err != nil {
		return fmt.Errorf("--call %w", err)
	}
	if _, err := grpccall.ParseTarget(rawURL, nil); err != nil {
		return err
	}
	if f.HTTP2 || f.HTTP1 {
		return errors.New("--http1 and --http2 are for HTTP targets: gRPC is HTTP/2 (grpc:// in plaintext, grpcs:// over TLS)")
	}
	for _, h := range f.Headers {
		k, _, _ := strings.Cut(h, ":")
		if err := metadataKey(strings.TrimSpace(k)); err != nil {
			return fmt.Errorf("-H %q: %w", h, err)
		}
	}
	j.Method = f.Call
	return nil
}

// metadataKey checks a metadata key as gRPC accepts it: lower-case letters,
// digits, - _ and ., not reserved by gRPC.
func metadataKey(k string) error {
	k = strings.ToLower(k)
	if k == "" {
		return errors.New("empty metadata key")
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("metadata key %q: gRPC takes letters, digits, - _ and . only", k)
		}
	}
	if strings.HasPrefix(k, "grpc-") || k == "content-type" || k == "te" || k == "user-agent" {
		return fmt.Errorf("metadata key %q is gRPC's own", k)
	}
	return nil
}

// grpcAttackConfig is a gRPC attack job's configuration: the method is
// resolved through the target's server reflection, within the job's
// timeout, and the message encoded once.
func grpcAttackConfig(j *fukapb.AttackJob) (engine.Config, error) {
	tc, err := attackTLS(j)
	if err != nil {
		return engine.Config{}, err
	}
	conf := &tls.Config{InsecureSkipVerify: j.GetInsecure()} //nolint:gosec // --insecure asks for it
	if tc != nil {
		conf.Certificates, conf.RootCAs = tc.Certificates, tc.RootCAs
	}
	target, err := grpccall.ParseTarget(j.GetUrl(), conf)
	if err != nil {
		return engine.Config{}, err
	}
	timeout := time.Duration(j.GetTimeoutNanos())
	m, err := grpcResolve(target, j.GetMethod(), timeout)
	if err != nil {
		return engine.Config{}, fmt.Errorf("--call %s: %w", j.GetMethod(), err)
	}
	if !m.Callable() {
		return engine.Config{}, fmt.Errorf("--call %s: a client-streaming method; fuka sends one message per call (unary and server-streaming methods)", j.GetMethod())
	}
	msg, err := m.Encode(j.GetBody())
	if err != nil {
		return engine.Config{}, fmt.Errorf("--body: %w", err)
	}
	md := metadata.MD{}
	for _, h := range j.GetHeaders() {
		md.Append(strings.ToLower(h.GetKey()), h.GetValue())
	}
	load, err := attackLoad(j.GetLoad())
	if err != nil {
		return engine.Config{}, err
	}
	_, open := load.(engine.Open)
	name := j.GetName()
	if name == "" {
		name = strings.TrimPrefix(m.Path, "/")
	}
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, MD: md, Timeout: timeout, Name: name, Open: open, Slots: load.Slots(), Phases: j.GetPhases()}
	return engine.Config{Load: load, Work: engine.Plan{Scenario: q}}, nil
}

// grpcResolve finds call through target's server reflection.
func grpcResolve(target grpccall.Target, call string, timeout time.Duration) (*grpccall.Method, error) {
	cc, err := grpccall.Dial(target)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return grpccall.Reflect(ctx, cc, call)
}

// grpcResolveTimeout bounds each grpc: step's server reflection before a
// plan runs.
const grpcResolveTimeout = 10 * time.Second

// ResolvePlanGRPC learns the schema of the plan's grpc: steps from their
// targets' server reflection before the run, so that an unknown service
// or method is an error at its step (file:line:col) and nothing is sent.
// A distributed run's workers resolve on their first call instead.
func ResolvePlanGRPC(ctx context.Context, c *Plan, o Options) error {
	so, err := o.scenarioOptions()
	if err != nil {
		return err
	}
	return c.Prog.ResolveGRPC(ctx, so, grpcResolveTimeout)
}
