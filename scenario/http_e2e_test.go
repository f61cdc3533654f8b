package scenario_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/testcert"
	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/scenario"
)

// TestMultipart: fields (templates included) and a file arrive as parts of
// a multipart/form-data body the server's own parser reads.
func TestMultipart(t *testing.T) {
	type seen struct {
		fields        map[string][]string
		file, name    string
		ctype, header string
	}
	var mu sync.Mutex
	var got []seen
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		s := seen{header: r.Header.Get("Content-Type")}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			s.header += " (" + err.Error() + ")"
		} else {
			s.fields = r.MultipartForm.Value
			if fh := r.MultipartForm.File["photo"]; len(fh) == 1 {
				f, _ := fh[0].Open()
				b, _ := io.ReadAll(f)
				f.Close()
				s.file, s.name, s.ctype = string(b), fh[0].Filename, fh[0].Header.Get("Content-Type")
			}
		}
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	})
	png := "\x89PNG\r\n\x1a\n--not-a-boundary\r\n"
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
vars: { who: "o\"neil & co" }
data: { d: { csv: d.csv } }
scenarios:
  s:
    steps:
      - post: /upload
        multipart:
          title: "hello {{ d.n }}"
          user: "{{ who }}"
          photo: { path: a.png, content_type: image/png, filename: me.png }
          raw: { path: a.png }
load: { clients: 1, iterations: 2 }
`, map[string]string{"a.png": png, "d.csv": "n\n1\n2\n"}))
	if tot := res.Run.Total; tot.Requests != 2 || tot.Status[200] != 2 {
		t.Fatalf("requests %d, 200s %d; want 2, 2", tot.Requests, tot.Status[200])
	}
	for i, s := range got {
		if !strings.HasPrefix(s.header, "multipart/form-data; boundary=") {
			t.Fatalf("request %d: Content-Type %q", i, s.header)
		}
		if want := []string{"hello " + string(rune('1'+i))}; strings.Join(s.fields["title"], ",") != want[0] {
			t.Errorf("request %d: title %q, want %q", i, s.fields["title"], want)
		}
		if u := s.fields["user"]; len(u) != 1 || u[0] != `o"neil & co` {
			t.Errorf("request %d: user %q", i, u)
		}
		if s.file != png || s.name != "me.png" || s.ctype != "image/png" {
			t.Errorf("request %d: file %q named %q (%s); want the file as is, me.png, image/png", i, s.file, s.name, s.ctype)
		}
	}
}

// TestFollowRedirects: redirects are followed only when asked, up to the
// bound, on the same host only; every hop is a request in the results
// (under "NAME (redirect)"), and the server saw exactly what the results
// count.
func TestFollowRedirects(t *testing.T) {
	var mu sync.Mutex
	var hits []string
	var base string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusFound)
		case "/b":
			http.Redirect(w, r, "c", http.StatusMovedPermanently) // relative to /b
		case "/c", "/see":
			http.Redirect(w, r, "/ok", http.StatusSeeOther)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/temp":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/away":
			// The same server under another host name: not followed.
			http.Redirect(w, r, strings.Replace(base, "127.0.0.1", "localhost", 1)+"/ok", http.StatusFound)
		}
	})
	base = srv.URL
	tests := []struct {
		name, steps string
		hits        []string // what the server saw, in order
		status      int      // the step's final status, checked
		own, redir  int64    // requests under the step's name and its redirect name
	}{
		{"not followed by default", `[ { post: /a, name: s, body: x, check: { status: 302 } } ]`,
			[]string{"POST /a x"}, 302, 1, -1},
		{"a chain, POST becomes GET", `[ { post: /a, name: s, body: x, follow_redirects: 5, check: { status: 200 } } ]`,
			[]string{"POST /a x", "GET /b ", "GET /c ", "GET /ok "}, 200, 1, 3},
		{"a loop stops at the bound", `[ { get: /loop, name: s, follow_redirects: 3, check: { status: 302 } } ]`,
			[]string{"GET /loop ", "GET /loop ", "GET /loop ", "GET /loop "}, 302, 1, 3},
		{"307 sends the body again", `[ { post: /temp, name: s, body: x, follow_redirects: 1, check: { status: 200 } } ]`,
			[]string{"POST /temp x", "POST /ok x"}, 200, 1, 1},
		{"303 turns a PUT into a GET", `[ { put: /see, name: s, body: x, follow_redirects: 1, check: { status: 200 } } ]`,
			[]string{"PUT /see x", "GET /ok "}, 200, 1, 1},
		{"another host is not followed", `[ { get: /away, name: s, follow_redirects: 5, check: { status: 302 } } ]`,
			[]string{"GET /away "}, 302, 1, 0},
		{"the bound of 0 overrides defaults", `[ { get: /a, name: s, follow_redirects: 0, check: { status: 302 } } ]`,
			[]string{"GET /a "}, 302, 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			hits = nil
			mu.Unlock()
			defaults := ""
			if strings.Contains(tt.name, "defaults") {
				defaults = "defaults: { follow_redirects: 5 }\n"
			}
			res := runPlan(t, writePlan(t, srv.URL, "base_url: BASE\n"+defaults+`
scenarios:
  s:
    steps: `+tt.steps+`
load: { clients: 1, iterations: 1 }
`, nil))
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(hits, "|") != strings.Join(tt.hits, "|") {
				t.Errorf("the server saw %q, want %q", hits, tt.hits)
			}
			if c := checkCount(t, res.Run, "s: status is "+itoa(tt.status)); c != [2]int64{1, 0} {
				t.Errorf("check status %d: %v, want passed once", tt.status, c)
			}
			if n := requests(t, res.Run, "s"); n != tt.own {
				t.Errorf("requests under s: %d, want %d", n, tt.own)
			}
			names := strings.Join(res.Run.Names, ",")
			if tt.redir < 0 {
				if strings.Contains(names, "(redirect)") {
					t.Errorf("names %q: no redirect name without follow_redirects", names)
				}
			} else if n := requests(t, res.Run, "s (redirect)"); n != tt.redir {
				t.Errorf("requests under s (redirect): %d, want %d", n, tt.redir)
			}
			if got := res.Run.Total.Requests; got != int64(len(tt.hits)) {
				t.Errorf("results count %d requests; the server saw %d", got, len(tt.hits))
			}
		})
	}
}

