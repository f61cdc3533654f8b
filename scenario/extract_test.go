package scenario

import (
	"net/http"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/tmpl"
)

func TestJSONPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"token", "token"},
		{"$.token", "token"},
		{"data.items.0.id", "data.items.0.id"},
		{"$.data.items.0.id", "data.items.0.id"},
		{"$.items[0].id", "items.0.id"},
		{"items[0].id", "items.0.id"},
		{"$.items[12]", "items.12"},
		{"$[0].id", "0.id"},
		{"$[0][1]", "0.1"},
		{"$", "@this"},
		{"$.items[*].id", "items.#.id"},
		{"$['a.b'].c", `a\.b.c`},
		{`$["x y"]`, "x y"},
		{"$.a['*']", `a.\*`},
		{"items.#", "items.#"},
		{`friends.#(last=="Murphy").first`, `friends.#(last=="Murphy").first`},
		{`$.friends.#(age>45)#.last`, `friends.#(age>45)#.last`},
		{"items|@reverse", "items|@reverse"},
		{"[name,age]", "[name,age]"},
		{"{name,age}", "{name,age}"},
		{`a\.b`, `a\.b`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := jsonPath(tt.in)
			if err != nil {
				t.Fatalf("jsonPath(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("jsonPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestJSONPathErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty JSON path"},
		{"$..id", `JSON path "$..id": recursive descent (..) is not supported`},
		{"$.a..id", `JSON path "$.a..id": recursive descent (..) is not supported`},
		{"$token", `JSON path "$token": expected "." or "[" after "$"`},
		{"$.", `JSON path "$.": no key after "$."`},
		{"a..b", `JSON path "a..b": empty key`},
		{"a.", `JSON path "a.": empty key`},
		{"$.items[0", `JSON path "$.items[0": missing "]"`},
		{"$.items[-1]", `JSON path "$.items[-1]": unsupported index [-1] (use a number, * or a quoted key)`},
		{"$.items[]", `JSON path "$.items[]": unsupported index [] (use a number, * or a quoted key)`},
		{"$.items[?(@.id==1)]", `JSON path "$.items[?(@.id==1)]": filter expressions are not supported; use a gjson query such as items.#(id==3)`},
		{"$.items[0]x", `JSON path "$.items[0]x": expected "." or "[" after "]"`},
		{"$.items.[0]", `JSON path "$.items.[0]": empty key`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := jsonPath(tt.in)
			if err == nil {
				t.Fatalf("jsonPath(%q) = %q, want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("jsonPath(%q) error = %q, want %q", tt.in, err, tt.want)
			}
		})
	}
}

// FuzzJSONPath checks that no path makes jsonPath or gjson panic.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{"token", "$.items[0].id", "$['a.b']", "$..x", "items[*]", "a.#(b==1)", "$[", "$.a[?(x)]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, err := jsonPath(path)
		if err != nil {
			return
		}
		gjson.Get(testBody, p)
	})
}

const testBody = `{
  "token": "abc.def",
  "escaped": "line\nbreak \"q\"",
  "n": 42, "f": 1.50, "ok": true, "nothing": null,
  "user": {"id": 7, "name": "Ann"},
  "items": [{"id": 1, "tags": ["a","b"]}, {"id": 2}],
  "a.b": {"c": "dotted"}
}`

func testResponse() *Response {
	return &Response{
		Status: 201,
		Header: http.Header{
			"Content-Type":  {"application/json"},
			"X-Request-Id":  {"req-1", "req-2"},
			"x-lowercase":   {"raw map key"},
			"X-Empty-Value": {""},
		},
		Body:    []byte(testBody),
		Latency: 120e6,
		Cookies: []*http.Cookie{
			{Name: "session", Value: "s1"},
			{Name: "theme", Value: "dark"},
			{Name: "session", Value: "s2"},
		},
	}
}

