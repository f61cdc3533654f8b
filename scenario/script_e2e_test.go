package scenario_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// shopServer is a small API for script tests: /api/login returns a token
// and recommended products, /api/products/N wants that token, /echo
// returns what it got, /cookie/set and /cookie/get round-trip a cookie.
func shopServer(t *testing.T, tl *tally) string {
	return server(t, func(w http.ResponseWriter, r *http.Request) {
		tl.add(r.Method + " " + r.URL.Path)
		switch {
		case r.URL.Path == "/api/login":
			var in struct{ User, Pass string }
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("Content-Type") != "application/json" {
				tl.fail("login body: %v %q", err, r.Header.Get("Content-Type"))
			}
			tl.add("user " + in.User)
			w.Write([]byte(`{"token":"tok-` + in.User + `","recommended":[{"id":1},{"id":2},{"id":3},{"id":4}]}`))
		case strings.HasPrefix(r.URL.Path, "/api/products/"):
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"id":` + strings.TrimPrefix(r.URL.Path, "/api/products/") + `}`))
		case r.URL.Path == "/echo":
			b, _ := io.ReadAll(r.Body)
			json.NewEncoder(w).Encode(map[string]string{
				"method": r.Method, "query": r.URL.RawQuery, "body": string(b),
				"ctype": r.Header.Get("Content-Type"), "x": r.Header.Get("X-Test"), "accept": r.Header.Get("Accept"),
			})
		case r.URL.Path == "/cookie/set":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s" + r.URL.Query().Get("v"), Path: "/"})
		case r.URL.Path == "/cookie/get":
			c, err := r.Cookie("sid")
			if err != nil {
				w.WriteHeader(403)
				return
			}
			w.Write([]byte(c.Value))
		case r.URL.Path == "/r1":
			http.Redirect(w, r, "/r2", http.StatusFound)
		case r.URL.Path == "/r2":
			http.Redirect(w, r, "/echo", http.StatusFound)
		case r.URL.Path == "/slow":
			time.Sleep(300 * time.Millisecond)
		case r.URL.Path == "/status/404":
			w.WriteHeader(404)
		default:
			w.WriteHeader(200)
		}
	}).URL
}

const issueScript = `
def checkout(ctx):
    r = http.post("/api/login", json={"user": ctx.data.users.user, "pass": ctx.data.users["pass"]})
    check(r, status=200)
    token = r.json()["token"]
    for p in r.json()["recommended"][:3]:
        http.get("/api/products/%d" % p["id"], name="product", headers={"Authorization": "Bearer " + token})
        sleep(random.uniform(0.001, 0.002))
`

// TestScriptIssueExample runs the issue's example: a JSON login with a
// data row, a token from the response, three product requests under one
// name, think time; every request counted, the check counted.
func TestScriptIssueExample(t *testing.T) {
	tl := newTally()
	base := shopServer(t, tl)
	res := runPlan(t, writePlan(t, base, `
base_url: BASE
data:
  users: { csv: users.csv, pick: unique }
scenarios:
  checkout:
    script: shop.star
load: { clients: 2, iterations: 3 }
`, map[string]string{"shop.star": issueScript, "users.csv": "user,pass\nann,a\nbob,b\ncid,c\ndan,d\neve,e\nfay,f\n"}))
	tl.noFailures(t)
	if got := requests(t, res.Run, "POST /api/login"); got != 6 {
		t.Errorf("logins %d, want 6", got)
	}
	if got := requests(t, res.Run, "product"); got != 18 {
		t.Errorf("product requests %d, want 18", got)
	}
	if got := checkCount(t, res.Run, "POST /api/login: status is 200"); got != [2]int64{6, 0} {
		t.Errorf("login check %v, want 6 passes", got)
	}
	if got := checkCount(t, res.Run, "checkout: no script error"); got != [2]int64{6, 0} {
		t.Errorf("script error check %v, want 6 passes", got)
	}
	if got := tl.count("GET /api/products/1"); got != 6 {
		t.Errorf("product 1 fetched %d times, want 6", got)
	}
	for _, u := range []string{"ann", "bob", "cid", "dan", "eve", "fay"} {
		if tl.count("user "+u) != 1 {
			t.Errorf("unique row %s used %d times, want 1", u, tl.count("user "+u))
		}
	}
	if got := res.Run.ByName[0].Requests + res.Run.ByName[1].Requests; got != int64(tl.count("POST /api/login")+tl.count("GET /api/products/1")*3) {
		t.Errorf("recorded %d requests, the server saw %v", got, tl.snapshot())
	}
}

// runScript compiles a plan with one script scenario s and runs it.
func runScript(t *testing.T, base, script, load string) (*engine.Result, *scenario.Program) {
	t.Helper()
	path := writePlan(t, base, `
base_url: BASE
defaults: { headers: { Accept: application/json } }
vars: { greeting: hello }
scenarios:
  s:
    script: s.star
    function: run
load: `+load+"\n", map[string]string{"s.star": script})
	prog := compile(t, path)
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 4, UserAgent: "fuka-test"}, false)
	defer runner.Close()
	l := prog.Plan.Load
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	res, err := engine.Run(ctx, engine.Config{
		Load: engine.Closed{Clients: l.Clients, Duration: l.Duration, Iterations: l.Iterations},
		Work: engine.Plan{Scenario: runner},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, prog
}

// TestScriptAPI: each call of the script API, one script per row, whose
// own check(r, cond, name="ok") says whether the call did what it should.
func TestScriptAPI(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"get query", `
    r = http.get("/echo", query={"q": "a b", "n": 2})
    check(r, r.json()["query"] == "q=a+b&n=2" and r.json()["method"] == "GET", name="ok")`},
		{"path with a space is encoded", `
    r = http.get("/echo?x=a b")
    check(r, r.json()["query"] == "x=a%20b", name="ok")`},
		{"post json", `
    r = http.post("/echo", json={"a": [1, "x"]})
    check(r, r.json()["body"] == '{"a":[1,"x"]}' and r.json()["ctype"] == "application/json", name="ok")`},
		{"put body", `
    r = http.put("/echo", body="raw", headers={"Content-Type": "text/plain"})
    check(r, r.json()["body"] == "raw" and r.json()["method"] == "PUT" and r.json()["ctype"] == "text/plain", name="ok")`},
		{"patch form", `
    r = http.patch("/echo", form={"b": "2", "a": "x y"})
    check(r, r.json()["body"] == "b=2&a=x+y" and r.json()["method"] == "PATCH", name="ok")`},
		{"delete and headers", `
    r = http.delete("/echo", headers={"X-Test": "yes"})
    check(r, r.json()["x"] == "yes" and r.json()["method"] == "DELETE" and r.json()["accept"] == "application/json", name="ok")`},
		{"header override of defaults", `
    r = http.get("/echo", headers={"Accept": "text/html"})
    check(r, r.json()["accept"] == "text/html", name="ok")`},
		{"response fields", `
    r = http.get("/status/404")
    check(r, r.status == 404 and r.status_code == 404 and not r.ok and r.text == "" and r.latency > 0 and r.error == "", name="ok")`},
		{"response headers", `
    r = http.get("/echo")
    check(r, r.header("content-type").startswith("text/plain") and r.headers["Content-Type"] == r.header("Content-Type") and r.header("nope") == None, name="ok")`},
		{"cookie jar", `
    http.get("/cookie/set", query={"v": str(ctx.client_id)})
    r = http.get("/cookie/get")
    check(r, r.text == "s" + str(ctx.client_id), name="ok")`},
		{"random", `
    a, b = random.randint(1, 3), random.uniform(2.0, 3.0)
    c = random.choice(["x", "y"])
    r = http.get("/")
    check(r, a >= 1 and a <= 3 and b >= 2.0 and b < 3.0 and c in ("x", "y") and random.random() < 1.0, name="ok")`},
		{"ctx", `
    r = http.get("/")
    check(r, ctx.scenario == "s" and ctx.vars["greeting"] == "hello" and ctx.iteration >= 0 and ctx.iteration < 2, name="ok")`},
		{"group", `
    r = group("g", inner, "/echo")
    check(r, r.status == 200, name="ok")`},
		{"timeout", `
    r = http.get("/slow", timeout=0.05)
    check(r, r.status == 0 and not r.ok and r.error != "" and r.text == "", name="ok")`},
		{"a response outlives the next request", `
    a = http.get("/echo", query={"n": "1"})
    b = http.get("/echo", query={"n": "2"})
    check(a, a.text.find("n=1") > 0 and b.text.find("n=2") > 0, name="ok")`},
		{"json module", `
    r = http.get("/")
    check(r, json.decode(json.encode({"a": 1}))["a"] == 1, name="ok")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTally()
			res, _ := runScript(t, shopServer(t, tl), "def inner(p):\n    return http.get(p, name=\"inner\")\n\ndef run(ctx):"+tc.body+"\n", "{ clients: 2, iterations: 2 }")
			var ok [2]int64
			for i, n := range res.Run.CheckNames {
				if strings.HasSuffix(n, ": ok") {
					ok[0] += res.Run.Checks[i][0]
					ok[1] += res.Run.Checks[i][1]
				}
			}
			if ok != [2]int64{4, 0} {
				t.Errorf("check ok %v, want 4 passes; checks %v %v; server %v", ok, res.Run.CheckNames, res.Run.Checks, tl.snapshot())
			}
			if got := checkCount(t, res.Run, "s: no script error"); got != [2]int64{4, 0} {
				t.Errorf("script errors %v, want none", got)
			}
		})
	}
}

