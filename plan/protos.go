package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
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
	if st.JSON != nil {
		if err := CheckGRPCMessage(st.JSON.Value, md.Input()); err != nil {
			ps.errorAt(st.JSON.Pos, "grpc message for %s (%s): %v", md.FullName(), md.Input().FullName(), err)
		}
	}
}

// CheckGRPCMessage checks a grpc: step's message, its JSON as the plan
// holds it (Step.JSON, templates and all), against the method's input in:
// nil when it can be sent, as far as it is written (see probeMessage).
func CheckGRPCMessage(doc string, in protoreflect.MessageDescriptor) error {
	probe, why := probeMessage(doc, in)
	if why != "" {
		return errors.New(why)
	}
	if err := protojson.Unmarshal(probe, dynamicpb.NewMessage(in)); err != nil {
		// protojson's (line 1:N) is a place in the JSON made from the
		// YAML, not in the plan: the error is at the message.
		return errors.New(jsonPlace.ReplaceAllString(protoErrText(err), "proto: "))
	}
	return nil
}

var jsonPlace = regexp.MustCompile(`^proto: (syntax error )?\(line \d+:\d+\): `)

// probeMessage is a message's JSON with each templated string (which
// renders as a JSON string) replaced by a string its field's kind takes,
// so that the message is checked before a run as far as it is written: an
// unknown field, or a literal of the wrong type, is an error at once
// rather than an invalid request each time. A templated key, or a
// template inside a well-known type's value, leaves that part unchecked.
// why is set where a template can never fit: its field takes no string
// (a bool, a message, a list).
func probeMessage(doc string, md protoreflect.MessageDescriptor) (probe []byte, why string) {
	if !strings.Contains(doc, "{{") {
		return []byte(doc), ""
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return []byte(doc), ""
	}
	var p prober
	b, err := json.Marshal(p.message(v, md))
	if err != nil {
		return []byte(doc), ""
	}
	return b, p.why
}

// prober replaces a message's templated strings; why is the first
// template that cannot fit its field.
type prober struct{ why string }

func (p *prober) message(v any, md protoreflect.MessageDescriptor) any {
	obj, ok := v.(map[string]any)
	if !ok || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return v
	}
	fields := md.Fields()
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		fv := obj[k]
		if strings.Contains(k, "{{") {
			delete(obj, k)
			continue
		}
		fd := fields.ByJSONName(k)
		if fd == nil {
			fd = fields.ByTextName(k)
		}
		if fd == nil {
			continue // protojson names it
		}
		l, isList := fv.([]any)
		m, isMap := fv.(map[string]any)
		switch {
		case fd.IsList() && isList:
			for i := range l {
				l[i] = p.field(l[i], fd)
			}
		case fd.IsMap() && isMap:
			for mk, mv := range m {
				if strings.Contains(mk, "{{") {
					delete(m, mk)
					continue
				}
				m[mk] = p.field(mv, fd.MapValue())
			}
		case fd.IsList() || fd.IsMap():
			if s, ok := fv.(string); ok && strings.Contains(s, "{{") {
				p.fail("field %s is a list or map; a template renders one string (template each item instead)", fd.Name())
			}
		default:
			obj[k] = p.field(fv, fd)
		}
	}
	return obj
}

// field is one value of fd (an element, for a list) with a templated
// string replaced by one fd's kind takes.
func (p *prober) field(v any, fd protoreflect.FieldDescriptor) any {
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		if strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") && hasTemplate(v) {
			return nil // a well-known type's JSON form: left to the run
		}
		if s, ok := v.(string); ok && strings.Contains(s, "{{") {
			p.fail("field %s is a message (%s); a template renders a string: give its fields", fd.Name(), fd.Message().FullName())
			return v
		}
		return p.message(v, fd.Message())
	}
	s, ok := v.(string)
	if !ok || !strings.Contains(s, "{{") {
		return v
	}
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "" // any string (bytes: empty base64)
	case protoreflect.EnumKind:
		if vals := fd.Enum().Values(); vals.Len() > 0 {
			return string(vals.Get(0).Name())
		}
		return v
	case protoreflect.BoolKind:
		p.fail("field %s is a bool (true or false); a template renders a string", fd.Name())
		return v
	default: // numbers take their decimal form as a string
		return "0"
	}
}

func (p *prober) fail(format string, args ...any) {
	if p.why == "" {
		p.why = fmt.Sprintf(format, args...)
	}
}

func hasTemplate(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "{{")
	case []any:
		for _, e := range v {
			if hasTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.Contains(k, "{{") || hasTemplate(e) {
				return true
			}
		}
	}
	return false
}

// protoErrText is err's text with the protobuf module's deliberate
// per-build spacing (a no-break space after "proto:" in some builds)
// made plain, so the same plan gives the same error from every binary.
func protoErrText(err error) string { return strings.ReplaceAll(err.Error(), "\u00a0", " ") }
