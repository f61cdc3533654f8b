package scenario_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/report"
)

// logicServer answers the paths the logic tests use:
//
//	/login?ok=1    {"token":"t1","cart":{"items":2}}   (without ok: {})
//	/pages?p=N     {"next":"N+1"} up to p=3, then {"next":""}
//	/products      [{"id":1,"price":3},{"id":2,"price":9},{"id":3,"price":12}]
//	/notalist      {"a":1}
//	anything else  200, empty body
func logicServer(t *testing.T) string {
	return server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			if r.URL.Query().Get("ok") == "1" {
				w.Write([]byte(`{"token":"t1","cart":{"items":2}}`))
				return
			}
			w.Write([]byte(`{}`))
		case "/pages":
			next := ""
			var p int
			fmt.Sscan(r.URL.Query().Get("p"), &p)
			if p < 3 {
				next = fmt.Sprint(p + 1)
			}
			fmt.Fprintf(w, `{"next":%q}`, next)
		case "/products":
			w.Write([]byte(`[{"id":1,"price":3},{"id":2,"price":9},{"id":3,"price":12}]`))
		case "/notalist":
			w.Write([]byte(`{"a":1}`))
		default:
			if strings.HasPrefix(r.URL.Path, "/missing") {
				w.WriteHeader(404)
			}
		}
	}).URL
}

