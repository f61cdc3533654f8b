package engine

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// okResponse is what the cheap server answers to every request.
const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// cheapServer is a minimal HTTP/1.1 server for bodiless requests: it counts
// request ends ("\r\n\r\n") in what it reads and writes one fixed response
// per request. It allocates nothing per request, so the process's allocation
// count measures the engine alone.
func cheapServer(tb testing.TB) string {
	tb.Helper()
	srv := newRawServer(tb, func(_ *rawServer, c net.Conn) {
		buf := make([]byte, 64<<10)
		out := make([]byte, 0, 64<<10)
		const end = "\r\n\r\n"
		m := 0 // bytes of end matched so far, across reads
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			out = out[:0]
			for _, ch := range buf[:n] {
				switch {
				case ch == end[m]:
					if m++; m == len(end) {
						out = append(out, okResponse...)
						m = 0
					}
				case ch == '\r':
					m = 1
				default:
					m = 0
				}
			}
			if len(out) > 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}
	})
	return srv.URL()
}

// BenchmarkFastPathGET runs b.N requests through the fast path's closed
// model (16 clients) against the cheap server; allocs/op is the engine's
// allocation per request, setup included (it vanishes as b.N grows).
func BenchmarkFastPathGET(b *testing.B) { benchGET(b, transports[0], false) }

// BenchmarkPhases is the cost of timing phases (Config.Phases) on each
// transport: compare phases=off with phases=on (bench/README.md). Besides
// ns/op it reports cpu-ns/op, the process's CPU time per request (the
// in-process server's included), steadier than wall time on a busy machine.
func BenchmarkPhases(b *testing.B) {
	for _, tr := range transports {
		for _, on := range []bool{false, true} {
			name := tr.name + "/phases=off"
			if on {
				name = tr.name + "/phases=on"
			}
			b.Run(strings.ReplaceAll(name, "net/http", "nethttp"), func(b *testing.B) { benchGET(b, tr, on) })
		}
	}
}

// BenchmarkLease is the cost of a distributed worker's lease, checked
// before each request's first byte is written: compare lease=off with
// lease=on (a lease that holds for the whole run) by cpu-ns/op.
func BenchmarkLease(b *testing.B) {
	for _, tr := range transports {
		for _, on := range []bool{false, true} {
			name := fmt.Sprintf("%s/lease=%v", strings.ReplaceAll(tr.name, "net/http", "nethttp"), map[bool]string{false: "off", true: "on"}[on])
			b.Run(name, func(b *testing.B) {
				var lease *Lease
				if on {
					lease = NewLease()
					lease.Extend(time.Now().Add(time.Hour))
				}
				benchGETLease(b, tr, false, lease)
			})
		}
	}
}

func benchGET(b *testing.B, tr transport, phases bool) { benchGETLease(b, tr, phases, nil) }

func benchGETLease(b *testing.B, tr transport, phases bool, lease *Lease) {
	url := cheapServer(b)
	req := newReq(b, "GET", url+"/", nil, nil)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	res, err := Run(context.Background(), Config{ForceStd: tr.std, Phases: phases, Lease: lease, Load: Closed{Clients: 16, Requests: int64(b.N)}, Work: Request{Request: req, Timeout: 5 * time.Second, UserAgent: "fuka-bench"}})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	if err != nil {
		b.Fatal(err)
	}
	if want := map[bool]string{false: "fast", true: "net/http"}[tr.std]; res.Transport != want {
		b.Skipf("transport %q: want %s", res.Transport, want)
	}
	if tot := res.Run.Total; tot.Status[200] != int64(b.N) {
		b.Fatalf("200s = %d of %d (errors %v)", tot.Status[200], b.N, errorsOf(tot))
	}
}

// TestFastPathSteadyStateAllocs proves the fast path allocates nothing per
// request once running: two runs that differ only in request count differ
// in allocations by (almost) nothing, so the setup cost cancels out.
func TestFastPathSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the fast path is Linux-only")
	}
	for _, phases := range []bool{false, true} {
		t.Run(fmt.Sprintf("phases=%v", phases), func(t *testing.T) { steadyStateAllocs(t, phases, nil) })
	}
	// A distributed worker's lease, asked at each write, allocates nothing.
	t.Run("lease", func(t *testing.T) {
		lease := NewLease()
		lease.Extend(time.Now().Add(time.Hour))
		steadyStateAllocs(t, false, lease)
	})
}

func steadyStateAllocs(t *testing.T, phases bool, lease *Lease) {
	url := cheapServer(t)
	req := newReq(t, "GET", url+"/", nil, nil)
	mallocs := func(n int64) uint64 {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := Run(context.Background(), Config{Phases: phases, Lease: lease, Load: Closed{Clients: 16, Requests: n}, Work: Request{Request: req, Timeout: 5 * time.Second, UserAgent: "fuka-test"}})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if res.Transport != "fast" {
			t.Fatalf("transport %q, want fast", res.Transport)
		}
		if tot := res.Run.Total; tot.Status[200] != n {
			t.Fatalf("200s = %d of %d (errors %v)", tot.Status[200], n, errorsOf(tot))
		}
		return after.Mallocs - before.Mallocs
	}
	const small, large = 2000, 20000
	mallocs(small) // warm up: connections, buffers, lazily built runtime state
	best := 1e9
	// A busy machine can add a stray allocation or a ticker flush; the best
	// of three attempts is the engine's own cost.
	for range 3 {
		a, b := mallocs(small), mallocs(large)
		per := (float64(b) - float64(a)) / (large - small)
		t.Logf("mallocs: %d requests %d, %d requests %d: %.4f per request", small, a, large, b, per)
		best = min(best, per)
		if best < 0.01 {
			break
		}
	}
	if best >= 0.01 {
		t.Errorf("%.4f allocations per request in steady state, want 0", best)
	}
}
