package scenario_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// These tests run real plan files end to end — parse, compile, engine,
// net/http — against httptest servers on 127.0.0.1 that check what arrives.

// e2eTimeout bounds every run; a plan that does not end on its own fails.
const e2eTimeout = 8 * time.Second

// server is an httptest server whose handler the test supplies; it closes
// when the test ends.
func server(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// writePlan writes src (with BASE replaced by base) and the extra files
// (name -> content) to a fresh directory and returns the plan's path.
func writePlan(t testing.TB, base, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "BASE", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// compile parses and compiles a plan file; env is empty.
func compile(t testing.TB, path string) *scenario.Program {
	t.Helper()
	p, err := plan.ParseFile(path)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	prog, err := scenario.Compile(p, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return prog
}

// runPlan runs a plan file's load through the engine, as `fuka run` does,
// and fails the test if it does not end within e2eTimeout.
func runPlan(t *testing.T, path string) *engine.Result {
	t.Helper()
	return runPlanWith(t, path, scenario.Options{MaxConns: 16, UserAgent: "fuka-test"})
}

// runPlanWith is runPlan with the transport options o.
func runPlanWith(t *testing.T, path string, o scenario.Options) *engine.Result {
	t.Helper()
	prog := compile(t, path)
	l := prog.Plan.Load
	if l == nil {
		t.Fatal("plan has no top-level load")
	}
	cfg := engine.Config{Load: engine.Closed{Clients: l.Clients, RampUp: l.RampUp, Duration: l.Duration, Iterations: l.Iterations, MaxRPS: l.MaxRPS}}
	if l.Open() {
		r, err := plan.NewRate(l.Rate)
		if err != nil {
			t.Fatal(err)
		}
		cfg = engine.Config{Load: engine.Open{Rate: r, MaxClients: cmp.Or(l.MaxClients, plan.DefaultMaxClients)}}
	}
	runner := scenario.NewRunner(prog, o, l.Open())
	defer runner.Close()
	cfg.Work = engine.Plan{Scenario: runner}
	// One event loop: a loop blocked in epoll holds its P until the
	// runtime's monitor takes it back (up to 10 ms), and the test's
	// server runs in this process; one loop leaves it a P.
	cfg.Loops = 1
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	res, err := engine.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Interrupted {
		t.Fatalf("the run did not end on its own within %v", e2eTimeout)
	}
	return res
}

// checkCount returns the {passes, fails} of the check named name.
func checkCount(t *testing.T, run *metrics.Run, name string) [2]int64 {
	t.Helper()
	for i, n := range run.CheckNames {
		if n == name {
			return run.Checks[i]
		}
	}
	t.Fatalf("no check %q; have %q", name, run.CheckNames)
	return [2]int64{}
}

// requests returns the number of requests recorded under name.
func requests(t *testing.T, run *metrics.Run, name string) int64 {
	t.Helper()
	for i, n := range run.Names {
		if n == name {
			return run.ByName[i].Requests
		}
	}
	t.Fatalf("no request name %q; have %q", name, run.Names)
	return 0
}

// tally counts strings under a lock; handlers call it concurrently.
type tally struct {
	mu sync.Mutex
	m  map[string]int
	// bad collects what a handler found wrong (bounded, for the message).
	bad []string
	nb  int
}

func newTally() *tally { return &tally{m: map[string]int{}} }

func (c *tally) add(k string) {
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}

func (c *tally) fail(format string, a ...any) {
	c.mu.Lock()
	c.nb++
	if len(c.bad) < 5 {
		c.bad = append(c.bad, fmt.Sprintf(format, a...))
	}
	c.mu.Unlock()
}

func (c *tally) count(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *tally) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// noFailures fails the test with what the handlers found wrong.
func (c *tally) noFailures(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nb > 0 {
		t.Errorf("%d request(s) arrived wrong, e.g.:\n  %s", c.nb, strings.Join(c.bad, "\n  "))
	}
}

// csvRows is a CSV file of n users, column name: u00, u01, ...
func csvRows(n int) (string, []string) {
	var b strings.Builder
	b.WriteString("name,pass\n")
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("u%02d", i)
		fmt.Fprintf(&b, "%s,p%d\n", names[i], i)
	}
	return b.String(), names
}

// TestTokenReachesNextRequest: the token a login returns, extracted with a
// JSON path, is sent by the same client's next request, for that client's
// user — never another client's.
func TestTokenReachesNextRequest(t *testing.T) {
	seen := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			var in struct{ User, Pass string }
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.User == "" {
				seen.fail("login body: %v %+v", err, in)
				w.WriteHeader(400)
				return
			}
			seen.add("login")
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":"t-%s","user":%q}`, in.User, in.User)
		case "/me":
			seen.add("me")
			user := r.URL.Query().Get("user")
			if got, want := r.Header.Get("Authorization"), "Bearer t-"+user; got != want {
				seen.fail("user %s: Authorization %q, want %q", user, got, want)
			}
		default:
			seen.fail("unexpected %s %s", r.Method, r.URL)
		}
	})
	const clients, iterations = 4, 25
	rows, _ := csvRows(7)
	path := writePlan(t, srv.URL, `
base_url: BASE
data:
  users: { csv: users.csv }
scenarios:
  login:
    steps:
      - post: /login
        json: { user: "{{ users.name }}", pass: "{{ users.pass }}" }
        extract: { token: "json:$.token" }
        check: { status: 200 }
      - get: /me?user={{ users.name }}
        headers: { Authorization: "Bearer {{ token }}" }
load: { clients: 4, iterations: 25 }
`, map[string]string{"users.csv": rows})
	res := runPlan(t, path)
	seen.noFailures(t)
	if got := seen.count("login"); got != clients*iterations {
		t.Errorf("logins: %d, want %d", got, clients*iterations)
	}
	if got := seen.count("me"); got != clients*iterations {
		t.Errorf("requests with the token: %d, want %d", got, clients*iterations)
	}
	if c := checkCount(t, res.Run, "POST /login: status is 200"); c != [2]int64{clients * iterations, 0} {
		t.Errorf("check passes/fails %v, want [%d 0]", c, clients*iterations)
	}
}

