//go:build !unix

package scenario_test

import "time"

// cpuTime is not measured here; benchmarks then report 0 cpu-ns/req.
func cpuTime() time.Duration { return 0 }
