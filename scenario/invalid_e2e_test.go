package scenario_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fuka-load/fuka/metrics"
)

// TestURLValuesEncoded: a data value with a space, a quote, a lone % or a
// byte beyond ASCII reaches the server percent-encoded, in the path and
// in the query, and the server answers it (a raw space would be a 400).
func TestURLValuesEncoded(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.RequestURI)
		mu.Unlock()
	})
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
data: { d: { csv: d.csv } }
scenarios:
  s:
    steps: [ { get: "/s/{{ d.v }}?q={{ d.v }}" } ]
load: { clients: 1, iterations: 4 }
`, map[string]string{"d.csv": "v\nred shoes\n\"a\"\"b\"\n100%\ncafé\n"}))
	want := []string{
		"/s/red%20shoes?q=red%20shoes",
		"/s/a%22b?q=a%22b",
		"/s/100%25?q=100%25",
		"/s/caf%C3%A9?q=caf%C3%A9",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the server got\n%q\nwant\n%q", got, want)
	}
	if tot := res.Run.Total; tot.Requests != 4 || tot.Failed != 0 || tot.Status[200] != 4 {
		t.Errorf("requests %d, failed %d, 200s %d; want 4, 0, 4", tot.Requests, tot.Failed, tot.Status[200])
	}
}

// TestInvalidRequestNotSent: a data value with a line break, rendered into
// a header, makes a request that cannot be sent. It does not go on the
// wire (the server never sees the injected header), it is counted once as
// a failed request of kind invalid, its iteration ends, and the client
// pauses a second before its next one: in 2.5 s one client makes at most 3
// such requests, not a loop of thousands, while the good rows run.
func TestInvalidRequestNotSent(t *testing.T) {
	var served, injected, after atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("X-Injected") != "" || strings.Contains(r.Header.Get("X-Token"), "bad") {
			injected.Add(1)
		}
		if r.URL.Path == "/after" {
			after.Add(1)
		}
	})
	res := runPlan(t, writePlan(t, srv.URL, `
base_url: BASE
data: { d: { csv: d.csv } }
scenarios:
  s:
    steps:
      - get: /h
        headers: { X-Token: "{{ d.v }}" }
        check: { status: 200 }
      - get: /after
load: { clients: 1, duration: 2500ms }
`, map[string]string{"d.csv": "v\nok\n\"bad\r\nX-Injected: 1\"\n"}))
	tot := res.Run.Total
	invalid := tot.Errors[metrics.ErrInvalid]
	t.Logf("requests %d, invalid %d, server served %d", tot.Requests, invalid, served.Load())
	if invalid < 1 || invalid > 3 {
		t.Errorf("%d invalid requests in 2.5 s from one client; want 1 to 3 (one per iteration, then a 1 s pause)", invalid)
	}
	if injected.Load() != 0 {
		t.Errorf("the server got %d requests with the bad value", injected.Load())
	}
	if tot.Requests-invalid != served.Load() {
		t.Errorf("requests %d - invalid %d != %d served: every request that was sent is counted, once", tot.Requests, invalid, served.Load())
	}
	if tot.Failed != invalid {
		t.Errorf("failed %d, want the %d invalid ones", tot.Failed, invalid)
	}
	// Iterations alternate good, bad: the good ones (at least as many as
	// the bad, minus one) each reach /after; the bad ones end before it.
	if after.Load() < invalid-1 || served.Load() != 2*after.Load() {
		t.Errorf("/after reached %d times, %d served in all; want each good iteration's 2 requests and nothing after a bad one", after.Load(), served.Load())
	}
	if c := res.Run.Checks; len(c) != 1 || c[0][1] != invalid {
		t.Errorf("checks %v; want the invalid requests' checks failed", c)
	}
}
