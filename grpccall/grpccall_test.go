package grpccall_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/metrics"
)

func startDemo(t testing.TB) *demo.GRPCServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func resolve(t testing.TB, s *demo.GRPCServer, call string) (*grpccall.Method, error) {
	t.Helper()
	target, err := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpccall.Dial(target)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return grpccall.Reflect(ctx, cc, call)
}

func TestReflect(t *testing.T) {
	s := startDemo(t)
	for _, tc := range []struct {
		name, call, want string // want: "" for success, else part of the error
	}{
		{"slash", "fuka.demo.Cart/Add", ""},
		{"dot", "fuka.demo.Cart.Flaky", ""},
		{"unknown service lists the server's", "fuka.demo.Kart/Add", "the server has fuka.demo.Cart"},
		{"unknown method lists the service's", "fuka.demo.Cart/Remove", "it has Add, Flaky"},
		{"malformed", "Add", "want pkg.Service/Method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := resolve(t, s, tc.call)
			if tc.want == "" {
				if err != nil || !m.Unary() || !strings.HasPrefix(m.Path, "/fuka.demo.Cart/") {
					t.Fatalf("got %v, %v", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestReflectVersions: servers that offer reflection only under its older
// name (grpc.reflection.v1alpha) resolve as v1 servers do; a server with
// neither says so and names the way out.
func TestReflectVersions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  demo.GRPCOption
		want string // "" for success
	}{
		{"v1alpha only", demo.ReflectionV1Alpha, ""},
		{"none", demo.NoReflection, "neither grpc.reflection.v1 nor v1alpha); give the schema in .proto files: --proto FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := demo.StartGRPC(ctx, "127.0.0.1:0", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			m, err := resolve(t, s, "fuka.demo.Cart/Watch")
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil || m.Path != "/fuka.demo.Cart/Watch" || !m.Desc.IsStreamingServer() {
				t.Fatalf("%v, %v", m, err)
			}
			// An unknown service lists the server's over v1alpha too.
			if _, err := resolve(t, s, "fuka.demo.Kart/Add"); err == nil || !strings.Contains(err.Error(), "the server has fuka.demo.Cart") {
				t.Fatalf("unknown service: %v", err)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	s := startDemo(t)
	m, err := resolve(t, s, "fuka.demo.Cart/Add")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"fields", `{"item":"x","quantity":3}`, ""},
		{"empty is the empty message", ``, ""},
		{"unknown field", `{"itme":"x"}`, `unknown field "itme"`},
		{"wrong type", `{"quantity":"many"}`, "quantity"},
		{"not json", `{item`, "message for /fuka.demo.Cart/Add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Encode([]byte(tc.json))
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestQuickCounts runs the quick-mode work against the demo's service and
// checks fuka's counts against the server's own: every call answered is
// counted once, OK as 200 and Unavailable as 503.
func TestQuickCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		call     string
		requests int64
		bad      int64 // the server's Unavailable answers
	}{
		{"Add", "fuka.demo.Cart/Add", 300, 0},
		{"Flaky fails every 10th", "fuka.demo.Cart/Flaky", 300, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startDemo(t)
			m, err := resolve(t, s, tc.call)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := m.Encode([]byte(`{"item":"tea","quantity":2}`))
			if err != nil {
				t.Fatal(err)
			}
			target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
			q := &grpccall.Quick{Target: target, Method: m, Request: msg, Timeout: 5 * time.Second, Name: tc.call, Slots: 8,
				MD: metadata.Pairs("x-tenant", "t1")}
			res, err := engine.Run(context.Background(), engine.Config{
				Load: engine.Closed{Clients: 8, Requests: tc.requests},
				Work: engine.Plan{Scenario: q},
			})
			if err != nil {
				t.Fatal(err)
			}
			st := res.Run.Total
			if st.Requests != tc.requests || st.Status[200] != s.Calls(codes.OK) || st.Status[503] != s.Calls(codes.Unavailable) ||
				st.Status[503] != tc.bad || st.Failed != tc.bad {
				t.Fatalf("fuka: %d calls, %d 200, %d 503, %d failed; server: %d OK, %d Unavailable",
					st.Requests, st.Status[200], st.Status[503], st.Failed, s.Calls(codes.OK), s.Calls(codes.Unavailable))
			}
			if st.BytesOut != tc.requests*int64(5+len(msg)) || st.BytesIn <= tc.requests-tc.bad {
				t.Fatalf("bytes out %d, in %d", st.BytesOut, st.BytesIn)
			}
		})
	}
}

// TestQuickInvalid: a message the server refuses (item "") is counted as
// InvalidArgument's status, 400, on every call.
func TestQuickInvalid(t *testing.T) {
	s := startDemo(t)
	m, err := resolve(t, s, "fuka.demo.Cart/Add")
	if err != nil {
		t.Fatal(err)
	}
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Timeout: 5 * time.Second, Name: "add", Slots: 2}
	res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: 2, Requests: 20}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Run.Total; st.Status[400] != 20 || s.Calls(codes.InvalidArgument) != 20 || st.Failed != 20 {
		t.Fatalf("400: %d, failed %d; server InvalidArgument: %d", st.Status[400], st.Failed, s.Calls(codes.InvalidArgument))
	}
}

// TestQuickRefused: no server, every call is a refused connection, not a
// status.
func TestQuickRefused(t *testing.T) {
	s := startDemo(t)
	m, err := resolve(t, s, "fuka.demo.Cart/Add")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Timeout: 2 * time.Second, Name: "add", Slots: 1}
	res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: 1, Requests: 3}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Run.Total; st.Errors[metrics.ErrRefused] != 3 {
		t.Fatalf("errors %v, want 3 refused", st.Errors)
	}
}

func TestStatusDistinct(t *testing.T) {
	seen := map[int]codes.Code{}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		s := grpccall.Status(c)
		if prev, dup := seen[s]; dup {
			t.Fatalf("%v and %v both count as %d", prev, c, s)
		}
		seen[s] = c
		if (c == codes.OK) != (s < 400) || s < 100 || s >= metrics.MaxStatus {
			t.Fatalf("%v counts as %d", c, s)
		}
		if back, ok := grpccall.Code(s); !ok || back != c {
			t.Fatalf("Code(%d) = %v, want %v", s, back, c)
		}
	}
	if grpccall.Status(codes.Unavailable) != 503 || grpccall.Status(99) != grpccall.Status(codes.Unknown) {
		t.Fatal("Unavailable is 503; an unknown code counts as Unknown")
	}
}