// TestScriptChecksCounted: check() kwargs make the same checks as a YAML
// step's check:, counted under the request the response came from.
func TestScriptChecksCounted(t *testing.T) {
	var n atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("X-Id", "7")
		w.Write([]byte(`{"ok":true,"id":7}`))
	})
	res, _ := runScript(t, srv.URL, `
def run(ctx):
    r = http.get("/half", name="half")
    check(r, status=200, body_contains="ok", json={"id": 7}, json_exists="ok", header={"X-Id": "7"}, max_latency="5s")
    if ctx.iteration == 0:
        r = http.get("/other")
    check(r, status=[200, 500])
`, "{ clients: 1, iterations: 10 }")
	for name, want := range map[string][2]int64{
		"half: status is 200":             {6, 4},
		`half: body contains "ok"`:        {6, 4},
		"half: id == 7":                   {6, 4},
		"half: ok exists":                 {6, 4},
		`half: header X-Id == "7"`:        {6, 4},
		"half: latency <= 5s":             {10, 0},
		"half: status in [200 500]":       {9, 0},
		"GET /other: status in [200 500]": {1, 0},
	} {
		if got := checkCount(t, res.Run, name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

// TestScriptErrorCounted: a script that raises on some iterations counts a
// failed "no script error" check each time, notes where, and its client
// goes on with the next iteration.
func TestScriptErrorCounted(t *testing.T) {
	tl := newTally()
	res, prog := runScript(t, shopServer(t, tl), `
def run(ctx):
    r = http.get("/")
    if ctx.iteration % 2 == 1:
        fail("odd iteration %d" % ctx.iteration)
    x = {}["missing"] if ctx.iteration == 2 else 1
`, "{ clients: 2, iterations: 5 }")
	if got := requests(t, res.Run, "GET /"); got != 10 {
		t.Errorf("requests %d, want 10: the clients go on after an error", got)
	}
	if got := checkCount(t, res.Run, "s: no script error"); got != [2]int64{4, 6} {
		t.Errorf("script error check %v, want 4 passes 6 fails", got)
	}
	errs := strings.Join(prog.ScriptErrors(), "\n")
	for _, want := range []string{"s.star:5:13: in run: fail: odd iteration 1 (×2)", "s.star:6:11: in run: key \"missing\" not in dict (×2)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("script errors:\n%s\nwant a line %q", errs, want)
		}
	}
}

// TestScriptEndlessLoop: a loop that never ends is cut by the step bound
// (a script error), and, while it runs, by the run's end.
func TestScriptEndlessLoop(t *testing.T) {
	t.Run("step bound", func(t *testing.T) {
		tl := newTally()
		start := time.Now()
		res, prog := runScript(t, shopServer(t, tl), `
def run(ctx):
    http.get("/")
    while True:
        pass
`, "{ clients: 1, iterations: 2 }")
		if got := checkCount(t, res.Run, "s: no script error"); got != [2]int64{0, 2} {
			t.Errorf("script error check %v, want 2 fails", got)
		}
		if errs := strings.Join(prog.ScriptErrors(), "\n"); !strings.Contains(errs, "steps in one iteration") {
			t.Errorf("script errors %q, want the step bound", errs)
		}
		t.Logf("2 bounded iterations took %v", time.Since(start))
	})
	t.Run("run stop", func(t *testing.T) {
		defer scenario.SetMaxScriptSteps(1 << 50)() // only the run's stop can end it
		tl := newTally()
		type out struct{ res *engine.Result }
		done := make(chan out, 1)
		go func() {
			res, _ := runScript(t, shopServer(t, tl), `
def run(ctx):
    http.get("/")
    while True:
        pass
`, "{ clients: 2, duration: 50ms }")
			done <- out{res}
		}()
		select {
		case o := <-done:
			if got := checkCount(t, o.res.Run, "s: no script error"); got[1] != 0 {
				t.Errorf("a run stop counted as a script error: %v", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the loop did not end with the run")
		}
	})
}

// TestScriptSleepStops: sleep ends with the run.
func TestScriptSleepStops(t *testing.T) {
	tl := newTally()
	start := time.Now()
	runScript(t, shopServer(t, tl), `
def run(ctx):
    http.get("/")
    sleep(60)
`, "{ clients: 2, duration: 200ms }")
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("the run took %v; sleep should end with the run", el)
	}
}

// TestScriptCompileErrors: what `fuka validate` finds in a script, at
// script:line:col (or at the plan's key that names the script).
func TestScriptCompileErrors(t *testing.T) {
	for _, tc := range []struct{ name, script, function, want string }{
		{"syntax", "def run(ctx):\n    x = (1\n", "", "s.star:3:1: script: got outdent, want ')'"},
		{"unknown name", "def run(ctx):\n    http.get(\"/\")\n    nope(1)\n", "", "s.star:3:5: script: undefined: nope"},
		{"open a file", "def run(ctx):\n    f = open(\"/etc/passwd\")\n", "", "s.star:2:9: script: undefined: open"},
		{"load", "load(\"other.star\", \"x\")\ndef run(ctx):\n    pass\n", "", "s.star:1:6: load: a script is one file"},
		{"unknown http function", "def run(ctx):\n    http.fetch(\"/\")\n", "", "s.star:2:15: http.fetch: no such function"},
		{"computed path without a name", "def run(ctx):\n    p = \"/x\"\n    http.get(p)\n", "", "s.star:3:13: http.get: the path is computed; give the request a name"},
		{"computed name", "def run(ctx):\n    n = \"x\"\n    http.get(\"/\", name=n)\n", "", "s.star:3:24: http.get: name= must be a string literal"},
		{"check not literal", "def run(ctx):\n    s = 200\n    r = http.get(\"/\")\n    check(r, status=s)\n", "", "s.star:4:21: check: status=: want a literal value"},
		{"check unknown kind", "def run(ctx):\n    r = http.get(\"/\")\n    check(r, stat=200)\n", "", "s.star:3:19: check: unknown argument stat="},
		{"check bad status", "def run(ctx):\n    r = http.get(\"/\")\n    check(r, status=99)\n", "", "s.star:3:21: check: status=: status 99 is not an HTTP status"},
		{"condition without name", "def run(ctx):\n    r = http.get(\"/\")\n    check(r, r.ok)\n", "", "s.star:3:10: check: a condition needs a name"},
		{"unknown data", "def run(ctx):\n    http.get(\"/\" + ctx.data.nope.x, name=\"x\")\n", "", "s.star:2:29: no data \"nope\" in the plan"},
		{"redirects not a literal", "def run(ctx):\n    n = 2\n    http.get(\"/\", follow_redirects=n)\n", "", "s.star:3:36: http.get: follow_redirects= must be a literal from 0 to 20"},
		{"unknown column", "def run(ctx):\n    http.get(\"/\" + ctx.data.users.nope, name=\"x\")\n", "", "s.star:2:35: data \"users\" has no column \"nope\"; it has: user"},
		{"unknown column by index", "def run(ctx):\n    http.get(\"/\" + ctx.data.users[\"no pe\"], name=\"x\")\n", "", "s.star:2:35: data \"users\" has no column \"no pe\"; it has: user"},
		{"no such function", "def run(ctx):\n    pass\n", "other", "plan.yaml:8:15: script s.star has no function \"other\""},
		{"default function is the scenario's name", "def run(ctx):\n    pass\n", "-", "plan.yaml:7:13: script s.star has no function \"s\"; name it with function:"},
		{"function without ctx", "def run():\n    pass\n", "", "plan.yaml:8:15: script s.star: function \"run\" takes 0 parameters"},
		{"error at load", "x = {}[\"k\"]\ndef run(ctx):\n    pass\n", "", "s.star:1:1: script: s.star:1:7: in <toplevel>: key \"k\" not in dict"},
		{"http at load", "http.get(\"/\")\ndef run(ctx):\n    pass\n", "", "http.get: only inside a scenario's function"},
		{"group without a function", "def run(ctx):\n    group(\"g\", lambda: 1)\n", "", "s.star:2:10: group: want group(\"name\", function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := "    function: run\n"
			switch tc.function {
			case "-":
				fn = ""
			case "":
			default:
				fn = "    function: " + tc.function + "\n"
			}
			path := writePlan(t, "http://127.0.0.1:1", `
base_url: BASE
data: { users: { csv: u.csv } }
scenarios:
  s:
    weight: 1
    script: s.star
`+fn+`load: { clients: 1, iterations: 1 }
`, map[string]string{"s.star": tc.script, "u.csv": "user\nann\n"})
			p, err := plan.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = scenario.Compile(p, func(string) (string, bool) { return "", false })
			var pe plan.Errors
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want plan errors", err)
			}
			got := strings.ReplaceAll(pe.Error(), strings.TrimSuffix(path, "plan.yaml"), "")
			if !strings.Contains(got, tc.want) {
				t.Errorf("got\n%s\nwant it to contain\n%s", got, tc.want)
			}
		})
	}
}

