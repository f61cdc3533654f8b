package scenario

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/plan"
)

// FuzzGRPCMessage renders a grpc: step's templated message with any value
// and encodes it for the method: nothing panics, and a value that is
// valid UTF-8 arrives in the string field exactly as given (the JSON
// escaping of what templates render is right), where quantity, a number
// field, takes it only when it is a number.
func FuzzGRPCMessage(f *testing.F) {
	for _, seed := range []string{"tea", "", `"`, `\`, "a\"b\\c\n\t", "\u2028", "😀", "{{ x }}", "}", "0", "-7", "1e3", "\x00", "\xff"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cart.proto"), []byte(demo.CartProto), 0o644); err != nil {
		f.Fatal(err)
	}
	p, err := plan.Parse(filepath.Join(dir, "p.yaml"), []byte(`
protos: [cart.proto]
vars: { v: "" }
scenarios:
  s:
    steps:
      - grpc: { target: "grpc://127.0.0.1:1", service: fuka.demo.Cart, method: Add, message: { item: "<{{ v }}>", quantity: 2 } }
      - grpc: { target: "grpc://127.0.0.1:1", service: fuka.demo.Cart, method: Add, message: { item: x, quantity: "{{ v }}" } }
load: { clients: 1, iterations: 1 }
`))
	if err != nil {
		f.Fatal(err)
	}
	prog, err := Compile(p, func(string) (string, bool) { return "", false })
	if err != nil {
		f.Fatal(err)
	}
	steps := prog.scenarios[0].steps
	slot, _ := prog.names.Slot("v")
	m := steps[0].grpc.m
	item := m.Desc.Input().Fields().ByName("item")
	f.Fuzz(func(t *testing.T, v string) {
		st := prog.newState(1)
		st.Vals[slot] = v
		wire, err := m.Encode(steps[0].json.render(nil, st))
		if !utf8.ValidString(v) {
			return // protojson refuses invalid UTF-8 in a string field; that is an invalid request, not sent
		}
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		msg := dynamicpb.NewMessage(m.Desc.Input())
		if err := proto.Unmarshal(wire, msg); err != nil {
			t.Fatal(err)
		}
		if got := msg.Get(item).String(); got != "<"+v+">" {
			t.Fatalf("item %q, want %q", got, "<"+v+">")
		}
		// The number field: an error or a number, never a panic.
		if wire, err := m.Encode(steps[1].json.render(nil, st)); err == nil {
			_ = proto.Unmarshal(wire, dynamicpb.NewMessage(m.Desc.Input()))
		}
	})
}
