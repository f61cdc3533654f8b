package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
)

// TestSharesAddUp: workers that each run their Share of a load together run
// exactly the whole load, on both transports.
func TestSharesAddUp(t *testing.T) {
	srv, served := countingServer(t, 0)
	rate, err := load.ParseRate("300", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, requests, scheduled int64)
	}{
		{"closed request count", Config{Clients: 5, Requests: 1000}, func(t *testing.T, req, _ int64) {
			if req != 1000 {
				t.Errorf("requests %d, want 1000", req)
			}
		}},
		{"open rate", Config{Rate: &rate, MaxClients: 30}, func(t *testing.T, req, sched int64) {
			if sched != 300 {
				t.Errorf("scheduled %d, want 300", sched)
			}
		}},
	}
	for _, std := range []bool{false, true} {
		for _, tc := range cases {
			for _, n := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/std=%v/%d workers", tc.name, std, n), func(t *testing.T) {
					before := served.Load()
					var mu sync.Mutex
					var req, sched int64
					var wg sync.WaitGroup
					for w := 0; w < n; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							r, err := client.NewRequest("GET", srv.URL+"/", nil, nil)
							if err != nil {
								t.Error(err)
								return
							}
							cfg := tc.cfg
							cfg.Request, cfg.Timeout, cfg.ForceStd = r, 5*time.Second, std
							cfg.Share = Share{Index: w, Count: n}
							ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
							defer cancel()
							res, err := Run(ctx, cfg)
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							req += res.Run.Total.Requests
							sched += res.Scheduled
							mu.Unlock()
						}()
					}
					wg.Wait()
					tc.check(t, req, sched)
					if got := served.Load() - before; got != req {
						t.Errorf("server counted %d, workers %d", got, req)
					}
				})
			}
		}
	}
}
