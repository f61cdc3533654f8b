package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/importer"
)

func newImport(stdio Stdio) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import (curl|har|jmx) ...",
		Short: "Turn a curl command, a HAR recording or a JMeter plan into a plan file",
		Long: `import writes a plan file (schema: docs/plan.md) from what you already have:
a browser's "Copy as cURL" command, a devtools recording saved as HAR, or a
JMeter test plan. The plan goes to stdout, or to the file -o names.

What could not be carried over is listed on stderr, one "skipped: ..." line
each; the plan is still written (exit 0). Input that cannot be read at all
exits 2. Check the result with fuka validate, adjust the load, then fuka run.`,
		Example: `  fuka import curl 'curl https://shop.example.com/api/products -H "accept: application/json"'
  fuka import curl -o plan.yaml -          # paste the command on stdin
  fuka import har recording.har -o plan.yaml
  fuka import jmx tests/shop.jmx -o tests/shop.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("import what? curl, har or jmx (see fuka import --help)")
		},
	}
	cmd.AddCommand(newImportCurl(stdio), newImportFile(stdio, "har"), newImportFile(stdio, "jmx"))
	return cmd
}

// importOut is where an imported plan goes.
type importOut struct {
	path  string // "" or "-": stdout
	force bool
}

func (o *importOut) flags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.path, "output", "o", "", "write the plan to `FILE` (default stdout)")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite the -o file if it exists")
}

// write writes the plan, then the notes on stderr.
func (o *importOut) write(stdio Stdio, res *importer.Result) error {
	if o.path == "" || o.path == "-" {
		if _, err := stdio.Out.Write(res.YAML); err != nil {
			return err
		}
	} else {
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if o.force {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(o.path, flag, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; use --force to overwrite", o.path)
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(res.YAML); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, n := range res.Skipped {
		fmt.Fprintf(stdio.Err, "skipped: %s\n", n)
	}
	if o.path != "" && o.path != "-" {
		fmt.Fprintf(stdio.Out, "wrote %s; next: fuka validate %s\n", o.path, o.path)
	}
	return nil
}

func newImportCurl(stdio Stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "curl [-o FILE] 'curl ...' | curl [-o FILE] curl ARGS... | curl [-o FILE] -",
		Short: "Import a curl command line (a browser's \"Copy as cURL\")",
		Long: `import curl reads one curl command line, as browsers copy it ("Copy as
cURL (bash)") or as API docs write it, and writes a plan with that request.

Give the command line as one quoted argument, as the rest of the arguments, or
on stdin with "-". fuka's own flags (-o FILE, --force) come before the command
line, or after it when it is one quoted argument: later options belong to curl.`,
		Example: `  fuka import curl 'curl -X POST https://api.example.com/login --json "{\"user\":\"a\"}"'
  fuka import curl -o plan.yaml curl https://api.example.com/items -H 'Authorization: Bearer x'
  pbpaste | fuka import curl -o plan.yaml -`,
		// curl's options (-X, -H, -d, -o...) are not fuka's: the arguments
		// are read by hand.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out importOut
			rest, help, err := out.parseCurlArgs(args)
			switch {
			case err != nil:
				return err
			case help:
				return cmd.Help()
			case len(rest) == 0:
				return errors.New("import curl needs a curl command line, e.g. fuka import curl 'curl https://example.com/'")
			}
			line := rest[0]
			switch {
			case len(rest) == 1 && line == "-":
				b, err := io.ReadAll(io.LimitReader(stdio.In, 1<<24))
				if err != nil {
					return fmt.Errorf("reading the command line from stdin: %w", err)
				}
				line = string(b)
			case len(rest) > 1:
				quoted := make([]string, len(rest))
				for i, a := range rest {
					quoted[i] = shellQuote(a)
				}
				line = strings.Join(quoted, " ")
			}
			res, err := importer.Curl(line)
			if err != nil {
				return err
			}
			return out.write(stdio, res)
		},
	}
}

// parseCurlArgs takes fuka's flags off the curl arguments: before the
// command line, and after it when it is one quoted argument (it has a
// space).
func (o *importOut) parseCurlArgs(args []string) (rest []string, help bool, err error) {
	own := func(args []string, stopAtOther bool) (int, error) {
		i := 0
		for i < len(args) {
			a := args[i]
			switch {
			case a == "-h" || a == "--help":
				help = true
			case a == "--force":
				o.force = true
			case a == "-o" || a == "--output":
				if i+1 >= len(args) {
					return i, fmt.Errorf("%s needs a file name", a)
				}
				i++
				o.path = args[i]
			case strings.HasPrefix(a, "--output="):
				o.path = strings.TrimPrefix(a, "--output=")
			case strings.HasPrefix(a, "-o") && len(a) > 2 && !strings.ContainsAny(a, " \t\n"):
				o.path = a[2:]
			case stopAtOther:
				return i, nil
			default:
				return i, fmt.Errorf("unexpected argument %q after the quoted curl command line (give curl's options inside the quotes)", a)
			}
			i++
		}
		return i, nil
	}
	n, err := own(args, true)
	if err != nil || help {
		return nil, help, err
	}
	rest = args[n:]
	if len(rest) > 1 && strings.ContainsAny(rest[0], " \t\n") {
		if _, err := own(rest[1:], false); err != nil {
			return nil, false, err
		}
		rest = rest[:1]
	}
	return rest, help, nil
}

// shellQuote quotes an argument for bash, so that the importer's shell
// parser reads it back as it was.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// newImportFile makes `import har FILE` and `import jmx FILE`.
func newImportFile(stdio Stdio, kind string) *cobra.Command {
	var out importOut
	what := map[string]string{
		"har": `Import a HAR recording (browser devtools: "Save all as HAR")`,
		"jmx": "Import a JMeter test plan (.jmx): thread groups, HTTP samplers, headers, CSV data, timers",
	}[kind]
	long := map[string]string{
		"har": `import har turns a browser recording into a plan: one scenario with the
recorded requests in order, each page a group, static assets (images, fonts,
CSS, JavaScript) left out, pauses of 500ms or more kept as think steps, and
a check of each recorded status. Use "-" to read the recording from stdin.`,
		"jmx": `import jmx reads the common subset of a JMeter test plan: thread groups
(scenarios and the load), HTTP samplers and request defaults, header
managers, user defined variables, CSV data sets, constant and uniform random
timers, simple and transaction controllers, and simple regular expression
and JSON extractors. ${var} references become templates. Everything else
(assertions, listeners, scripts, other logic) is listed on stderr.
CSV paths stay relative: write the plan next to the .jmx.`,
	}[kind]
	cmd := &cobra.Command{
		Use:     kind + " FILE",
		Short:   what,
		Long:    long,
		Example: fmt.Sprintf("  fuka import %s test.%s -o plan.yaml", kind, kind),
		Args:    exactArgs(1, "import "+kind+" takes one file"),
		RunE: func(_ *cobra.Command, args []string) error {
			var r io.Reader = stdio.In
			dir := "."
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r, dir = f, filepath.Dir(args[0])
			}
			var res *importer.Result
			var err error
			if kind == "har" {
				res, err = importer.HAR(r)
			} else {
				res, err = importer.JMX(r, dir)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return out.write(stdio, res)
		},
	}
	out.flags(cmd)
	return cmd
}
