//go:build unix

// Package pausetest freezes a load generator in the middle of a run, as a
// stalled host or a garbage-collection pause would, so tests can check that
// open-model latency is measured from the intended start (no coordinated
// omission). The generator runs as a child process — the test binary
// re-executing one of its own tests — so SIGSTOP freezes it and not the
// target, which stays fast in the parent.
package pausetest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Child describes the child run: Test is the test function the child runs
// (it should skip unless its environment says it is the child), Env its
// extra environment, and Prefix the start of the one stdout line that
// carries its result.
type Child struct {
	Test   string
	Env    []string
	Prefix string
}

// Run starts the child, waits until served (the target's request count)
// reaches after, stops the child for pause, resumes it and returns the rest
// of its result line. It fails t if the child does not get that far within
// 10 s, fails, or prints no result line. The whole run is bounded to 30 s.
func Run(t *testing.T, c Child, served *atomic.Int64, after int64, pause time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+c.Test+"$", "-test.count=1", "-test.timeout=25s")
	cmd.Env = append(os.Environ(), c.Env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for served.Load() < after && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if served.Load() < after {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child served only %d requests in 10s; stderr:\n%s", served.Load(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause)
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var result string
	var got bool
	var all strings.Builder
	for l := range lines {
		all.WriteString(l + "\n")
		if s, ok := strings.CutPrefix(l, c.Prefix); ok {
			result, got = s, true
		}
	}
	if err := cmd.Wait(); err != nil || !got {
		t.Fatalf("child: %v (result read: %v)\nstdout:\n%s\nstderr:\n%s", err, got, all.String(), stderr.String())
	}
	return result
}