// TestDataPick: each pick hands out CSV rows as configured, shared by all
// clients.
func TestDataPick(t *testing.T) {
	const rows = 10
	file, names := csvRows(rows)
	type arrival struct {
		seen  *tally
		order []string
		mu    sync.Mutex
	}
	newServer := func(t *testing.T) (*httptest.Server, *arrival) {
		a := &arrival{seen: newTally()}
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			u := r.URL.Query().Get("u")
			a.seen.add(u)
			a.mu.Lock()
			a.order = append(a.order, u)
			a.mu.Unlock()
		})
		return srv, a
	}
	plan := func(pick, load string) string {
		return `
base_url: BASE
data:
  users: { csv: users.csv, ` + pick + ` }
scenarios:
  s:
    steps:
      - get: /row?u={{ users.name }}
load: ` + load + "\n"
	}
	files := map[string]string{"users.csv": file}

	t.Run("sequential", func(t *testing.T) {
		// One client, as many iterations as rows: every row once, in file order.
		srv, a := newServer(t)
		runPlan(t, writePlan(t, srv.URL, plan("pick: sequential", fmt.Sprintf("{ clients: 1, iterations: %d }", rows)), files))
		if strings.Join(a.order, ",") != strings.Join(names, ",") {
			t.Errorf("rows arrived as %q, want %q", a.order, names)
		}
	})
	t.Run("sequential wraps around", func(t *testing.T) {
		// 3 clients × 10 iterations over 10 rows: each row exactly 3 times.
		srv, a := newServer(t)
		runPlan(t, writePlan(t, srv.URL, plan("pick: sequential", "{ clients: 3, iterations: 10 }"), files))
		for _, n := range names {
			if got := a.seen.count(n); got != 3 {
				t.Errorf("row %s used %d times, want 3 (all: %v)", n, got, a.seen.snapshot())
			}
		}
	})
	t.Run("unique stops clients", func(t *testing.T) {
		// Far more iterations than rows: every row once, then both clients
		// stop and the run ends on its own.
		srv, a := newServer(t)
		start := time.Now()
		res := runPlan(t, writePlan(t, srv.URL, plan("pick: unique", "{ clients: 2, iterations: 100000 }"), files))
		if len(a.order) != rows {
			t.Errorf("%d requests, want %d (one per row)", len(a.order), rows)
		}
		for _, n := range names {
			if got := a.seen.count(n); got != 1 {
				t.Errorf("row %s used %d times, want once", n, got)
			}
		}
		if res.DataExhausted {
			t.Error("stop_client ended the whole run (DataExhausted)")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the run took %v after its rows ran out", d)
		}
	})
	t.Run("unique end_run", func(t *testing.T) {
		// A 20s run whose 10 rows run out at once ends early, by itself.
		srv, a := newServer(t)
		start := time.Now()
		res := runPlan(t, writePlan(t, srv.URL, plan("pick: unique, on_exhausted: end_run", "{ clients: 2, duration: 20s }"), files))
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the run took %v; want it to end when the rows ran out", d)
		}
		if !res.DataExhausted {
			t.Error("Result.DataExhausted is false")
		}
		if len(a.order) != rows {
			t.Errorf("%d requests, want %d (one per row)", len(a.order), rows)
		}
		for _, n := range names {
			if got := a.seen.count(n); got != 1 {
				t.Errorf("row %s used %d times, want once", n, got)
			}
		}
	})
	t.Run("random", func(t *testing.T) {
		srv, a := newServer(t)
		runPlan(t, writePlan(t, srv.URL, plan("pick: random", "{ clients: 2, iterations: 100 }"), files))
		got := a.seen.snapshot()
		total := 0
		for k, n := range got {
			total += n
			if !strings.HasPrefix(k, "u") || len(k) != 3 || k > names[rows-1] {
				t.Errorf("value %q is not from the file", k)
			}
		}
		if total != 200 {
			t.Errorf("%d requests, want 200", total)
		}
		// 200 uniform draws from 10 rows: seeing fewer than 5 distinct
		// rows has a probability far below 1e-50.
		if len(got) < 5 {
			t.Errorf("only %d distinct rows in 200 random picks: %v", len(got), got)
		}
	})
}

