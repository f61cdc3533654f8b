package scenario_test

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// TestChecksCounted: a check that fails on every other response is counted
// pass/fail by name, and the counts add up to the requests.
func TestChecksCounted(t *testing.T) {
	var n, ok200 atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(500)
			return
		}
		ok200.Add(1)
		w.Write([]byte(`{"ok":true}`))
	})
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /half
        name: half
        check:
          status: 200
          body_contains: ok
          max_latency: 5s
load: { clients: 3, iterations: 40 }
`, nil))
	const total = 3 * 40
	if got := requests(t, res.Run, "half"); got != total {
		t.Fatalf("requests %d, want %d", got, total)
	}
	passes := ok200.Load()
	for name, want := range map[string][2]int64{
		"half: status is 200":      {passes, total - passes},
		`half: body contains "ok"`: {passes, total - passes},
		"half: max_latency 5s":     {total, 0},
	} {
		if got := checkCount(t, res.Run, name); got != want {
			t.Errorf("%s: passes/fails %v, want %v", name, got, want)
		}
	}
	if passes != total/2 {
		t.Errorf("the server answered 200 %d times, want %d", passes, total/2)
	}
}

// TestAbortOnFail: a failed check with abort_on_fail ends the iteration, so
// the next step is not requested; without it the client goes on.
func TestAbortOnFail(t *testing.T) {
	for _, abort := range []bool{true, false} {
		name := map[bool]string{true: "abort_on_fail", false: "go on"}[abort]
		t.Run(name, func(t *testing.T) {
			var n, passed, next atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/first":
					if n.Add(1)%2 == 0 {
						w.WriteHeader(503)
						return
					}
					passed.Add(1)
				case "/next":
					next.Add(1)
				}
			})
			flag := "false"
			if abort {
				flag = "true"
			}
			res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /first
        check: { status: 200 }
        abort_on_fail: `+flag+`
      - get: /next
load: { clients: 2, iterations: 20 }
`, nil))
			const iterations = 2 * 20
			if got := n.Load(); got != iterations {
				t.Fatalf("first step requested %d times, want %d", got, iterations)
			}
			want := int64(iterations)
			if abort {
				want = passed.Load()
			}
			if got := next.Load(); got != want {
				t.Errorf("next step requested %d times, want %d (first step passed %d times)", got, want, passed.Load())
			}
			if c := checkCount(t, res.Run, "GET /first: status is 200"); c != [2]int64{passed.Load(), iterations - passed.Load()} {
				t.Errorf("check passes/fails %v, want [%d %d]", c, passed.Load(), iterations-passed.Load())
			}
		})
	}
}
