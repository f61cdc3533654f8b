package plan

import (
	"context"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/fuka-load/fuka/internal/protoc"
)

// protos reads protos: the .proto files, relative to the plan's directory
// (also the import path), that give grpc: steps their schemas instead of
// server reflection.
func (ps *parser) protos(n *yaml.Node) []String {
	items, ok := ps.list(n, "protos")
	if !ok {
		return nil
	}
	var out []String
	for _, it := range items {
		s, ok := ps.nonEmpty("protos", it)
		if !ok {
			continue
		}
		if filepath.IsAbs(s.Value) || strings.HasPrefix(filepath.Clean(s.Value), "..") {
			ps.errorf(it, "protos %q: give the path inside the plan's directory, which is the import path", clip(s.Value))
			continue
		}
		if ps.shipped != nil || ps.fileExists(s, "proto") {
			out = append(out, s)
		}
	}
	return out
}

// linkProtos compiles the plan's protos (or finds them among the shipped
// ones) and checks each grpc: step against them: its service and method
// exist, the method is unary, and a message without templates is valid
// for the method's input. Errors in a .proto are at their place in it.
func (ps *parser) linkProtos(p *Plan) {
	if len(p.Protos) == 0 {
		return
	}
	names := make([]string, len(p.Protos))
	for i, s := range p.Protos {
		names[i] = ProtoPath(s.Value)
	}
	var files []protoreflect.FileDescriptor
	var schema protodesc.Resolver
	if ps.shipped != nil {
		for i, name := range names {
			fd, err := ps.shipped.FindFileByPath(name)
			if err != nil {
				ps.errorAt(p.Protos[i].Pos, "protos %q: not in the schema the controller sent", clip(name))
				return
			}
			files = append(files, fd)
		}
		schema = ps.shipped
	} else if files, schema = ps.compileProtos(p, names); schema == nil {
		return
	}
	p.GRPCSchema = schema
	var services []string
	for _, f := range files {
		for i := 0; i < f.Services().Len(); i++ {
			services = append(services, string(f.Services().Get(i).FullName()))
		}
	}
	slices.Sort(services)
	have := strings.Join(services, ", ")
	if have == "" {
		have = "none"
	}
	for _, sc := range p.Scenarios {
		Walk(sc.Steps, func(st *Step) {
			if st.GRPC != nil {
				ps.checkGRPCStep(st, schema, have)
			}
		})
	}
}

// ProtoPath is a protos: entry's path as the schema names its file:
// slash-separated, relative to the plan's directory (the import path).
func ProtoPath(s string) string { return filepath.ToSlash(filepath.Clean(s)) }

// compileProtos compiles the plan's protos from the plan's directory; nil
// after an error, reported at its place.
func (ps *parser) compileProtos(p *Plan, names []string) ([]protoreflect.FileDescriptor, protodesc.Resolver) {
	dir := filepath.Dir(ps.file)
	compiled, errs, err := protoc.Compile(context.Background(), names, []string{dir})
	for _, e := range errs {
		if e.Missing {
			e.Msg += " (imports are found relative to the plan's directory)"
		}
		ps.errorAt(Pos{File: e.Path, Line: e.Line, Column: e.Col}, "%s", e.Msg)
	}
	if err != nil {
		ps.errorAt(p.Protos[0].Pos, "protos: %v", err)
	}
	if compiled == nil {
		return nil, nil
	}
	files := make([]protoreflect.FileDescriptor, len(compiled))
	for i, f := range compiled {
		files[i] = f
	}
	return files, compiled.AsResolver()
}

func (ps *parser) checkGRPCStep(st *Step, schema protodesc.Resolver, services string) {
	g := st.GRPC
	if g.Service.Value == "" || g.Method.Value == "" {
		return // reported as missing
	}
	d, err := schema.FindDescriptorByName(protoreflect.FullName(g.Service.Value))
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if err != nil || !ok {
		ps.errorAt(g.Service.Pos, "grpc service %q is not in protos (they have %s)", clip(g.Service.Value), services)
		return
	}
	md := sd.Methods().ByName(protoreflect.Name(g.Method.Value))
	if md == nil {
		var have []string
		for i := 0; i < sd.Methods().Len(); i++ {
			have = append(have, string(sd.Methods().Get(i).Name()))
		}
		ps.errorAt(g.Method.Pos, "grpc method %q: service %s has %s", clip(g.Method.Value), sd.FullName(), strings.Join(have, ", "))
		return
	}
	if md.IsStreamingClient() {
		ps.errorAt(g.Method.Pos, "grpc method %s takes a client stream; grpc: steps send one message (unary and server-streaming methods)", g.Method.Value)
		return
	}
	if g.Expect > 0 && !md.IsStreamingServer() {
		ps.errorAt(g.Method.Pos, "grpc expect: method %s answers once; expect is for server-streaming methods", g.Method.Value)
	}
	if st.JSON != nil && !strings.Contains(st.JSON.Value, "{{") {
		if err := protojson.Unmarshal([]byte(st.JSON.Value), dynamicpb.NewMessage(md.Input())); err != nil {
			ps.errorAt(st.JSON.Pos, "grpc message for %s (%s): %s", md.FullName(), md.Input().FullName(), protoErrText(err))
		}
	}
}

// protoErrText is err's text with the protobuf module's deliberate
// per-build spacing (a no-break space after "proto:" in some builds)
// made plain, so the same plan gives the same error from every binary.
func protoErrText(err error) string { return strings.ReplaceAll(err.Error(), "\u00a0", " ") }
