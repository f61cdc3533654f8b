package grpccall

import (
	"testing"

	"github.com/fuka-load/fuka/metrics"
)

// TestQuickConnsFollowClients: a Quick sized for many clients (--rate's
// --max-clients) makes a connection per clientsPerConn clients it runs,
// up to maxConns, not one per clientsPerConn it might run.
func TestQuickConnsFollowClients(t *testing.T) {
	target, err := ParseTarget("grpc://127.0.0.1:1", nil) // never called: connections are made lazily by grpc-go too
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		slots, clients int
		want           int
	}{
		{"one client", 10000, 1, 1},
		{"a connection per 50 clients", 10000, 120, 3},
		{"exactly 50", 10000, 50, 1},
		{"capped by slots", 60, 200, 2},
		{"capped at maxConns", 100000, 5000, maxConns},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &Quick{Target: target, Slots: tc.slots, Phases: true}
			defer q.CloseIdle()
			rec := metrics.NewRecorder(1)
			for id := range tc.clients {
				c := q.NewClient(id, rec, nil).(*quickClient)
				if c.err != nil || c.cc == nil || c.ct == nil {
					t.Fatalf("client %d: conn %v, times %v, error %v", id, c.cc, c.ct, c.err)
				}
				if want := q.conns[(id/clientsPerConn)%len(q.conns)]; c.cc != want {
					t.Fatalf("client %d is not on connection %d", id, id/clientsPerConn)
				}
			}
			made := 0
			for _, cc := range q.conns {
				if cc != nil {
					made++
				}
			}
			if made != tc.want {
				t.Errorf("%d clients of %d slots made %d connections, want %d", tc.clients, tc.slots, made, tc.want)
			}
		})
	}
}
