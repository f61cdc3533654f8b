package scenario_test

import (
	"net/http"
	"testing"
	"time"
)

// TestOpenModel: 100 starts a second for one second, at most 10 clients:
// about 100 scheduled starts, each started iteration runs all its steps,
// and the requests are the steps times the iterations.
func TestOpenModel(t *testing.T) {
	seen := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		seen.add(r.URL.Path)
		w.Write([]byte(`{"id":7}`))
	})
	start := time.Now()
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /a
        extract: { id: "json:id" }
      - post: /b/{{ id }}
        json: { n: "{{ randInt 1 9 }}" }
      - get: /c
load:
  rate: [ { target: 100, over: 0s }, { target: 100, over: 1s } ]
  max_clients: 10
`, nil))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a 1s open-model run took %v", d)
	}
	if res.Scheduled < 95 || res.Scheduled > 101 {
		t.Errorf("scheduled %d starts, want ~100", res.Scheduled)
	}
	started := res.Scheduled - res.Run.Dropped
	got := seen.snapshot()
	if int64(got["/a"]) != started {
		t.Errorf("%d iterations began (first step), want %d started (%d scheduled, %d dropped)",
			got["/a"], started, res.Scheduled, res.Run.Dropped)
	}
	// Every iteration that began completed: all three steps, once each.
	completed := int64(got["/c"])
	if int64(got["/b/7"]) != completed || int64(got["/a"]) != completed {
		t.Errorf("requests by step: %v; want the same count for each step", got)
	}
	if res.Run.Total.Requests != 3*completed {
		t.Errorf("requests %d, want 3 steps × %d completed iterations", res.Run.Total.Requests, completed)
	}
	if res.PeakClients > 10 {
		t.Errorf("peak clients %d, above max_clients 10", res.PeakClients)
	}
}
