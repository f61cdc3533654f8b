package scenario

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fuka-load/fuka/plan"
)

// FuzzWSMessage puts any text where a plan's WebSocket messages go (a
// send: and a ws: step's every: send, both templates): nothing panics;
// a plan that does not compile says so at plan.yaml:LINE:COL on the
// message's own line; one that compiles renders both messages, and a
// message without "{{" renders as written.
func FuzzWSMessage(f *testing.F) {
	for _, seed := range []string{"ping", "", `{"type":"ping","n":{{ seq }}}`, "{{ seq }}{{ seq }}", "{{ room }}", "{{ token }}",
		"{{ client_id }}", "{{", "}}", "{{ seq( }}", `{{ randInt 1 }}`, "{{ nope }}", "\x00", "\xff", "é{{ seq }}", "\n{{ x"} {
		f.Add(seed)
	}
	path := filepath.Join(f.TempDir(), "plan.yaml")
	f.Fuzz(func(t *testing.T, msg string) {
		if !utf8.ValidString(msg) {
			return // YAML text is UTF-8: its \xNN escape is a code point, not a byte
		}
		q := strconv.Quote(msg) // a YAML double-quoted scalar reads Go's escapes of valid UTF-8
		src := "base_url: http://127.0.0.1:1\nvars: { token: t1 }\nscenarios:\n  s:\n    steps:\n" +
			"      - ws: /a\n        every: { period: 1s, send: " + q + " }\n" +
			"      - send: " + q + "\n" +
			"load: { clients: 1, iterations: 1 }\n"
		p, err := plan.Parse(path, []byte(src))
		if err != nil {
			planErrorOn(t, err, path, msg, 7, 8)
			return
		}
		prog, err := Compile(p, func(string) (string, bool) { return "", false })
		if err != nil {
			planErrorOn(t, err, path, msg, 7, 8)
			return
		}
		steps := prog.scenarios[0].steps
		every, send := steps[0].ws.everyMsg, steps[1].body
		if every == nil || send == nil {
			t.Fatalf("%q compiled to every %v, send %v", msg, every, send)
		}
		st := prog.newState(1)
		a, b := string(every.Render(nil, st)), string(send.Render(nil, st))
		if !strings.Contains(msg, "{{") && (a != msg || b != msg) {
			t.Fatalf("%q rendered as %q and %q", msg, a, b)
		}
	})
}

// planErrorOn fails t unless every error of err is in the file path, on
// one of lines.
func planErrorOn(t *testing.T, err error, path, msg string, lines ...int) {
	t.Helper()
	var errs plan.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("%q: error %T %v, want plan errors", msg, err, err)
	}
	for _, e := range strings.Split(err.Error(), "\n") {
		ok := false
		for _, l := range lines {
			ok = ok || strings.HasPrefix(e, fmt.Sprintf("%s:%d:", path, l))
		}
		if !ok {
			t.Fatalf("%q: error %q, want one at plan.yaml, line %v", msg, e, lines)
		}
	}
}
