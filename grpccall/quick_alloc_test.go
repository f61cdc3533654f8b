package grpccall

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/fuka-load/fuka/metrics"
)

// codecConn is a grpc.ClientConnInterface that does with a unary call
// what grpc-go does with fuka's part of it: it finds the forced codec,
// marshals the request, checks its bytes and unmarshals an answer.
type codecConn struct {
	t      testing.TB
	want   []byte
	answer mem.BufferSlice
}

func (c *codecConn) Invoke(_ context.Context, _ string, args, reply any, opts ...grpc.CallOption) error {
	var codec encoding.CodecV2
	for _, o := range opts {
		if f, ok := o.(grpc.ForceCodecV2CallOption); ok {
			codec = f.CodecV2
		}
	}
	if codec == nil {
		c.t.Fatal("no CodecV2 forced")
	}
	data, err := codec.Marshal(args)
	if err != nil || len(data) != 1 || !bytes.Equal(data[0].ReadOnlyData(), c.want) {
		c.t.Fatalf("sent %q, %v; want %q", data.Materialize(), err, c.want)
	}
	data.Free()
	return codec.Unmarshal(c.answer, reply)
}

func (c *codecConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	c.t.Fatal("a unary call opened a stream")
	return nil, nil
}

// TestQuickAllocs bounds the allocations fuka's own part of a quick-mode
// call makes (grpc-go's, ~80 more, are its own): the deadline's context
// (context.WithTimeout makes four objects), nothing for the message, the
// call options or the answer.
func TestQuickAllocs(t *testing.T) {
	// A unary method from a descriptor built here: no server needed.
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:       ptr("t.proto"),
		Package:    ptr("t"),
		Dependency: []string{"google/protobuf/empty.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: ptr("S"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: ptr("M"), InputType: ptr(".google.protobuf.Empty"), OutputType: ptr(".google.protobuf.Empty"),
			}},
		}},
	}, registryWith(emptypb.File_google_protobuf_empty_proto))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMethod(fd.Services().Get(0), "M")
	if err != nil {
		t.Fatal(err)
	}
	req := []byte{0x0a, 0x03, 't', 'e', 'a'}
	q := &Quick{Method: m, Request: req, Timeout: time.Minute, Name: "M"}
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector(q.Names(), []*metrics.Recorder{rec})
	c := &quickClient{q: q, cc: &codecConn{t: t, want: req, answer: mem.BufferSlice{mem.SliceBuffer("answer")}},
		rec: rec, ctx: context.Background(), msg: NewMessage(req)}
	c.Iterate(context.Background(), 0, time.Now()) // sizes c.out
	allocs := testing.AllocsPerRun(200, func() { c.Iterate(context.Background(), 0, time.Now()) })
	if allocs > 4 {
		t.Fatalf("%.1f allocations per call, want at most 4 (the deadline's)", allocs)
	}
	col.Tick(time.Second, 1)
	st := col.Run().Total
	if st.Requests != 202 || st.Status[200] != 202 || st.BytesIn != 202*int64(frame+len("answer")) ||
		st.BytesOut != 202*int64(frame+len(req)) || string(c.out) != "answer" {
		t.Fatalf("recorded %d calls, %d OK, %d bytes in, %d out; last answer %q", st.Requests, st.Status[200], st.BytesIn, st.BytesOut, c.out)
	}
}

func ptr(s string) *string { return &s }

func registryWith(fds ...protoreflect.FileDescriptor) *protoregistry.Files {
	r := new(protoregistry.Files)
	for _, fd := range fds {
		_ = r.RegisterFile(fd)
	}
	return r
}
