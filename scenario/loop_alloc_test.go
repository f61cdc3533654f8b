package scenario_test

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/scenario"
)

// flowPlan is the 3-step flow (../shared/bench/scenario): a JSON
// login whose token is extracted, an authenticated GET with it, a random
// page with a body check.
const flowPlan = `
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

// rawServer is an HTTP/1.1 server for the flow that allocates nothing per
// request (a goroutine and two buffers per connection), so that what an
// allocation count measures is the generator. A /me without the token
// /login handed out gets a 401.
type rawServer struct {
	ln           net.Listener
	login, me, i []byte
}

func startRawServer(t testing.TB) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp := func(body string) []byte {
		return []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	s := &rawServer{ln: ln,
		login: resp(`{"token":"0123456789abcdef0123456789abcdef","a":1}`),
		me:    resp(`{"me":1}`),
		i:     resp(`{"items":[1,2,3,4]}`),
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10)
	have := 0
	for {
		end := bytes.Index(buf[:have], []byte("\r\n\r\n"))
		if end < 0 {
			if have == len(buf) {
				return
			}
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			continue
		}
		head := buf[:end]
		clen := 0
		if i := bytes.Index(head, []byte("Content-Length: ")); i >= 0 {
			j := i + len("Content-Length: ")
			for j < len(head) && head[j] >= '0' && head[j] <= '9' {
				clen = clen*10 + int(head[j]-'0')
				j++
			}
		}
		for have < end+4+clen {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
		}
		var resp []byte
		switch {
		case bytes.HasPrefix(head, []byte("POST /login ")):
			resp = s.login
		case bytes.HasPrefix(head, []byte("GET /me ")):
			if !bytes.Contains(head, []byte("\r\nAuthorization: Bearer 0123456789abcdef0123456789abcdef\r\n")) {
				resp = []byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
			} else {
				resp = s.me
			}
		default:
			resp = s.i
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
		used := end + 4 + clen
		have = copy(buf, buf[used:have])
	}
}

// runFlow runs iterations of flowPlan with one client against srv and
// returns the result.
func runFlow(t testing.TB, srv *rawServer, iterations int, std bool) *engine.Result {
	prog := compile(t, writePlan(t, srv.url(), flowPlan, nil))
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 2, UserAgent: "fuka-test"}, false)
	defer runner.Close()
	cfg := engine.Config{Load: engine.Closed{Clients: 1, Iterations: iterations}, Work: engine.Plan{Scenario: runner}, Loops: 1, ForceStd: std}
	res, err := engine.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLoopFlowAllocs: on the event loops, the 3-step flow costs at most 3
// allocations per request in the steady state (the bound; the
// token's string is one per iteration). The run's fixed costs (recorders,
// histograms, the loop) cancel out between a short and a long run.
func TestLoopFlowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	srv := startRawServer(t)
	const short, long = 200, 2200
	var res *engine.Result
	a := testing.AllocsPerRun(1, func() { res = runFlow(t, srv, short, false) })
	if res.Transport != "fast" {
		t.Skipf("transport %s: no event loops here", res.Transport)
	}
	b := testing.AllocsPerRun(1, func() { res = runFlow(t, srv, long, false) })
	if f := res.Run.Total.Failed; f != 0 || res.Run.Total.Requests != 3*long {
		t.Fatalf("requests %d (%d failed), want %d, none failed", res.Run.Total.Requests, f, 3*long)
	}
	per := (b - a) / float64(3*(long-short))
	t.Logf("allocations: %.0f for %d iterations, %.0f for %d: %.3f per request", a, short, b, long, per)
	if per > 3 {
		t.Errorf("%.2f allocations per request on the event loops, want at most 3", per)
	}
}

// BenchmarkLoopFlow and BenchmarkStdFlow run the 3-step flow with one
// client against the allocation-free server, on the event loops and on
// net/http: ns and allocations per request (the server's CPU included).
func BenchmarkLoopFlow(b *testing.B) { benchLoopFlow(b, false) }
func BenchmarkStdFlow(b *testing.B)  { benchLoopFlow(b, true) }

func benchLoopFlow(b *testing.B, std bool) {
	srv := startRawServer(b)
	runFlow(b, srv, 10, std) // compile, warm up
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	res := runFlow(b, srv, max(b.N/3, 1), std)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	n := float64(res.Run.Total.Requests)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/req")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/req")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s: %s requests", res.Transport, strconv.FormatFloat(n, 'f', 0, 64))
}
