package tmpl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNames is the set of variables the tests compile against.
func testNames() *Names {
	n := NewNames()
	for _, name := range []string{"name", "users.name", "token", "page", "bad", "ユーザー"} {
		n.Add(name)
	}
	return n
}

func testEnv(name string) (string, bool) {
	switch name {
	case "HOST":
		return "api.example.com", true
	case "EMPTY":
		return "", true
	case "CREDS":
		return "user:pass", true
	}
	return "", false
}

// testState is a fixed-seed client with known values and a frozen clock.
func testState(n *Names) *State {
	st := NewState(n, 42)
	st.Now = func() time.Time { return time.Date(2026, 1, 2, 15, 4, 5, 123e6, time.UTC) }
	set := func(name, v string) {
		s, _ := n.Slot(name)
		st.Vals[s] = v
	}
	set("name", "Jo Doe&x")
	set("users.name", "Ann Lee")
	set("token", "t0k/en+")
	set("page", "7")
	set("bad", "seven")
	set("ユーザー", "Ünïcode")
	return st
}

func TestCompileRender(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   string
		static bool
	}{
		{"empty", "", "", true},
		{"plain", "/products?page=1", "/products?page=1", true},
		{"lone closing braces", "a }} b", "a }} b", true},
		{"variable", "{{ name }}", "Jo Doe&x", false},
		{"no spaces", "{{name}}", "Jo Doe&x", false},
		{"tabs and newlines", "{{\t\n name \r\n}}", "Jo Doe&x", false},
		{"dotted name", "hi {{ users.name }}!", "hi Ann Lee!", false},
		{"unicode name", "{{ ユーザー }}", "Ünïcode", false},
		{"several", "a{{ name }}b{{ token }}c", "aJo Doe&xbt0k/en+c", false},
		{"literal braces", `{{ "{{" }} name }}`, "{{ name }}", true},
		{"string escapes", `{{ "a\"b\\c" }}`, `a"b\c`, true},
		{"closing braces in string", `{{ "}}" }}`, "}}", true},
		{"number literal", "{{ 42 }}", "42", true},
		{"negative decimal", "{{ -1.5 }}", "-1.5", true},
		{"parenthesised variable", "{{ (name) }}", "Jo Doe&x", false},
		{"randInt", "/p?page={{ randInt 1 10 }}", "/p?page=5", false},
		{"randInt one value", "{{ randInt 5 5 }}", "5", false},
		{"randInt negative", "{{ randInt -3 -3 }}", "-3", false},
		{"randInt variable bound", "{{ randInt page page }}", "7", false},
		{"randInt non-integer variable is 0", "{{ randInt bad 0 }}", "0", false},
		{"randInt nested", "{{ randInt 1 (randInt 2 2) }}", "1", false},
		{"randInt swapped at render", "{{ randInt page 7 }}", "7", false},
		{"randString", "{{ randString 12 }}", "wgbqRVka6QAZ", false},
		{"randString zero", "{{ randString 0 }}", "", false},
		{"randItem one", `{{ randItem "a" }}`, "a", false},
		{"randItem", `{{ randItem "a" "b" "c" }}`, "b", false},
		{"randItem mixed", `{{ randItem name 1 (upper "x") }}`, "1", false},
		{"uuid", "{{ uuid }}", "743a6a45-51a9-4830-b901-5ec7f256d640", false},
		{"seq counts per render", "{{ seq }},{{ seq }}", "1,2", false},
		{"now", "{{ now }}", "2026-01-02T15:04:05Z", false},
		{"now layout", `{{ now "2006-01-02 15:04:05.000" }}`, "2026-01-02 15:04:05.123", false},
		{"now unix", `{{ now "unix" }}`, "1767366245", false},
		{"now unixms", `{{ now "unixms" }}`, "1767366245123", false},
		{"base64 literal folds", `{{ base64 "a:b" }}`, "YTpi", true},
		{"base64 empty", `{{ base64 "" }}`, "", true},
		{"base64 variable", "{{ base64 token }}", "dDBrL2VuKw==", false},
		{"urlquery variable", "q={{ urlquery name }}", "q=Jo+Doe%26x", false},
		{"urlquery literal", `{{ urlquery "a/b?c=d é~" }}`, "a%2Fb%3Fc%3Dd+%C3%A9~", true},
		{"lower", "{{ lower ユーザー }}", "ünïcode", false},
		{"upper", "{{ upper ユーザー }}", "ÜNÏCODE", false},
		{"upper literal", `{{ upper "straße" }}`, "STRAßE", true},
		{"env", `https://{{ env "HOST" }}/`, "https://api.example.com/", true},
		{"env default", `{{ env "NOPE" "fallback" }}`, "fallback", true},
		{"env set but empty", `[{{ env "EMPTY" "fallback" }}]`, "[]", true},
		{"env nested", `Basic {{ base64 (env "CREDS") }}`, "Basic dXNlcjpwYXNz", true},
		{"nested calls", "{{ upper (lower (base64 token)) }}", "DDBRL2VUKW==", false},
		{"zero-argument function as argument", "{{ upper uuid }}", "743A6A45-51A9-4830-B901-5EC7F256D640", false},
		{"nested random", "{{ base64 (randString 3) }}", "d2di", false},
		{"typical", "/products?page={{ randInt 1 10 }}&q={{ urlquery users.name }}&id={{ uuid }}",
			"/products?page=5&q=Ann+Lee&id=f9015ec7-f256-4640-b818-d59725fa3c01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := testNames()
			tp, err := Compile(tt.src, names, testEnv)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			if got := string(tp.Render(nil, testState(names))); got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
			}
			s, static := tp.Static()
			if static != tt.static {
				t.Errorf("Static(%q) = _, %v, want %v", tt.src, static, tt.static)
			}
			if static && s != tt.want {
				t.Errorf("Static(%q) = %q, want %q", tt.src, s, tt.want)
			}
			if tp.String() != tt.src {
				t.Errorf("String() = %q, want %q", tp.String(), tt.src)
			}
		})
	}
}

