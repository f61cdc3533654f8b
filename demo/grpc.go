package demo

import (
	"context"
	"crypto/tls"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// CartProto is the demo's gRPC service, fuka.demo.Cart, in proto form: a
// plan may name it in protos: instead of asking the server. Its
// descriptor is built here (cartFile) rather than generated, so the demo
// needs no protoc; server reflection serves it. The file is in the repo
// as demo/cart.proto, for --proto and protos: against fuka demo;
// TestCartProtoIsServed keeps it and cartFile the same.
//
//go:embed cart.proto
var CartProto string

const (
	GRPCService = "fuka.demo.Cart"
	flakyEvery  = 10 // Flaky's every 10th call fails, as /api/flaky does
)

var cartFile = func() protoreflect.FileDescriptor {
	str := func(s string) *string { return &s }
	i32 := func(i int32) *int32 { return &i }
	field := func(name string, n int32, t descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: str(name), Number: i32(n), Type: t.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: str(name)}
	}
	method := func(name string) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: str(name), InputType: str(".fuka.demo.AddRequest"), OutputType: str(".fuka.demo.AddReply")}
	}
	watch := method("Watch")
	watch.ServerStreaming = new(true)
	fdp := &descriptorpb.FileDescriptorProto{
		Name: str("fuka/demo/cart.proto"), Package: str("fuka.demo"), Syntax: str("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: str("AddRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("item", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING),
				field("quantity", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32)}},
			{Name: str("AddReply"), Field: []*descriptorpb.FieldDescriptorProto{
				field("item", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING),
				field("quantity", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32),
				field("total", 3, descriptorpb.FieldDescriptorProto_TYPE_INT64)}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: str("Cart"), Method: []*descriptorpb.MethodDescriptorProto{method("Add"), method("Flaky"), watch}}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		panic(err) // a constant descriptor: a mistake here fails every test
	}
	return fd
}()

// GRPCServer is the demo's gRPC service, with server reflection, counting
// the calls it answered by status code.
type GRPCServer struct {
	srv   *grpc.Server
	ln    net.Listener
	total atomic.Int64 // items added, across calls
	flaky atomic.Int64
	mu    sync.Mutex
	codes map[codes.Code]int64
	// tenanted counts calls that carried x-tenant metadata: what shows
	// that a client's metadata arrives.
	tenanted atomic.Int64
	// reflections counts server reflection streams: what shows who
	// resolved a method (a distributed run's controller, not its workers).
	reflections atomic.Int64
}

// GRPCOption changes how StartGRPC serves.
type GRPCOption int

const (
	// NoReflection serves the service without server reflection: a
	// client needs CartProto.
	NoReflection GRPCOption = 1
	// ReflectionV1Alpha serves server reflection under its older name
	// only, grpc.reflection.v1alpha, as servers built before v1 do.
	ReflectionV1Alpha GRPCOption = 2
)

// StartGRPC listens on addr (e.g. "127.0.0.1:0") and serves fuka.demo.Cart
// in plaintext until ctx is done or Close is called.
func StartGRPC(ctx context.Context, addr string, opts ...GRPCOption) (*GRPCServer, error) {
	return StartGRPCTLS(ctx, addr, nil, opts...)
}

// StartGRPCTLS is StartGRPC over TLS with conf (grpcs://); nil conf is
// plaintext.
func StartGRPCTLS(ctx context.Context, addr string, conf *tls.Config, opts ...GRPCOption) (*GRPCServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w", addr, err)
	}
	var sopts []grpc.ServerOption
	if conf != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(conf)))
	}
	s := newGRPC(sopts, opts...)
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	go func() { <-ctx.Done(); s.srv.Stop() }()
	return s, nil
}

// newGRPC is the service with its counters, not yet serving: StartGRPC
// gives it a listener of its own, Start serves it on the demo target's
// port (isGRPC).
func newGRPC(sopts []grpc.ServerOption, opts ...GRPCOption) *GRPCServer {
	s := &GRPCServer{codes: map[codes.Code]int64{}}
	sopts = append(sopts, grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if strings.HasPrefix(info.FullMethod, "/grpc.reflection.") {
			s.reflections.Add(1)
		}
		return h(srv, ss)
	}))
	s.srv = grpc.NewServer(sopts...)
	s.srv.RegisterService(s.desc(), s)
	files := new(protoregistry.Files)
	if err := files.RegisterFile(cartFile); err != nil {
		panic(err) // one constant file in an empty registry
	}
	ro := reflection.ServerOptions{Services: s.srv, DescriptorResolver: files}
	switch {
	case slices.Contains(opts, NoReflection):
	case slices.Contains(opts, ReflectionV1Alpha):
		rpbalpha.RegisterServerReflectionServer(s.srv, reflection.NewServer(ro))
	default:
		rpb.RegisterServerReflectionServer(s.srv, reflection.NewServerV1(ro))
	}
	return s
}

// isGRPC tells a gRPC call from the demo target's HTTP and WebSocket
// requests on the same port: gRPC is HTTP/2 (here without TLS, by prior
// knowledge) with an application/grpc content type.
func isGRPC(r *http.Request) bool {
	return r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc")
}

