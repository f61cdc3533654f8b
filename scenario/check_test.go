package scenario

import (
	"net/http"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/fuka-load/fuka/plan"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		check plan.Check
		pass  bool
	}{
		{"status one", plan.Check{Kind: plan.CheckStatus, Statuses: []int{201}}, true},
		{"status one, other", plan.Check{Kind: plan.CheckStatus, Statuses: []int{200}}, false},
		{"status list", plan.Check{Kind: plan.CheckStatus, Statuses: []int{200, 201, 204}}, true},
		{"status list, none", plan.Check{Kind: plan.CheckStatus, Statuses: []int{200, 204}}, false},
		{"body contains", plan.Check{Kind: plan.CheckBodyContains, Expr: `"name": "Ann"`}, true},
		{"body contains, no", plan.Check{Kind: plan.CheckBodyContains, Expr: "Bob"}, false},
		{"body contains is case-sensitive", plan.Check{Kind: plan.CheckBodyContains, Expr: "ANN"}, false},
		{"body regex", plan.Check{Kind: plan.CheckBodyRegex, Expr: `"id":\s*\d+`}, true},
		{"body regex flags", plan.Check{Kind: plan.CheckBodyRegex, Expr: `(?i)ANN`}, true},
		{"body regex, no", plan.Check{Kind: plan.CheckBodyRegex, Expr: `^\[`}, false},
		{"json equals string", plan.Check{Kind: plan.CheckJSONEquals, Expr: "$.user.name", Value: `"Ann"`}, true},
		{"json equals bare string", plan.Check{Kind: plan.CheckJSONEquals, Expr: "user.name", Value: "Ann"}, true},
		{"json equals string, other", plan.Check{Kind: plan.CheckJSONEquals, Expr: "user.name", Value: `"Bob"`}, false},
		{"json equals escaped string", plan.Check{Kind: plan.CheckJSONEquals, Expr: "escaped", Value: `"line\nbreak \"q\""`}, true},
		{"json equals integer", plan.Check{Kind: plan.CheckJSONEquals, Expr: "n", Value: "42"}, true},
		{"json equals 1.5 as 1.50", plan.Check{Kind: plan.CheckJSONEquals, Expr: "f", Value: "1.5"}, true},
		{"json equals 42 as 42.0", plan.Check{Kind: plan.CheckJSONEquals, Expr: "n", Value: "42.0"}, true},
		{"json equals 42 as 4.2e1", plan.Check{Kind: plan.CheckJSONEquals, Expr: "n", Value: "4.2e1"}, true},
		{"json equals number, other", plan.Check{Kind: plan.CheckJSONEquals, Expr: "n", Value: "43"}, false},
		{"json number is not a string", plan.Check{Kind: plan.CheckJSONEquals, Expr: "n", Value: `"42"`}, false},
		{"json equals bool", plan.Check{Kind: plan.CheckJSONEquals, Expr: "ok", Value: "true"}, true},
		{"json equals bool, other", plan.Check{Kind: plan.CheckJSONEquals, Expr: "ok", Value: "false"}, false},
		{"json equals null", plan.Check{Kind: plan.CheckJSONEquals, Expr: "nothing", Value: "null"}, true},
		{"json missing is not null", plan.Check{Kind: plan.CheckJSONEquals, Expr: "missing", Value: "null"}, false},
		{"json equals object, any key order", plan.Check{Kind: plan.CheckJSONEquals, Expr: "user", Value: `{"name":"Ann","id":7.0}`}, true},
		{"json equals object, extra key", plan.Check{Kind: plan.CheckJSONEquals, Expr: "user", Value: `{"name":"Ann","id":7,"x":1}`}, false},
		{"json equals object, other value", plan.Check{Kind: plan.CheckJSONEquals, Expr: "user", Value: `{"name":"Ann","id":8}`}, false},
		{"json equals array", plan.Check{Kind: plan.CheckJSONEquals, Expr: "items.0.tags", Value: ` [ "a", "b" ] `}, true},
		{"json equals array, order matters", plan.Check{Kind: plan.CheckJSONEquals, Expr: "items.0.tags", Value: `["b","a"]`}, false},
		{"json equals array, shorter", plan.Check{Kind: plan.CheckJSONEquals, Expr: "items.0.tags", Value: `["a"]`}, false},
		{"json equals nested", plan.Check{Kind: plan.CheckJSONEquals, Expr: "$.items[*].id", Value: "[1, 2.0]"}, true},
		{"json array is not object", plan.Check{Kind: plan.CheckJSONEquals, Expr: "items.0.tags", Value: `{}`}, false},
		{"json exists", plan.Check{Kind: plan.CheckJSONExists, Expr: "$.items[1].id"}, true},
		{"json exists, null", plan.Check{Kind: plan.CheckJSONExists, Expr: "nothing"}, true},
		{"json exists, no", plan.Check{Kind: plan.CheckJSONExists, Expr: "$.items[2]"}, false},
		{"max latency", plan.Check{Kind: plan.CheckMaxLatency, Latency: 500 * time.Millisecond}, true},
		{"max latency, equal", plan.Check{Kind: plan.CheckMaxLatency, Latency: 120 * time.Millisecond}, true},
		{"max latency, slower", plan.Check{Kind: plan.CheckMaxLatency, Latency: 100 * time.Millisecond}, false},
		{"header equals", plan.Check{Kind: plan.CheckHeader, Expr: "content-type", Value: "application/json"}, true},
		{"header equals any value", plan.Check{Kind: plan.CheckHeader, Expr: "X-Request-Id", Value: "req-2"}, true},
		{"header equals, other", plan.Check{Kind: plan.CheckHeader, Expr: "Content-Type", Value: "text/html"}, false},
		{"header value is case-sensitive", plan.Check{Kind: plan.CheckHeader, Expr: "Content-Type", Value: "Application/JSON"}, false},
		{"header exists", plan.Check{Kind: plan.CheckHeader, Expr: "x-request-id"}, true},
		{"header exists, empty value", plan.Check{Kind: plan.CheckHeader, Expr: "X-Empty-Value"}, true},
		{"header exists, non-canonical map key", plan.Check{Kind: plan.CheckHeader, Expr: "X-LOWERCASE"}, true},
		{"header exists, no", plan.Check{Kind: plan.CheckHeader, Expr: "X-Nope"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileCheck(tt.check)
			if err != nil {
				t.Fatalf("CompileCheck: %v", err)
			}
			if got := c.Apply(testResponse()); got != tt.pass {
				t.Errorf("Apply = %v, want %v (check %q)", got, tt.pass, c.Name)
			}
		})
	}
}

