package client

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestNewRequest(t *testing.T) {
	tests := []struct {
		name, method, url string
		wantMethod        string
		wantErr           string
	}{
		{name: "get", method: "GET", url: "http://127.0.0.1:8080/a?b=1", wantMethod: "GET"},
		{name: "method in lower case", method: "post", url: "http://127.0.0.1/", wantMethod: "POST"},
		{name: "https", method: "HEAD", url: "https://[::1]:8443/", wantMethod: "HEAD"},
		{name: "upper-case scheme", method: "GET", url: "HTTP://h/", wantMethod: "GET"},
		{name: "unknown method", method: "FOO", url: "http://h/",
			wantErr: `method "FOO": want one of GET POST PUT DELETE PATCH HEAD OPTIONS`},
		{name: "empty method", method: "", url: "http://h/",
			wantErr: `method "": want one of GET POST PUT DELETE PATCH HEAD OPTIONS`},
		{name: "CONNECT is not sent", method: "CONNECT", url: "http://h/",
			wantErr: `method "CONNECT": want one of GET POST PUT DELETE PATCH HEAD OPTIONS`},
		{name: "ftp scheme", method: "GET", url: "ftp://x", wantErr: `url "ftp://x": scheme must be http or https`},
		{name: "empty url", method: "GET", url: "", wantErr: `url "": scheme must be http or https`},
		{name: "no host", method: "GET", url: "http://", wantErr: `url "http://": no host`},
		{name: "no host with path", method: "GET", url: "https:///path", wantErr: `url "https:///path": no host`},
		{name: "opaque", method: "GET", url: "http:x", wantErr: `url "http:x": no host`},
		{name: "missing scheme", method: "GET", url: "://x", wantErr: `url "://x": missing protocol scheme`},
		{name: "port too large", method: "GET", url: "http://h:99999/", wantErr: `url "http://h:99999/": bad port "99999"`},
		{name: "port zero", method: "GET", url: "http://h:0/", wantErr: `url "http://h:0/": bad port "0"`},
		{name: "port not a number", method: "GET", url: "http://h:abc/", wantErr: `url "http://h:abc/": invalid port ":abc" after host`},
		{name: "space in host", method: "GET", url: "http://a b/", wantErr: `url "http://a b/": invalid character " " in host name`},
		{name: "bad escape", method: "GET", url: "http://h/%zz", wantErr: `url "http://h/%zz": invalid URL escape "%zz"`},
		{name: "bad IPv6 literal", method: "GET", url: "http://[::1/", wantErr: `url "http://[::1/": missing ']' in host`},
		// The method is checked first: one error, the first thing wrong.
		{name: "bad method and bad url", method: "FOO", url: "ftp://x",
			wantErr: `method "FOO": want one of GET POST PUT DELETE PATCH HEAD OPTIONS`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(tt.method, tt.url, nil, nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("NewRequest(%q, %q) error = %v, want %q", tt.method, tt.url, err, tt.wantErr)
				}
				if r != nil {
					t.Errorf("NewRequest returned a request with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRequest(%q, %q): %v", tt.method, tt.url, err)
			}
			if r.Method != tt.wantMethod || r.URL == nil || r.Header == nil {
				t.Fatalf("got method %q, URL %v, header %v", r.Method, r.URL, r.Header)
			}
		})
	}
}

