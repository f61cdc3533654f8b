package grpccall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/fuka-load/fuka/metrics"
)

// maxReflectFiles bounds how many files one resolution fetches: a server
// that keeps naming new dependencies cannot keep fuka asking.
const maxReflectFiles = 1000

// reflectV1Alpha is the path of the reflection service's older name,
// grpc.reflection.v1alpha, which servers built before v1 existed (and
// some still) offer alone. Its messages are v1's under another package
// name, the same on the wire, so fuka speaks v1's messages to either.
const reflectV1Alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

// errNoReflection marks a reflection service the server does not have.
var errNoReflection = errors.New("the server does not offer server reflection")

// Reflect resolves "pkg.Service/Method" through the server reflection
// service of the server behind cc: the file that defines the service and
// every file it imports. It asks grpc.reflection.v1 and, when the server
// does not have it, grpc.reflection.v1alpha.
func Reflect(ctx context.Context, cc grpc.ClientConnInterface, call string) (*Method, error) {
	service, method, err := SplitMethod(call)
	if err != nil {
		return nil, err
	}
	m, err := reflectOn(ctx, cc, rpb.ServerReflection_ServerReflectionInfo_FullMethodName, service, method)
	if errors.Is(err, errNoReflection) {
		m, err = reflectOn(ctx, cc, reflectV1Alpha, service, method)
		if errors.Is(err, errNoReflection) {
			return nil, fmt.Errorf("%w (neither grpc.reflection.v1 nor v1alpha); give the schema in .proto files: --proto FILE, or protos: in a plan", errNoReflection)
		}
	}
	return m, err
}

// reflectOn is Reflect over the reflection service at path.
func reflectOn(ctx context.Context, cc grpc.ClientConnInterface, path, service, method string) (*Method, error) {
	st, err := cc.NewStream(ctx, &rpb.ServerReflection_ServiceDesc.Streams[0], path)
	if err != nil {
		return nil, reflectErr(err)
	}
	stream := &grpc.GenericClientStream[rpb.ServerReflectionRequest, rpb.ServerReflectionResponse]{ClientStream: st}
	defer func() { _ = stream.CloseSend() }()
	files := map[string]*descriptorpb.FileDescriptorProto{}
	ask := func(req *rpb.ServerReflectionRequest) error {
		if err := stream.Send(req); err != nil {
			// io.EOF: the server ended the stream (Unimplemented, say)
			// before the request went out; Recv has its status.
			if errors.Is(err, io.EOF) {
				_, err = stream.Recv()
			}
			return reflectErr(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return reflectErr(err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			if codes.Code(e.GetErrorCode()) == codes.NotFound {
				return fmt.Errorf("%w %s on the server (%s)", errNoService, service, e.GetErrorMessage())
			}
			return fmt.Errorf("server reflection: %s", e.GetErrorMessage())
		}
		for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(raw, fd); err != nil {
				return fmt.Errorf("server reflection: a file descriptor does not parse: %w", err)
			}
			files[fd.GetName()] = fd
		}
		return nil
	}
	if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service}}); err != nil {
		if strings.Contains(err.Error(), errNoService.Error()) {
			return nil, withServices(ctx, stream, err)
		}
		return nil, err
	}
	// The server sends the file's dependencies it has not sent on this
	// stream; ask for any it left out.
	for len(files) < maxReflectFiles {
		missing := missingDeps(files)
		if missing == "" {
			break
		}
		if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: missing}}); err != nil {
			return nil, err
		}
		if files[missing] == nil {
			return nil, fmt.Errorf("server reflection: the server did not send %s", missing)
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		set.File = append(set.File, files[name])
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("server reflection: %w", err)
	}
	return Find(reg, service, method)
}

// Find looks service and method up among reg's files.
func Find(reg interface {
	FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
}, service, method string) (*Method, error) {
	d, err := reg.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("%w %s", errNoService, service)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	return NewMethod(sd, method)
}

func missingDeps(files map[string]*descriptorpb.FileDescriptorProto) string {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for _, dep := range files[name].GetDependency() {
			if files[dep] == nil {
				return dep
			}
		}
	}
	return ""
}

// withServices adds the services the server lists to err, so that a typo
// shows its fix.
func withServices(_ context.Context, stream rpb.ServerReflection_ServerReflectionInfoClient, err error) error {
	if stream.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}}) != nil {
		return err
	}
	resp, rerr := stream.Recv()
	if rerr != nil {
		return err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if len(names) == 0 {
		return err
	}
	return fmt.Errorf("%w; the server has %s", err, strings.Join(names, ", "))
}

func reflectErr(err error) error {
	s, ok := status.FromError(err)
	switch {
	case ok && s.Code() == codes.Unimplemented:
		return fmt.Errorf("%w (%s)", errNoReflection, s.Message())
	case ok && s.Code() == codes.Unavailable && transportKind(s.Message()) == metrics.ErrTLS:
		return fmt.Errorf("server reflection: %w (trust the server's CA with --cacert FILE or a plan's tls: ca, give a client certificate with --client-cert and --client-key, or skip verification with --insecure)", err)
	}
	return fmt.Errorf("server reflection: %w", err)
}