// TestLogic runs each logic construct against a local server and counts
// what was requested (by request name) and the checks.
func TestLogic(t *testing.T) {
	base := logicServer(t)
	const iters = 4 // one client, iterations: 4
	tests := []struct {
		name   string
		steps  string
		reqs   map[string]int64    // request name -> requests in the whole run
		checks map[string][2]int64 // check name -> passes, fails
	}{
		{
			name: "loop count",
			steps: `
      - loop: { count: 5 }
        steps:
          - get: /a
            name: a`,
			reqs: map[string]int64{"a": 5 * iters},
		},
		{
			name: "loop as names the turn",
			steps: `
      - loop: { count: 3, as: i }
        steps:
          - get: /turn/{{ i }}
            name: turn
          - if: '{{ i == 2 }}'
            then:
              - get: /last
                name: last`,
			reqs: map[string]int64{"turn": 3 * iters, "last": iters},
		},
		{
			name: "while paginates until next is empty",
			steps: `
      - get: /pages?p=1
        name: first
        extract: { next: "json:next" }
      - loop: { while: '{{ next != "" }}', max: 10 }
        steps:
          - get: /pages?p={{ next }}
            name: page
            extract: { next: "json:next" }`,
			reqs: map[string]int64{"first": iters, "page": 2 * iters},
		},
		{
			name: "an endless while stops at max",
			steps: `
      - loop: { while: '{{ true }}', max: 7 }
        steps:
          - get: /a
            name: a`,
			reqs: map[string]int64{"a": 7 * iters},
		},
		{
			name: "if else on iteration and status",
			steps: `
      - get: /a
        name: a
      - if: '{{ status == 200 && iteration % 2 == 0 }}'
        then:
          - get: /even
            name: even
        else:
          - get: /odd
            name: odd`,
			reqs: map[string]int64{"a": iters, "even": iters / 2, "odd": iters / 2},
		},
		{
			name: "if on an extracted object",
			steps: `
      - get: /login?ok=1
        name: login
        extract: { cart: "json:cart" }
      - if: '{{ cart.items > 1 }}'
        then:
          - get: /checkout
            name: checkout`,
			reqs: map[string]int64{"login": iters, "checkout": iters},
		},
		{
			name: "foreach over an extracted array",
			steps: `
      - get: /products
        name: products
        extract: { products: "json:@this" }
      - foreach: { in: '{{ products }}', as: product }
        steps:
          - get: /products/{{ product.id }}
            name: product
          - if: '{{ product.price > 5 }}'
            then:
              - get: /dear/{{ product.id }}
                name: dear`,
			reqs: map[string]int64{"products": iters, "product": 3 * iters, "dear": 2 * iters},
		},
		{
			name: "foreach over an expression's list, with max",
			steps: `
      - get: /products
        name: products
        extract: { prices: "json:#.price" }
      - foreach: { in: '{{ filter(prices, # > 5) }}', as: price, max: 1 }
        steps:
          - get: /price/{{ price }}
            name: price`,
			reqs: map[string]int64{"products": iters, "price": iters},
		},
		{
			name: "foreach over what is not a list is a failed check",
			steps: `
      - get: /notalist
        name: notalist
        extract: { things: "json:@this" }
      - foreach: { in: '{{ things }}', as: thing }
        steps:
          - get: /thing
            name: thing
      - get: /after
        name: after`,
			reqs:   map[string]int64{"notalist": iters},
			checks: map[string][2]int64{"foreach things: in is a list": {0, iters}},
		},
		{
			name: "set from expressions and templates",
			steps: `
      - set: { n: '{{ 2 * 3 }}', label: 'item-{{ client_id }}' }
      - get: /n/{{ n }}/{{ label }}
        name: set
      - if: '{{ n == 6 && label == "item-0" }}'
        then:
          - get: /ok
            name: ok`,
			reqs: map[string]int64{"set": iters, "ok": iters},
		},
		{
			name: "a required value that is missing fails the iteration",
			steps: `
      - get: /login
        name: login
        extract: { token: { from: "json:token", required: true } }
      - get: /cart
        name: cart`,
			reqs:   map[string]int64{"login": iters},
			checks: map[string][2]int64{"login: token is extracted": {0, iters}},
		},
		{
			name: "a required value that is there passes",
			steps: `
      - get: /login?ok=1
        name: login
        extract: { token: { from: "json:token", required: true } }
      - get: /cart/{{ token }}
        name: cart`,
			reqs:   map[string]int64{"login": iters, "cart": iters},
			checks: map[string][2]int64{"login: token is extracted": {iters, 0}},
		},
		{
			name: "on_failure continue goes on after a missing required value",
			steps: `
      - get: /login
        name: login
        extract: { token: { from: "json:token", required: true, default: none } }
        on_failure: continue
      - if: '{{ token == "none" }}'
        then:
          - get: /cart
            name: cart`,
			reqs:   map[string]int64{"login": iters, "cart": iters},
			checks: map[string][2]int64{"login: token is extracted": {0, iters}},
		},
		{
			name: "on_failure stop_client on a group",
			steps: `
      - group: g
        on_failure: stop_client
        steps:
          - get: /missing
            name: missing
            check: { status: 200 }
      - get: /after
        name: after`,
			reqs: map[string]int64{"missing": 1},
		},
		{
			name: "on_failure next_iteration",
			steps: `
      - get: /missing
        name: missing
        check: { status: 200 }
        on_failure: next_iteration
      - get: /after
        name: after`,
			reqs: map[string]int64{"missing": iters},
		},
		{
			name: "a failed check goes on by default",
			steps: `
      - get: /missing
        name: missing
        check: { status: 200 }
      - get: /after
        name: after`,
			reqs: map[string]int64{"missing": iters, "after": iters},
		},
		{
			name: "two logic steps written alike count apart",
			steps: `
      - get: /login?ok=1
        name: login
        extract: { token: "json:token" }
      - set: { x: '{{ token > 3 }}' }
        on_failure: continue
      - set: { x: '{{ token > 3 }}' }
        on_failure: continue
      - get: /after
        name: after`,
			reqs:   map[string]int64{"login": iters, "after": iters},
			checks: map[string][2]int64{"set x: evaluates": {0, iters}, "set x #2: evaluates": {0, iters}},
		},
		{
			name: "an expression error is a failed check, not a panic",
			steps: `
      - get: /login?ok=1
        name: login
        extract: { token: "json:token" }
      - if: '{{ token > 3 }}'
        then:
          - get: /then
            name: then
      - get: /after
        name: after`,
			reqs:   map[string]int64{"login": iters},
			checks: map[string][2]int64{"if token > 3: evaluates": {0, iters}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "base_url: BASE\nscenarios:\n  s:\n    steps:" + tc.steps + "\nload: { clients: 1, iterations: 4 }\n"
			res := runPlan(t, writePlan(t, base, src, nil))
			got := map[string]int64{}
			for i, n := range res.Run.Names {
				if st := res.Run.ByName[i]; st != nil && st.Requests > 0 {
					got[n] = st.Requests
				}
			}
			for name, want := range tc.reqs {
				if got[name] != want {
					t.Errorf("requests %q: %d, want %d (all: %v)", name, got[name], want, got)
				}
			}
			for name := range got {
				if _, ok := tc.reqs[name]; !ok {
					t.Errorf("requests %q: %d, want none", name, got[name])
				}
			}
			for name, want := range tc.checks {
				if c := checkCount(t, res.Run, name); c != want {
					t.Errorf("check %q: %v, want %v", name, c, want)
				}
			}
		})
	}
}

