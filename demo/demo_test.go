package demo

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// newTestServer serves a fresh Handler on 127.0.0.1 for the test's lifetime.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, data
}

// productIDs decodes a product list and returns its ids.
func productIDs(t *testing.T, data []byte) []int {
	t.Helper()
	var ps []product
	if err := json.Unmarshal(data, &ps); err != nil {
		t.Fatalf("decode products: %v\n%s", err, data)
	}
	ids := make([]int, len(ps))
	for i, p := range ps {
		if p.Name == "" || p.Price <= 0 {
			t.Errorf("product %+v: want a name and a positive price", p)
		}
		ids[i] = p.ID
	}
	return ids
}

func wantIDs(from, to int) func(*testing.T, []byte) {
	return func(t *testing.T, data []byte) {
		t.Helper()
		ids := productIDs(t, data)
		if len(ids) != to-from+1 || ids[0] != from || ids[len(ids)-1] != to {
			t.Errorf("ids = %v, want %d..%d", ids, from, to)
		}
	}
}

func wantJSONError(t *testing.T, data []byte) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
		t.Errorf("body %q: want JSON {\"error\": ...} (err %v)", data, err)
	}
}

func TestEndpoints(t *testing.T) {
	srv := newTestServer(t)
	const (
		html   = "text/html; charset=utf-8"
		text   = "text/plain; charset=utf-8"
		jsonCT = "application/json"
		binary = "application/octet-stream"
	)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantType   string
		check      func(*testing.T, []byte) // optional
	}{
		{"home", "GET", "/", "", 200, html, func(t *testing.T, b []byte) {
			if n := len(b); n < 200 || n > 1000 || !strings.Contains(string(b), "<html") {
				t.Errorf("home page is %d bytes, want a small HTML page", n)
			}
		}},
		{"health", "GET", "/health", "", 200, text, func(t *testing.T, b []byte) {
			if string(b) != "ok" {
				t.Errorf("body = %q, want %q", b, "ok")
			}
		}},
		{"products default page", "GET", "/api/products", "", 200, jsonCT, wantIDs(1, 10)},
		{"products page 3", "GET", "/api/products?page=3", "", 200, jsonCT, wantIDs(21, 30)},
		{"products last page", "GET", "/api/products?sort=x&page=100", "", 200, jsonCT, wantIDs(991, 1000)},
		{"products escaped page", "GET", "/api/products?page=%32", "", 200, jsonCT, wantIDs(11, 20)},
		{"products page 0", "GET", "/api/products?page=0", "", 400, jsonCT, wantJSONError},
		{"products page past end", "GET", "/api/products?page=101", "", 400, jsonCT, wantJSONError},
		{"products page not a number", "GET", "/api/products?page=abc", "", 400, jsonCT, wantJSONError},
		{"products page empty", "GET", "/api/products?page=", "", 400, jsonCT, wantJSONError},
		{"product 1", "GET", "/api/products/1", "", 200, jsonCT, func(t *testing.T, b []byte) {
			if ids := productIDs(t, append(append([]byte("["), b...), ']')); ids[0] != 1 {
				t.Errorf("id = %d, want 1", ids[0])
			}
		}},
		{"product 1000", "GET", "/api/products/1000", "", 200, jsonCT, nil},
		{"product 0", "GET", "/api/products/0", "", 404, jsonCT, wantJSONError},
		{"product 1001", "GET", "/api/products/1001", "", 404, jsonCT, wantJSONError},
		{"product not a number", "GET", "/api/products/abc", "", 404, jsonCT, wantJSONError},
		{"login", "POST", "/api/login", `{"user":"ann","pass":"pw"}`, 200, jsonCT, nil},
		{"login empty user", "POST", "/api/login", `{"user":"","pass":"pw"}`, 401, jsonCT, wantJSONError},
		{"login no pass", "POST", "/api/login", `{"user":"ann"}`, 401, jsonCT, wantJSONError},
		{"login not JSON", "POST", "/api/login", `user=ann`, 400, jsonCT, wantJSONError},
		{"login no body", "POST", "/api/login", "", 400, jsonCT, wantJSONError},
		{"cart put without token", "PUT", "/api/cart/1", "", 401, jsonCT, wantJSONError},
		{"cart patch without token", "PATCH", "/api/cart/1", "", 401, jsonCT, wantJSONError},
		{"cart delete without token", "DELETE", "/api/cart/1", "", 401, jsonCT, wantJSONError},
		{"slow", "GET", "/slow", "", 200, jsonCT, nil},
		{"big", "GET", "/big", "", 200, binary, func(t *testing.T, b []byte) {
			if len(b) != 1<<20 {
				t.Errorf("body is %d bytes, want 1 MiB", len(b))
			}
		}},
		{"unknown path", "GET", "/nope", "", 404, jsonCT, wantJSONError},
		{"products trailing slash", "GET", "/api/products/", "", 404, jsonCT, wantJSONError},
		{"wrong method", "POST", "/health", "", 404, jsonCT, wantJSONError},
		{"login with GET", "GET", "/api/login", "", 404, jsonCT, wantJSONError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), tt.method, srv.URL+tt.path, tt.body, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %.200q)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

