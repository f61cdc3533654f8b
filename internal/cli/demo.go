package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/demo"
)

func newDemo(stdio Stdio) *cobra.Command {
	var results, serve string
	var short bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real load test against a built-in demo web app on 127.0.0.1",
		Long: `demo starts fuka's built-in demo shop API on 127.0.0.1 (fast, JSON, slow and
sometimes-failing endpoints) and runs two short loads against it, as a first
look at what fuka measures:

  1. closed model: 32 clients ramping up over 3s on GET /api/products, 10s;
  2. open model: arrivals ramping from 200/s to 2000/s over 8s on GET /flaky,
     which fails about 5% of the time.

Each summary is printed, and written under --results as an HTML report
(report.html) and JSON (summary.json), with the machine's resources on the
same timeline.`,
		Example: `  fuka demo
  fuka demo --results /tmp/fuka-demo
  fuka demo --serve 127.0.0.1:8080      # just the target, for plans and your own attacks`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serve != "" {
				return serveDemo(cmd.Context(), stdio, serve)
			}
			return runDemo(cmd.Context(), stdio, results, short)
		},
	}
	cmd.Flags().StringVar(&serve, "serve", "", "only serve the demo target on `ADDR` (e.g. 127.0.0.1:8080) until Ctrl-C")
	cmd.Flags().StringVar(&results, "results", "fuka-results", "`DIR` for the reports")
	cmd.Flags().BoolVar(&short, "short", false, "a 2-second version (for tests)")
	_ = cmd.Flags().MarkHidden("short")
	return cmd
}

func runDemo(ctx context.Context, stdio Stdio, results string, short bool) error {
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	defer srv.Close()
	dir := filepath.Join(results, "demo-"+time.Now().Format("20060102-150405"))
	fmt.Fprintf(stdio.Err, "demo target listening on %s\n\n", srv.URL())

	closedDur, ramp, rate := "10s", "3s", "200:0s,2000:8s"
	if short {
		closedDur, ramp, rate = "1s", "500ms", "200:0s,400:1s"
	}
	phases := []struct {
		file string
		args []string
	}{
		{"closed", []string{"-c", "32", "--ramp-up", ramp, "-d", closedDur, srv.URL() + "/api/products?page=2"}},
		{"open", []string{"--rate", rate, "--max-clients", "500", srv.URL() + "/flaky"}},
	}
	for i, ph := range phases {
		if ctx.Err() != nil {
			break
		}
		cmd := newAttack(stdio)
		out := filepath.Join(dir, ph.file)
		cmd.SetArgs(append(ph.args, "--results", out, "--monitor", "local"))
		cmd.SetOut(stdio.Out)
		cmd.SetErr(stdio.Err)
		err := cmd.ExecuteContext(ctx)
		if i < len(phases)-1 {
			fmt.Fprintln(stdio.Out)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdio.Out, "\nthe demo target served %d requests; results are in %s\n", srv.Served(), dir)
	// The demo's own target is gone when it returns: the hint starts one
	// that stays, so the attack it suggests has something to reach.
	fmt.Fprint(stdio.Out, demoNext)
	return nil
}

// demoNext is what the demo suggests next. Each "  fuka ..." line is a
// command that works as printed, in that order (TestDemo runs them).
const demoNext = `next: keep the demo target up, and load it yourself from another terminal:
  fuka demo --serve 127.0.0.1:8080
  fuka attack http://127.0.0.1:8080/api/products -c 64 -d 30s
then point fuka attack at your own service's URL.
`

// serveDemo serves the demo target until the context ends (Ctrl-C).
func serveDemo(ctx context.Context, stdio Stdio, addr string) error {
	srv, err := demo.Start(ctx, addr)
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	fmt.Fprintf(stdio.Err, "demo target listening on %s (Ctrl-C to stop)\n", srv.URL())
	<-ctx.Done()
	srv.Close()
	fmt.Fprintf(stdio.Err, "demo target served %d requests\n", srv.Served())
	return nil
}
