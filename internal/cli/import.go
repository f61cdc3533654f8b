package cli

import (
	"errors"
	"fmt"

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
		DisableFlagParsing: true, // curl's options (-X, -H, -d, -o...) are not fuka's: ParseCurlArgs reads them
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := importer.ParseCurlArgs(args)
			if err != nil {
				return err
			}
			if a.Help {
				return cmd.Help()
			}
			res, err := a.Import(stdio.In)
			if err != nil {
				return err
			}
			return a.Out.Write(res, stdio.Out, stdio.Err)
		},
	}
}

// newImportFile makes `import har FILE` and `import jmx FILE`.
func newImportFile(stdio Stdio, kind string) *cobra.Command {
	var out importer.Output
	help := map[string][2]string{
		"har": {`Import a HAR recording (browser devtools: "Save all as HAR")`, `import har turns a browser recording into a plan: one scenario with the
recorded requests in order, each page a group, static assets (images, fonts,
CSS, JavaScript) left out, pauses of 500ms or more kept as think steps, and
a check of each recorded status. Use "-" to read the recording from stdin.`},
		"jmx": {"Import a JMeter test plan (.jmx): thread groups, HTTP samplers, headers, CSV data, timers", `import jmx reads the common subset of a JMeter test plan: thread groups
(scenarios and the load), HTTP samplers and request defaults, header
managers, user defined variables, CSV data sets, constant and uniform random
timers, simple and transaction controllers, and simple regular expression
and JSON extractors. ${var} references become templates. Everything else
(assertions, listeners, scripts, other logic) is listed on stderr.
CSV paths stay relative: write the plan next to the .jmx.`},
	}[kind]
	cmd := &cobra.Command{
		Use:     kind + " FILE",
		Short:   help[0],
		Long:    help[1],
		Example: fmt.Sprintf("  fuka import %s test.%s -o plan.yaml", kind, kind),
		Args:    exactArgs(1, "import "+kind+" takes one file"),
		RunE: func(_ *cobra.Command, args []string) error {
			res, err := importer.File(kind, args[0], stdio.In)
			if err != nil {
				return err
			}
			return out.Write(res, stdio.Out, stdio.Err)
		},
	}
	cmd.Flags().StringVarP(&out.Path, "output", "o", "", "write the plan to `FILE` (default stdout)")
	cmd.Flags().BoolVar(&out.Force, "force", false, "overwrite the -o file if it exists")
	return cmd
}
