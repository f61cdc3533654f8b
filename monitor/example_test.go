package monitor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fuka-load/fuka/monitor"
)

// Sample a host's load and memory (here a fixture instead of /proc) and
// summarise each series.
func Example() {
	samplers := []monitor.Sampler{monitor.NewLoad("testdata/proc1"), monitor.NewMemory("testdata/proc1")}
	m := monitor.New(samplers, 100*time.Millisecond, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	m.Run(ctx, time.Now())
	for _, st := range monitor.Summarize(m.Points()) {
		if st.Name == "load.1m" || st.Name == "mem.used_bytes" {
			fmt.Printf("%s peak %g mean %g\n", st.Name, st.Peak, st.Mean)
		}
	}
	// Output:
	// load.1m peak 0.5 mean 0.5
	// mem.used_bytes peak 4.096e+09 mean 4.096e+09
}

func ExampleSummarize() {
	points := []monitor.Point{
		{At: 0, Values: map[string]float64{"cpu.user_pct": 10}},
		{At: time.Second}, // a gap: the sampler failed
		{At: 2 * time.Second, Values: map[string]float64{"cpu.user_pct": 30}},
	}
	for _, st := range monitor.Summarize(points) {
		fmt.Printf("%s peak %g mean %g over %d samples\n", st.Name, st.Peak, st.Mean, st.Samples)
	}
	// Output: cpu.user_pct peak 30 mean 20 over 2 samples
}
