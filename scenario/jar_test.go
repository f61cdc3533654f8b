package scenario

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestLoopJarAsCookiejar: the event loop's cookie jar sends what
// net/http/cookiejar sends for the same responses, on one plain-http host:
// paths (given and default), replacement, deletion by Max-Age=0 and by an
// Expires in the past, ordering (longest path first, then oldest), domain
// cookies for the host and refused ones for another domain, and Secure
// cookies (sent over http only to localhost or a loopback address).
func TestLoopJarAsCookiejar(t *testing.T) {
	type resp struct {
		path    string   // the request that got the response
		cookies []string // its Set-Cookie lines
	}
	tests := []struct {
		name  string
		host  string
		resps []resp
		asks  []string // request paths to compare the Cookie header for
	}{
		{"one cookie", "127.0.0.1", []resp{{"/login", []string{"sid=1; Path=/"}}}, []string{"/", "/me"}},
		{"default path", "127.0.0.1", []resp{{"/a/b/login", []string{"x=1"}}}, []string{"/", "/a", "/a/b", "/a/b/c", "/a/bc"}},
		{"replace and order", "127.0.0.1", []resp{
			{"/", []string{"a=1; Path=/", "b=2; Path=/x", "c=3; Path=/"}},
			{"/", []string{"a=9; Path=/"}},
		}, []string{"/", "/x", "/x/y", "/xy"}},
		{"delete", "127.0.0.1", []resp{
			{"/", []string{"a=1; Path=/", "b=2; Path=/", "c=3; Path=/"}},
			{"/", []string{"a=; Max-Age=0; Path=/", "b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"}},
		}, []string{"/"}},
		{"max-age keeps", "127.0.0.1", []resp{{"/", []string{"a=1; Max-Age=3600; Path=/"}}}, []string{"/"}},
		{"domains", "api.example.test", []resp{{"/", []string{
			"own=1; Domain=api.example.test; Path=/", "parent=2; Domain=.example.test; Path=/", "other=3; Domain=other.test; Path=/",
		}}}, []string{"/"}},
		{"ip host refuses a domain", "127.0.0.1", []resp{{"/", []string{"a=1; Domain=0.0.1; Path=/", "b=2; Domain=127.0.0.1; Path=/"}}}, []string{"/"}},
		{"secure on loopback", "127.0.0.1", []resp{{"/", []string{"s=1; Secure; Path=/", "p=2; Path=/"}}}, []string{"/"}},
		{"secure on localhost", "localhost", []resp{{"/", []string{"s=1; Secure; Path=/", "p=2; Path=/"}}}, []string{"/"}},
		{"secure elsewhere", "shop.example.test", []resp{{"/", []string{"s=1; Secure; Path=/", "p=2; Path=/"}}}, []string{"/"}},
		{"quoted", "127.0.0.1", []resp{{"/", []string{`q="a b"; Path=/`}}}, []string{"/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, _ := cookiejar.New(nil)
			j := loopJar{host: tt.host}
			for _, r := range tt.resps {
				u := &url.URL{Scheme: "http", Host: tt.host, Path: r.path}
				var head strings.Builder
				h := http.Header{}
				for _, c := range r.cookies {
					head.WriteString("Set-Cookie: " + c + "\n")
					h.Add("Set-Cookie", c)
				}
				ref.SetCookies(u, (&http.Response{Header: h}).Cookies())
				j.store([]byte("Content-Type: text/plain\n"+head.String()), []byte(r.path))
			}
			for _, p := range tt.asks {
				req, _ := http.NewRequest("GET", "http://"+tt.host+p, nil)
				for _, c := range ref.Cookies(req.URL) {
					req.AddCookie(c)
				}
				want := req.Header.Get("Cookie")
				got := string(j.appendCookies(nil, []byte(p), false))
				if got != want {
					t.Errorf("request to %s: Cookie %q, want %q (net/http/cookiejar)", p, got, want)
				}
			}
		})
	}
}
