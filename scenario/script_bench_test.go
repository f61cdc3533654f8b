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

// The budget for scripts: the 3-step login flow of the scenario
// benchmark (../shared/bench/scenario: fuka-plan.yaml) written as a script
// costs at most 2× the YAML plan's CPU per request. Both run one client's
// Iterate against the same in-process server, which answers as that
// benchmark's nginx does; compare cpu-ns/req and allocs/req, do not assert
// (run: go test ./scenario -run '^$' -bench LoginFlow -benchtime 3s).

const benchFlowYAML = `
base_url: BASE
scenarios:
  flow:
    steps:
      - post: /login
        name: login
        json: { user: "u{{ randInt 1 1000 }}", pass: "x" }
        extract: { token: "json:token" }
        check: { status: 200 }
        abort_on_fail: true
      - get: /me
        name: me
        headers: { Authorization: "Bearer {{ token }}" }
        check: { status: 200 }
      - get: "/items?page={{ randInt 1 100 }}"
        name: items
        check: { body_contains: items }
load: { clients: 1, iterations: 1 }
`

const benchFlowScriptPlan = `
base_url: BASE
scenarios:
  flow:
    script: flow.star
load: { clients: 1, iterations: 1 }
`

const benchFlowScript = `
def flow(ctx):
    r = http.post("/login", name="login", json={"user": "u%d" % random.randint(1, 1000), "pass": "x"})
    if not check(r, status=200):
        return
    token = r.json()["token"]
    r = http.get("/me", name="me", headers={"Authorization": "Bearer " + token})
    check(r, status=200)
    r = http.get("/items", name="items", query={"page": random.randint(1, 100)})
    check(r, body_contains="items")
`

func BenchmarkLoginFlowYAML(b *testing.B) { benchFlow(b, benchFlowYAML, nil) }
func BenchmarkLoginFlowScript(b *testing.B) {
	benchFlow(b, benchFlowScriptPlan, map[string]string{"flow.star": benchFlowScript})
}

// benchFlow runs one client of a plan whose iteration is the login flow.
func benchFlow(b *testing.B, src string, files map[string]string) {
	login := []byte(`{"token":"0123456789abcdef0123456789abcdef","token_type":"Bearer","expires_in":3600,"user":{"id":42,"roles":["customer"]},"issued_at":"2026-01-01T00:00:00Z"}`)
	me := []byte(`{"id":42,"name":"Ada Example","email":"ada@example.com","plan":"pro","locale":"en-GB","created_at":"2024-03-01T12:00:00Z","features":["search","export","alerts"]}`)
	items := []byte(`{"page":7,"per_page":3,"total":300,"items":[{"id":1,"name":"widget","price":9.99},{"id":2,"name":"gadget","price":19.5},{"id":3,"name":"doohickey","price":4.25}]}`)
	srv := server(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/login":
			w.Write(login)
		case "/me":
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				w.WriteHeader(401)
				return
			}
			w.Write(me)
		default:
			w.Write(items)
		}
	})
	prog := compile(b, writePlan(b, srv.URL, src, files))
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
	reqs := float64(n) * 3
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/reqs, "ns/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/reqs, "cpu-ns/req")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/reqs, "allocs/req")
}
