package engine

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/internal/faultserver"
	"github.com/fuka-load/fuka/metrics"
)

// faultTransports are the ways a quick-mode request can travel: the fast
// path, net/http over plain TCP, and net/http over TLS (the path https://
// URLs take). Each retries differently when left alone, so each is tested.
var faultTransports = []struct {
	name string
	std  bool
	tls  bool
}{{"fast", false, false}, {"net-http", true, false}, {"net-http-tls", true, true}}

// TestNoSilentResend: a server that reads and processes every third request
// of a connection and then resets the connection instead of answering. Every
// request that reached the server is one request in fuka's counts, and each
// reset one is a failed request of kind reset: nothing is sent again behind
// the report's back, whatever the method, transport or load model.
func TestNoSilentResend(t *testing.T) {
	// An Idempotency-Key header makes net/http treat any method as
	// idempotent, and resend it.
	methods := append(slices.Clone(client.Methods), "POST+Idempotency-Key")
	for _, tr := range faultTransports {
		for _, m := range methods {
			for _, open := range []bool{false, true} {
				model := "closed"
				if open {
					model = "open"
				}
				method, key, _ := strings.Cut(m, "+")
				t.Run(tr.name+"/"+m+"/"+model, func(t *testing.T) {
					t.Parallel()
					srv := faultserver.Start(t, faultserver.Config{Fault: faultserver.ResetEvery(3), TLS: tr.tls})
					var body []byte
					if method == "POST" || method == "PUT" || method == "PATCH" {
						body = []byte("x")
					}
					h := http.Header{}
					if key != "" {
						h.Set(key, "order-1")
					}
					cfg := Config{Load: Closed{Clients: 4, Requests: 150}, Work: Request{Request: newReq(t, method, srv.URL()+"/orders", h, body), Insecure: true}}
					if open {
						cfg = Config{Load: Open{Rate: rate(t, "500", 300*time.Millisecond), MaxClients: 4}, Work: cfg.Work}
					}
					res, _ := run(t, transport{tr.name, tr.std}, cfg)
					tot := res.Run.Total
					checkFaultCounts(t, tot, srv)
				})
			}
		}
	}
}

// checkFaultCounts asserts that fuka's counts are the server's: requests
// equal requests read, failures equal resets (all of kind reset), and the
// fault did happen.
func checkFaultCounts(t *testing.T, tot *metrics.Stats, srv *faultserver.Server) {
	t.Helper()
	read, resets := srv.Requests(), srv.Resets()
	t.Logf("fuka: requests %d, failed %d %v; server: read %d, reset %d, connections %d",
		tot.Requests, tot.Failed, errorsOf(tot), read, resets, srv.Conns())
	if resets == 0 {
		t.Fatalf("the server reset no request (read %d): the test tests nothing", read)
	}
	if tot.Requests != read {
		t.Errorf("fuka counted %d requests, the server read %d", tot.Requests, read)
	}
	if tot.Errors[metrics.ErrReset] != resets || tot.Failed != resets {
		t.Errorf("fuka: %d failed (%v), want %d, all reset (the server reset %d)", tot.Failed, errorsOf(tot), resets, resets)
	}
}

// TestIdleCloseIsNotAFailure: a server that closes keep-alive connections
// after they sat idle 5 ms, and a client whose connections sit idle ~50 ms
// between requests (a low rate, or a throughput cap). Nothing of a request
// was written into a connection the server had closed, so there is nothing
// to count: the request goes out on a new connection, fuka reports no
// failure, and its count is the server's.
func TestIdleCloseIsNotAFailure(t *testing.T) {
	for _, tr := range faultTransports {
		for _, open := range []bool{false, true} {
			model := "closed"
			if open {
				model = "open"
			}
			t.Run(tr.name+"/"+model, func(t *testing.T) {
				t.Parallel()
				srv := faultserver.Start(t, faultserver.Config{IdleClose: 5 * time.Millisecond, TLS: tr.tls})
				req := newReq(t, "POST", srv.URL()+"/orders", nil, []byte("x"))
				// Two clients, 40 requests/s in all: each connection idles
				// ~50 ms, ten times the server's idle timeout.
				cfg := Config{Load: Closed{Clients: 2, Requests: 30, MaxRPS: 40}, Work: Request{Request: req, Insecure: true}}
				if open {
					cfg = Config{Load: Open{Rate: rate(t, "40", 750*time.Millisecond), MaxClients: 2}, Work: Request{Request: req, Insecure: true}}
				}
				res, _ := run(t, transport{tr.name, tr.std}, cfg)
				tot := res.Run.Total
				read := srv.Requests()
				t.Logf("fuka: requests %d, failed %d %v; server: read %d, idle closes %d, connections %d",
					tot.Requests, tot.Failed, errorsOf(tot), read, srv.IdleCloses(), srv.Conns())
				if srv.IdleCloses() < 10 {
					t.Fatalf("the server closed %d idle connections: the test tests nothing", srv.IdleCloses())
				}
				if tot.Requests != read || tot.Failed != 0 {
					t.Errorf("fuka: %d requests, %d failed (%v); server read %d; want equal counts and no failure",
						tot.Requests, tot.Failed, errorsOf(tot), read)
				}
			})
		}
	}
}

// TestCloseAfterResponse: a server that answers and then closes the
// connection without saying Connection: close, its FIN in the same segment
// as the response. The socket cannot carry another request; a request
// written into it would be lost without the server reading it, and counted
// as a failure the server never saw. So every request goes out on a new
// connection, and the counts are the server's, with no failure.
func TestCloseAfterResponse(t *testing.T) {
	for _, tr := range faultTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			srv := faultserver.Start(t, faultserver.Config{TLS: tr.tls,
				Fault: func(int) faultserver.Action { return faultserver.AnswerClose }})
			req := newReq(t, "POST", srv.URL()+"/orders", nil, []byte("x"))
			res, _ := run(t, transport{tr.name, tr.std}, Config{Load: Closed{Clients: 2, Requests: 200}, Work: Request{Request: req, Insecure: true}})
			tot := res.Run.Total
			t.Logf("fuka: requests %d, failed %d %v; server: read %d, connections %d",
				tot.Requests, tot.Failed, errorsOf(tot), srv.Requests(), srv.Conns())
			if tot.Requests != srv.Requests() || tot.Failed != 0 {
				t.Errorf("fuka: %d requests, %d failed (%v); server read %d; want equal counts and no failure",
					tot.Requests, tot.Failed, errorsOf(tot), srv.Requests())
			}
		})
	}
}
