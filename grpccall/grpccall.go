// Package grpccall makes gRPC calls whose message types fuka learns at run
// time: a method named "pkg.Service/Method" is resolved through the
// target's server reflection, its input message is built from JSON with
// dynamicpb and protojson, and the call goes out as pre-encoded bytes so
// that a load of identical calls encodes the message once. No code is
// generated at run time.
package grpccall

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Target is where calls go: host:port, in plaintext (grpc://) or TLS
// (grpcs://).
type Target struct {
	Addr string
	TLS  *tls.Config // nil: plaintext (h2c)
}

// IsURL reports whether raw names a gRPC target (grpc:// or grpcs://).
func IsURL(raw string) bool {
	return strings.HasPrefix(raw, "grpc://") || strings.HasPrefix(raw, "grpcs://")
}

// ParseTarget reads grpc://host:port (plaintext) or grpcs://host:port
// (TLS; conf is its configuration, nil for the defaults). A path is
// refused: the method is named apart (--call, a step's service/method).
func ParseTarget(raw string, conf *tls.Config) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, err
	}
	if u.Scheme != "grpc" && u.Scheme != "grpcs" {
		return Target{}, fmt.Errorf("%s: want grpc://host:port or grpcs://host:port", raw)
	}
	if u.Host == "" || u.Port() == "" {
		return Target{}, fmt.Errorf("%s: want host:port (a gRPC target has no default port)", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Target{}, fmt.Errorf("%s: a gRPC target is host:port only; name the method with --call pkg.Service/Method", raw)
	}
	t := Target{Addr: u.Host}
	if u.Scheme == "grpcs" {
		t.TLS = conf
		if t.TLS == nil {
			t.TLS = &tls.Config{}
		}
	}
	return t, nil
}

// Dial returns a client connection to t. It connects lazily, on the first
// call, as grpc.NewClient does.
func Dial(t Target) (*grpc.ClientConn, error) { return DialTimed(t, nil) }

// DialTimed is Dial, timing each connection it opens into ct when not nil
// (--phases; see ConnTimes).
func DialTimed(t Target, ct *ConnTimes) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if t.TLS != nil {
		creds = credentials.NewTLS(t.TLS)
	}
	if ct != nil {
		return grpc.NewClient(t.Addr, grpc.WithTransportCredentials(timedCreds{creds, ct}), grpc.WithContextDialer(ct.dial))
	}
	return grpc.NewClient(t.Addr, grpc.WithTransportCredentials(creds))
}

// SplitMethod splits "pkg.Service/Method" (or "pkg.Service.Method", as
// grpcurl also takes it) into the service's full name and the method's.
func SplitMethod(s string) (service, method string, err error) {
	s = strings.TrimPrefix(s, "/")
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		i = strings.LastIndexByte(s, '.')
	}
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%q: want pkg.Service/Method", s)
	}
	service, method = s[:i], s[i+1:]
	if !protoreflect.FullName(service).IsValid() || !protoreflect.Name(method).IsValid() {
		return "", "", fmt.Errorf("%q: want pkg.Service/Method (letters, digits and _ between the dots)", s)
	}
	return service, method, nil
}

// Method is one resolved method: its descriptor and the path calls go to.
type Method struct {
	Desc protoreflect.MethodDescriptor
	Path string // "/pkg.Service/Method"
}

// NewMethod finds method in the service sd.
func NewMethod(sd protoreflect.ServiceDescriptor, method string) (*Method, error) {
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		var names []string
		for i := 0; i < sd.Methods().Len(); i++ {
			names = append(names, string(sd.Methods().Get(i).Name()))
		}
		return nil, fmt.Errorf("service %s has no method %s (it has %s)", sd.FullName(), method, strings.Join(names, ", "))
	}
	return &Method{Desc: md, Path: "/" + string(sd.FullName()) + "/" + method}, nil
}

// Unary reports whether m is a unary method (neither side streams).
func (m *Method) Unary() bool { return !m.Desc.IsStreamingClient() && !m.Desc.IsStreamingServer() }

// Callable reports whether fuka can call m: unary or server-streaming (one
// request, a stream of answers); a client stream it cannot send.
func (m *Method) Callable() bool { return !m.Desc.IsStreamingClient() }

// Call makes one call of a unary or server-streaming method with the
// encoded request. out receives the last answer; n is how many came and in
// their bytes, gRPC's 5-byte frame header each. A server stream is read to
// its end, or, when expect > 0, until expect answers came: the stream is
// then ended by fuka, which is no error.
func (m *Method) Call(ctx context.Context, cc grpc.ClientConnInterface, req []byte, out *[]byte, expect int) (n int, in int64, err error) {
	return m.call(ctx, cc, &req, out, expect)
}

// CallMessage is Call for a request sent many times.
func (m *Method) CallMessage(ctx context.Context, cc grpc.ClientConnInterface, req *Message, out *[]byte, expect int) (n int, in int64, err error) {
	return m.call(ctx, cc, req, out, expect)
}

// call is Call with the request as the raw codec takes it: *[]byte or
// *Message.
func (m *Method) call(ctx context.Context, cc grpc.ClientConnInterface, req any, out *[]byte, expect int) (n int, in int64, err error) {
	if !m.Desc.IsStreamingServer() {
		if err := cc.Invoke(ctx, m.Path, req, out, rawCodec...); err != nil {
			return 0, 0, err
		}
		return 1, int64(frame + len(*out)), nil
	}
	return m.stream(ctx, cc, req, out, expect, nil)
}

// Metadata is a call's header and trailer metadata, as the server sent
// them.
type Metadata struct{ Header, Trailer metadata.MD }

