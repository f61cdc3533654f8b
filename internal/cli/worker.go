package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/cluster"
	"github.com/fuka-load/fuka/run"
)

type workerFlags struct {
	controller string
	listen     string
	name       string
	timeout    time.Duration
	quiet      bool
	tls        tlsFlags
}

func newWorker(stdio Stdio) *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker (--controller HOST:PORT | --listen ADDR)",
		Short: "Send a share of a distributed run's load, as a controller assigns it",
		Long: `worker runs the part of a load a controller hands it: the controller is a
` + "`fuka attack` or `fuka run` with --workers N (or --worker HOST:PORT)" + `. The
controller gives each worker its exact share (clients, rate, unique data rows)
and one start instant; the worker streams 1-second snapshots back.

--controller HOST:PORT dials the controller (retrying up to --connect-timeout),
runs its jobs (one run, or each step of a capacity search) and exits when the
controller is done. --listen ADDR waits for controllers to dial it and runs
their jobs, one controller at a time, until interrupted.

Controller and workers use mutual TLS: certificates from one CA (` + "`fuka certs`" + `),
the worker's with the worker role. A worker that loses its controller (broken
connection, or no heartbeat for 3 s) stops its load at once.

Controller and workers must run the same fuka version: a worker of another
version is refused, with a message naming both, and exits 2.`,
		Example: `  fuka worker --controller 10.0.0.5:7700 --certs-dir ./certs
  fuka worker --listen :7701 --certs-dir ./certs --name loadgen-2
  fuka worker --controller 127.0.0.1:7700 --insecure-no-tls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (f.controller == "") == (f.listen == "") {
				return errors.New("give one of --controller HOST:PORT (dial a controller) or --listen ADDR (wait for controllers)")
			}
			addr := f.controller + f.listen
			id, err := f.tls.identity(stdio, cluster.RoleWorker, addr)
			if err != nil {
				return err
			}
			name := f.name
			if name == "" {
				name, _ = os.Hostname()
			}
			level := slog.LevelInfo
			if f.quiet {
				level = slog.LevelWarn
			}
			log := run.LineLogger(stdio.Err, level).With("worker", name)
			w := &cluster.Worker{
				Name: name, Version: version(), Identity: id, Prepare: run.Prepare(version()),
				Log: log, DialTimeout: f.timeout,
			}
			ctx := cmd.Context()
			if f.listen != "" {
				ln, err := net.Listen("tcp", f.listen)
				if err != nil {
					return fmt.Errorf("--listen: %w", err)
				}
				log.Info("waiting for a controller", "listen", ln.Addr().String())
				return w.Serve(ctx, ln)
			}
			log.Info("connecting", "controller", f.controller)
			if err := w.Dial(ctx, f.controller); err != nil {
				if ctx.Err() != nil {
					return exitError{ExitInterrupted}
				}
				return err
			}
			if ctx.Err() != nil {
				// Interrupted mid-run: the final snapshot and Done went to
				// the controller, but the share is not complete.
				return exitError{ExitInterrupted}
			}
			log.Info("run done")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.controller, "controller", "", "dial the controller at `HOST:PORT` and run its job")
	fl.StringVar(&f.listen, "listen", "", "wait for controllers on `ADDR` (e.g. :7701)")
	fl.StringVar(&f.name, "name", "", "this worker's name in reports (default: the host name)")
	fl.DurationVar(&f.timeout, "connect-timeout", time.Minute, "with --controller: how long to keep trying to reach it")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only warnings")
	addTLSFlags(fl, &f.tls)
	return cmd
}
