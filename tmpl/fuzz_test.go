package tmpl

import (
	"errors"
	"testing"
)

// FuzzCompile checks that no template makes Compile or Render panic, that
// every error is an *Error pointing into the template, and that a static
// template renders what Static says. Seeds live in testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "plain", typical, "{{", "}}", "{{ }}", "{{ name }}", `{{ "{{" }}`, `{{ "a\"b\\" }}`,
		"{{ randInt 1 10 }}", "{{ randInt page bad }}", "{{ randString 8 }}", `{{ randItem "a" name (upper "b") }}`,
		"{{ uuid }}", "{{ seq }}", `{{ now "unixms" }}`, `{{ base64 (env "HOST") }}`, `{{ env "NOPE" "x" }}`,
		"{{ upper (lower (base64 token)) }}", "{{ (((name))) }}", "{{ -1.5 }}", "{{ 12ab }}", "{{ ユーザー }}",
		"{{ randInt -9223372036854775808 9223372036854775807 }}", "a{{ name }}b{{ uuid }}c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := testNames()
		tp, err := Compile(s, names, testEnv)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) error %T, want *Error", s, err)
			}
			if e.Offset < 0 || e.Offset > len(s) {
				t.Fatalf("Compile(%q) error offset %d outside [0, %d]", s, e.Offset, len(s))
			}
			return
		}
		if tp.String() != s {
			t.Fatalf("String() = %q, want %q", tp.String(), s)
		}
		st := testState(names)
		out := tp.Render(nil, st)
		out = tp.Render(out[:0], st)
		if v, ok := tp.Static(); ok && string(out) != v {
			t.Fatalf("Static() = %q, Render = %q", v, out)
		}
	})
}

// FuzzStringFuncs checks base64, urlquery, lower and upper against the
// standard library on any input, valid UTF-8 or not.
func FuzzStringFuncs(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(checkStringFuncs)
}
