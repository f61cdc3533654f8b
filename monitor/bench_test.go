package monitor

import (
	"context"
	"os"
	"testing"
)

// BenchmarkLocal is one tick of every local sampler on this host's /proc:
// the agent's cost per second.
func BenchmarkLocal(b *testing.B) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		b.Skip("no /proc")
	}
	for _, s := range Local("/proc") {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