// TestFlakyStatus checks /flaky's two answers separately from TestEndpoints,
// whose cases expect one status.
func TestFlakyStatus(t *testing.T) {
	srv := newTestServer(t)
	var fails int
	for range 400 {
		resp, body := do(t, srv.Client(), "GET", srv.URL+"/flaky", "", nil)
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q, want application/json", ct)
		}
		switch resp.StatusCode {
		case 200:
		case 503:
			fails++
			wantJSONError(t, body)
			if resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		default:
			t.Fatalf("status = %d, want 200 or 503", resp.StatusCode)
		}
	}
	// 5% of 400 is 20. The bounds are far enough out (P(0) ≈ 1e-9, P(>60)
	// smaller still) that the test does not flake, yet catch "never fails"
	// and "mostly fails".
	if fails < 1 || fails > 60 {
		t.Errorf("%d of 400 requests failed, want about 20", fails)
	}
}

func TestLoginAndCart(t *testing.T) {
	srv := newTestServer(t)
	c := srv.Client()

	login := func(t *testing.T, srv *httptest.Server, user string) string {
		t.Helper()
		resp, body := do(t, srv.Client(), "POST", srv.URL+"/api/login", `{"user":"`+user+`","pass":"secret"}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("login status = %d, want 200", resp.StatusCode)
		}
		var got struct{ Token string }
		if err := json.Unmarshal(body, &got); err != nil || got.Token == "" {
			t.Fatalf("login body %q: want {\"token\": ...} (err %v)", body, err)
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "session" {
				cookie = ck
			}
		}
		if cookie == nil || cookie.Value == "" {
			t.Fatalf("login set no session cookie (Set-Cookie %q)", resp.Header.Values("Set-Cookie"))
		}
		return got.Token
	}
	token := login(t, srv, "ann")
	if other := login(t, srv, "bob"); other == token {
		t.Fatal("two users got the same token")
	}
	foreign := login(t, newTestServer(t), "ann") // same user, another server's key
	tampered := token[:len(token)-2] + "AA"
	if tampered == token {
		tampered = token[:len(token)-2] + "BB"
	}

	tests := []struct {
		name, method, path, body, auth string
		wantStatus, wantQuantity       int
	}{
		{"put", "PUT", "/api/cart/7", "", "Bearer " + token, 201, 1},
		{"put with quantity", "PUT", "/api/cart/7", `{"quantity":3}`, "Bearer " + token, 201, 3},
		{"patch", "PATCH", "/api/cart/7", `{"quantity":5}`, "Bearer " + token, 200, 5},
		{"delete", "DELETE", "/api/cart/7", "", "Bearer " + token, 200, 0},
		{"lower-case scheme", "PUT", "/api/cart/1000", "", "bearer " + token, 201, 1},
		{"unknown product", "PUT", "/api/cart/1001", "", "Bearer " + token, 404, 0},
		{"quantity 0", "PUT", "/api/cart/7", `{"quantity":0}`, "Bearer " + token, 400, 0},
		{"quantity too big", "PATCH", "/api/cart/7", `{"quantity":100}`, "Bearer " + token, 400, 0},
		{"body not JSON", "PUT", "/api/cart/7", `three`, "Bearer " + token, 400, 0},
		{"no token", "PUT", "/api/cart/7", "", "", 401, 0},
		{"garbage token", "PUT", "/api/cart/7", "", "Bearer garbage", 401, 0},
		{"tampered token", "PUT", "/api/cart/7", "", "Bearer " + tampered, 401, 0},
		{"token from another server", "PATCH", "/api/cart/7", "", "Bearer " + foreign, 401, 0},
		{"basic scheme", "DELETE", "/api/cart/7", "", "Basic " + token, 401, 0},
		{"bad token before unknown product", "PUT", "/api/cart/0", "", "Bearer x.y", 401, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h map[string]string
			if tt.auth != "" {
				h = map[string]string{"Authorization": tt.auth}
			}
			resp, body := do(t, c, tt.method, srv.URL+tt.path, tt.body, h)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tt.wantStatus >= 300 {
				wantJSONError(t, body)
				return
			}
			var line cartLine
			if err := json.Unmarshal(body, &line); err != nil {
				t.Fatalf("decode %q: %v", body, err)
			}
			if line.User != "ann" || line.Quantity != tt.wantQuantity {
				t.Errorf("cart line = %+v, want user ann, quantity %d", line, tt.wantQuantity)
			}
		})
	}
}

// TestSlow checks the delay over real connections, with bounds loose enough
// for a loaded CI machine; TestSlowDelayRange checks the exact range.
func TestSlow(t *testing.T) {
	srv := newTestServer(t)
	for range 3 {
		start := time.Now()
		resp, _ := do(t, srv.Client(), "GET", srv.URL+"/slow", "", nil)
		elapsed := time.Since(start)
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		if elapsed < slowMin || elapsed >= 2*time.Second {
			t.Errorf("took %v, want at least %v and under 2s", elapsed, slowMin)
		}
	}
}

// TestSlowDelayRange runs /slow on synctest's fake clock, where the time a
// handler takes is exactly the delay it chose.
func TestSlowDelayRange(t *testing.T) {
	h := Handler()
	synctest.Test(t, func(t *testing.T) {
		for range 50 {
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
			if d := time.Since(start); d < slowMin || d > slowMax {
				t.Errorf("slept %v, want %v to %v", d, slowMin, slowMax)
			}
			if rec.Code != 200 {
				t.Errorf("status = %d, want 200", rec.Code)
			}
		}
	})
}

func TestSlowStopsWhenClientGoesAway(t *testing.T) {
	h := Handler()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		req := httptest.NewRequestWithContext(ctx, "GET", "/slow", nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		time.AfterFunc(10*time.Millisecond, cancel)
		h.ServeHTTP(rec, req)
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("handler returned after %v, want right at the cancel (10ms)", d)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("wrote %q to a client that went away", rec.Body)
		}
	})
}

func TestStartServedClose(t *testing.T) {
	s, err := Start(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if want := "http://" + s.Addr(); s.URL() != want || !strings.HasPrefix(want, "http://127.0.0.1:") {
		t.Fatalf("URL() = %q, Addr() = %q", s.URL(), s.Addr())
	}

	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	paths := []string{"/", "/health", "/api/products?page=2", "/api/products/5", "/nope", "/flaky", "/big"}
	const rounds = 5
	for range rounds {
		for _, p := range paths {
			do(t, c, "GET", s.URL()+p, "", nil)
		}
	}
	if got, want := s.Served(), int64(rounds*len(paths)); got != want {
		t.Errorf("Served() = %d, want %d", got, want)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after Close")
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// Close waits for the shutdown the cancel started, and reports its result.
	if err := s.Close(); err != nil {
		t.Fatalf("Close after cancel: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after the context was done")
	}
}

func TestStartBadAddr(t *testing.T) {
	if s, err := Start(t.Context(), "127.0.0.1:-1"); err == nil {
		s.Close()
		t.Fatal("Start with a bad port: want an error")
	}
}

func TestCatalogDeterministicAndUnique(t *testing.T) {
	names := make(map[string]int, productCount)
	for id := 1; id <= productCount; id++ {
		p := productByID(id)
		if p != productByID(id) {
			t.Fatalf("product %d differs between calls", id)
		}
		if prev, dup := names[p.Name]; dup {
			t.Fatalf("products %d and %d are both named %q", prev, id, p.Name)
		}
		names[p.Name] = id
		if p.Price < 2.99 || p.Price > 199.98 {
			t.Errorf("product %d costs %v", id, p.Price)
		}
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		name, query string
		want        int
		wantOK      bool
	}{
		{"absent", "", 1, true},
		{"other keys only", "sort=price&pages=4", 1, true},
		{"first of two", "page=4&page=9", 4, true},
		{"escaped digit", "page=%35", 5, true},
		{"plus is a space", "page=+5", 0, false},
		{"leading zeros", "page=007", 7, true},
		{"too many digits", "page=0000000001", 0, false},
		{"bad escape", "page=%zz", 0, false},
		{"negative", "page=-1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePage(tt.query)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("parsePage(%q) = %d, %v; want %d, %v", tt.query, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// discardWriter is a ResponseWriter that reuses its header map, so
// AllocsPerRun counts only what the handler itself allocates.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func TestFastEndpointsDoNotAllocate(t *testing.T) {
	a := newApp(newKey())
	tests := []struct {
		name, path string
		id         string // the {id} path value, set as the mux would
		serve      http.HandlerFunc
	}{
		{"home", "/", "", a.serveHome},
		{"health", "/health", "", a.serveHealth},
		{"products page", "/api/products?page=7", "", a.serveProducts},
		{"products bad page", "/api/products?page=x", "", a.serveProducts},
		{"product", "/api/products/42", "42", a.serveProduct},
		{"product bad id", "/api/products/x", "x", a.serveProduct},
		{"big", "/big", "", a.serveBig},
		{"not found", "/nope", "", a.serveNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &discardWriter{h: make(http.Header)}
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.id != "" {
				r.SetPathValue("id", tt.id)
			}
			if n := testing.AllocsPerRun(100, func() { tt.serve(w, r) }); n != 0 {
				t.Errorf("%v allocations per request, want 0", n)
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	h := Handler()
	for _, path := range []string{"/health", "/api/products?page=7", "/api/products/42"} {
		b.Run(path, func(b *testing.B) {
			w := &discardWriter{h: make(http.Header)}
			r := httptest.NewRequest("GET", path, nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	s := signer{key: []byte("fuzz key")}
	f.Add(s.issue("ann"))
	f.Add("")
	f.Add(".")
	f.Add("YW5u.")
	f.Fuzz(func(t *testing.T, token string) {
		user, ok := s.verify(token)
		if ok && s.issue(user) != token {
			t.Fatalf("verify accepted %q, which is not the token issued to %q", token, user)
		}
	})
}