func itoa(n int) string {
	return strings.TrimLeft(string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)}), "0")
}

// TestStepTimeout: a step's timeout bounds its request (a timeout error),
// while another step of the same plan keeps the default.
func TestStepTimeout(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
	})
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
defaults: { timeout: 5s }
scenarios:
  s:
    steps:
      - { get: /slow, name: slow, timeout: 100ms }
      - { get: /fast, name: fast }
load: { clients: 1, iterations: 1 }
`, nil))
	for i, n := range res.Run.Names {
		st := res.Run.ByName[i]
		switch n {
		case "slow":
			if st.Errors[metrics.ErrTimeout] != 1 {
				t.Errorf("slow: errors %v, want one timeout", st.Errors)
			}
		case "fast":
			if st.Status[200] != 1 {
				t.Errorf("fast: %d 200s, want 1", st.Status[200])
			}
		}
	}
	if d := res.Run.Total.Latency.Max(); d > int64(time.Second/time.Microsecond) {
		t.Errorf("max latency %dµs: the 100ms timeout did not cut the slow request", d)
	}
}

// TestHostOverride: a Host header in a plan is the request's Host.
func TestHostOverride(t *testing.T) {
	c, base := newCapture(t)
	runPlan(t, writePlan(t, base, `
base_url: BASE
scenarios:
  s:
    steps: [ { get: /h, headers: { Host: shop.example } } ]
load: { clients: 1, iterations: 1 }
`, nil))
	if r, _ := c.at(t, "/h"); r.Host != "shop.example" {
		t.Errorf("Host %q, want shop.example", r.Host)
	}
}

// TestPlanTLS: the plan's tls (client certificate, key, CA) reaches a
// server that requires a client certificate; https speaks h2 by ALPN
// unless http_version says 1.1.
func TestPlanTLS(t *testing.T) {
	cs := testcert.New(t)
	var mu sync.Mutex
	var protos []string
	srv := cs.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		mu.Unlock()
	}), true)
	tests := []struct {
		name, defaults string
		opts           scenario.Options
		ok             bool
		proto          string
	}{
		{"cert, key and CA: h2", "tls: { cert: CERT, key: KEY, ca: CA }", scenario.Options{}, true, "HTTP/2.0"},
		{"http_version 1.1", "tls: { cert: CERT, key: KEY, ca: CA }\n  http_version: 1.1", scenario.Options{}, true, "HTTP/1.1"},
		{"the command line's HTTP/1.1 wins", "tls: { cert: CERT, key: KEY, ca: CA }\n  http_version: 2", scenario.Options{HTTP1: true}, true, "HTTP/1.1"},
		// HTTP/1.1: over h2 the refusal may also come as a reset (see
		// client.TestTransportTLS).
		{"CA only: no client certificate", "tls: { ca: CA }\n  http_version: 1.1", scenario.Options{}, false, ""},
		{"no tls", "timeout: 5s", scenario.Options{}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			protos = nil
			mu.Unlock()
			d := strings.NewReplacer("CERT", cs.CertFile, "KEY", cs.KeyFile, "CA", cs.CAFile).Replace(tt.defaults)
			tt.opts.UserAgent = "fuka-test"
			res := runPlanWith(t, writePlan(t, srv.URL, `
base_url: BASE
defaults:
  `+d+`
scenarios:
  s:
    steps: [ { get: / } ]
load: { clients: 1, iterations: 1 }
`, nil), tt.opts)
			tot := res.Run.Total
			if ok := tot.Status[200] == 1; ok != tt.ok {
				t.Fatalf("200s %d, errors %v; want ok %v", tot.Status[200], tot.Errors, tt.ok)
			}
			if !tt.ok && tot.Errors[metrics.ErrTLS] != 1 {
				t.Errorf("errors %v, want one tls", tot.Errors)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.ok && (len(protos) != 1 || protos[0] != tt.proto) {
				t.Errorf("server saw %q, want [%s]", protos, tt.proto)
			}
		})
	}
}
