package importer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// shopServer answers the requests of testdata/jmx/logic.jmx and counts
// them by path; it also counts what arrives wrong (a token that was not
// extracted, a page that was not asked for).
func shopServer(t *testing.T) (*httptest.Server, func() map[string]int) {
	var mu sync.Mutex
	count := map[string]int{}
	h := func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/login":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<form><input type="hidden" name="csrf" value="tok123"></form>`)
		case r.URL.Path == "/api/login":
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
			if !strings.Contains(string(b), `"csrf":"tok123"`) {
				key += " without csrf"
			}
			fmt.Fprint(w, `{"token":"T1"}`)
		case r.URL.Path == "/api/products":
			fmt.Fprint(w, `{"products":[{"id":11},{"id":12},{"id":13}]}`)
		case strings.HasPrefix(r.URL.Path, "/api/products/"):
			key = "GET /api/products/" + map[bool]string{true: "N", false: r.URL.Path}[r.URL.Path >= "/api/products/11" && r.URL.Path <= "/api/products/13"]
		case r.URL.Path == "/api/ping":
			fmt.Fprint(w, `{"status":"ok"}`)
		case r.URL.Path == "/api/pages":
			next := map[string]string{"": `{"next":"p2"}`, "p2": `{"next":"p3"}`, "p3": `{}`}[r.URL.Query().Get("cursor")]
			if next == "" {
				key += " unknown cursor"
				next = `{}`
			}
			fmt.Fprint(w, next)
		case r.URL.Path == "/api/account":
			if r.Header.Get("Authorization") != "Bearer T1" {
				key += " without token"
				w.WriteHeader(http.StatusUnauthorized)
			}
		case r.URL.Path == "/api/missing":
			w.WriteHeader(http.StatusNotFound)
		case r.URL.Path == "/api/cart":
			_ = r.ParseForm()
			if !strings.HasPrefix(r.PostForm.Get("sku"), "SKU-") {
				key += " without sku"
			}
			w.WriteHeader(http.StatusCreated)
		}
		mu.Lock()
		count[key]++
		mu.Unlock()
	}
	srv := httptest.NewServer(http.HandlerFunc(h))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range count {
			out[k] = v
		}
		return out
	}
}

// TestJMXLogicRuns imports testdata/jmx/logic.jmx (a JMeter plan with
// Loop, While, If, ForEach, Once Only and Transaction controllers,
// assertions, a thread-group-wide extractor, a header-less CSV file, a
// Flow Control pause and JMeter functions), writes the plan as `fuka import
// -o` does, and runs it against a local server: each loop runs its count,
// the while stops at the server's last page, the foreach goes through the
// extracted list, and the expected 404 passes its check.
func TestJMXLogicRuns(t *testing.T) {
	srv, counts := shopServer(t)
	u, _ := url.Parse(srv.URL)
	src, err := os.ReadFile("testdata/jmx/logic.jmx")
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.ReplaceAll(string(src), "${__P(port,8080)}", "${__P(port,"+u.Port()+")}"))
	res, err := JMX(strings.NewReader(string(src)), filepath.Join("testdata", "jmx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.yaml")
	var stdout, stderr strings.Builder
	if err := (Output{Path: path}).Write(res, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := runFile(t, path)
	const clients = 2
	want := map[string]int{
		"GET /login": 1, "POST /api/login": 1,
		"GET /api/products":   5 + 1, // the 5-loop, then the list for the foreach
		"GET /api/ping":       60,    // the 60-loop: not once
		"GET /api/products/N": 3, "GET /api/pages": 3, "GET /api/account": 1,
		"GET /api/missing": 1, "GET /api/welcome": 1, "POST /api/cart": 1,
	}
	got := counts()
	for k, n := range want {
		if got[k] != n*clients {
			t.Errorf("%s: %d requests, want %d", k, got[k], n*clients)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %q (%d)", k, got[k])
		}
	}
	run := out.Run
	for i, name := range run.CheckNames {
		if c := run.Checks[i]; c[1] != 0 {
			t.Errorf("check %q failed %d times", name, c[1])
		}
		if name == "Gone item: status is 404" && run.Checks[i][0] != clients {
			t.Errorf("the expected 404 passed %d times, want %d", run.Checks[i][0], clients)
		}
	}
	if !hasCheck(run.CheckNames, "Gone item: status is 404") {
		t.Errorf("no check for the expected 404: %q", run.CheckNames)
	}
	if t.Failed() {
		t.Logf("plan:\n%s", res.YAML)
	}
}

// runFile runs an imported plan file's top-level load against its
// servers (local ones in these tests) and fails if it does not end.
func runFile(t *testing.T, path string) *engine.Result {
	t.Helper()
	p, err := plan.ParseFile(path)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	prog, err := scenario.Compile(p, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	l := p.Load
	runner := scenario.NewRunner(prog, scenario.Options{MaxConns: 4, UserAgent: "fuka-test"}, false)
	defer runner.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := engine.Run(ctx, engine.Config{Load: engine.Closed{Clients: l.Clients, RampUp: l.RampUp, Iterations: l.Iterations}, Work: engine.Plan{Scenario: runner}})
	if err != nil || out.Interrupted {
		t.Fatalf("run: %v (interrupted %v)", err, out.Interrupted)
	}
	return out
}

// TestHARRuns imports a recording with a byte order mark, a static asset
// and a request that got no response, and runs it once against a local
// server: every request but the asset is sent, once.
func TestHARRuns(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()
	har := "\uFEFF" + harOf(t, "GET "+srv.URL+"/ 200 text/html 0 10", "GET "+srv.URL+"/logo.png 200 image/png 20 5",
		"POST "+srv.URL+"/api/cart 201 application/json 40 5", "GET "+srv.URL+"/api/slow 0 - 60 5")
	res, err := HAR(strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(res.YAML), "load:\n  clients: 10\n", "load:\n  clients: 1\n  iterations: 1\n", 1)
	src = strings.Replace(src, "  duration: ", "  #duration: ", 1)
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	runFile(t, path)
	want := map[string]int{"GET /": 1, "POST /api/cart": 1, "GET /api/slow": 1}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Errorf("requests %v, want %v\n%s", got, want, src)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d\n%s", k, got[k], n, src)
		}
	}
}

func hasCheck(names []string, want string) bool {
	for _, n := range names {
		if n == want {
			return true
		}
	}
	return false
}
