package scenario_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestDefaultHeaderFromData: a data column used only in defaults.headers
// takes a row each iteration, like one used in a step.
func TestDefaultHeaderFromData(t *testing.T) {
	seen := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { seen.add(r.Header.Get("X-User")) })
	rows, names := csvRows(3)
	runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
defaults:
  headers: { X-User: "{{ users.name }}" }
data:
  users: { csv: users.csv }
scenarios:
  s:
    steps: [ { get: /a } ]
load: { clients: 1, iterations: 3 }
`, map[string]string{"users.csv": rows}))
	for _, n := range names {
		if got := seen.count(n); got != 1 {
			t.Errorf("X-User %s arrived %d times, want once (all: %v)", n, got, seen.snapshot())
		}
	}
}

// TestDefaultThink: defaults.think pauses after each request that has no
// think step of its own after it.
func TestDefaultThink(t *testing.T) {
	var mu sync.Mutex
	at := map[string]time.Time{}
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at[r.URL.Path] = time.Now()
		mu.Unlock()
	})
	start := time.Now()
	runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
defaults: { think: 200ms }
scenarios:
  s:
    steps:
      - get: /a
      - get: /b
      - think: 10ms
      - get: /c
load: { clients: 1, iterations: 1 }
`, nil))
	took := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 3 {
		t.Fatalf("requests at %v, want /a, /b and /c", at)
	}
	if d := at["/b"].Sub(at["/a"]); d < 200*time.Millisecond {
		t.Errorf("/a to /b: %v, want the default think of 200ms", d)
	}
	// The step's own think replaces the default (generous bound: slow CI).
	if d := at["/c"].Sub(at["/b"]); d < 10*time.Millisecond || d > 180*time.Millisecond {
		t.Errorf("/b to /c: %v, want the step's 10ms think, not the default", d)
	}
	// The last request pauses too, before the next iteration would start.
	if took < 410*time.Millisecond {
		t.Errorf("the iteration took %v, want >= 200ms + 10ms + 200ms", took)
	}
}