// pastDue is a context whose deadline has passed but which is not done:
// the moment before its timer fires.
type pastDue struct{}

func (pastDue) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }
func (pastDue) Done() <-chan struct{}       { return nil }
func (pastDue) Err() error                  { return nil }
func (pastDue) Value(any) any               { return nil }

func TestClassify(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	live := context.Background()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		kind   metrics.ErrorKind
	}{
		{"ok", live, nil, 200, metrics.ErrNone},
		{"server's unavailable", live, status.Error(codes.Unavailable, "overloaded"), 503, metrics.ErrNone},
		{"refused", live, status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\""), 0, metrics.ErrRefused},
		{"our deadline", expired, status.Error(codes.DeadlineExceeded, "context deadline exceeded"), 0, metrics.ErrTimeout},
		{"server's deadline", live, status.Error(codes.DeadlineExceeded, "upstream"), 504, metrics.ErrNone},
		// grpc-go turns the server's reset at its copy of our deadline
		// into DeadlineExceeded once the deadline is past, maybe before
		// the context's timer has made it done.
		{"our deadline, context not done yet", pastDue{}, status.Error(codes.DeadlineExceeded, "stream terminated by RST_STREAM with error code: CANCEL"), 0, metrics.ErrTimeout},
		{"not a status", live, errors.New("boom"), 0, metrics.ErrOther},
		{"internal", live, status.Error(codes.Internal, "x"), 500, metrics.ErrNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, k := grpccall.Classify(tc.ctx, tc.err)
			if s != tc.status || k != tc.kind {
				t.Fatalf("got %d %v, want %d %v", s, k, tc.status, tc.kind)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		tls       bool
	}{
		{"grpc://127.0.0.1:9090", "", false},
		{"grpcs://example.test:443", "", true},
		{"grpc://127.0.0.1", "no default port", false},
		{"grpc://127.0.0.1:9090/shop.Cart/Add", "host:port only", false},
		{"http://127.0.0.1:9090", "want grpc://", false},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			tg, err := grpccall.ParseTarget(tc.raw, nil)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil || (tg.TLS != nil) != tc.tls {
				t.Fatalf("%+v %v", tg, err)
			}
		})
	}
}

