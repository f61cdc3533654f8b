package grpccall_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/fuka-load/fuka/grpccall"
)

// compileProtos compiles sources (path → .proto text) in memory.
func compileProtos(t *testing.T, sources map[string]string, names ...string) []protoreflect.FileDescriptor {
	t.Helper()
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(sources)})}
	files, err := c.Compile(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]protoreflect.FileDescriptor, len(files))
	for i, f := range files {
		out[i] = f
	}
	return out
}

var schemaSources = map[string]string{
	"types.proto": `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Item { string name = 1; google.protobuf.Timestamp at = 2; }
message Ack { int64 total = 1; }
`,
	"cart.proto": `syntax = "proto3";
package shop;
import "types.proto";
service Cart { rpc Add(Item) returns (Ack); }
`,
	"other/cart.proto": `syntax = "proto3";
package other;
service Cart { rpc Add(Thing) returns (Thing); }
message Thing {}
`,
}

// TestSchema: a method's file travels with every file it imports (the
// plan's own and the well-known ones), each before its importers, and
// the schema read back finds the method and encodes its messages as the
// compiled files do.
func TestSchema(t *testing.T) {
	files := compileProtos(t, schemaSources, "cart.proto")
	b, err := grpccall.Schema(files[0], files[0]) // a file named twice is one file
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range set.GetFile() {
		names = append(names, f.GetName())
	}
	if got := strings.Join(names, " "); got != "google/protobuf/timestamp.proto types.proto cart.proto" {
		t.Fatalf("schema files %q", got)
	}
	reg, err := grpccall.LoadSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := grpccall.Find(reg, "shop.Cart", "Add")
	if err != nil {
		t.Fatal(err)
	}
	want, err := grpccall.NewMethod(files[0].Services().Get(0), "Add")
	if err != nil {
		t.Fatal(err)
	}
	const msg = `{"name":"tea","at":"2026-12-05T04:00:00Z"}`
	got, err1 := m.Encode([]byte(msg))
	exp, err2 := want.Encode([]byte(msg))
	if err1 != nil || err2 != nil || string(got) != string(exp) || m.Path != "/shop.Cart/Add" {
		t.Fatalf("encoded %x (%v), compiled %x (%v), path %s", got, err1, exp, err2, m.Path)
	}
}

// TestSchemaErrors: what a worker or a controller refuses, with a reason.
func TestSchemaErrors(t *testing.T) {
	files := compileProtos(t, schemaSources, "cart.proto")
	onlyCart, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{
		protodescFile(files[0])}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		schema []byte
		want   string
	}{
		{"empty", nil, "gRPC schema: empty"},
		{"not a descriptor set", []byte("\x0a\x05hello"), "gRPC schema: not a FileDescriptorSet"},
		{"no files", []byte{0x10, 0x01}, "gRPC schema: no files"},
		{"garbage", []byte{0xff, 0xff, 0xff}, "gRPC schema: not a FileDescriptorSet"},
		{"an import missing", onlyCart, `gRPC schema: proto: could not resolve import "types.proto"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := grpccall.LoadSchema(tc.schema)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
		})
	}
	t.Run("two files by one name", func(t *testing.T) {
		a := compileProtos(t, schemaSources, "cart.proto")[0]
		b := compileProtos(t, map[string]string{"cart.proto": schemaSources["other/cart.proto"]}, "cart.proto")[0]
		if _, err := grpccall.Schema(a, b); err == nil || !strings.Contains(err.Error(), "two different files named cart.proto") {
			t.Fatalf("error %v", err)
		}
	})
}

func protodescFile(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	return protodesc.ToFileDescriptorProto(fd)
}