func TestAddr(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://127.0.0.1/", "127.0.0.1:80"},
		{"https://127.0.0.1/", "127.0.0.1:443"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080"},
		{"http://[::1]:9000/x", "[::1]:9000"},
		{"https://[::1]/", "[::1]:443"},
		{"http://localhost:/", "localhost:80"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r, err := NewRequest("GET", tt.url, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Addr(); got != tt.want {
				t.Errorf("Addr() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name, in   string
		key, value string
		wantErr    string
	}{
		{name: "plain", in: "X-Api-Key: secret", key: "X-Api-Key", value: "secret"},
		{name: "no space", in: "Accept:text/html", key: "Accept", value: "text/html"},
		{name: "padded", in: "  Accept \t:  a, b  ", key: "Accept", value: "a, b"},
		{name: "colon in value", in: "Authorization: Bearer a:b:c", key: "Authorization", value: "Bearer a:b:c"},
		{name: "empty value", in: "X-Empty:", key: "X-Empty", value: ""},
		{name: "no colon", in: "X-Api-Key secret", wantErr: `header "X-Api-Key secret": want 'Key: Value'`},
		{name: "empty", in: "", wantErr: `header "": want 'Key: Value'`},
		{name: "empty key", in: ": v", wantErr: `header ": v": want 'Key: Value'`},
		{name: "space in key", in: "X Key: v", wantErr: `header "X Key: v": want 'Key: Value'`},
		{name: "line break in value", in: "X-A: a\r\nX-Injected: b", wantErr: `header "X-A: a\r\nX-Injected: b": value has a line break`},
		{name: "LF in value", in: "X-A: a\nb", wantErr: `header "X-A: a\nb": value has a line break`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, v, err := ParseHeader(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseHeader(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || k != tt.key || v != tt.value {
				t.Fatalf("ParseHeader(%q) = %q, %q, %v; want %q, %q", tt.in, k, v, err, tt.key, tt.value)
			}
		})
	}
}

func TestWire(t *testing.T) {
	tests := []struct {
		name, method, url string
		header            http.Header
		body              string
		want              string
	}{
		{
			name: "GET", method: "GET", url: "http://127.0.0.1:8080/products?page=2#frag",
			header: http.Header{"X-B": {"2"}, "Accept": {"application/json"}, "X-A": {"1", "one"}},
			want: "GET /products?page=2 HTTP/1.1\r\n" +
				"Host: 127.0.0.1:8080\r\n" +
				"User-Agent: fuka/test\r\n" +
				"Accept: application/json\r\n" +
				"X-A: 1\r\n" +
				"X-A: one\r\n" +
				"X-B: 2\r\n" +
				"\r\n",
		},
		{
			name: "GET without path", method: "GET", url: "http://127.0.0.1",
			want: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\n\r\n",
		},
		{
			name: "POST with body", method: "POST", url: "http://127.0.0.1:8080/api/login",
			header: http.Header{"Content-Type": {"application/json"}},
			body:   `{"user":"a","pass":"b"}`,
			want: "POST /api/login HTTP/1.1\r\n" +
				"Host: 127.0.0.1:8080\r\n" +
				"User-Agent: fuka/test\r\n" +
				"Content-Type: application/json\r\n" +
				"Content-Length: 23\r\n" +
				"\r\n" +
				`{"user":"a","pass":"b"}`,
		},
		{
			name: "POST with empty body", method: "POST", url: "http://127.0.0.1/",
			want: "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "PUT and PATCH with empty body", method: "PATCH", url: "http://127.0.0.1/",
			want: "PATCH / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "DELETE with body", method: "DELETE", url: "http://127.0.0.1/x", body: "y",
			want: "DELETE /x HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\nContent-Length: 1\r\n\r\ny",
		},
		{
			name: "HEAD", method: "HEAD", url: "http://127.0.0.1/",
			want: "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\n\r\n",
		},
		{
			name: "user Host and User-Agent win", method: "GET", url: "http://127.0.0.1:8080/",
			header: http.Header{"Host": {"shop.example"}, "User-Agent": {"curl/8"}},
			want:   "GET / HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8\r\n\r\n",
		},
		{
			name: "user Content-Length is replaced by the real one", method: "POST", url: "http://127.0.0.1/",
			header: http.Header{"Content-Length": {"999"}}, body: "abc",
			want: "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\nContent-Length: 3\r\n\r\nabc",
		},
		{
			name: "IPv6 host", method: "GET", url: "http://[::1]:9000/",
			want: "GET / HTTP/1.1\r\nHost: [::1]:9000\r\nUser-Agent: fuka/test\r\n\r\n",
		},
		{
			name: "spaces in path and query are sent encoded", method: "GET", url: "http://127.0.0.1/a b/c?q=x y&r=\"1\"",
			want: "GET /a%20b/c?q=x%20y&r=%221%22 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\n\r\n",
		},
		{
			name: "escaped path", method: "GET", url: "http://127.0.0.1/a%20b/c?q=x%20y",
			want: "GET /a%20b/c?q=x%20y HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuka/test\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			r, err := NewRequest(tt.method, tt.url, tt.header, body)
			if err != nil {
				t.Fatal(err)
			}
			got := string(r.Wire("fuka/test"))
			if got != tt.want {
				t.Errorf("Wire():\n got %q\nwant %q", got, tt.want)
			}
			if r.Head() != (tt.method == "HEAD") {
				t.Errorf("Head() = %v for %s", r.Head(), tt.method)
			}
			// The wire form must be a request net/http itself reads back.
			hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(got)))
			if err != nil {
				t.Fatalf("net/http cannot read the wire form: %v", err)
			}
			b, err := io.ReadAll(hr.Body)
			if err != nil || string(b) != tt.body || hr.Method != r.Method || hr.RequestURI != r.URL.RequestURI() {
				t.Errorf("net/http read %s %s body %q (err %v)", hr.Method, hr.RequestURI, b, err)
			}
		})
	}
}
