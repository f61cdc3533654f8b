package scenario_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/scenario"
)

// The budget: a 3-step scenario with templating, JSON extraction and
// a check costs at most 1.5× the generator CPU per request of a plain GET.
// Both benchmarks run one client's Iterate against the same minimal local
// server and report ns/req (wall), cpu-ns/req (process CPU time, steadier
// on a busy machine) and allocs/req; compare them, do not assert. The
// server runs in the same process, so its CPU and allocations are included
// in both.

const benchPlain = `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /items
load: { clients: 1, iterations: 1 }
`

const bench3Steps = `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /items?page={{ randInt 1 10 }}
        extract: { id: "json:id" }
        check: { status: 200 }
      - post: /cart
        json: { id: "{{ id }}", qty: 1 }
      - get: /items/{{ id }}
load: { clients: 1, iterations: 1 }
`

// A 5-turn loop costs about what the same steps unrolled cost: the loop
// adds a counter, not parsing or lookups (issue 12).
const benchLoop5 = `
base_url: BASE
scenarios:
  s:
    steps:
      - loop: { count: 5 }
        steps:
          - get: /items?page={{ randInt 1 10 }}
            extract: { id: "json:id" }
            check: { status: 200 }
load: { clients: 1, iterations: 1 }
`

var benchUnrolled5 = `
base_url: BASE
scenarios:
  s:
    steps:` + strings.Repeat(`
      - get: /items?page={{ randInt 1 10 }}
        extract: { id: "json:id" }
        check: { status: 200 }`, 5) + `
load: { clients: 1, iterations: 1 }
`

// The same 5 turns as a while over a variable set: from an expression:
// two expressions a turn, compiled once, run on the client's reused VM.
const benchWhile5 = `
base_url: BASE
scenarios:
  s:
    steps:
      - set: { n: '{{ 0 }}' }
      - loop: { while: '{{ n < 5 && status != 500 }}', max: 10 }
        steps:
          - get: /items?page={{ randInt 1 10 }}
            extract: { id: "json:id" }
            check: { status: 200 }
          - set: { n: '{{ n + 1 }}' }
load: { clients: 1, iterations: 1 }
`

func BenchmarkLoop5(b *testing.B)     { benchScenario(b, benchLoop5, 5) }
func BenchmarkUnrolled5(b *testing.B) { benchScenario(b, benchUnrolled5, 5) }
func BenchmarkWhile5(b *testing.B)    { benchScenario(b, benchWhile5, 5) }

func BenchmarkPlainGET(b *testing.B)       { benchScenario(b, benchPlain, 1) }
func BenchmarkScenario3Steps(b *testing.B) { benchScenario(b, bench3Steps, 3) }

func benchScenario(b *testing.B, src string, steps int) {
	body := []byte(`{"id":"7","name":"widget","price":9.5}`)
	srv := server(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	prog := compile(b, writePlan(b, srv.URL, src, nil))
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 1, UserAgent: "fuka-bench"}, false)
	defer runner.Close()
	rec := metrics.NewRecorder(len(runner.Names())).WithChecks(len(runner.CheckNames()))
	cl := runner.NewClient(0, rec, nil)
	ctx := context.Background()
	cl.Iterate(ctx, 0, time.Now()) // connect outside the measurement

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	for b.Loop() {
		cl.Iterate(ctx, n, time.Now())
		n++
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	reqs := float64(n) * float64(steps)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/reqs, "ns/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/reqs, "cpu-ns/req")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/reqs, "allocs/req")
}
