package engine

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestResponseFraming: responses framed every way HTTP/1.x allows are read
// to their end, counted once, and leave the connection reusable only when it
// is. The fast path parses these itself, so these cases matter most for it;
// net/http runs them too as the reference.
func TestResponseFraming(t *testing.T) {
	const n = 200
	cases := []struct {
		name   string
		method string
		handle func(*rawServer, net.Conn)
		status int
		// keepAlive: the responses leave the connection reusable, so the
		// clients never need more connections than there are of them.
		keepAlive bool
		wireIn    int64 // fast path: response bytes per request (headers included), 0: not checked
	}{
		{"chunked extensions trailers", "GET", canned(chunkedResp), 200, true, int64(len(chunkedResp))},
		{"HEAD with length, no body", "HEAD", canned(headResp), 200, true, int64(len(headResp))},
		{"204 no body", "GET", canned(noContentResp), 204, true, int64(len(noContentResp))},
		{"304 with length, no body", "GET", canned(notModifiedResp), 304, true, int64(len(notModifiedResp))},
		{"100 continue then 200", "GET", canned(continueResp), 200, true, int64(len(continueResp))},
		{"HTTP/1.0 body until close", "GET", once(http10Resp), 200, false, int64(len(http10Resp))},
		{"connection close", "GET", once(closeResp), 200, false, int64(len(closeResp))},
	}
	const clients = 4
	for _, tc := range cases {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				t.Parallel()
				srv := newRawServer(t, tc.handle)
				res, _ := run(t, tr, Config{Load: Closed{Clients: clients, Requests: n}, Work: Request{Request: newReq(t, tc.method, srv.URL()+"/", nil, nil), Timeout: time.Second}})
				tot := res.Run.Total
				if tot.Requests != n || tot.Status[tc.status] != n || srv.requests.Load() != n {
					t.Fatalf("requests %d, %d status %d, served %d; want %d each (errors %v)",
						tot.Requests, tc.status, tot.Status[tc.status], srv.requests.Load(), n, errorsOf(tot))
				}
				conns := srv.accepted.Load()
				// net/http may dial one more while a finished connection is
				// on its way back to the idle pool; the fast path never does.
				maxConns := int64(clients)
				if res.Transport != "fast" {
					maxConns *= 2
				}
				if tc.keepAlive && conns > maxConns {
					t.Errorf("%d connections for %d clients: keep-alive responses must not close them", conns, clients)
				}
				if !tc.keepAlive && conns != n {
					t.Errorf("%d connections for %d requests, each answered with a close", conns, n)
				}
				if res.Transport == "fast" && tc.wireIn > 0 && tot.BytesIn != n*tc.wireIn {
					t.Errorf("bytes in = %d, want %d x %d", tot.BytesIn, n, tc.wireIn)
				}
			})
		}
	}
}

const (
	chunkedResp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
		"5;name=value\r\nhello\r\n" +
		"6;a=1;b\r\n world\r\n" +
		"0;last\r\nX-Sum: 11\r\nX-More: yes\r\n\r\n"
	headResp        = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n"
	noContentResp   = "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n"
	notModifiedResp = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n"
	continueResp    = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	http10Resp      = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs until the connection closes"
	closeResp       = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
)

// TestConnectionCloseReconnects: a net/http server that answers every
// request with Connection: close; the engine reconnects for each request
// and counts exactly what was served.
func TestConnectionCloseReconnects(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			var served, conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				w.Header().Set("Connection", "close")
				_, _ = io.WriteString(w, "bye")
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			res, _ := run(t, tr, Config{Load: Closed{Clients: 4, Duration: 500 * time.Millisecond}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}})
			tot := res.Run.Total
			if tot.Requests == 0 || tot.Requests != served.Load() || tot.Status[200] != tot.Requests {
				t.Fatalf("requests %d, served %d, 200s %d (errors %v)", tot.Requests, served.Load(), tot.Status[200], errorsOf(tot))
			}
			if conns.Load() != served.Load() {
				t.Errorf("%d connections for %d requests; each response closed its connection", conns.Load(), served.Load())
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			var from, to atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) {
				from.Add(1)
				http.Redirect(w, r, "/to", http.StatusFound)
			})
			mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) { to.Add(1) })
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			res, _ := run(t, tr, Config{Load: Closed{Clients: 2, Requests: 100}, Work: Request{Request: newReq(t, "GET", srv.URL+"/from", nil, nil)}})
			tot := res.Run.Total
			if tot.Status[302] != 100 || from.Load() != 100 || to.Load() != 0 {
				t.Fatalf("302s %d, /from served %d, /to served %d; want 100, 100, 0 (errors %v)",
					tot.Status[302], from.Load(), to.Load(), errorsOf(tot))
			}
		})
	}
}

