package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/run"
)

func newValidate(stdio Stdio) *cobra.Command {
	f := runFlags{opts: run.Options{Version: version()}}
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
			if _, err := f.WriteString(strings.ReplaceAll(plan.Starter, "PLANFILE", path)); err != nil {
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
