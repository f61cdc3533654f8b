package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// CurlArgs are the arguments of `fuka import curl`: fuka's own options and
// a curl command line. curl's options (-X, -H, -d, -o ...) are not fuka's,
// so they are read here by hand rather than by a flag parser.
type CurlArgs struct {
	Out  Output
	Help bool // -h or --help: show the command's help instead
	// Line is the command line: one quoted argument, the words of one
	// (each quoted back for the shell parser), or "-" for stdin.
	Line []string
}

// ParseCurlArgs takes fuka's options (-o FILE, --output=FILE, --force,
// -h) off the arguments: before the command line, and after it when it is
// one quoted argument (it has a space); later options belong to curl.
func ParseCurlArgs(args []string) (CurlArgs, error) {
	var a CurlArgs
	own := func(args []string, stopAtOther bool) (int, error) {
		i := 0
		for i < len(args) {
			s := args[i]
			switch {
			case s == "-h" || s == "--help":
				a.Help = true
			case s == "--force":
				a.Out.Force = true
			case s == "-o" || s == "--output":
				if i+1 >= len(args) {
					return i, fmt.Errorf("%s needs a file name", s)
				}
				i++
				a.Out.Path = args[i]
			case strings.HasPrefix(s, "--output="):
				a.Out.Path = strings.TrimPrefix(s, "--output=")
			case strings.HasPrefix(s, "-o") && len(s) > 2 && !strings.ContainsAny(s, " \t\n"):
				a.Out.Path = s[2:]
			case stopAtOther:
				return i, nil
			default:
				return i, fmt.Errorf("unexpected argument %q after the quoted curl command line (give curl's options inside the quotes)", s)
			}
			i++
		}
		return i, nil
	}
	n, err := own(args, true)
	if err != nil || a.Help {
		return CurlArgs{Help: a.Help}, err
	}
	rest := args[n:]
	if len(rest) > 1 && strings.ContainsAny(rest[0], " \t\n") {
		if _, err := own(rest[1:], false); err != nil {
			return CurlArgs{}, err
		}
		rest = rest[:1]
	}
	if len(rest) == 0 && !a.Help {
		return CurlArgs{}, errors.New("import curl needs a curl command line, e.g. fuka import curl 'curl https://example.com/'")
	}
	a.Line = rest
	return a, nil
}

// Import imports the curl command line the arguments give (Curl).
func (a CurlArgs) Import(stdin io.Reader) (*Result, error) {
	line, err := a.commandLine(stdin)
	if err != nil {
		return nil, err
	}
	return Curl(line)
}

// commandLine is the curl command line the arguments give, read from
// stdin (at most 16 MiB) for "-".
func (a CurlArgs) commandLine(stdin io.Reader) (string, error) {
	switch {
	case len(a.Line) == 1 && a.Line[0] == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<24))
		if err != nil {
			return "", fmt.Errorf("reading the command line from stdin: %w", err)
		}
		return string(b), nil
	case len(a.Line) == 1:
		return a.Line[0], nil
	}
	quoted := make([]string, len(a.Line))
	for i, w := range a.Line {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " "), nil
}

// shellQuote quotes an argument for bash, so that the importer's shell
// parser reads it back as it was.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