// TestRequestOnTheWire: what arrives at the server is the request the user
// described, byte for byte where it matters.
func TestRequestOnTheWire(t *testing.T) {
	type seen struct {
		method, uri, host, ua, custom, cl, te, body string
		proto                                       int
	}
	cases := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		want   seen // host "" means the URL's host:port
	}{
		{"GET with query", "GET", "/a/b?x=1&y=%20z", http.Header{"X-Custom": {"v1"}}, "",
			seen{method: "GET", uri: "/a/b?x=1&y=%20z", ua: "fuka-test", custom: "v1"}},
		{"POST body", "POST", "/submit", http.Header{"X-Custom": {"post"}, "Content-Type": {"application/json"}}, `{"a":1}`,
			seen{method: "POST", uri: "/submit", ua: "fuka-test", custom: "post", cl: "7", body: `{"a":1}`}},
		{"POST empty body", "POST", "/empty", nil, "",
			seen{method: "POST", uri: "/empty", ua: "fuka-test", cl: "0"}},
		{"PUT body", "PUT", "/item/7", nil, "put-body",
			seen{method: "PUT", uri: "/item/7", ua: "fuka-test", cl: "8", body: "put-body"}},
		{"PATCH body", "PATCH", "/item/7", nil, "p",
			seen{method: "PATCH", uri: "/item/7", ua: "fuka-test", cl: "1", body: "p"}},
		{"DELETE", "DELETE", "/item/7", nil, "",
			seen{method: "DELETE", uri: "/item/7", ua: "fuka-test"}},
		{"OPTIONS", "OPTIONS", "/", nil, "",
			seen{method: "OPTIONS", uri: "/", ua: "fuka-test"}},
		{"HEAD", "HEAD", "/h", nil, "",
			seen{method: "HEAD", uri: "/h", ua: "fuka-test"}},
		{"user agent and host from headers", "GET", "/", http.Header{"User-Agent": {"custom-agent/1"}, "Host": {"example.test"}}, "",
			seen{method: "GET", uri: "/", ua: "custom-agent/1", host: "example.test"}},
	}
	for _, tc := range cases {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				var got []seen
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					got = append(got, seen{
						method: r.Method, uri: r.RequestURI, host: r.Host, ua: r.UserAgent(),
						custom: r.Header.Get("X-Custom"), cl: r.Header.Get("Content-Length"),
						te: strings.Join(r.TransferEncoding, ","), body: string(b), proto: r.ProtoMajor*10 + r.ProtoMinor,
					})
					mu.Unlock()
				}))
				t.Cleanup(srv.Close)
				var body []byte
				if tc.body != "" {
					body = []byte(tc.body)
				}
				res, _ := run(t, tr, Config{Load: Closed{Clients: 1, Requests: 3}, Work: Request{Request: newReq(t, tc.method, srv.URL+tc.path, tc.header, body)}})
				if res.Run.Total.Status[200] != 3 {
					t.Fatalf("200s = %d, want 3 (errors %v)", res.Run.Total.Status[200], errorsOf(res.Run.Total))
				}
				want := tc.want
				want.proto = 11
				if want.host == "" {
					want.host = strings.TrimPrefix(srv.URL, "http://")
				}
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 3 {
					t.Fatalf("server saw %d requests, want 3", len(got))
				}
				for i, g := range got {
					if g != want {
						t.Errorf("request %d arrived as\n%+v\nwant\n%+v", i, g, want)
					}
				}
			})
		}
	}
}
