package scenario_test

import (
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestLogicWithHTTP: logic steps around the HTTP basics. A loop's turn
// follows its own redirects (each hop counted), and what comes after the
// step (an if's status, a required extraction) judges the final response,
// not the 3xx before it; a multipart body inside a foreach renders the
// turn's value and a data column used only there, and sends its file.
func TestLogicWithHTTP(t *testing.T) {
	const iters = 2 // one client, iterations: 2
	var mu sync.Mutex
	var parts []string // multipart requests as "id n file", in order
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/r":
			// A 3xx with a JSON body of its own, without tok: a required
			// extraction that read it would fail.
			w.Header().Set("Location", "/s")
			w.WriteHeader(http.StatusFound)
			w.Write([]byte(`{"other":1}`))
		case "/s":
			http.Redirect(w, r, "/final", http.StatusSeeOther)
		case "/final":
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"tok":"t1"}`))
		case "/products":
			w.Write([]byte(`[{"id":1},{"id":2},{"id":3}]`))
		case "/up":
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var file string
			if fh := r.MultipartForm.File["f"]; len(fh) == 1 {
				f, _ := fh[0].Open()
				b, _ := io.ReadAll(f)
				f.Close()
				file = string(b)
			}
			mu.Lock()
			parts = append(parts, strings.Join(r.MultipartForm.Value["id"], ",")+" "+
				strings.Join(r.MultipartForm.Value["n"], ",")+" "+file)
			mu.Unlock()
		}
	})
	tests := []struct {
		name   string
		steps  string
		reqs   map[string]int64    // request name -> requests in the whole run
		checks map[string][2]int64 // check name -> passes, fails
		parts  []string            // what /up received, sorted
	}{
		{
			name: "a loop's turns follow redirects; the if and required see the final response",
			steps: `
      - loop: { count: 3 }
        steps:
          - get: /r
            name: r
            follow_redirects: 2
            extract: { tok: { from: "json:tok", required: true } }
          - if: '{{ status == 201 && tok == "t1" }}'
            then:
              - get: /yes
                name: yes
            else:
              - get: /no
                name: no`,
			reqs:   map[string]int64{"r": 3 * iters, "r (redirect)": 2 * 3 * iters, "yes": 3 * iters},
			checks: map[string][2]int64{"r: tok is extracted": {3 * iters, 0}},
		},
		{
			name: "a multipart step inside a foreach",
			steps: `
      - get: /products
        name: products
        extract: { products: "json:@this" }
      - foreach: { in: '{{ products }}', as: p }
        steps:
          - post: /up
            name: up
            multipart:
              id: "{{ p.id }}"
              n: "{{ d.n }}"
              f: { path: f.bin }`,
			reqs:  map[string]int64{"products": iters, "up": 3 * iters},
			parts: []string{"1 a file", "1 b file", "2 a file", "2 b file", "3 a file", "3 b file"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			parts = nil
			mu.Unlock()
			path := writePlan(t, srv.URL, `
base_url: BASE
data: { d: { csv: d.csv } }
scenarios:
  s:
    steps:`+tc.steps+`
load: { clients: 1, iterations: 2 }
`, map[string]string{"f.bin": "file", "d.csv": "n\na\nb\n"})
			res := runPlan(t, path)
			got := map[string]int64{}
			for i, n := range res.Run.Names {
				if c := res.Run.ByName[i].Requests; c > 0 {
					got[n] = c
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
			mu.Lock()
			seen := slices.Clone(parts)
			mu.Unlock()
			sort.Strings(seen)
			if !slices.Equal(seen, tc.parts) {
				t.Errorf("multipart requests %q, want %q", seen, tc.parts)
			}
		})
	}
}
