package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"
)

// Tour is `fuka demo`: the demo target on 127.0.0.1 and two short loads
// against it, each with its results folder under Results.
type Tour struct {
	Results string // the folder the tour's demo-TIME folder goes in
	Short   bool   // a 2-second version (for tests)
	// Attack runs `fuka attack` with args (a URL, load flags, --results
	// and --monitor local), printing its summary.
	Attack func(ctx context.Context, args []string) error
}

// Run starts the target, runs the loads one after the other and says
// where the results are and what to try next. It stops early, without an
// error, when ctx ends.
func (t Tour) Run(ctx context.Context, stdout, stderr io.Writer) error {
	srv, err := Start(ctx, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	defer srv.Close()
	dir := filepath.Join(t.Results, "demo-"+time.Now().Format("20060102-150405"))
	fmt.Fprintf(stderr, "demo target listening on %s\n\n", srv.URL())

	closedDur, ramp, rate := "10s", "3s", "200:0s,2000:8s"
	if t.Short {
		closedDur, ramp, rate = "1s", "500ms", "200:0s,400:1s"
	}
	phases := []struct {
		name string
		args []string
	}{
		{"closed", []string{"-c", "32", "--ramp-up", ramp, "-d", closedDur, srv.URL() + "/api/products?page=2"}},
		{"open", []string{"--rate", rate, "--max-clients", "500", srv.URL() + "/flaky"}},
	}
	for i, ph := range phases {
		if ctx.Err() != nil {
			break
		}
		err := t.Attack(ctx, append(ph.args, "--results", filepath.Join(dir, ph.name), "--monitor", "local"))
		if i < len(phases)-1 {
			fmt.Fprintln(stdout)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nthe demo target served %d requests; results are in %s\n", srv.Served(), dir)
	// The tour's own target is gone when it returns: the hint starts one
	// that stays, so the attack it suggests has something to reach.
	fmt.Fprint(stdout, Next)
	return nil
}

// Next is what the demo suggests next. Each "  fuka ..." line is a command
// that works as printed, in that order (internal/cli's TestDemo runs them).
const Next = `next: keep the demo target up, and load it yourself from another terminal:
  fuka demo --serve 127.0.0.1:8080
  fuka attack http://127.0.0.1:8080/api/products -c 64 -d 30s
then point fuka attack at your own service's URL.
`

// Serve serves the demo target on addr until ctx ends (Ctrl-C).
func Serve(ctx context.Context, addr string, stderr io.Writer) error {
	srv, err := Start(ctx, addr)
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	fmt.Fprintf(stderr, "demo target listening on %s (Ctrl-C to stop)\n", srv.URL())
	<-ctx.Done()
	srv.Close()
	fmt.Fprintf(stderr, "demo target served %d requests\n", srv.Served())
	return nil
}