// TestLogicReport: a named foreach is a row of the report as a group is,
// a logic step's check shows when it failed and is left out when it never
// did, and the requests inside keep their names.
func TestLogicReport(t *testing.T) {
	path := writePlan(t, logicServer(t), `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /products
        name: products
        extract: { products: "json:@this", first: "json:0" }
      - if: '{{ len(products) == 3 }}'
        then:
          - foreach: { in: '{{ products }}', as: p }
            name: browse
            steps:
              - get: /products/{{ p.id }}
                name: product
      - foreach: { in: '{{ first }}', as: x }
        on_failure: continue
        steps:
          - get: /never
            name: never
load: { clients: 1, iterations: 2 }
`, nil)
	res := runPlan(t, path)
	prog := compile(t, path)
	sum := report.NewSummary(report.Meta{Elapsed: time.Second}, res.Run)
	prog.FillScopes(sum, res.Run)
	checks := map[string][2]int64{}
	for _, c := range sum.Checks {
		checks[c.Name] = [2]int64{c.Passes, c.Fails}
	}
	want := map[string][2]int64{"foreach first: in is a list": {0, 2}}
	if !maps.Equal(checks, want) {
		t.Errorf("checks %v, want %v", checks, want)
	}
	var browse *report.NameSummary
	for i := range sum.Groups {
		if sum.Groups[i].Name == "browse" {
			browse = &sum.Groups[i]
		}
	}
	if browse == nil || browse.Requests != 6 {
		t.Errorf("group rows %+v, want browse with 6 requests", sum.Groups)
	}
	if got := requests(t, res.Run, "product"); got != 6 {
		t.Errorf("product requests %d, want 6", got)
	}
}

// TestLogicExampleOnDemo runs examples/logic.yaml against the demo target
// (3 iterations of 2 clients instead of its 30 s): every request name is
// sent and every check passes.
func TestLogicExampleOnDemo(t *testing.T) {
	srv := httptest.NewServer(demo.Handler())
	defer srv.Close()
	b, err := os.ReadFile(filepath.Join("..", "examples", "logic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "base_url: http://127.0.0.1:8080", "base_url: BASE", 1)
	src = strings.Replace(src, "load: { clients: 10, duration: 30s }", "load: { clients: 2, iterations: 3 }", 1)
	if !strings.Contains(src, "iterations: 3") || !strings.Contains(src, "BASE") {
		t.Fatal("examples/logic.yaml no longer has the base_url and load this test replaces")
	}
	res := runPlan(t, writePlan(t, srv.URL, src, nil))
	const iters = 2 * 3
	want := map[string]int64{
		"login": iters, "list products": iters, "show product": 3 * iters,
		"list page": 3 * iters, "change quantity": 2 * iters,
	}
	for name, n := range want {
		if got := requests(t, res.Run, name); got != n {
			t.Errorf("requests %q: %d, want %d", name, got, n)
		}
	}
	if requests(t, res.Run, "add to cart") == 0 {
		t.Errorf("no add to cart: the if inside the foreach never held")
	}
	for i, name := range res.Run.CheckNames {
		if c := res.Run.Checks[i]; c[1] != 0 {
			t.Errorf("check %q: %d failed", name, c[1])
		}
	}
}

// TestLoopThink: a loop's think pauses between turns, not before the first.
func TestLoopThink(t *testing.T) {
	const pause = 250 * time.Millisecond
	var mu sync.Mutex
	var at []time.Time
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
	})
	runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /before
      - loop: { count: 3, think: 250ms }
        steps:
          - get: /turn
load: { clients: 1, iterations: 1 }
`, nil))
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 4 {
		t.Fatalf("%d requests, want 4", len(at))
	}
	if gap := at[1].Sub(at[0]); gap >= pause {
		t.Errorf("the first turn came %v after the step before: a pause before the first turn", gap)
	}
	for i := 2; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < pause {
			t.Errorf("turn %d came %v after the one before, want at least %v", i, gap, pause)
		}
	}
}