// TestScriptMixedPlan: a YAML scenario and two script scenarios (one file,
// two functions) in one plan share request names, data and checks.
func TestScriptMixedPlan(t *testing.T) {
	tl := newTally()
	base := shopServer(t, tl)
	path := writePlan(t, base, `
base_url: BASE
data:
  users: { csv: users.csv }
scenarios:
  yaml:
    steps:
      - post: /api/login
        name: login
        json: { user: "{{ users.user }}", pass: x }
        check: { status: 200 }
  a:
    script: flows.star
    function: browse
  b:
    script: flows.star
    function: buy
load: { clients: 3, iterations: 4 }
`, map[string]string{"users.csv": "user\nann\nbob\n", "flows.star": `
def login(ctx):
    r = http.post("/api/login", name="login", json={"user": ctx.data.users.user, "pass": "x"})
    check(r, status=200)
    return r.json()["token"]

def browse(ctx):
    http.get("/api/products/1", name="product", headers={"Authorization": "Bearer " + login(ctx)})

def buy(ctx):
    group("buying", login, ctx)
    http.put("/cart", name="cart")
`})
	prog := compile(t, path)
	if got := strings.Join(prog.Requests, ","); got != "login,product,cart" {
		t.Errorf("request names %q", got)
	}
	if got := prog.Groups["buying"]; len(got) != 1 || prog.Requests[got[0]] != "login" {
		t.Errorf("group buying: %v", got)
	}
	res := runPlan(t, path)
	if got := requests(t, res.Run, "login"); got != 12 {
		t.Errorf("logins %d, want 12 (every client logs in)", got)
	}
	if got := checkCount(t, res.Run, "login: status is 200"); got != [2]int64{12, 0} {
		t.Errorf("YAML and script checks of the same name: %v, want 12 passes", got)
	}
	for _, n := range []string{"product", "cart"} {
		if got := requests(t, res.Run, n); got != 4 {
			t.Errorf("%s: %d, want 4", n, got)
		}
	}
	if tl.count("user ann") == 0 || tl.count("user bob") == 0 {
		t.Errorf("both data rows should be used: %v", tl.snapshot())
	}
}

