package demo

import (
	"context"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"github.com/fuka-load/fuka/grpccall"
)

// TestCartProtoIsServed: demo/cart.proto, compiled as --proto compiles it,
// describes exactly the service the demo serves (cartFile): the same
// messages, fields, methods and streaming. Only the file's name and the
// compiler's source info differ.
func TestCartProtoIsServed(t *testing.T) {
	p, err := grpccall.CompileProtos(context.Background(), []string{filepath.Join(".", "cart.proto")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Method(GRPCService + "/Add")
	if err != nil {
		t.Fatal(err)
	}
	got := protodesc.ToFileDescriptorProto(m.Desc.ParentFile())
	want := protodesc.ToFileDescriptorProto(cartFile)
	got.Name, want.Name = nil, nil
	got.SourceCodeInfo, want.SourceCodeInfo = nil, nil
	if !proto.Equal(got, want) {
		t.Errorf("demo/cart.proto and the served cartFile differ:\nfile:   %v\nserved: %v", got, want)
	}
}
