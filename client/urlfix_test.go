package client

import (
	"net/url"
	"testing"
)

func TestAppendFixedURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"valid path and query kept", "/a/b?x=1&y=%41#f", "/a/b?x=1&y=%41#f"},
		{"space in path", "/a b", "/a%20b"},
		{"space in query", "/s?q=red shoes&p=1", "/s?q=red%20shoes&p=1"},
		{"line breaks", "/a\r\nX-Injected: 1", "/a%0D%0AX-Injected:%201"},
		{"NUL and DEL", "/a\x00b\x7f", "/a%00b%7F"},
		{"beyond ASCII", "/caf\xc3\xa9", "/caf%C3%A9"},
		{"delimiters", `/"<>\^` + "`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D"},
		{"a lone percent", "/100%?d=5%z&e=%4", "/100%25?d=5%25z&e=%254"},
		{"absolute URL: host kept", "http://127.0.0.1:8080/a b?q=x y", "http://127.0.0.1:8080/a%20b?q=x%20y"},
		{"absolute URL without a path", "https://example.test", "https://example.test"},
		{"absolute URL with a query only", "http://h?q=a b", "http://h?q=a%20b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendFixedURL([]byte("pre:"), []byte(tt.in)))
			if got != "pre:"+tt.want {
				t.Errorf("AppendFixedURL(%q) = %q, want %q", tt.in, got[4:], tt.want)
			}
			if s := FixedURL(tt.in); s != tt.want {
				t.Errorf("FixedURL(%q) = %q, want %q", tt.in, s, tt.want)
			}
			// What comes out parses, and goes on the request line as is.
			if u, err := url.Parse("http://h" + tt.want); tt.want != "" && tt.want[0] == '/' && (err != nil || u.RequestURI() != tt.want[:len(tt.want)-len(fragment(tt.want))]) {
				t.Errorf("%q: url.Parse %v, RequestURI %q", tt.want, err, u.RequestURI())
			}
		})
	}
}

func fragment(s string) string {
	for i := range len(s) {
		if s[i] == '#' {
			return s[i:]
		}
	}
	return ""
}

// TestAppendFixedURLAllocs: a URL that needs nothing costs no allocation
// beyond dst's growth, on the plans' per-request path.
func TestAppendFixedURLAllocs(t *testing.T) {
	dst := make([]byte, 0, 64)
	u := []byte("/api/products?page=3&q=shoes")
	if n := testing.AllocsPerRun(100, func() { dst = AppendFixedURL(dst[:0], u) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
