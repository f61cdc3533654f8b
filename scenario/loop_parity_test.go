package scenario_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/scenario"
)

// parityPlan exercises what a plan can do on both paths: a JSON body,
// extraction from JSON, a header and a cookie, a required value that is
// sometimes missing (the iteration then ends), a cookie the server set
// and checks, checks that pass and checks that fail on purpose, if/else
// on a status and an extracted value, a counted loop, a foreach over an
// extracted list, set:, a form body, HEAD, and a think time.
const parityPlan = `
base_url: BASE
scenarios:
  s:
    steps:
      - post: /login
        name: login
        json: { user: "u{{ randInt 1 9 }}", pass: "x" }
        extract:
          token: "json:token"
          rid: "header:X-Req"
          sid: "cookie:sid"
          maybe: { from: "json:maybe", required: true }
        check: { status: 200, header: { X-Req: null, content-type: "text/plain; charset=utf-8" }, json: { ok: true } }
      - get: /me
        name: me
        headers: { Authorization: "Bearer {{ token }}", X-Sid: "{{ sid }}", X-Rid: "{{ rid }}" }
        check: { status: 200, body_contains: "nope" }
      - if: '{{ status == 200 && rid != "r1" }}'
        then:
          - get: /items?page={{ randInt 1 3 }}
            name: items
            extract: { ids: "json:ids" }
            check: { body_contains: items }
        else:
          - head: /alt
            name: alt
            check: { status: 204 }
      - loop: { count: 2, as: turn }
        steps:
          - get: /turn/{{ turn }}
            name: turn
            check: { status: 200 }
      - foreach: { in: '{{ ids }}', as: id, max: 3 }
        steps:
          - post: /item/{{ id }}
            name: item
            form: { n: "{{ id }}" }
            check: { status: 201 }
      - set: { n: '{{ 1 + 1 }}' }
      - think: 1ms
      - get: /last/{{ n }}
        name: last
        check: { status: 200, max_latency: 5s }
load: { clients: 4, iterations: 25 }
`