func TestCheckNotJSONBody(t *testing.T) {
	r := &Response{Body: []byte("<html>oops</html>"), Header: http.Header{}}
	for _, c := range []plan.Check{
		{Kind: plan.CheckJSONEquals, Expr: "status", Value: "ok"},
		{Kind: plan.CheckJSONExists, Expr: "status"},
	} {
		k, err := CompileCheck(c)
		if err != nil {
			t.Fatal(err)
		}
		if k.Apply(r) {
			t.Errorf("%s passed on an HTML body", k.Name)
		}
	}
}

func TestCheckNames(t *testing.T) {
	tests := []struct {
		check plan.Check
		want  string
	}{
		{plan.Check{Kind: plan.CheckStatus, Statuses: []int{200}, Name: "logged in"}, "logged in"},
		{plan.Check{Kind: plan.CheckStatus, Statuses: []int{200}}, "status is 200"},
		{plan.Check{Kind: plan.CheckStatus, Statuses: []int{200, 201}}, "status in [200 201]"},
		{plan.Check{Kind: plan.CheckBodyContains, Expr: "welcome"}, `body contains "welcome"`},
		{plan.Check{Kind: plan.CheckBodyRegex, Expr: `id=\d+`}, `body matches "id=\\d+"`},
		{plan.Check{Kind: plan.CheckJSONEquals, Expr: "$.status", Value: "ok"}, `$.status == "ok"`},
		{plan.Check{Kind: plan.CheckJSONEquals, Expr: "count", Value: "3"}, "count == 3"},
		{plan.Check{Kind: plan.CheckJSONExists, Expr: "$.token"}, "$.token exists"},
		{plan.Check{Kind: plan.CheckMaxLatency, Latency: 500 * time.Millisecond}, "latency <= 500ms"},
		{plan.Check{Kind: plan.CheckHeader, Expr: "content-type", Value: "text/html"}, `header Content-Type == "text/html"`},
		{plan.Check{Kind: plan.CheckHeader, Expr: "x-request-id"}, "header X-Request-Id exists"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c, err := CompileCheck(tt.check)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.want {
				t.Errorf("Name = %q, want %q", c.Name, tt.want)
			}
		})
	}
}