func TestSplitMethod(t *testing.T) {
	for _, tc := range []struct{ in, svc, m string }{
		{"shop.Cart/Add", "shop.Cart", "Add"},
		{"/shop.Cart/Add", "shop.Cart", "Add"},
		{"shop.Cart.Add", "shop.Cart", "Add"},
		{"Cart/Add", "Cart", "Add"},
		{"shop.Cart/", "", ""},
		{"shop..Cart/Add", "", ""},
		{"Add", "", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, m, err := grpccall.SplitMethod(tc.in)
			if s != tc.svc || m != tc.m || (err == nil) != (tc.svc != "") {
				t.Fatalf("got %q %q %v", s, m, err)
			}
		})
	}
}

// FuzzEncode: any JSON either is refused with an error or encodes to a
// message that decodes back to the same JSON form; nothing panics.
func FuzzEncode(f *testing.F) {
	for _, seed := range []string{`{"item":"x","quantity":3}`, ``, `{}`, `{"quantity":"7"}`, `{"item":"\u00e9\ud83d\ude00"}`,
		`{"quantity":2147483648}`, `{"item":null}`, `[1]`, `{"item":"a","item":"b"}`, "{\"item\":\"\xff\"}"} {
		f.Add(seed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	cc, _ := grpccall.Dial(target)
	defer cc.Close()
	m, err := grpccall.Reflect(ctx, cc, "fuka.demo.Cart/Add")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		wire, err := m.Encode([]byte(in))
		if err != nil {
			return
		}
		// The request type's JSON form, read as the response's (the two
		// share item and quantity): what checks would see.
		js, err := m.DecodeJSON(wire)
		if err != nil {
			t.Fatalf("%q encoded to %x, which does not decode: %v", in, wire, err)
		}
		var fields map[string]any
		if err := json.Unmarshal(js, &fields); err != nil {
			t.Fatal(err)
		}
		delete(fields, "total") // AddReply's own field
		back, _ := json.Marshal(fields)
		again, err := m.Encode(back)
		if err != nil {
			t.Fatalf("%s (from %q) does not encode: %v", js, in, err)
		}
		if fmt.Sprint(again) != fmt.Sprint(wire) {
			t.Fatalf("%q: %x, then %x", in, wire, again)
		}
	})
}

// TestQuickStream: a server-streaming call is one request whose answers
// are all read: the bytes in are every answer's, and the call is counted
// once, as the server counts it.
func TestQuickStream(t *testing.T) {
	s := startDemo(t)
	m, err := resolve(t, s, "fuka.demo.Cart/Watch")
	if err != nil {
		t.Fatal(err)
	}
	if m.Unary() || !m.Callable() {
		t.Fatal("Watch is server-streaming")
	}
	msg, _ := m.Encode([]byte(`{"item":"tea","quantity":3}`))
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, Timeout: 5 * time.Second, Name: "watch", Slots: 1}
	res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: 1, Requests: 30}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	// 90 answers {item: "tea", quantity: 1, total: 1..90}: 9 bytes each,
	// and the 5-byte frame header.
	if st := res.Run.Total; st.Requests != 30 || s.Calls(codes.OK) != 30 || st.Status[200] != 30 || st.BytesIn != 90*14 {
		t.Fatalf("calls %d, 200: %d, bytes in %d; server OK %d", st.Requests, st.Status[200], st.BytesIn, s.Calls(codes.OK))
	}
}

