package history_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/fuka-load/fuka/history"
	"github.com/fuka-load/fuka/report"
)

func Example() {
	dir, _ := os.MkdirTemp("", "fuka-history")
	defer os.RemoveAll(dir)
	s, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	run := func(p95 float64) *report.Summary {
		return &report.Summary{
			Name: "shop", Model: report.ModelClosed, Requests: 1000, RPS: 100,
			Started: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
			Latency: report.Latency{P95MS: p95, P99MS: 2 * p95},
		}
	}
	if _, err := s.Save(run(10), history.StatusCompleted); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Save(run(12), history.StatusCompleted); err != nil {
		log.Fatal(err)
	}

	// The new run against the last completed one before it.
	newest, _ := s.Latest("shop", "")
	baseline, _ := s.LatestBefore("shop", history.StatusCompleted, newest)
	a, ra, _ := s.Get(baseline)
	b, rb, _ := s.Get(newest)
	c := history.Compare(a, b, ra, rb, history.DefaultNoise)
	for m := range history.NumMetrics {
		fmt.Printf("%-7s %+6.1f%%  %s\n", m, c.Rows[0].DeltaPct[m], c.Rows[0].Verdict[m])
	}
	fmt.Println(c.Regressions, "regressions")
	// Output:
	// p95      +20.0%  regressed
	// p99      +20.0%  regressed
	// rps       +0.0%  same
	// error %   +0.0%  same
	// 2 regressions
}
