// Package monitor watches what the target goes through while it is loaded:
// host resources (CPU, memory, swap, processes, TCP states, disk, network),
// one process, middleware counters (nginx, PostgreSQL, Redis, any
// Prometheus metric), and remote hosts through fuka's agent.
//
// Each source is a Sampler. A Monitor samples every source once a second,
// concurrently and each under its own deadline; a sampler that fails leaves
// a gap in its series and never stops the run or the other samplers (as
// node_exporter does). Samples land on the same 1-second timeline as the
// load's throughput and latency.
package monitor

import (
	"context"
	"time"
)

// Value is one measurement of a series, e.g. {"cpu.user_pct", 12.5}.
// Names are dot-separated, lower-case, and end in their unit where one
// applies: _pct, _bytes, _bytes_per_s, _per_s; counts have no suffix.
type Value struct {
	Name string
	V    float64
}

// Sampler is one source of values. Sample is called about once a second by
// one goroutine; a sampler that needs two readings to compute a rate (CPU,
// disk, network) keeps the previous one and returns nothing the first time.
type Sampler interface {
	// Name identifies the source in series names and errors, e.g. "local",
	// "nginx", "agent 10.0.0.5:9810".
	Name() string
	Sample(ctx context.Context) ([]Value, error)
}

// Point is every value sampled at one tick.
type Point struct {
	At     time.Duration      // from the run's start
	Values map[string]float64 // series name -> value; a failed sampler's series are absent (a gap)
}

// Failure is a sampler error at a tick, kept so the report can say why a
// series has gaps.
type Failure struct {
	At      time.Duration
	Sampler string
	Err     string
}