// TestCookies: a cookie set by one step's response goes with the next step
// of the same client, and never with another client's requests.
func TestCookies(t *testing.T) {
	seen := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("u")
		switch r.URL.Path {
		case "/login":
			seen.add("login")
			if len(r.Cookies()) != 0 {
				seen.fail("login %s: already has cookies %v", u, r.Cookies())
			}
			http.SetCookie(w, &http.Cookie{Name: "sess", Value: "s-" + u, Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "seen_" + u, Value: "1", Path: "/"})
		case "/cart":
			seen.add("cart")
			if c, err := r.Cookie("sess"); err != nil || c.Value != "s-"+u {
				seen.fail("cart %s: cookie sess %v (%v), want s-%s", u, c, err, u)
			}
			for _, c := range r.Cookies() {
				if c.Name != "sess" && c.Name != "seen_"+u {
					seen.fail("cart %s: carries another client's cookie %s", u, c)
				}
			}
		default:
			seen.fail("unexpected %s %s", r.Method, r.URL)
		}
	})
	// One row per client, each client one iteration, and a pause between
	// the steps so that every login is done before any cart request: a jar
	// shared by the clients would leak all cookies into every cart request.
	rows, _ := csvRows(4)
	path := writePlan(t, srv.URL, `
base_url: BASE
data:
  users: { csv: users.csv, pick: unique }
scenarios:
  s:
    steps:
      - get: /login?u={{ users.name }}
      - think: 200ms
      - get: /cart?u={{ users.name }}
load: { clients: 4, iterations: 1 }
`, map[string]string{"users.csv": rows})
	runPlan(t, path)
	seen.noFailures(t)
	if seen.count("login") != 4 || seen.count("cart") != 4 {
		t.Errorf("logins %d, carts %d; want 4 each", seen.count("login"), seen.count("cart"))
	}
}
