package scenario_test

import (
	"testing"

	"github.com/fuka-load/fuka/internal/wiretest"
)

// TestPlanBytesOnTheWire: a plan's requests count bytes_in and bytes_out as
// the wire carried them — status lines, headers, framing, the request's own
// headers — as quick mode does (engine TestBytesOnTheWire).
func TestPlanBytesOnTheWire(t *testing.T) {
	for _, resp := range wiretest.Responses {
		t.Run(resp.Name, func(t *testing.T) {
			srv := wiretest.New(t, resp.Raw, nil)
			path := writePlan(t, "http://"+srv.Addr, `
base_url: BASE
scenarios:
  s:
    steps:
      - get: /a?x=1
        headers: { X-Test: "1" }
      - post: /b
        json: { a: 1 }
load: { clients: 2, iterations: 5 }
`, nil)
			res := runPlan(t, path)
			tot := res.Run.Total
			if tot.Requests != 20 || tot.Failed != 0 || srv.Requests.Load() != 20 {
				t.Fatalf("%d requests, %d failed, %d answered; want 20, 0, 20", tot.Requests, tot.Failed, srv.Requests.Load())
			}
			if tot.BytesIn != srv.Written.Load() || tot.BytesOut != srv.Read.Load() {
				t.Errorf("bytes in %d out %d; the server wrote %d and read %d", tot.BytesIn, tot.BytesOut, srv.Written.Load(), srv.Read.Load())
			}
		})
	}
}
