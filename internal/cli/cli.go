// Package cli is fuka's command line: the only place that reads flags,
// environment and signals, and the only place that picks exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/run"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitThresholds  = 1 // reserved: failed thresholds (plan files)
	ExitUsage       = 2 // usage or input error
	ExitAllFailed   = 3 // every request failed: nothing measured but the failure
	ExitDegraded    = 4 // a distributed run lost a worker: the results miss its share
	ExitInterrupted = 130
)

// Version is set at build time with -ldflags "-X github.com/fuka-load/fuka/internal/cli.Version=v1.2.3";
// otherwise it comes from the module build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Stdio is the process's standard streams, injected so tests run the CLI in process.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	// CPUs is how many CPUs the process may use (0: GOMAXPROCS): the
	// number of event loops, and what the generator-CPU warning measures
	// against (run.Spec.CPUs).
	CPUs int
	// StepSummary is $GITHUB_STEP_SUMMARY ("" in tests): run.Outputs.
	StepSummary string
}

// exitError carries a chosen exit code after output was already written.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line args (args[0] is the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdio Stdio) int {
	root := newRoot(stdio)
	root.SetArgs(args[1:])
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Everything else is a usage or input error: a bad flag, URL, file or
	// argument, found before any request was sent.
	fmt.Fprintf(stdio.Err, "fuka: %v\n", err)
	return ExitUsage
}

// Run is main's body: it wires signals and the real stdio. The first SIGINT or
// SIGTERM cancels the context, so the run stops scheduling and still writes
// its results; a second one exits at once.
func Run() int {
	cpus := engine.SetProcs(os.Getenv("GOMAXPROCS") != "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		if readingInput.Load() {
			// Nothing was sent, and the read may be blocked where no
			// context reaches it (opening a FIFO waits for a writer).
			fmt.Fprintln(os.Stderr, "\nfuka: interrupted before the load started; nothing was sent")
			os.Exit(ExitInterrupted)
		}
		fmt.Fprintln(os.Stderr, "\nfuka: interrupted: stopping, finishing in-flight requests (Ctrl-C again to quit now)")
		cancel()
		<-sigs
		run.RemoveTemps() // no half-written results file is left behind
		os.Exit(ExitInterrupted)
	}()
	return Main(ctx, os.Args, Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, CPUs: cpus, StepSummary: os.Getenv("GITHUB_STEP_SUMMARY")})
}

// readingInput is set while a command that sends load reads its input
// (the plan, its data and body files, --body-file) and prepares, before
// the load starts: a signal then has nothing to stop gracefully, so the
// first one ends the process at once (Run). The run clears it when the
// load starts (run.Spec.Loading).
var readingInput atomic.Bool

func newRoot(stdio Stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "fuka",
		Short: "fuka (負荷, \"load\") — load testing for the people who keep services up",
		Long: `fuka generates realistic HTTP load and measures it truthfully
(HDR latency histograms, coordinated-omission aware open model).

Exit codes: 0 ok, 1 thresholds failed, 2 usage or input error, 3 every
request failed, 4 a distributed run lost a worker (degraded), 130 interrupted.`,
		Example: `  fuka demo                                   # a real load test against a built-in target
  fuka attack http://127.0.0.1:8080/ -c 64 -d 30s
  fuka attack http://127.0.0.1:8080/api --rate 100:30s,2000:1m -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Subcommands without their own FlagErrorFunc use their parent's.
	root.SetFlagErrorFunc(suggestFlag)
	root.AddCommand(newAttack(stdio), newRun(stdio), newValidate(stdio), newInit(stdio), newDemo(stdio), newAgent(stdio), newImport(stdio), newImportResults(stdio), newCapacity(stdio), newRuns(stdio), newReport(stdio), newCompare(stdio), newWorker(stdio), newCerts(stdio), newVersion(stdio))
	return root
}

func newVersion(stdio Stdio) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print fuka's version",
		Example: "  fuka version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdio.Out, "fuka %s\n", version())
			return nil
		},
	}
}