// TestScriptInvalidHeader: a header value with a line break is not sent:
// the request is recorded as invalid and the script raises.
func TestScriptInvalidHeader(t *testing.T) {
	tl := newTally()
	res, prog := runScript(t, shopServer(t, tl), `
def run(ctx):
    http.get("/", headers={"X-A": "a\nb"})
`, "{ clients: 1, iterations: 1 }")
	if tl.count("GET /") != 0 {
		t.Error("the request was sent")
	}
	if got := res.Run.ByName[0].Errors[metrics.ErrInvalid]; got != 1 {
		t.Errorf("invalid requests %d, want 1", got)
	}
	if errs := strings.Join(prog.ScriptErrors(), "\n"); !strings.Contains(errs, "line break") {
		t.Errorf("script errors %q", errs)
	}
}

// TestScriptCheckNames: a check counts under the requests whose response
// its argument can hold at that point of the function, found before the
// run: exactly those, so the report lists no check that can never run.
// Where the analysis cannot tell (a parameter, an element of a list), it is
// every request of the script.
func TestScriptCheckNames(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"sequence", `
    r = http.get("/a")
    check(r, status=200)
    r = http.get("/b")
    check(r, status=200)`, "GET /a: status is 200|GET /b: status is 200"},
		{"inline", `
    check(http.get("/a"), status=200)`, "GET /a: status is 200"},
		{"branches", `
    if ctx.iteration:
        r = http.get("/a")
    else:
        r = http.get("/b")
    check(r, body_contains="x")`, `GET /a: body contains "x"|GET /b: body contains "x"`},
		{"loop carries the last turn's value", `
    r = http.get("/a")
    for i in range(3):
        check(r, status=200)
        r = http.get("/b")`, "GET /a: status is 200|GET /b: status is 200"},
		{"after the loop", `
    r = http.get("/a")
    while ctx.iteration < 0:
        r = http.get("/b")
        if r.ok:
            break
        r = http.get("/c")
    check(r, status=200)`, "GET /a: status is 200|GET /b: status is 200|GET /c: status is 200"},
		{"a parameter may be any response", `
    verify(http.get("/a"))
    verify(http.get("/b"))

def verify(r):
    check(r, r.ok, name="ok")`, "GET /a: ok|GET /b: ok"},
		{"comprehension variable", `
    r = http.get("/a")
    rs = [http.get("/b") for _ in range(2)]
    [check(r, status=200) for r in rs]`, "GET /a: status is 200|GET /b: status is 200"},
		{"condition with a name", `
    r = http.get("/a")
    http.get("/b")
    check(r, r.status < 500, name="no 5xx")`, "GET /a: no 5xx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePlan(t, "http://127.0.0.1:1", `
base_url: BASE
scenarios:
  s:
    script: s.star
    function: run
load: { clients: 1, iterations: 1 }
`, map[string]string{"s.star": "def run(ctx):" + tc.body + "\n"})
			prog := compile(t, path)
			if got, want := strings.Join(prog.Checks, "|"), tc.want+"|s: no script error"; got != want {
				t.Errorf("checks\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestScriptOpenModelTwoScenarios: in the open model a client runs
// whichever scenario each start draws; each script scenario keeps its own
// state (ctx.scenario, ctx.iteration) in that client.
func TestScriptOpenModelTwoScenarios(t *testing.T) {
	tl := newTally()
	res := runPlan(t, writePlan(t, shopServer(t, tl), `
base_url: BASE
scenarios:
  a:
    script: ab.star
  b:
    script: ab.star
load: { rate: 200, duration: 300ms, max_clients: 2 }
`, map[string]string{"ab.star": `
def a(ctx):
    r = http.get("/a")
    check(r, ctx.scenario == "a", name="own state")

def b(ctx):
    r = http.get("/b")
    check(r, ctx.scenario == "b", name="own state")
`}))
	na, nb := requests(t, res.Run, "GET /a"), requests(t, res.Run, "GET /b")
	if na == 0 || nb == 0 {
		t.Fatalf("requests a %d, b %d; want both", na, nb)
	}
	// The run's end cancels a script between its request and its check,
	// so up to max_clients (2) requests in flight then have no check.
	for _, c := range []struct {
		name string
		n    int64
	}{{"GET /a: own state", na}, {"GET /b: own state", nb}} {
		if got := checkCount(t, res.Run, c.name); got[1] != 0 || got[0] > c.n || got[0] < c.n-2 {
			t.Errorf("%s: %v, want %d passes (at least %d), no failure", c.name, got, c.n, c.n-2)
		}
	}
}

// TestScriptDefaultHeaderFromData: a defaults header that uses a data
// column is sent with a script's requests, with this iteration's row.
func TestScriptDefaultHeaderFromData(t *testing.T) {
	tl := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { tl.add(r.Header.Get("X-User")) })
	runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
defaults: { headers: { X-User: "{{ users.user }}" } }
data: { users: { csv: u.csv, pick: unique } }
scenarios:
  s:
    script: s.star
load: { clients: 1, iterations: 2 }
`, map[string]string{"u.csv": "user\nann\nbob\n", "s.star": "def s(ctx):\n    http.get(\"/\")\n"}))
	if tl.count("ann") != 1 || tl.count("bob") != 1 {
		t.Errorf("X-User values %v, want ann and bob once each", tl.snapshot())
	}
}

