package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
)

// A run is a load (how starts are paced) and a work (what each start
// does): here 4 clients of the closed model send 100 requests in all,
// then 50 starts a second of the open model for half a second.
func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	req, err := client.NewRequest("GET", srv.URL+"/", nil, nil)
	if err != nil {
		panic(err)
	}
	work := engine.Request{Request: req, Timeout: 5 * time.Second}
	rate, err := load.ParseRate("50", 500*time.Millisecond)
	if err != nil {
		panic(err)
	}
	for _, l := range []engine.Load{
		engine.Closed{Clients: 4, Requests: 100},
		engine.Open{Rate: rate, MaxClients: 10},
	} {
		cfg := engine.Config{Load: l, Work: work}
		res, err := engine.Run(context.Background(), cfg)
		if err != nil {
			panic(err)
		}
		names, _ := cfg.Names()
		tot := res.Run.Total
		// A start of the open model that finds no free client is dropped,
		// never delayed: sent and dropped starts add up to those due.
		fmt.Printf("%s: %q, %d sent or dropped, %d failed\n", l, names, tot.Requests+res.Run.Dropped, tot.Failed)
	}
	// Output:
	// closed model, 4 clients: ["GET /"], 100 sent or dropped, 0 failed
	// open model, rate 50:0s,50:500ms, max 10 clients: ["GET /"], 25 sent or dropped, 0 failed
}
