package run

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/plan"
)

// A gRPC attack travels as an attack job like an HTTP one: its URL is
// grpc://host:port or grpcs://host:port, its method the call
// ("pkg.Service/Method"), its body the JSON message and its headers the
// metadata, and its grpc_schema the method's descriptors, resolved once
// by the controller, so that a distributed run's workers build the call as
// the controller does without asking the target.

// grpcJob fills j's gRPC fields from the flags; a URL that is not gRPC
// leaves j alone but refuses --call.
func (f *AttackFlags) grpcJob(j *fukapb.AttackJob, rawURL string) error {
	if !grpccall.IsURL(rawURL) {
		if f.Call != "" {
			return fmt.Errorf("--call %s: a gRPC method needs a grpc:// or grpcs:// URL, not %s", f.Call, rawURL)
		}
		if len(f.Protos) > 0 || len(f.ImportPaths) > 0 {
			return fmt.Errorf("--proto and --import-path are for gRPC targets (grpc:// or grpcs://), not %s", rawURL)
		}
		return nil
	}
	if len(f.ImportPaths) > 0 && len(f.Protos) == 0 {
		return errors.New("--import-path: give the .proto files with --proto FILE")
	}
	if f.Call == "" {
		return fmt.Errorf("%s: name the method with --call pkg.Service/Method", rawURL)
	}
	service, method, err := grpccall.SplitMethod(f.Call)
	if err != nil {
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
	// One spelling of a method (pkg.Service.Method and /pkg.Service/Method
	// name the same one), so that history, compare and thresholds see one.
	j.Method = service + "/" + method
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

// grpcSchema resolves the job's method from the --proto files, else
// through the target's server reflection within the job's timeout, and
// puts its schema in the job: the controller resolves once, and it and
// every worker build the call from the job (grpcAttackConfig), so an
// unknown method is an error before anything is sent.
func (f *AttackFlags) grpcSchema(j *fukapb.AttackJob) error {
	if len(f.Protos) > 0 {
		return f.protoSchema(j)
	}
	target, err := grpcTarget(j)
	if err != nil {
		return err
	}
	m, err := grpcResolve(target, j.GetMethod(), time.Duration(j.GetTimeoutNanos()))
	if err != nil {
		return fmt.Errorf("--call %s: %w", j.GetMethod(), err)
	}
	if j.GrpcSchema, err = grpccall.Schema(m.Desc.ParentFile()); err != nil {
		return fmt.Errorf("--call %s: %w", j.GetMethod(), err)
	}
	return nil
}

// protoSchema is grpcSchema from the --proto files: the target is not
// asked. A message that does not fit the method's input is an error here,
// naming the files the schema came from.
func (f *AttackFlags) protoSchema(j *fukapb.AttackJob) error {
	p, err := grpccall.CompileProtos(context.Background(), f.Protos, f.ImportPaths)
	if err != nil {
		return err
	}
	m, err := p.Method(j.GetMethod())
	if err != nil {
		return fmt.Errorf("--call %s: %w", j.GetMethod(), err)
	}
	if _, err := m.Encode(j.GetBody()); err != nil {
		return fmt.Errorf("--body: %w (the schema from %s)", err, strings.Join(f.Protos, ", "))
	}
	if j.GrpcSchema, err = grpccall.Schema(m.Desc.ParentFile()); err != nil {
		return fmt.Errorf("--proto %s: %w", strings.Join(f.Protos, ", "), err)
	}
	return nil
}

// grpcTarget is the job's target with its TLS configuration.
func grpcTarget(j *fukapb.AttackJob) (grpccall.Target, error) {
	tc, err := attackTLS(j)
	if err != nil {
		return grpccall.Target{}, err
	}
	conf := &tls.Config{InsecureSkipVerify: j.GetInsecure()} //nolint:gosec // --insecure asks for it
	if tc != nil {
		conf.Certificates, conf.RootCAs = tc.Certificates, tc.RootCAs
	}
	return grpccall.ParseTarget(j.GetUrl(), conf)
}

// grpcAttackConfig is a gRPC attack job's configuration: the method comes
// from the job's schema (grpcSchema), never from the target, and the
// message is encoded once. A job without a schema is refused: controller
// and workers are the same version, and the controller always sends one.
func grpcAttackConfig(j *fukapb.AttackJob) (engine.Config, error) {
	target, err := grpcTarget(j)
	if err != nil {
		return engine.Config{}, err
	}
	if len(j.GetGrpcSchema()) == 0 {
		return engine.Config{}, fmt.Errorf("--call %s: the job has no gRPC schema (the controller resolves the method and sends it)", j.GetMethod())
	}
	reg, err := grpccall.LoadSchema(j.GetGrpcSchema())
	if err != nil {
		return engine.Config{}, fmt.Errorf("--call %s: the job's %w", j.GetMethod(), err)
	}
	service, method, err := grpccall.SplitMethod(j.GetMethod())
	if err != nil {
		return engine.Config{}, fmt.Errorf("--call %w", err)
	}
	m, err := grpccall.Find(reg, service, method)
	if err != nil {
		return engine.Config{}, fmt.Errorf("--call %s: not in the job's gRPC schema: %w", j.GetMethod(), err)
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
	timeout := time.Duration(j.GetTimeoutNanos())
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, MD: md, Timeout: timeout, Name: name, Open: open, Slots: load.Slots(), Phases: j.GetPhases(),
		EmptyBody: len(strings.TrimSpace(string(j.GetBody()))) == 0}
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

// planSchema is the gRPC schema a plan job carries: the plan's protos:
// files and the files of the methods its grpc: steps resolved, each with
// its imports; nil for a plan with neither.
func planSchema(c *Plan) ([]byte, error) {
	var files []protoreflect.FileDescriptor
	for _, s := range c.Plan.Protos {
		fd, err := c.Plan.GRPCSchema.FindFileByPath(plan.ProtoPath(s.Value))
		if err != nil {
			return nil, fmt.Errorf("protos %s: %w", s.Value, err)
		}
		files = append(files, fd)
	}
	if c.Prog != nil {
		steps, err := c.Prog.GRPCFiles()
		if err != nil {
			return nil, err
		}
		files = append(files, steps...)
	}
	if len(files) == 0 {
		return nil, nil
	}
	return grpccall.Schema(files...)
}

// jobProtos is a plan job's gRPC schema as a worker compiles the plan
// with it: the controller's, so that no .proto file is read here and no
// target asked. Without one it is empty, and a plan naming protos: is
// refused at them.
func jobProtos(j *fukapb.PlanJob) (*protoregistry.Files, error) {
	if len(j.GetGrpcSchema()) == 0 {
		return new(protoregistry.Files), nil
	}
	protos, err := grpccall.LoadSchema(j.GetGrpcSchema())
	if err != nil {
		return nil, fmt.Errorf("the job's %w", err)
	}
	return protos, nil
}

// useJobSchema gives the grpc: steps of c, compiled on a worker, their
// methods from the job's schema protos; a plan with grpc: steps and a job
// without a schema is refused.
func useJobSchema(c *Plan, j *fukapb.PlanJob, protos *protoregistry.Files) error {
	if !c.Prog.HasGRPC() {
		return nil
	}
	if len(j.GetGrpcSchema()) == 0 {
		return errors.New("plan: it has grpc: steps but the job has no gRPC schema (the controller resolves the methods and sends them)")
	}
	if err := c.Prog.UseGRPCSchema(protos); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

// grpcResolveTimeout bounds each grpc: step's server reflection before a
// plan runs.
const grpcResolveTimeout = 10 * time.Second

// ResolvePlanGRPC learns the schema of the plan's grpc: steps from their
// targets' server reflection before the run, so that an unknown service
// or method is an error at its step (file:line:col) and nothing is sent.
// A distributed run's controller resolves too, and ships what it learnt
// to the workers (NewPlanJob), which never ask the targets.
func ResolvePlanGRPC(ctx context.Context, c *Plan, o Options) error {
	so, err := o.scenarioOptions()
	if err != nil {
		return err
	}
	return c.Prog.ResolveGRPC(ctx, so, grpcResolveTimeout)
}
