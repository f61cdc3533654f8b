package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	paths := append([][]string{{}}, commandPaths(newRoot(Stdio{}), nil)...) // fuka itself first
	if len(paths) < 15 {
		t.Fatalf("found %d commands, want every one (attack, run, capacity, ...): %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Join(append([]string{"fuka"}, p...), " "), func(t *testing.T) {
			r := runCLI(t, nil, append(p, "--help")...)
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

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"rate", "rate", 0},
		{"", "rate", 4},
		{"clinets", "clients", 1}, // two letters swapped
		{"rat", "rate", 1},
		{"duration", "durtaion", 1},
		{"max-client", "max-clients", 1},
		{"cert-dir", "certs-dir", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := editDistance(tt.a, tt.b); got != tt.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := editDistance(tt.b, tt.a); got != tt.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

// TestFlagSuggestion: a mistyped flag names the flag meant, in the one
// usage-error line; a flag like none of the command's gets no guess.
func TestFlagSuggestion(t *testing.T) {
	const u = "http://127.0.0.1:1/" // never reached: a usage error sends nothing
	tests := []struct {
		name string
		args []string
		want string // the whole stderr line, after "fuka: "
	}{
		{"swapped letters", []string{"attack", "--clinets", "3", u}, "unknown flag: --clinets (did you mean --clients?)"},
		{"with =value", []string{"attack", "--clinets=3", u}, "unknown flag: --clinets (did you mean --clients?)"},
		{"letter missing", []string{"attack", "--max-client", "5", u}, "unknown flag: --max-client (did you mean --max-clients?)"},
		{"prefix", []string{"attack", "--dur", "5s", u}, "unknown flag: --dur (did you mean --duration?)"},
		{"plan command", []string{"run", "--clinets", "3", "plan.yaml"}, "unknown flag: --clinets (did you mean --clients?)"},
		{"subcommand", []string{"certs", "issue", "--rol", "worker"}, "unknown flag: --rol (did you mean --role?)"},
		{"shared cluster flag", []string{"attack", "--cert-dir", "d", u}, "unknown flag: --cert-dir (did you mean --certs-dir?)"},
		{"short name", []string{"compare", "--nam", "x"}, "unknown flag: --nam (did you mean --name?)"},
		{"nothing near", []string{"attack", "--xyz", u}, "unknown flag: --xyz"},
		{"a hidden flag is not offered", []string{"demo", "--shrt"}, "unknown flag: --shrt"},
		{"another command's flag", []string{"capacity", "--requests", "5", u}, "unknown flag: --requests"},
		{"shorthand", []string{"attack", "-x", u}, "unknown shorthand flag: 'x' in -x"},
		// curl, grpcurl and ghz read -d as the data; here it is the duration.
		{"a message given to -d", []string{"attack", "grpc://127.0.0.1:1", "--call", "shop.Cart/Add", "-d", `{"item":"x"}`},
			`invalid argument "{\"item\":\"x\"}" for "-d, --duration" flag: time: invalid duration "{\"item\":\"x\"}" (-d is --duration; the request body or a gRPC call's message is -b/--body, a WebSocket's --ws-send)`},
		{"a list given to --duration=", []string{"attack", u, "--duration=[1]"},
			`invalid argument "[1]" for "-d, --duration" flag: time: invalid duration "[1]" (-d is --duration; the request body or a gRPC call's message is -b/--body, a WebSocket's --ws-send)`},
		{"a bad duration is only that", []string{"attack", u, "-d", "5x"}, `invalid argument "5x" for "-d, --duration" flag: time: unknown unit "x" in duration "5x"`},
		{"no body flag, no hint", []string{"run", "-d", "{}", "plan.yaml"}, `invalid argument "{}" for "-d, --duration" flag: time: invalid duration "{}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != ExitUsage || r.err != "fuka: "+tt.want+"\n" || r.out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and stderr %q", r.code, r.err, r.out, ExitUsage, "fuka: "+tt.want+"\n")
			}
		})
	}
}

// TestCloseFlagsTies: names equally near are all offered.
func TestCloseFlagsTies(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("cert", "", "")
	fs.String("certs", "", "")
	fs.String("key", "", "")
	if got := strings.Join(closeFlags(fs, "cers"), ","); got != "cert,certs" {
		t.Errorf("closeFlags(cers) = %q, want cert,certs", got)
	}
	if got := closeFlags(fs, "zzz"); got != nil {
		t.Errorf("closeFlags(zzz) = %q, want none", got)
	}
}
