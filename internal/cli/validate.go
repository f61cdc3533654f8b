package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/run"
)

func newValidate(stdio Stdio) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "validate PLAN.yaml",
		Short: "Check a plan file and report every problem as file:line:col",
		Long: `validate parses and compiles a plan without sending anything: unknown keys,
bad durations and URLs, unknown template functions and variables, thresholds
that do not parse and missing data files are all reported at once, one per
line as file:line:col: message. It checks what run checks before it sends
anything, with the same load flags (--clients, --duration, --rate,
--max-clients), including whether this machine can hold the load (open
files, memory). Exit 0 when the plan is good, 2 otherwise.`,
		Example: `  fuka validate examples/shop.yaml
  fuka validate examples/shop.yaml --clients 100 --duration 10m`,
		Args: exactArgs(1, "validate takes one plan file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			c, err := run.CompileFile(args[0], f.load.BaseURL)
			if err != nil {
				return planErrors(stdio, err)
			}
			_, _, closeRunner, err := preflight(stdio, c, &f, cmd.Flags().Changed)
			if err != nil {
				return planErrors(stdio, err)
			}
			closeRunner()
			fmt.Fprintf(stdio.Out, "%s: ok: %d scenario(s), %d request name(s), %d check(s), %d threshold(s)\n",
				args[0], len(c.Plan.Scenarios), len(c.Prog.Requests), len(c.Prog.Checks), len(c.Thresholds))
			return nil
		},
	}
	addLoadFlags(cmd.Flags(), &f)
	return cmd
}

// starterPlan is what `fuka init` writes: a commented plan that runs
// against the target of `fuka demo`.
const starterPlan = `# A fuka plan. Schema: docs/plan.md in the fuka repository.
# Try it against fuka's demo target (or any server of yours: change base_url):
#   fuka demo --serve 127.0.0.1:8080      (it serves until Ctrl-C; then, in another terminal:)
#   fuka validate PLANFILE
#   fuka run PLANFILE
name: starter
base_url: http://127.0.0.1:8080

defaults:
  timeout: 5s
  headers:
    Accept: application/json

scenarios:
  browse:                     # what one client (virtual user) does, again and again
    weight: 3                 # 3 of every 4 clients browse
    steps:
      - get: /api/products?page={{ randInt 1 10 }}
        name: list products   # results are grouped by this name
        check:
          status: 200
          json_exists: ["0.id"]
        extract:
          product: json:0.id  # a variable for later steps
      - think: 500ms..2s      # a pause, like a person reading
      - get: /api/products/{{ product }}
        name: show product
        check: { status: 200 }

  buy:
    weight: 1
    steps:
      - post: /api/login
        name: login
        json: { user: "user{{ randInt 1 1000 }}", pass: secret }
        extract:
          token: json:token
        check: { status: 200 }
        abort_on_fail: true
      - put: /api/cart/{{ randInt 1 1000 }}
        name: add to cart
        headers: { Authorization: "Bearer {{ token }}" }
        json: { quantity: 1 }
        check: { status: 201, max_latency: 500ms }

load:                         # closed model: clients that wait for each response
  clients: 20
  ramp_up: 5s
  duration: 30s
# open model instead: arrivals per second, whatever the target's speed
# load: { rate: [ { target: 50, over: 10s }, { target: 200, over: 20s } ], max_clients: 500 }

thresholds:                   # a failed threshold makes fuka exit 1 (for CI)
  - p95 < 300ms
  - error_rate < 1%
  - checks > 99%
`

func newInit(stdio Stdio) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented starter plan (default fuka.yaml)",
		Example: `  fuka init
  fuka init smoke.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := "fuka.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flag, 0o644)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists; use --force to overwrite", path)
			}
			if err != nil {
				return err
			}
			if _, err := f.WriteString(strings.ReplaceAll(starterPlan, "PLANFILE", path)); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "wrote %s; next: fuka validate %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