func TestCompileCheckErrors(t *testing.T) {
	tests := []struct {
		name  string
		check plan.Check
		want  string
	}{
		{"no statuses", plan.Check{Kind: plan.CheckStatus}, "no status codes"},
		{"bad status", plan.Check{Kind: plan.CheckStatus, Statuses: []int{200, 2000}}, "status 2000 is not an HTTP status (100-599)"},
		{"empty contains", plan.Check{Kind: plan.CheckBodyContains}, "empty text"},
		{"empty regex", plan.Check{Kind: plan.CheckBodyRegex}, "empty regex"},
		{"bad regex", plan.Check{Kind: plan.CheckBodyRegex, Expr: "a(b"}, "bad regex: error parsing regexp: missing closing ): `a(b`"},
		{"bad json path", plan.Check{Kind: plan.CheckJSONEquals, Expr: "$token", Value: "1"}, `JSON path "$token": expected "." or "[" after "$"`},
		{"empty json path", plan.Check{Kind: plan.CheckJSONExists}, "empty JSON path"},
		{"zero latency", plan.Check{Kind: plan.CheckMaxLatency}, "max latency must be positive, got 0s"},
		{"empty header", plan.Check{Kind: plan.CheckHeader, Value: "x"}, "empty header name"},
		{"unknown kind", plan.Check{Kind: 42}, "unknown check kind 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileCheck(tt.check)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEqualJSON(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		{"1", "1.0", true},
		{"1", "1e0", true},
		{"100", "1E2", true},
		{"100", "1e+2", true},
		{"0.001", "1e-3", true},
		{"-0", "0", true},
		{"0.0", "0e10", true},
		{"-1", "1", false},
		{"9007199254740993", "9007199254740992", false}, // equal as float64
		{"12345678901234567890", "12345678901234567890.000", true},
		{"1e999999999999", "1e999999999999", true},
		{"1e999999999999", "1e999999999998", false},
		{`"a"`, `"a"`, true},
		{`"\u0041"`, `"A"`, true},
		{`"a"`, `"b"`, false},
		{`"1"`, "1", false},
		{"true", "true", true},
		{"true", "false", false},
		{"null", "null", true},
		{"null", "false", false},
		{`{"a":1,"b":[1,{"c":null}]}`, `{ "b" : [1.0, {"c": null}], "a": 1 }`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"a":1,"b":2}`, `{"a":1,"c":2}`, false},
		{`{"a":1,"a":2}`, `{"a":2}`, true},
		{"[]", "[]", true},
		{"{}", "{}", true},
		{"[]", "{}", false},
		{"[1,2]", "[2,1]", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			a, b := gjson.Parse(tt.a), gjson.Parse(tt.b)
			if got := equalJSON(a, b); got != tt.equal {
				t.Errorf("equalJSON(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.equal)
			}
			if got := equalJSON(b, a); got != tt.equal {
				t.Errorf("equalJSON(%s, %s) = %v, want %v", tt.b, tt.a, got, tt.equal)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name  string
		check plan.Check
	}{
		{"status", plan.Check{Kind: plan.CheckStatus, Statuses: []int{200, 201}}},
		{"json equals", plan.Check{Kind: plan.CheckJSONEquals, Expr: "$.user.name", Value: "Ann"}},
		{"json exists", plan.Check{Kind: plan.CheckJSONExists, Expr: "$.items[1].id"}},
		{"header", plan.Check{Kind: plan.CheckHeader, Expr: "content-type", Value: "application/json"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := CompileCheck(bc.check)
			if err != nil {
				b.Fatal(err)
			}
			r := testResponse()
			b.ReportAllocs()
			for b.Loop() {
				c.Apply(r)
			}
		})
	}
}
