// Package client is fuka's HTTP hot path.
//
// It has two halves. The fast path is for plain-text HTTP/1.1, the common case
// of a load test: Request.Wire serialises the request once, and Parser reads
// responses incrementally out of whatever buffer the caller's event loop
// reads into, so a request costs two system calls and no allocation. The
// standard path (Std) wraps net/http for what the fast path leaves out: TLS
// and HTTP/2.
package client

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Methods fuka sends.
var Methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}

// Request is one HTTP request as the user described it.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// NewRequest checks method and raw URL and returns a Request. Errors are
// meant for the user: one line saying what is wrong.
func NewRequest(method, rawURL string, header http.Header, body []byte) (*Request, error) {
	m := strings.ToUpper(method)
	ok := false
	for _, v := range Methods {
		ok = ok || v == m
	}
	if !ok {
		return nil, fmt.Errorf("method %q: want one of %s", method, strings.Join(Methods, " "))
	}
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if header == nil {
		header = http.Header{}
	}
	return &Request{Method: m, URL: u, Header: header, Body: body}, nil
}

// ParseURL accepts an absolute http or https URL with a host. Spaces and
// other bytes a URL may not hold in its path or query are percent-encoded
// (AppendFixedURL); control characters and bad escapes are errors.
func ParseURL(raw string) (*url.URL, error) {
	if lower := strings.ToLower(raw); raw != "" && !strings.Contains(raw, "://") &&
		!strings.HasPrefix(lower, "http:") && !strings.HasPrefix(lower, "https:") {
		return nil, fmt.Errorf("url %q: no scheme: did you mean \"http://%s\"?", raw, raw)
	}
	// A URL as typed must parse (no control characters, no bad escape
	// such as %zz); then a space or another byte a URL may not hold is
	// sent percent-encoded, as a browser sends it, not raw: net/url keeps
	// a query as given, and a raw space makes every request a 400.
	u, err := url.Parse(raw)
	if err == nil {
		u, err = url.Parse(FixedURL(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("url %q: %v", raw, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("url %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url %q: bad port %q", raw, p)
		}
	}
	return u, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// ParseHeader parses one "Key: Value" flag value.
func ParseHeader(kv string) (key, value string, err error) {
	k, v, ok := strings.Cut(kv, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") {
		return "", "", fmt.Errorf("header %q: want 'Key: Value'", kv)
	}
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\r\n") {
		return "", "", fmt.Errorf("header %q: value has a line break", kv)
	}
	return k, v, nil
}

// ManagedHeader says why fuka refuses a header a user set, or "". fuka
// frames every request itself: Content-Length comes from the body (a
// different value would leave the server waiting for bytes that never
// come, or read the next request as this one's body), and bodies are not
// chunked (Transfer-Encoding: chunked with a Content-Length body leaves
// the server waiting for a chunk size). Host and Connection are honoured
// as given.
func ManagedHeader(name string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length":
		return "fuka sets Content-Length from the body; remove the header"
	case "Transfer-Encoding":
		return "fuka sends bodies with a Content-Length, not chunked; remove the header"
	}
	return ""
}

// Addr is the host:port to dial.
func (r *Request) Addr() string {
	port := r.URL.Port()
	if port == "" {
		port = "80"
		if r.URL.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(r.URL.Hostname(), port)
}

// Head reports whether the request is a HEAD, whose response has no body.
func (r *Request) Head() bool { return r.Method == "HEAD" }

// Wire returns the request serialised as HTTP/1.1, built once and sent as is
// for every request. Headers the user set win over fuka's defaults.
func (r *Request) Wire(userAgent string) []byte {
	var b strings.Builder
	target := r.URL.RequestURI()
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.Method, target)
	host := r.URL.Host
	if h := r.Header.Get("Host"); h != "" {
		host = h
	}
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	if r.Header.Get("User-Agent") == "" {
		fmt.Fprintf(&b, "User-Agent: %s\r\n", userAgent)
	}
	if u := r.URL.User; u != nil && r.Header.Get("Authorization") == "" {
		// Credentials in the URL mean Basic auth, as curl and net/http do.
		pass, _ := u.Password()
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable wire form makes tests and captures readable
	for _, k := range keys {
		if http.CanonicalHeaderKey(k) == "Host" || http.CanonicalHeaderKey(k) == "Content-Length" {
			continue
		}
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if len(r.Body) > 0 || r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return []byte(b.String())
}
