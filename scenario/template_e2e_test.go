package scenario_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

// capture keeps the last request that arrived at each path, body included.
type capture struct {
	mu   sync.Mutex
	reqs map[string]*http.Request
	body map[string][]byte
}

func newCapture(t *testing.T) (*capture, string) {
	c := &capture{reqs: map[string]*http.Request{}, body: map[string][]byte{}}
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs[r.URL.Path], c.body[r.URL.Path] = r, b
		c.mu.Unlock()
	})
	return c, srv.URL
}

// at returns the request that arrived at path and its body.
func (c *capture) at(t *testing.T, path string) (*http.Request, []byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.reqs[path]
	if !ok {
		t.Fatalf("no request arrived at %s", path)
	}
	return r, c.body[path]
}

// TestRandIntBounds: randInt a b renders integers in [a, b], all of them.
func TestRandIntBounds(t *testing.T) {
	seen := newTally()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 5 || n > 9 {
			seen.fail("n=%q is not an integer in [5, 9]", r.URL.Query().Get("n"))
		}
		seen.add(strconv.Itoa(n))
	})
	runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
scenarios:
  s:
    steps: [ { get: "/r?n={{ randInt 5 9 }}" } ]
load: { clients: 2, iterations: 150 }
`, nil))
	seen.noFailures(t)
	// 300 uniform draws of 5 values: each is missing with probability ~1e-29.
	if got := seen.snapshot(); len(got) != 5 {
		t.Errorf("values seen: %v, want each of 5..9", got)
	}
}

// TestRequestParts: query maps, form and JSON bodies, default and step
// headers, and body_file arrive as the plan says.
func TestRequestParts(t *testing.T) {
	c, base := newCapture(t)
	// A user name with characters that need escaping in a query, a form
	// and a JSON string.
	const user = `o"neil & co\ 100%`
	users := "name\n\"o\"\"neil & co\\ 100%\"\n"
	payload := "\x00\x01binary\r\n{{ not a template }}\xff"
	runPlan(t, writePlan(t, base, `
base_url: BASE
defaults:
  headers: { X-Default: d, X-Over: default, User-Agent: plan-agent }
data:
  users: { csv: users.csv }
scenarios:
  s:
    steps:
      - get: /query?x=1
        query: { q: "a b&c=d", user: "{{ users.name }}" }
      - post: /form
        form: { a: "x y", who: "{{ users.name }}", sym: "&=+" }
      - post: /json
        json:
          user: "{{ users.name }}"
          n: 3
          ok: true
          tags: [a, "{{ upper \"b\" }}", "{{ users.name }}"]
          nested: { v: null, f: 1.5 }
      - put: /headers
        headers: { X-Over: step, X-User: "{{ users.name }}" }
      - post: /file
        body_file: payload.bin
        headers: { Content-Type: application/octet-stream }
load: { clients: 1, iterations: 1 }
`, map[string]string{"users.csv": users, "payload.bin": payload}))

	t.Run("query", func(t *testing.T) {
		r, _ := c.at(t, "/query")
		want := url.Values{"x": {"1"}, "q": {"a b&c=d"}, "user": {user}}
		if got := r.URL.Query(); !reflect.DeepEqual(got, want) {
			t.Errorf("query %v, want %v (raw %q)", got, want, r.URL.RawQuery)
		}
	})
	t.Run("form", func(t *testing.T) {
		r, body := c.at(t, "/form")
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		got, err := url.ParseQuery(string(body))
		want := url.Values{"a": {"x y"}, "who": {user}, "sym": {"&=+"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("form %v (%v), want %v; body %q", got, err, want, body)
		}
	})
	t.Run("json", func(t *testing.T) {
		r, body := c.at(t, "/json")
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if !json.Valid(body) {
			t.Fatalf("body is not valid JSON: %s", body)
		}
		var got map[string]any
		_ = json.Unmarshal(body, &got)
		want := map[string]any{
			"user": user, "n": 3.0, "ok": true, "tags": []any{"a", "B", user},
			"nested": map[string]any{"v": nil, "f": 1.5},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("json %v, want %v", got, want)
		}
	})
	t.Run("headers", func(t *testing.T) {
		r, _ := c.at(t, "/headers")
		for k, want := range map[string]string{"X-Default": "d", "X-Over": "step", "X-User": user, "User-Agent": "plan-agent"} {
			if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
				t.Errorf("header %s: %q, want [%q]", k, got, want)
			}
		}
	})
	t.Run("body_file", func(t *testing.T) {
		r, body := c.at(t, "/file")
		if string(body) != payload {
			t.Errorf("body %q, want the file as is: %q", body, payload)
		}
		if r.ContentLength != int64(len(payload)) {
			t.Errorf("Content-Length %d, want %d", r.ContentLength, len(payload))
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q", ct)
		}
	})
}
