package cli

import (
	"context"
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
	var reflect bool
	cmd := &cobra.Command{
		Use:   "validate PLAN.yaml",
		Short: "Check a plan file and report every problem as file:line:col",
		Long: `validate parses and compiles a plan without sending anything: unknown keys,
bad durations and URLs, unknown template functions and variables, thresholds
that do not parse and missing data files are all reported at once, one per
line as file:line:col: message. It checks what run checks before it sends
anything, with the same load flags (--clients, --duration, --rate,
--max-clients), including whether this machine can hold the load (open
files, memory). A grpc: step without protos: is checked against a schema
only with --reflect, which asks its target's server reflection (as run
does before it sends); without it validate names the steps it could not
check. Exit 0 when the plan is good, 2 otherwise.`,
		Example: `  fuka validate examples/shop.yaml
  fuka validate examples/shop.yaml --clients 100 --duration 10m
  fuka validate examples/grpc.yaml --reflect`,
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
			unchecked := c.Prog.UnresolvedGRPC()
			if reflect && len(unchecked) > 0 {
				ctx := cmd.Context()
				if ctx == nil {
					ctx = context.Background()
				}
				o, _ := f.options() // preflight checked them
				if err := run.ResolvePlanGRPC(ctx, c, o); err != nil {
					return planErrors(stdio, err)
				}
				unchecked = nil
			}
			fmt.Fprintf(stdio.Out, "%s: ok: %d scenario(s), %d request name(s), %d check(s), %d threshold(s)\n",
				args[0], len(c.Plan.Scenarios), len(c.Prog.Requests), len(c.Prog.Checks), len(c.Thresholds))
			if len(unchecked) > 0 {
				// Offline validation cannot see a method's schema without
				// protos:; saying "ok" alone would promise what run may refuse.
				fmt.Fprintf(stdio.Out, "%s: not checked: grpc: %s — no protos:, so the method and message were not checked against a schema; fuka run checks them against the server's reflection before sending anything, fuka validate --reflect asks the server now\n",
					args[0], strings.Join(unchecked, ", "))
			}
			return nil
		},
	}
	addLoadFlags(cmd.Flags(), &f)
	cmd.Flags().BoolVar(&reflect, "reflect", false, "check grpc: steps without protos: against their targets' server reflection (at most 10s per method)")
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
