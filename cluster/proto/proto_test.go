package fukapb_test

import (
	"context"
	"strings"
	"testing"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/internal/protoc"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
)

// The generated fuka.pb.go is checked in and protoc is not needed to build,
// so a .proto edited without regenerating would go unnoticed: the descriptor
// compiled here from fuka.proto must be the one fuka.pb.go carries.
func TestGeneratedMatchesProto(t *testing.T) {
	files, errs, err := protoc.Compile(context.Background(), []string{"fuka.proto"}, []string{"."})
	if err != nil || len(errs) > 0 {
		t.Fatalf("compile fuka.proto: %v %v", err, errs)
	}
	want := protodesc.ToFileDescriptorProto(files[0])
	want.SourceCodeInfo = nil
	got := protodesc.ToFileDescriptorProto(fukapb.File_fuka_proto)
	if !proto.Equal(got, want) {
		w := strings.Split(prototext.Format(want), "\n")
		g := strings.Split(prototext.Format(got), "\n")
		i := 0
		for i < len(w) && i < len(g) && w[i] == g[i] {
			i++
		}
		t.Fatalf("fuka.pb.go is not generated from fuka.proto (go generate ./cluster/proto; see README.md): line %d of the descriptor:\nfuka.proto: %q\nfuka.pb.go: %q",
			i+1, at(w, i), at(g, i))
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