// CallMD is Call that also fills md with the call's metadata: its header,
// and its trailer when the call ended (a stream fuka ended after expect
// answers has none).
func (m *Method) CallMD(ctx context.Context, cc grpc.ClientConnInterface, req []byte, out *[]byte, expect int, md *Metadata) (n int, in int64, err error) {
	if !m.Desc.IsStreamingServer() {
		if err := m.Invoke(ctx, cc, req, out, grpc.Header(&md.Header), grpc.Trailer(&md.Trailer)); err != nil {
			return 0, 0, err
		}
		return 1, int64(frame + len(*out)), nil
	}
	return m.stream(ctx, cc, &req, out, expect, md)
}

// stream makes a server-streaming call (see Call); md, when not nil,
// receives its metadata.
func (m *Method) stream(ctx context.Context, cc grpc.ClientConnInterface, req any, out *[]byte, expect int, md *Metadata) (n int, in int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a stream read to expect
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, m.Path, rawCodec...)
	if err != nil {
		return 0, 0, err
	}
	if err := st.SendMsg(req); err != nil {
		return 0, 0, recvErr(st, err)
	}
	if err := st.CloseSend(); err != nil {
		return 0, 0, err
	}
	if md != nil {
		// The stream's metadata is read from it, not through call
		// options: those are filled when grpc-go finishes the stream, which
		// for a stream fuka cancels happens after Call returned.
		defer func() {
			md.Header, _ = st.Header()
			if err != nil || expect <= 0 || n < expect {
				md.Trailer = st.Trailer() // the stream ended: its trailer came
			}
		}()
	}
	return recvAll(st, out, expect)
}

// recvAll reads a server stream's answers to its end, or until expect > 0
// of them came.
func recvAll(st grpc.ClientStream, out *[]byte, expect int) (n int, in int64, err error) {
	for expect <= 0 || n < expect {
		if err := st.RecvMsg(out); err != nil {
			if errors.Is(err, io.EOF) {
				return n, in, nil
			}
			return n, in, err
		}
		n++
		in += int64(frame + len(*out))
	}
	return n, in, nil
}

// recvErr is the status a failed send hides: grpc-go returns io.EOF from
// SendMsg when the server has ended the stream, and the status from
// RecvMsg.
func recvErr(st grpc.ClientStream, err error) error {
	if errors.Is(err, io.EOF) {
		var b []byte
		if rerr := st.RecvMsg(&b); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
	}
	return err
}

// Encode turns a JSON message (protojson: field names as in the .proto or
// lowerCamelCase, enums by name, 64-bit integers as strings or numbers)
// into the wire form of m's input. Empty json is the empty message.
func (m *Method) Encode(json []byte) ([]byte, error) {
	msg := dynamicpb.NewMessage(m.Desc.Input())
	if len(strings.TrimSpace(string(json))) > 0 {
		if err := protojson.Unmarshal(json, msg); err != nil {
			return nil, fmt.Errorf("message for %s (%s): %s", m.Path, m.Desc.Input().FullName(), protoErrText(err))
		}
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(msg)
}

// DecodeJSON turns a response's wire form into its JSON form (protojson,
// field names as in the .proto, zero values included): what checks and
// extraction read.
func (m *Method) DecodeJSON(wire []byte) ([]byte, error) {
	msg := dynamicpb.NewMessage(m.Desc.Output())
	if err := proto.Unmarshal(wire, msg); err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
}

// Invoke makes one unary call with the encoded request; out receives the
// encoded response.
func (m *Method) Invoke(ctx context.Context, cc grpc.ClientConnInterface, req []byte, out *[]byte, opts ...grpc.CallOption) error {
	if len(opts) == 0 {
		return cc.Invoke(ctx, m.Path, &req, out, rawCodec...)
	}
	return cc.Invoke(ctx, m.Path, &req, out, append(opts, rawCodec...)...)
}

// Message is an encoded request ready to be sent any number of times, by
// any number of calls at once: gRPC only reads it (a SliceBuffer's Ref and
// Free do nothing).
type Message struct {
	bs mem.BufferSlice
}

// NewMessage wraps the encoded request b, which must not change after.
func NewMessage(b []byte) *Message {
	return &Message{bs: mem.BufferSlice{mem.SliceBuffer(b)}}
}

// rawCodec is the call option every call carries, made once: a call
// option built per call is two allocations.
var rawCodec = []grpc.CallOption{grpc.ForceCodecV2(raw{})}

// raw is a codec for messages already encoded: requests are encoded once
// per distinct message, responses are decoded only when something reads
// them. It is a CodecV2 so that gRPC's buffers reach it as they are: the
// request without a copy, the response copied once into the caller's
// reused slice. Its name is "proto" so that the content type is the usual
// application/grpc+proto.
type raw struct{}

func (raw) Marshal(v any) (mem.BufferSlice, error) {
	switch b := v.(type) {
	case *Message:
		return b.bs, nil
	case *[]byte:
		return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
	}
	return nil, fmt.Errorf("grpccall: cannot send %T", v)
}

func (raw) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpccall: cannot receive into %T", v)
	}
	*b = (*b)[:0]
	for _, buf := range data {
		*b = append(*b, buf.ReadOnlyData()...)
	}
	return nil
}

func (raw) Name() string { return "proto" }

var errNoService = errors.New("no such service")

// protoErrText is err's text with a plain space where the protobuf module
// puts a no-break space in some builds (on purpose, per binary), so that
// a message reads the same from every fuka.
func protoErrText(err error) string { return strings.ReplaceAll(err.Error(), "\u00a0", " ") }

// frame is gRPC's length-prefixed message header: a compressed flag and
// four bytes of length, counted in the bytes a call sends and receives.
const frame = 5