// parityServer answers parityPlan's requests and checks what they carry;
// bad collects what a request got wrong.
func parityServer(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var bad []string
	fail := func(format string, a ...any) {
		mu.Lock()
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf(format, a...))
		}
		mu.Unlock()
	}
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/login":
			var b strings.Builder
			buf := make([]byte, 512)
			for {
				k, err := r.Body.Read(buf)
				b.Write(buf[:k])
				if err != nil {
					break
				}
			}
			if !strings.Contains(b.String(), `"pass":"x"`) || r.Header.Get("Content-Type") != "application/json" {
				fail("login body %q, type %q", b.String(), r.Header.Get("Content-Type"))
			}
			// What the server answers depends on the user alone, so
			// both runs get the same answers whatever the order.
			user, _, _ := strings.Cut(strings.TrimPrefix(b.String(), `{"user":"u`), `"`)
			k, err := strconv.Atoi(user)
			if err != nil {
				fail("login body %q", b.String())
			}
			maybe := ""
			if k%3 != 0 {
				maybe = `,"maybe":"yes"`
			}
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s" + strconv.Itoa(k), Path: "/"})
			w.Header().Set("X-Req", "r"+strconv.Itoa(k))
			fmt.Fprintf(w, `{"token":"t%d","ok":true%s}`, k, maybe)
		case r.URL.Path == "/me":
			c, err := r.Cookie("sid")
			if err != nil || "Bearer t"+c.Value[1:] != r.Header.Get("Authorization") || r.Header.Get("X-Sid") != c.Value ||
				r.Header.Get("X-Rid") != "r"+c.Value[1:] {
				fail("/me: cookie %v, authorization %q, x-sid %q", c, r.Header.Get("Authorization"), r.Header.Get("X-Sid"))
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"me":1}`))
		case r.URL.Path == "/items":
			p, _ := strconv.Atoi(r.URL.Query().Get("page"))
			ids := make([]string, p+1)
			for i := range ids {
				ids[i] = strconv.Itoa(10*p + i)
			}
			fmt.Fprintf(w, `{"items":1,"ids":[%s]}`, strings.Join(ids, ","))
		case r.URL.Path == "/alt":
			w.WriteHeader(204)
		case strings.HasPrefix(r.URL.Path, "/turn/"):
			if r.URL.Path == "/turn/1" {
				w.WriteHeader(500) // a failing check, counted
			}
		case strings.HasPrefix(r.URL.Path, "/item/"):
			if err := r.ParseForm(); err != nil || "/item/"+r.PostForm.Get("n") != r.URL.Path {
				fail("%s: form %v", r.URL.Path, r.PostForm)
			}
			w.WriteHeader(201)
		case r.URL.Path == "/last/2":
		default:
			w.WriteHeader(404)
		}
	})
	return srv, &bad
}

// TestLoopParity: the same plan run on the event loops and on net/http
// gives the same requests per name and the same check passes and fails,
// exactly: one implementation of the plan's meaning drives both.
func TestLoopParity(t *testing.T) {
	type outcome struct {
		transport string
		reqs      map[string]int64
		checks    map[string][2]int64
	}
	run := func(t *testing.T, std bool) outcome {
		srv, bad := parityServer(t)
		prog := compile(t, writePlan(t, srv.URL, parityPlan, nil))
		runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 8, UserAgent: "fuka-test"}, false)
		defer runner.Close()
		cfg := engine.Config{Load: engine.Closed{Clients: 4, Iterations: 25}, Work: engine.Plan{Scenario: runner}, ForceStd: std, Loops: 1}
		ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
		defer cancel()
		res, err := engine.Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(*bad) > 0 {
			t.Errorf("the server saw wrong requests: %q", *bad)
		}
		o := outcome{transport: res.Transport, reqs: map[string]int64{}, checks: map[string][2]int64{}}
		for i, n := range res.Run.Names {
			o.reqs[n] = res.Run.ByName[i].Requests
			if f := res.Run.ByName[i].Failed; f != 0 && n != "turn" {
				t.Errorf("%s: %d failed requests", n, f)
			}
		}
		for i, n := range res.Run.CheckNames {
			o.checks[n] = res.Run.Checks[i]
		}
		return o
	}
	loop, std := run(t, false), run(t, true)
	if loop.transport != "fast" || std.transport != "net/http" {
		t.Fatalf("transports %q and %q, want fast and net/http", loop.transport, std.transport)
	}
	t.Logf("requests %v\nchecks %v", loop.reqs, loop.checks)
	if fmt.Sprint(loop.reqs) != fmt.Sprint(std.reqs) {
		t.Errorf("requests by name differ:\nloop     %v\nnet/http %v", loop.reqs, std.reqs)
	}
	if fmt.Sprint(loop.checks) != fmt.Sprint(std.checks) {
		t.Errorf("checks differ:\nloop     %v\nnet/http %v", loop.checks, std.checks)
	}
	// The plan's branches all ran, and the failing checks failed.
	const iters = 100
	for name, ok := range map[string]bool{
		"login": loop.reqs["login"] == iters,
		"a third of the logins lack maybe: me is not sent": loop.reqs["me"] > 0 && loop.reqs["me"] < iters,
		"items and alt":                loop.reqs["items"] > 0 && loop.reqs["alt"] > 0,
		"turn twice per iteration":     loop.reqs["turn"] == 2*loop.reqs["me"],
		"me's body check always fails": loop.checks[`me: body contains "nope"`] == [2]int64{0, loop.reqs["me"]},
		"maybe missing is counted":     loop.checks["login: maybe is extracted"][1] == iters-loop.reqs["me"],
		"foreach sent items":           loop.reqs["item"] > loop.reqs["items"],
	} {
		if !ok {
			t.Errorf("%s: not so (requests %v, checks %v)", name, loop.reqs, loop.checks)
		}
	}
}

// TestLoopParts: scenarios with loads of their own run on the event loops
// too, each part on its own clock: b starts when a has ended, and each
// runs its own iterations.
func TestLoopParts(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		order = append(order, r.URL.Path)
		mu.Unlock()
	})
	prog := compile(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  a:
    load: { clients: 2, iterations: 5 }
    steps:
      - get: /a
  b:
    start_after: a
    load: { clients: 1, iterations: 3 }
    steps:
      - get: /b
`, nil))
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 8, UserAgent: "fuka-test"}, false)
	defer runner.Close()
	a, err := runner.Only("a", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runner.Only("b", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Work: engine.Parts{Parts: []engine.Part{
		{Load: engine.Closed{Clients: 2, Iterations: 5}, Scenario: a, After: -1},
		{Load: engine.Closed{Clients: 1, Iterations: 3}, Scenario: b, After: 0},
	}}, Loops: 1}
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	res, err := engine.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Transport != "fast" {
		t.Errorf("transport %q, want fast", res.Transport)
	}
	if got := strings.Join(order, " "); got != strings.TrimSpace(strings.Repeat("/a ", 10)+strings.Repeat("/b ", 3)) {
		t.Errorf("the server saw %s; want 10 /a, then 3 /b", got)
	}
	if n := res.Run.Total.Requests; n != 13 {
		t.Errorf("requests %d, want 13", n)
	}
}

// TestLoopStopEndsThink: when the load's time is up, a client pausing on
// the event loop ends its iteration then, not after its pause; the
// request after the pause is not sent.
func TestLoopStopEndsThink(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
	})
	start := time.Now()
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /a
      - think: 10s
      - get: /b
load: { clients: 3, duration: 300ms }
`, nil))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a 300ms run whose clients pause 10s took %v", d)
	}
	if res.Transport != "fast" {
		t.Errorf("transport %q, want fast", res.Transport)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/a"] != 3 || seen["/b"] != 0 {
		t.Errorf("the server saw %v, want /a from each of the 3 clients and no /b", seen)
	}
}

// TestLoopHeaderSpellings: a default header and a step's header spelled
// differently are one header; the loop sends the one net/http sends.
func TestLoopHeaderSpellings(t *testing.T) {
	for _, std := range []bool{false, true} {
		var mu sync.Mutex
		var got [][]string
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Header.Values("X-Token"))
			mu.Unlock()
		})
		prog := compile(t, writePlan(t, srv.URL, `
base_url: BASE
defaults: { headers: { x-token: "default" } }
scenarios:
  s:
    steps:
      - get: /a
        headers: { X-Token: "step" }
load: { clients: 1, iterations: 1 }
`, nil))
		runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 2, UserAgent: "fuka-test"}, false)
		res, err := engine.Run(context.Background(), engine.Config{Load: engine.Closed{Clients: 1, Iterations: 1}, Work: engine.Plan{Scenario: runner}, ForceStd: std, Loops: 1})
		runner.Close()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[[default]]" {
			t.Errorf("%s: the server got X-Token %q, want [[default]] as net/http sends it", res.Transport, got)
		}
	}
}