func TestRenderAppends(t *testing.T) {
	names := testNames()
	tp, err := Compile("{{ seq }}/{{ name }}", names, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := testState(names)
	buf := tp.Render([]byte("GET "), st)
	buf = append(buf, ' ')
	buf = tp.Render(buf, st)
	if want := "GET 1/Jo Doe&x 2/Jo Doe&x"; string(buf) != want {
		t.Errorf("got %q, want %q", buf, want)
	}
}

func TestRenderMissingSlot(t *testing.T) {
	names := NewNames()
	st := NewState(names, 1) // created before "late" had a slot
	names.Add("late")
	tp, err := Compile("[{{ late }}][{{ base64 late }}]", names, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(tp.Render(nil, st)); got != "[][]" {
		t.Errorf("got %q, want %q", got, "[][]")
	}
}

func TestRenderZeroState(t *testing.T) {
	tp, err := Compile("{{ randInt 1 6 }} {{ uuid }} {{ seq }}", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var st State // no Rand, no Now: must still render
	if got := tp.Render(nil, &st); len(got) == 0 {
		t.Error("empty render")
	}
}

func TestSameSeedSameOutput(t *testing.T) {
	names := testNames()
	tp, err := Compile("{{ randInt 1 1000000 }}-{{ randString 16 }}-{{ uuid }}", names, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := NewState(names, 7), NewState(names, 7), NewState(names, 8)
	for range 5 {
		x, y, z := tp.Render(nil, a), tp.Render(nil, b), tp.Render(nil, c)
		if string(x) != string(y) {
			t.Fatalf("same seed, different output: %q vs %q", x, y)
		}
		if string(x) == string(z) {
			t.Fatalf("different seeds, same output: %q", x)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	deep := strings.Repeat("(", maxDepth+1) + "name" + strings.Repeat(")", maxDepth+1)
	tests := []struct {
		name   string
		src    string
		offset int
		msg    string
	}{
		{"unclosed", "{{", 0, `unclosed "{{"`},
		{"unclosed after text", "abc {{ name", 4, `unclosed "{{"`},
		{"unclosed call", "x{{ upper name", 1, `unclosed "{{"`},
		{"single closing brace", "{{ name }", 8, `unexpected character '}'`},
		{"empty action", "a{{ }}", 1, "empty {{ }}"},
		{"unknown variable", "{{ nmae }}", 3, `unknown variable "nmae"`},
		{"unknown variable later", "ok {{ name }} then {{ bad.x }}", 22, `unknown variable "bad.x"`},
		{"unknown function", "{{ randint 1 10 }}", 3, `unknown function "randint"`},
		{"variable called", "{{ name 1 }}", 8, `"name" is a variable, not a function: it takes no arguments`},
		{"unknown variable argument", "{{ upper nmae }}", 9, `unknown variable "nmae"`},
		{"too few", "{{ randInt 1 }}", 3, "randInt takes 2 arguments, got 1"},
		{"too many", "{{ randInt 1 2 3 }}", 3, "randInt takes 2 arguments, got 3"},
		{"no arguments wanted", "{{ uuid 1 }}", 3, "uuid takes no arguments, got 1"},
		{"one argument wanted", `{{ base64 "a" "b" }}`, 3, "base64 takes 1 argument, got 2"},
		{"optional argument", `{{ now "unix" "x" }}`, 3, "now takes 0 or 1 arguments, got 2"},
		{"env without name", "{{ env }}", 3, "env takes 1 or 2 arguments, got 0"},
		{"variadic", "{{ randItem }}", 3, "randItem takes at least 1 argument, got 0"},
		{"nested arity", "{{ upper (lower) }}", 10, "lower takes 1 argument, got 0"},
		{"function needs parentheses", "{{ base64 randInt 1 2 }}", 10, "randInt needs arguments: write (randInt ...)"},
		{"string for integer", `{{ randInt "1" 2 }}`, 11, `randInt: argument 1 must be an integer, got "1"`},
		{"decimal for integer", "{{ randInt 1 2.5 }}", 13, `randInt: argument 2 must be an integer, got "2.5"`},
		{"integer overflow", "{{ randString 99999999999999999999 }}", 14, `randString: argument 1 must be an integer, got "99999999999999999999"`},
		{"randInt min above max", "{{ randInt 10 1 }}", 3, "randInt: min 10 is greater than max 1"},
		{"randString negative", "{{ randString -1 }}", 14, `randString: length must be between 0 and 65536, got "-1"`},
		{"randString too long", "{{ randString 65537 }}", 14, `randString: length must be between 0 and 65536, got "65537"`},
		{"now layout variable", "{{ now name }}", 7, `now: argument 1 must be a string literal, got "name"`},
		{"now empty layout", `{{ now "" }}`, 7, "now: empty layout"},
		{"env not set", `{{ env "NOPE" }}`, 7, `env: NOPE is not set (give a default: env "NOPE" "default")`},
		{"env variable name", "{{ env name }}", 7, `env: argument 1 must be a string literal, got "name"`},
		{"env number default", `{{ env "NOPE" 80 }}`, 14, `env: argument 2 must be a string literal, got "80"`},
		{"env empty name", `{{ env "" "x" }}`, 7, "env: empty variable name"},
		{"unterminated string", `{{ "abc }}`, 3, "unterminated string"},
		{"unterminated escape", `{{ "a\`, 3, "unterminated string"},
		{"unknown escape", `{{ "a\n" }}`, 5, `unknown escape "\n" in string (only \" and \\)`},
		{"bad number", "{{ 12ab }}", 3, `bad number "12ab"`},
		{"unclosed paren", "{{ (upper name }}", 3, `unclosed "("`},
		{"unclosed paren at end", "{{ upper (lower name", 9, `unclosed "("`},
		{"stray paren", "{{ upper name) }}", 13, `unexpected ")"`},
		{"leading paren", "{{ ) }}", 3, `unexpected ")"`},
		{"empty parens", "{{ () }}", 3, "empty ( )"},
		{"too deep", "{{ " + deep + " }}", 3 + maxDepth, "too deeply nested (at most 16 levels of parentheses)"},
		{"deep enough", "{{ " + deep[1:len(deep)-1] + " name }}", 3 + 2*maxDepth + 5, `expected "}}", found "name"`},
		{"two values", `{{ "a" "b" }}`, 7, `expected "}}", found "b"`},
		{"two values in parens", `{{ ("a" "b") }}`, 8, `expected ")", found "b"`},
		{"nested action", "{{ {{ name }} }}", 3, `unexpected character '{'`},
		{"unexpected character", "{{ name | upper }}", 8, `unexpected character '|'`},
		{"unexpected rune", "{{ €x }}", 3, `unexpected character '€'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.src, testNames(), testEnv)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) error = %v, want *Error", tt.src, err)
			}
			if e.Offset != tt.offset || e.Msg != tt.msg {
				t.Errorf("Compile(%q) = offset %d %q, want offset %d %q", tt.src, e.Offset, e.Msg, tt.offset, tt.msg)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Offset: 4, Msg: `unknown variable "x"`}
	if got, want := e.Error(), `offset 4: unknown variable "x"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNames(t *testing.T) {
	n := NewNames()
	if n.Add("a") != 0 || n.Add("b") != 1 || n.Add("a") != 0 {
		t.Fatal("Add is not idempotent or not dense")
	}
	if s, ok := n.Slot("b"); !ok || s != 1 {
		t.Errorf("Slot(b) = %d, %v", s, ok)
	}
	if _, ok := n.Slot("c"); ok {
		t.Error("Slot(c) found")
	}
	if n.Len() != 2 || n.Name(1) != "b" {
		t.Errorf("Len = %d, Name(1) = %q", n.Len(), n.Name(1))
	}
	var none *Names
	if _, ok := none.Slot("a"); ok || none.Len() != 0 {
		t.Error("nil Names is not empty")
	}
}

func TestIsFunc(t *testing.T) {
	if !IsFunc("uuid") || !IsFunc("env") || IsFunc("name") {
		t.Error("IsFunc is wrong")
	}
}
