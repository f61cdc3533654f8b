package engine

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/wiretest"
)

// TestTimelineCoversTheRun: the timeline's intervals tile the run exactly —
// whole seconds, then a last interval from the last whole second to the end
// — so that every interval's rate is over its real length, and together they
// hold every request. The run is bounded by a request count, so it ends
// between two seconds.
func TestTimelineCoversTheRun(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, served := countingServer(t, 0)
			cfg := Config{Load: Closed{Clients: 2, Requests: 300, MaxRPS: 250}, Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)}}
			res, _ := run(t, tr, cfg)
			tl := res.Run.Timeline
			if len(tl) < 2 {
				t.Fatalf("%d intervals over %v, want at least 2", len(tl), res.Elapsed)
			}
			var span time.Duration
			var requests int64
			for i, p := range tl {
				if i < len(tl)-1 && (p.Span != time.Second || p.At != time.Duration(i+1)*time.Second) {
					t.Errorf("interval %d ends at %v, spans %v; want whole seconds", i, p.At, p.Span)
				}
				span += p.Span
				requests += p.Requests
			}
			last := tl[len(tl)-1]
			if last.At != res.Elapsed || span != res.Elapsed {
				t.Errorf("the last interval ends at %v and the spans add up to %v; the run took %v", last.At, span, res.Elapsed)
			}
			if last.Span <= 0 || last.Span > time.Second {
				t.Errorf("the last interval spans %v, want (0, 1s]", last.Span)
			}
			if requests != 300 || served.Load() != 300 {
				t.Errorf("the intervals hold %d requests, the server served %d, want 300", requests, served.Load())
			}
		})
	}
}

// TestBytesOnTheWire: bytes_in is every byte of the responses as they came
// off the wire (status line, headers, chunked framing, interim 1xx
// responses), bytes_out every byte of the requests, on both transports —
// equal to what the server wrote and read, and so to each other.
func TestBytesOnTheWire(t *testing.T) {
	requests := []struct {
		name   string
		method string
		body   []byte
	}{
		{"GET", "GET", nil},
		{"POST with a body", "POST", []byte(`{"a":1}`)},
	}
	const n = 40
	for _, resp := range wiretest.Responses {
		for _, rq := range requests {
			t.Run(resp.Name+"/"+rq.name, func(t *testing.T) {
				got := map[string][2]int64{}
				for _, tr := range transports {
					srv := wiretest.New(t, resp.Raw, nil)
					h := http.Header{"X-Test": {"1"}}
					cfg := Config{Load: Closed{Clients: 2, Requests: n}, Work: Request{Request: newReq(t, rq.method, "http://"+srv.Addr+"/p?q=1", h, rq.body)}}
					res, _ := run(t, tr, cfg)
					tot := res.Run.Total
					if tot.Requests != n || srv.Requests.Load() != n || tot.Failed != 0 {
						t.Fatalf("%s: %d requests (%d failed), the server answered %d; want %d", tr.name, tot.Requests, tot.Failed, srv.Requests.Load(), n)
					}
					if want := int64(n * len(resp.Raw)); tot.BytesIn != want || srv.Written.Load() != want {
						t.Errorf("%s: bytes_in %d, the server wrote %d, want %d", tr.name, tot.BytesIn, srv.Written.Load(), want)
					}
					if tot.BytesOut != srv.Read.Load() {
						t.Errorf("%s: bytes_out %d, the server read %d", tr.name, tot.BytesOut, srv.Read.Load())
					}
					got[tr.name] = [2]int64{tot.BytesIn, tot.BytesOut}
				}
				if got["fast"] != got["net/http"] {
					t.Errorf("bytes in/out: fast %v, net/http %v; want the same", got["fast"], got["net/http"])
				}
			})
		}
	}
}

// TestBytesOnTheWireTLS: over TLS (net/http, HTTP/1.1) the bytes are the
// HTTP bytes, as in plain text — not the TLS records or the handshake.
func TestBytesOnTheWireTLS(t *testing.T) {
	certSrv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate
	conf := certSrv.TLS.Clone()
	certSrv.Close()
	conf.NextProtos = nil
	for _, resp := range wiretest.Responses {
		t.Run(resp.Name, func(t *testing.T) {
			const n = 20
			srv := wiretest.New(t, resp.Raw, conf)
			cfg := Config{Load: Closed{Clients: 2, Requests: n}, Work: Request{Request: newReq(t, "GET", "https://"+srv.Addr+"/p", nil, nil), Insecure: true}}
			res, _ := run(t, transport{"net/http", true}, cfg)
			tot := res.Run.Total
			if tot.Requests != n || tot.Failed != 0 {
				t.Fatalf("%d requests, %d failed; want %d, 0 (errors %v)", tot.Requests, tot.Failed, n, tot.Errors)
			}
			if tot.BytesIn != srv.Written.Load() || tot.BytesOut != srv.Read.Load() {
				t.Errorf("bytes in %d out %d; the server wrote %d and read %d", tot.BytesIn, tot.BytesOut, srv.Written.Load(), srv.Read.Load())
			}
		})
	}
}
