package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/demo"
)

func newDemo(stdio Stdio) *cobra.Command {
	var results, serve, serveGRPC string
	var short bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real load test against a built-in demo web app on 127.0.0.1",
		Long: `demo starts fuka's built-in demo shop API on 127.0.0.1 (fast, JSON, slow and
sometimes-failing endpoints, a WebSocket echo and chat room, and a gRPC
service on the same port) and runs four short loads against it, as a first
look at what fuka measures:

  1. closed model: 32 clients ramping up over 3s on GET /api/products, 10s;
  2. open model: arrivals ramping from 200/s to 2000/s over 8s on GET /flaky,
     which fails about 5% of the time;
  3. WebSocket: 20 clients in the chat room /ws/chat, each timing how long
     its own message takes to come back through the room, 8s (a plan);
  4. gRPC: 16 clients calling fuka.demo.Cart/Flaky, whose every 10th call
     is UNAVAILABLE, 8s.

Each summary is printed, and written under --results as an HTML report
(report.html) and JSON (summary.json), with the machine's resources on the
same timeline.`,
		Example: `  fuka demo
  fuka demo --results /tmp/fuka-demo
  fuka demo --serve 127.0.0.1:8080      # just the target (HTTP, ws:// and grpc:// on one port), for plans and your own attacks
  fuka demo --serve-grpc 127.0.0.1:9090 # only its gRPC service (fuka.demo.Cart, with reflection), on a port of its own (faster)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serveGRPC != "" && serve != "" {
				ctx, cancel := context.WithCancel(cmd.Context())
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- demo.ServeGRPC(ctx, serveGRPC, stdio.Err) }()
				err := demo.Serve(ctx, serve, stdio.Err)
				cancel()
				return errors.Join(err, <-done)
			}
			if serveGRPC != "" {
				return demo.ServeGRPC(cmd.Context(), serveGRPC, stdio.Err)
			}
			if serve != "" {
				return demo.Serve(cmd.Context(), serve, stdio.Err)
			}
			tour := demo.Tour{Results: results, Short: short, Fuka: func(ctx context.Context, args []string) error {
				cmd := newAttack(stdio)
				if args[0] == "run" {
					cmd = newRun(stdio)
				}
				cmd.SetArgs(args[1:])
				cmd.SetOut(stdio.Out)
				cmd.SetErr(stdio.Err)
				return cmd.ExecuteContext(ctx)
			}}
			return tour.Run(cmd.Context(), stdio.Out, stdio.Err)
		},
	}
	cmd.Flags().StringVar(&serve, "serve", "", "only serve the demo target on `ADDR` (e.g. 127.0.0.1:8080) until Ctrl-C: HTTP, WebSocket (/ws/echo, /ws/chat) and its gRPC service")
	cmd.Flags().StringVar(&serveGRPC, "serve-grpc", "", "only serve the demo's gRPC service, fuka.demo.Cart with server reflection, on `ADDR` of its own until Ctrl-C (--serve serves it on its port too)")
	cmd.Flags().StringVar(&results, "results", "fuka-results", "`DIR` for the reports")
	cmd.Flags().BoolVar(&short, "short", false, "a 1-second version of each load (for tests)")
	_ = cmd.Flags().MarkHidden("short")
	return cmd
}
