package monitor

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
)

// Load samples /proc/loadavg: load.1m, load.5m, load.15m (run-queue
// averages), procs.running (runnable tasks now) and procs.total (tasks:
// processes and threads).
type Load struct{ root string }

var _ Sampler = (*Load)(nil)

// NewLoad returns a Load sampler reading procfs at root.
func NewLoad(root string) *Load { return &Load{root: procRoot(root)} }

// Name implements Sampler.
func (*Load) Name() string { return "load" }

// Sample implements Sampler.
func (l *Load) Sample(context.Context) ([]Value, error) {
	b, err := readProc(l.root, "loadavg")
	if err != nil {
		return nil, err
	}
	return parseLoadavg(b)
}

// parseLoadavg parses "0.20 0.18 0.12 1/80 11206".
func parseLoadavg(b []byte) ([]Value, error) {
	f := bytes.Fields(b)
	if len(f) < 4 {
		return nil, fmt.Errorf("/proc/loadavg: %d fields, want 5", len(f))
	}
	vals := make([]Value, 0, 5)
	for i, name := range []string{"load.1m", "load.5m", "load.15m"} {
		v, err := strconv.ParseFloat(string(f[i]), 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/loadavg: %s: %w", name, err)
		}
		vals = append(vals, Value{name, v})
	}
	running, total, found := bytes.Cut(f[3], []byte("/"))
	if !found {
		return nil, fmt.Errorf("/proc/loadavg: %q is not running/total", f[3])
	}
	n, err := parseUints("/proc/loadavg: procs", [][]byte{running, total})
	if err != nil {
		return nil, err
	}
	return append(vals, Value{"procs.running", float64(n[0])}, Value{"procs.total", float64(n[1])}), nil
}
