package cli

import (
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/cluster"
	"github.com/fuka-load/fuka/run"
)

func newWorker(stdio Stdio) *cobra.Command {
	var w cluster.Worker // the flags set its name and dial timeout
	var controller, listen string
	var quiet bool
	var tls tlsFlags
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
			if (controller == "") == (listen == "") {
				return errors.New("give one of --controller HOST:PORT (dial a controller) or --listen ADDR (wait for controllers)")
			}
			id, err := tls.identity(stdio, cluster.RoleWorker, controller+listen)
			if err != nil {
				return err
			}
			w.Version, w.CPUs, w.Identity, w.Log = version(), stdio.CPUs, id, run.LineLogger(stdio.Err, slog.LevelInfo)
			if quiet {
				w.Log = run.LineLogger(stdio.Err, slog.LevelWarn)
			}
			interrupted, err := run.Work(cmd.Context(), &w, controller, listen)
			if interrupted {
				return exitError{ExitInterrupted}
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&controller, "controller", "", "dial the controller at `HOST:PORT` and run its job")
	fl.StringVar(&listen, "listen", "", "wait for controllers on `ADDR` (e.g. :7701)")
	fl.StringVar(&w.Name, "name", "", "this worker's name in reports (default: the host name)")
	fl.DurationVar(&w.DialTimeout, "connect-timeout", time.Minute, "with --controller: how long to keep trying to reach it")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print only warnings")
	addTLSFlags(fl, &tls)
	return cmd
}
