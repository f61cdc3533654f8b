package scenario_test

import (
	"context"
	"testing"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/scenario"
)

// runFlowPhases is runFlow with the phases timed (--phases).
func runFlowPhases(t testing.TB, srv *rawServer, iterations int) *engine.Result {
	prog := compile(t, writePlan(t, srv.url(), flowPlan, nil))
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 2, UserAgent: "fuka-test", Phases: true}, false)
	defer runner.Close()
	cfg := engine.Config{Phases: true, Load: engine.Closed{Clients: 1, Iterations: iterations}, Work: engine.Plan{Scenario: runner}, Loops: 1}
	res, err := engine.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLoopFlowAllocsPhases: timing the phases adds no allocation to a
// plan's requests on the event loops (TestLoopFlowAllocs' bound holds),
// and every response is broken down.
func TestLoopFlowAllocsPhases(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	srv := startRawServer(t)
	const short, long = 200, 2200
	var res *engine.Result
	a := testing.AllocsPerRun(1, func() { res = runFlowPhases(t, srv, short) })
	if res.Transport != "fast" {
		t.Skipf("transport %s: no event loops here", res.Transport)
	}
	b := testing.AllocsPerRun(1, func() { res = runFlowPhases(t, srv, long) })
	tot := res.Run.Total
	if tot.Failed != 0 || tot.Requests != 3*long || tot.Phases.Empty() || tot.Phases.Timed != 3*long || tot.Phases.New != 1 {
		t.Fatalf("requests %d (%d failed), phases %+v; want %d, all timed, 1 new connection", tot.Requests, tot.Failed, tot.Phases, 3*long)
	}
	per := (b - a) / float64(3*(long-short))
	t.Logf("allocations: %.0f for %d iterations, %.0f for %d: %.3f per request", a, short, b, long, per)
	if per > 3 {
		t.Errorf("%.2f allocations per request on the event loops with phases, want at most 3", per)
	}
}

// BenchmarkLoopFlowPhases is BenchmarkLoopFlow with the phases timed:
// compare the two (bench/README.md).
func BenchmarkLoopFlowPhases(b *testing.B) {
	srv := startRawServer(b)
	runFlowPhases(b, srv, 10) // compile, warm up
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	res := runFlowPhases(b, srv, max(b.N/3, 1))
	cpu := cpuTime() - cpu0
	b.StopTimer()
	n := float64(res.Run.Total.Requests)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/req")
	b.ReportMetric(0, "ns/op")
}
