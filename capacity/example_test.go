package capacity_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fuka-load/fuka/capacity"
)

func ExampleSearch() {
	slo, err := capacity.ParseSLO("p99 < 50ms, error_rate < 1%")
	if err != nil {
		fmt.Println(err)
		return
	}
	// A stand-in for the engine: a target that serves 400 requests a
	// second and queues the rest, so its latency climbs past 400/s.
	measure := func(_ context.Context, rate float64, _ time.Duration) (capacity.Result, error) {
		r := capacity.Result{P50MS: 1, P99MS: 3, Requests: int64(rate * 24), RPS: rate}
		if rate > 400 {
			r.P50MS, r.P99MS, r.RPS = 150, 300, 400
		}
		return r, nil
	}
	rep, err := capacity.Search(context.Background(), capacity.Config{SLO: slo, Min: 10, Precision: 0.1}, measure)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range rep.Steps {
		fmt.Printf("%s/s pass=%v\n", capacity.FormatRate(s.Rate), s.Pass)
	}
	fmt.Printf("answer %s/s, capacity in [%s, %s)/s\n", capacity.FormatRate(rep.Answer), capacity.FormatRate(rep.Answer), capacity.FormatRate(rep.FailedAt))
	fmt.Printf("knee %s/s, limit %s\n", capacity.FormatRate(rep.Knee.Rate), rep.Limit)
	// Output:
	// 10/s pass=true
	// 20/s pass=true
	// 40/s pass=true
	// 80/s pass=true
	// 160/s pass=true
	// 320/s pass=true
	// 640/s pass=false
	// 480/s pass=false
	// 400/s pass=true
	// 440/s pass=false
	// answer 400/s, capacity in [400, 440)/s
	// knee 440/s, limit latency
}