// Addr is the host:port the service listens on; its URL for fuka is
// "grpc://" + Addr. The service [Start] serves on the demo target's own
// port has none: it is [Server.Addr].
func (s *GRPCServer) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Total is how many calls the server answered, whatever their code.
func (s *GRPCServer) Total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, c := range s.codes {
		n += c
	}
	return n
}

// Close stops the server at once, cutting calls in flight.
func (s *GRPCServer) Close() { s.srv.Stop() }

// Calls is how many calls the server answered with code c.
func (s *GRPCServer) Calls(c codes.Code) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[c]
}

// Reflections is how many server reflection streams clients opened.
func (s *GRPCServer) Reflections() int64 { return s.reflections.Load() }

// Tenanted is how many calls carried x-tenant metadata.
func (s *GRPCServer) Tenanted() int64 { return s.tenanted.Load() }

func (s *GRPCServer) desc() *grpc.ServiceDesc {
	sd := cartFile.Services().ByName("Cart")
	in, out := sd.Methods().ByName("Add").Input(), sd.Methods().ByName("Add").Output()
	handler := func(fn func(ctx context.Context, req, resp *dynamicpb.Message) error) grpc.MethodHandler {
		return func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("x-tenant")) > 0 {
				s.tenanted.Add(1)
			}
			req, resp := dynamicpb.NewMessage(in), dynamicpb.NewMessage(out)
			err := dec(req)
			if err == nil {
				err = fn(ctx, req, resp)
			}
			s.mu.Lock()
			s.codes[status.Code(err)]++
			s.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return resp, nil
		}
	}
	return &grpc.ServiceDesc{
		ServiceName: GRPCService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Add", Handler: handler(func(_ context.Context, req, resp *dynamicpb.Message) error { return s.add(req, resp) })},
			{MethodName: "Flaky", Handler: handler(s.flakyCall)},
		},
		Streams: []grpc.StreamDesc{{StreamName: "Watch", ServerStreams: true, Handler: func(_ any, st grpc.ServerStream) error {
			err := s.watch(st, in, out)
			s.mu.Lock()
			s.codes[status.Code(err)]++
			s.mu.Unlock()
			return err
		}}},
		Metadata: cartFile.Path(),
	}
}

// flakyCall answers Flaky: as Add, but every 10th call is Unavailable.
// Its answers carry metadata for checks and extraction to read: the
// header x-call, the call's number, and the trailer x-outcome, "ok" or
// "unavailable".
func (s *GRPCServer) flakyCall(ctx context.Context, req, resp *dynamicpb.Message) error {
	n := s.flaky.Add(1)
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-call", strconv.FormatInt(n, 10)))
	if n%flakyEvery == 0 {
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-outcome", "unavailable"))
		return status.Error(codes.Unavailable, "flaky: every 10th call fails")
	}
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-outcome", "ok"))
	return s.add(req, resp)
}

// watch answers Watch: quantity answers (1 when 0), each as Add's, at most
// 1000, and the trailer x-answers, their number.
func (s *GRPCServer) watch(st grpc.ServerStream, in, out protoreflect.MessageDescriptor) error {
	req := dynamicpb.NewMessage(in)
	if err := st.RecvMsg(req); err != nil {
		return err
	}
	n := min(max(req.Get(in.Fields().ByName("quantity")).Int(), 1), 1000)
	req.Set(in.Fields().ByName("quantity"), protoreflect.ValueOfInt32(1))
	// The trailer says how many answers the stream had.
	st.SetTrailer(metadata.Pairs("x-answers", strconv.FormatInt(n, 10)))
	for range n {
		resp := dynamicpb.NewMessage(out)
		if err := s.add(req, resp); err != nil {
			return err
		}
		if err := st.SendMsg(resp); err != nil {
			return err
		}
	}
	return nil
}

// add answers Add: the item and quantity back, with the running total of
// items added.
func (s *GRPCServer) add(req, resp *dynamicpb.Message) error {
	fields := req.Descriptor().Fields()
	item := req.Get(fields.ByName("item")).String()
	if item == "" {
		return status.Error(codes.InvalidArgument, "item is required")
	}
	q := req.Get(fields.ByName("quantity")).Int()
	if q == 0 {
		q = 1
	}
	of := resp.Descriptor().Fields()
	resp.Set(of.ByName("item"), protoreflect.ValueOfString(item))
	resp.Set(of.ByName("quantity"), protoreflect.ValueOfInt32(int32(q)))
	resp.Set(of.ByName("total"), protoreflect.ValueOfInt64(s.total.Add(q)))
	return nil
}

// ServeGRPC serves the gRPC service on addr until ctx is done, saying where
// on stderr.
func ServeGRPC(ctx context.Context, addr string, stderr io.Writer) error {
	s, err := StartGRPC(ctx, addr)
	if err != nil {
		return fmt.Errorf("demo gRPC service: %w", err)
	}
	fmt.Fprintf(stderr, "demo gRPC service %s listening on grpc://%s with server reflection (Ctrl-C to stop)\n", GRPCService, s.Addr())
	<-ctx.Done()
	s.Close()
	fmt.Fprintf(stderr, "demo gRPC service answered %d calls OK\n", s.Calls(codes.OK))
	return nil
}