// TestScriptCallErrors: a call the script gets wrong at run time is a
// script error with its position, and sends nothing.
func TestScriptCallErrors(t *testing.T) {
	for _, tc := range []struct{ name, call, want string }{
		{"two bodies", `http.post("/", json={}, body="x")`, "http.post: want one body: json=, form= or body="},
		{"unknown argument", `http.get("/", params={})`, "http.get: unexpected argument params="},
		{"path not a string", `http.get(7, name="x")`, "http.get: path: want a string, got int"},
		{"headers not a dict", `http.get("/", headers=[1])`, "http.get: headers: want a dict, got list"},
		{"bad timeout", `http.get("/", timeout=-1)`, "http.get: timeout: want seconds > 0"},
		{"check of something else", `check(None, status=200)`, "check: want a response (from http.get, ...), got NoneType"},
		{"http through a variable", `f = http.get; f("/x")`, "http.get: call it by name"},
		{"randint order", `random.randint(3, 1)`, "random.randint: want a <= b"},
		{"sleep negative", `sleep(-1)`, "sleep: want seconds from 0 to 86400"},
		{"unknown ctx.data", `getattr(ctx.data, "nope")`, `ctx.data has no "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTally()
			res, prog := runScript(t, shopServer(t, tl), "def run(ctx):\n    "+tc.call+"\n", "{ clients: 1, iterations: 1 }")
			if n := len(tl.snapshot()); n != 0 {
				t.Errorf("the server saw %v", tl.snapshot())
			}
			if got := checkCount(t, res.Run, "s: no script error"); got != [2]int64{0, 1} {
				t.Errorf("script error check %v, want one fail", got)
			}
			if errs := strings.Join(prog.ScriptErrors(), "\n"); !strings.Contains(errs, "s.star:2:") || !strings.Contains(errs, tc.want) {
				t.Errorf("script errors %q, want %q at s.star:2", errs, tc.want)
			}
		})
	}
}

// TestScriptGlobalsFrozen: the script's globals are shared by every
// client, frozen after load: changing one is a script error.
func TestScriptGlobalsFrozen(t *testing.T) {
	tl := newTally()
	res, prog := runScript(t, shopServer(t, tl), `
SEEN = []
def run(ctx):
    SEEN.append(ctx.client_id)
`, "{ clients: 2, iterations: 1 }")
	if got := checkCount(t, res.Run, "s: no script error"); got != [2]int64{0, 2} {
		t.Errorf("script error check %v, want 2 fails", got)
	}
	if errs := strings.Join(prog.ScriptErrors(), "\n"); !strings.Contains(errs, "s.star:4:16: in run: append: cannot append to frozen list (×2)") {
		t.Errorf("script errors %q", errs)
	}
}

// TestScriptRedirects: a script's request follows redirects only when
// told (follow_redirects=, or defaults), each hop recorded under the
// request's redirect name; a 302 is otherwise the response.
func TestScriptRedirects(t *testing.T) {
	tl := newTally()
	res, _ := runScript(t, shopServer(t, tl), `
def run(ctx):
    r = http.post("/r1", name="follow", follow_redirects=5, json={"a": 1})
    check(r, r.status == 200 and r.json()["method"] == "GET" and r.json()["ctype"] == "", name="ok")
    r = http.get("/r1", name="stay")
    check(r, r.status == 302, name="ok")
`, "{ clients: 1, iterations: 3 }")
	for name, want := range map[string]int64{"follow": 3, "follow (redirect)": 6, "stay": 3} {
		if got := requests(t, res.Run, name); got != want {
			t.Errorf("%s: %d requests, want %d", name, got, want)
		}
	}
	for _, n := range []string{"follow: ok", "stay: ok"} {
		if got := checkCount(t, res.Run, n); got != [2]int64{3, 0} {
			t.Errorf("%s: %v, want 3 passes", n, got)
		}
	}
	if tl.count("GET /r2") != 3 || tl.count("GET /echo") != 3 || tl.count("GET /r1") != 3 || tl.count("POST /r1") != 3 {
		t.Errorf("server saw %v", tl.snapshot())
	}
}