func TestExtract(t *testing.T) {
	html := &Response{Body: []byte(`<a href="/orders/981">order</a> csrf=tok-55;`)}
	tests := []struct {
		name  string
		from  plan.ExtractFrom
		expr  string
		r     *Response
		want  string
		found bool
	}{
		{"json string", plan.FromJSON, "token", nil, "abc.def", true},
		{"json $ path", plan.FromJSON, "$.token", nil, "abc.def", true},
		{"json escaped string", plan.FromJSON, "escaped", nil, "line\nbreak \"q\"", true},
		{"json number", plan.FromJSON, "$.n", nil, "42", true},
		{"json number kept as written", plan.FromJSON, "f", nil, "1.50", true},
		{"json bool", plan.FromJSON, "ok", nil, "true", true},
		{"json null", plan.FromJSON, "nothing", nil, "null", true},
		{"json object", plan.FromJSON, "user", nil, `{"id": 7, "name": "Ann"}`, true},
		{"json array index", plan.FromJSON, "$.items[1].id", nil, "2", true},
		{"json dotted index", plan.FromJSON, "items.0.tags.1", nil, "b", true},
		{"json all ids", plan.FromJSON, "$.items[*].id", nil, "[1,2]", true},
		{"json quoted key", plan.FromJSON, "$['a.b'].c", nil, "dotted", true},
		{"json query", plan.FromJSON, "items.#(id==2).id", nil, "2", true},
		{"json missing", plan.FromJSON, "$.user.email", nil, "", false},
		{"json out of range", plan.FromJSON, "$.items[5]", nil, "", false},
		{"json not json", plan.FromJSON, "token", html, "", false},
		{"regex group", plan.FromRegex, `/orders/(\d+)`, html, "981", true},
		{"regex whole match", plan.FromRegex, `csrf=[a-z0-9-]+`, html, "csrf=tok-55", true},
		{"regex first group only", plan.FromRegex, `csrf=([a-z]+)-(\d+)`, html, "tok", true},
		{"regex unset group", plan.FromRegex, `(nope)?order`, html, "", false},
		{"regex no match", plan.FromRegex, `/users/(\d+)`, html, "", false},
		{"header", plan.FromHeader, "Content-Type", nil, "application/json", true},
		{"header any case", plan.FromHeader, "x-request-id", nil, "req-1", true},
		{"header non-canonical map key", plan.FromHeader, "X-Lowercase", nil, "raw map key", true},
		{"header empty value", plan.FromHeader, "X-Empty-Value", nil, "", true},
		{"header missing", plan.FromHeader, "X-Nope", nil, "", false},
		{"cookie", plan.FromCookie, "theme", nil, "dark", true},
		{"cookie set twice: last wins", plan.FromCookie, "session", nil, "s2", true},
		{"cookie names are case-sensitive", plan.FromCookie, "Theme", nil, "", false},
		{"cookie missing", plan.FromCookie, "nope", nil, "", false},
		{"cookie none set", plan.FromCookie, "theme", html, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := tmpl.NewNames()
			names.Add("other")
			x, err := CompileExtract(plan.Extract{Var: "v", From: tt.from, Expr: tt.expr}, names)
			if err != nil {
				t.Fatalf("CompileExtract: %v", err)
			}
			if s, ok := names.Slot("v"); !ok || s != x.Slot || s != 1 {
				t.Fatalf("slot %d, names say %d %v", x.Slot, s, ok)
			}
			st := tmpl.NewState(names, 1)
			st.Vals[x.Slot] = "old"
			r := tt.r
			if r == nil {
				r = testResponse()
			}
			found := x.Apply(r, st)
			want := tt.want
			if !tt.found {
				want = "old" // a miss keeps the old value
			}
			if found != tt.found || st.Vals[x.Slot] != want {
				t.Errorf("Apply = %v, value %q; want %v, %q", found, st.Vals[x.Slot], tt.found, want)
			}
		})
	}
}

// The runner reuses its body buffer: extracted values must not alias it.
func TestExtractCopiesValue(t *testing.T) {
	for _, e := range []plan.Extract{
		{Var: "v", From: plan.FromJSON, Expr: "token"},
		{Var: "v", From: plan.FromJSON, Expr: "user"},
		{Var: "v", From: plan.FromRegex, Expr: `"token": "([^"]+)"`},
	} {
		names := tmpl.NewNames()
		x, err := CompileExtract(e, names)
		if err != nil {
			t.Fatal(err)
		}
		st := tmpl.NewState(names, 1)
		r := testResponse()
		if !x.Apply(r, st) {
			t.Fatalf("%s: not found", e.Expr)
		}
		before := st.Vals[x.Slot]
		for i := range r.Body {
			r.Body[i] = 'X'
		}
		if st.Vals[x.Slot] != before {
			t.Errorf("%s: value changed with the body: %q", e.Expr, st.Vals[x.Slot])
		}
	}
}

func TestCompileExtractErrors(t *testing.T) {
	tests := []struct {
		name string
		e    plan.Extract
		want string
	}{
		{"no variable", plan.Extract{From: plan.FromJSON, Expr: "token"}, "no variable name"},
		{"empty json path", plan.Extract{Var: "v", From: plan.FromJSON}, "empty JSON path"},
		{"bad json path", plan.Extract{Var: "v", From: plan.FromJSON, Expr: "$..id"}, `JSON path "$..id": recursive descent (..) is not supported`},
		{"empty regex", plan.Extract{Var: "v", From: plan.FromRegex}, "empty regex"},
		{"bad regex", plan.Extract{Var: "v", From: plan.FromRegex, Expr: "id=(\\d+"}, "bad regex: error parsing regexp: missing closing ): `id=(\\d+`"},
		{"empty header", plan.Extract{Var: "v", From: plan.FromHeader}, "empty header name"},
		{"empty cookie", plan.Extract{Var: "v", From: plan.FromCookie}, "empty cookie name"},
		{"unknown source", plan.Extract{Var: "v", From: 99, Expr: "x"}, "unknown extraction source 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := tmpl.NewNames()
			_, err := CompileExtract(tt.e, names)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if names.Len() != 0 {
				t.Errorf("a failed extraction added %d names", names.Len())
			}
		})
	}
}

func TestCompileExtractReusesSlot(t *testing.T) {
	names := tmpl.NewNames()
	a, _ := CompileExtract(plan.Extract{Var: "token", From: plan.FromJSON, Expr: "token"}, names)
	b, _ := CompileExtract(plan.Extract{Var: "token", From: plan.FromHeader, Expr: "X-Token"}, names)
	if a.Slot != b.Slot || names.Len() != 1 {
		t.Errorf("slots %d and %d for one variable, %d names", a.Slot, b.Slot, names.Len())
	}
}

func BenchmarkExtractJSON(b *testing.B) {
	names := tmpl.NewNames()
	x, err := CompileExtract(plan.Extract{Var: "id", From: plan.FromJSON, Expr: "$.items[1].id"}, names)
	if err != nil {
		b.Fatal(err)
	}
	st := tmpl.NewState(names, 1)
	r := &Response{Body: []byte(testBody)}
	b.ReportAllocs()
	for b.Loop() {
		x.Apply(r, st)
	}
}
