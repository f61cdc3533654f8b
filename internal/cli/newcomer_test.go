package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// pflagTypes are the placeholders pflag prints for a flag whose usage
// names none: the value's type.
var pflagTypes = map[string]bool{
	"string": true, "int": true, "int64": true, "uint": true, "float": true,
	"duration": true, "stringArray": true, "strings": true, "ints": true,
}

// placeholder is what a flag's value is called in help: a word or
// two in capitals, such as N, FILE, HOST:PORT, DIR.
var placeholder = regexp.MustCompile(`^[A-Z][A-Z0-9_]*([:/|=.-][A-Z0-9_]+)*$`)

// flagLine is one flag in rendered help: its names, then its value's
// placeholder, if any, up to the gap before the usage text.
var flagLine = regexp.MustCompile(`^\s+(?:-\w, )?(--[\w-]+)( \S.*?)?(?:\s{2,}|$)`)

// commandPaths lists every visible command under c, as argument lists.
func commandPaths(c *cobra.Command, path []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		p := append(append([]string(nil), path...), sub.Name())
		out = append(out, p)
		out = append(out, commandPaths(sub, p)...)
	}
	return out
}

// TestHelpPlaceholders renders every command's --help and checks each
// flag's value placeholder: pflag takes it from the first backquoted word
// of the usage, so a usage that quotes a command (`fuka certs`) shows
// "--certs-dir fuka certs", a sentence where the value's name belongs.
func TestHelpPlaceholders(t *testing.T) {
	paths := commandPaths(newRoot(Stdio{}), nil)
	if len(paths) < 15 {
		t.Fatalf("found %d commands, want every one (attack, run, capacity, ...): %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Join(p, " "), func(t *testing.T) {
			r := run(t, nil, append(p, "--help")...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			inFlags, flags := false, 0
			for _, line := range strings.Split(r.out, "\n") {
				switch {
				case strings.HasSuffix(line, "Flags:"):
					inFlags = true
					continue
				case line == "" || !strings.HasPrefix(line, " "):
					inFlags = false
					continue
				}
				if !inFlags {
					continue
				}
				m := flagLine.FindStringSubmatch(line)
				if m == nil {
					continue // a wrapped usage line
				}
				flags++
				ph := strings.TrimPrefix(m[2], " ")
				if ph == "" || pflagTypes[ph] {
					continue
				}
				if !placeholder.MatchString(ph) {
					t.Errorf("%s shows the placeholder %q: want a value name in capitals (N, FILE, HOST:PORT), no spaces\n%s", m[1], ph, line)
				}
			}
			if flags == 0 {
				t.Errorf("no flags found in the help (not even --help):\n%s", r.out)
			}
		})
	}
}
