package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// TestGRPCMessageTemplates: with protos:, a grpc: step's message is checked
// before the run even where it holds templates, each standing for what
// its field takes (a number's decimal form, an enum's name, any string):
// messages that can be sent parse, and one that can never be sent (an
// unknown field beside a template, a template where the field takes no
// string) is an error at the message.
func TestGRPCMessageTemplates(t *testing.T) {
	proto, err := os.ReadFile(filepath.Join("testdata", "bad", "order.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, message, err string
	}{
		{"every kind a template fits", `{ id: "{{ who }}", total_cents: "{{ n }}", size: "{{ who }}", line: { sku: "{{ who }}", count: "{{ n }}" },
			tags: ["{{ who }}", b], stock: { a: "{{ n }}" }, lines: [{ sku: "s-{{ who }}", count: 2 }], gift: true }`, ""},
		{"a well-known type's value", `{ id: x, at: "{{ who }}" }`, ""},
		{"a templated key is left to the run", `{ id: x, "{{ who }}": 1, stock: { "{{ who }}": 2 } }`, ""},
		{"a proto name", `{ total_cents: "{{ n }}", line: { sku: x } }`, ""},
		{"one field by both its names", `{ totalCents: "{{ n }}", total_cents: 1 }`, `proto: duplicate field "total_cents"`},
		{"an unknown field beside a template", `{ id: "{{ who }}", idd: x }`, `proto: unknown field "idd"`},
		{"a literal of the wrong type beside a template", `{ id: "{{ who }}", total_cents: ten }`, `invalid value for int64 field totalCents: "ten"`},
		{"a template in a bool", `{ gift: "{{ who }}" }`, "field gift is a bool (true or false); a template renders a string"},
		{"a template for a message", `{ line: "{{ who }}" }`, "field line is a message (shop.Line); a template renders a string: give its fields"},
		{"a template for a map", `{ stock: "{{ who }}" }`, "field stock is a list or map; a template renders one string"},
		{"deep unknown field", `{ lines: [{ sku: "{{ who }}", cnt: 1 }] }`, `proto: unknown field "cnt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "order.proto"), proto, 0o644); err != nil {
				t.Fatal(err)
			}
			src := "protos: [order.proto]\nvars: { n: \"3\", who: x }\nscenarios:\n  s:\n    steps:\n" +
				"      - grpc: { target: grpc://127.0.0.1:1, service: shop.Orders, method: Place,\n          message: " + tc.message + " }\n" +
				"load: { clients: 1, iterations: 1 }\n"
			path := filepath.Join(dir, "p.yaml")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := plan.ParseFile(path)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "p.yaml:7:20: grpc message for shop.Orders.Place (shop.Order): ")):
				t.Fatalf("got %v; want p.yaml:7:20 and %q", err, tc.err)
			}
		})
	}
}
