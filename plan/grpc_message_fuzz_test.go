package plan

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/fuka-load/fuka/internal/protoc"
)

// FuzzCheckGRPCMessage: any message document is judged without a panic,
// and one without templates is accepted exactly when protojson takes it
// (the probe changes nothing there).
func FuzzCheckGRPCMessage(f *testing.F) {
	files, errs, err := protoc.Compile(context.Background(), []string{"order.proto"}, []string{"testdata/bad"})
	if err != nil || len(errs) > 0 {
		f.Fatal(err, errs)
	}
	in := files[0].Services().ByName("Orders").Methods().ByName("Place").Input()
	for _, seed := range []string{`{"id":"{{ who }}","totalCents":"{{ n }}"}`, `{"line":{"sku":"{{ x }}","count":"{{ n }}"}}`,
		`{"tags":["{{ a }}",1]}`, `{"stock":{"{{ k }}":"{{ v }}"}}`, `{"at":"{{ t }}"}`, `{"gift":"{{ b }}"}`, `{"size":"{{ s }}"}`,
		`{"lines":[{"sku":"{{ s }}"},{"cnt":1}]}`, `{"{{ k }}":1}`, `[]`, `"{{ x }}"`, `{`, `{"id":1}`, `{"total_cents":1,"totalCents":2}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		err := CheckGRPCMessage(doc, in)
		if strings.Contains(doc, "{{") {
			return
		}
		if want := protojson.Unmarshal([]byte(doc), dynamicpb.NewMessage(in)); (err == nil) != (want == nil) {
			t.Fatalf("%q: %v; protojson says %v", doc, err, want)
		}
	})
}