// TestCompileProtos: the schema from .proto files, as quick mode's --proto
// reads them: imports resolve through the import paths (or the file's own
// directory), errors are at their place in the file as the user named it,
// and a method found there calls a server without reflection, counted as
// the server counts.
func TestCompileProtos(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cart := write("cart.proto", demo.CartProto)
	// The same service split in two files, one importing the other by
	// its path under the import path protos/.
	write("protos/shop/msgs.proto", "syntax = \"proto3\";\npackage fuka.demo;\nmessage AddRequest { string item = 1; int32 quantity = 2; }\nmessage AddReply { string item = 1; int32 quantity = 2; int64 total = 3; }\n")
	svc := write("protos/shop/svc.proto", "syntax = \"proto3\";\npackage fuka.demo;\nimport \"shop/msgs.proto\";\nimport \"google/protobuf/empty.proto\";\nservice Cart {\n  rpc Add(AddRequest) returns (AddReply);\n  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);\n}\n")
	bad := write("bad.proto", "syntax = \"proto3\";\nmessage A { string x = 1 }\n")
	for _, tc := range []struct {
		name    string
		files   []string
		imports []string
		call    string
		want    string // "" for success, else part of the error
	}{
		{"one file", []string{cart}, nil, "fuka.demo.Cart/Add", ""},
		{"import path", []string{svc}, []string{filepath.Join(dir, "protos")}, "fuka.demo.Cart/Add", ""},
		{"well-known types", []string{svc}, []string{filepath.Join(dir, "protos")}, "fuka.demo.Cart/Ping", ""},
		{"import not on the path", []string{svc}, nil, "fuka.demo.Cart/Add", svc + ":3:8: open "},
		{"syntax error at its place", []string{bad}, nil, "A/B", bad + ":2:26: syntax error"},
		{"unknown service names the files", []string{cart}, nil, "fuka.demo.Kart/Add", "service fuka.demo.Kart is not in " + cart + " (they have fuka.demo.Cart)"},
		{"unknown method", []string{cart}, nil, "fuka.demo.Cart/Remove", "it has Add, Flaky, Watch"},
		{"no such file", []string{filepath.Join(dir, "nope.proto")}, nil, "a.B/C", "nope.proto: no such file"},
		{"import path not a directory", []string{cart}, []string{cart}, "a.B/C", "--import-path " + cart + ": not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := grpccall.CompileProtos(context.Background(), tc.files, tc.imports)
			var m *grpccall.Method
			if err == nil {
				m, err = p.Method(tc.call)
			}
			if tc.want == "" {
				if err != nil || m.Path != "/"+tc.call {
					t.Fatalf("%v, %v", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0", demo.NoReflection)
	if err != nil {
		t.Fatal(err)
	}
	p, err := grpccall.CompileProtos(ctx, []string{svc}, []string{filepath.Join(dir, "protos")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Method("fuka.demo.Cart/Add")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := m.Encode([]byte(`{"item":"tea"}`))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, Timeout: 5 * time.Second, Name: "add", Slots: 2}
	res, err := engine.Run(ctx, engine.Config{Load: engine.Closed{Clients: 2, Requests: 50}, Work: engine.Plan{Scenario: q}})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Run.Total; st.Requests != 50 || st.Status[200] != 50 || s.Calls(codes.OK) != 50 {
		t.Fatalf("fuka: %d calls, %d OK; server %d OK", st.Requests, st.Status[200], s.Calls(codes.OK))
	}
}
