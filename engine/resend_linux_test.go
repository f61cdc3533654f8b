//go:build linux

package engine

import (
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/faultserver"
	"github.com/fuka-load/fuka/metrics"
	"golang.org/x/sys/unix"
)

// TestBrokenRedialsOnlyUnsent: the fast path's decision when a socket breaks
// under a request. Only a request of which no byte was written, on a reused
// socket, moves to a new socket uncounted (once); every other break is one
// failed request. The race this covers (a RST that arrives while a reused
// socket waits, before the loop sees its event) cannot be staged through a
// whole run, so the loop is driven by hand.
func TestBrokenRedialsOnlyUnsent(t *testing.T) {
	srv := faultserver.Start(t, faultserver.Config{})
	cfg := Config{Load: Closed{Clients: 1, Requests: 1}, Work: Request{Request: newReq(t, "POST", srv.URL()+"/orders", nil, []byte("x")), Timeout: 5 * time.Second, UserAgent: "fuka-test"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srcs, recs, err := newFastSources(&cfg, cfg.Work.(Request), 1, time.Now())
	if err != nil {
		t.Skipf("no fast path: %v", err)
	}
	l := srcs[0].(*fastLoop)
	t.Cleanup(l.shutdown)
	l.stopping = true // a failed client then finishes instead of starting another request
	col := metrics.NewCollector([]string{cfg.Work.(Request).MetricName()}, recs)
	wire := len(l.wire)
	cases := []struct {
		name          string
		served, wrOff int
		redialed      bool
		wantRedial    bool
	}{
		{"reused, nothing written", 3, 0, false, true},
		{"reused, part written", 3, 1, false, false},
		{"reused, all written", 3, wire, false, false},
		{"new socket, nothing written", 0, 0, false, false},
		{"reused, nothing written, already redialed", 3, 0, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			c := l.newConn()
			c.fd, c.served, c.wrOff, c.redialed, c.state = old, tc.served, tc.wrOff, tc.redialed, cWriting
			l.inflight = 1
			before := col.Run().Total.Requests
			l.rec.Lock()
			l.broken(c, metrics.ErrReset, l.now())
			l.rec.Unlock()
			col.Tick(l.now(), 0)
			tot := col.Run().Total
			recorded := tot.Requests - before
			if tc.wantRedial {
				if c.fd < 0 || c.state == cDone || l.inflight != 1 || recorded != 0 {
					t.Errorf("fd %d, state %d, in flight %d, recorded %d: want the request on a new socket, uncounted",
						c.fd, c.state, l.inflight, recorded)
				}
				if !c.redialed {
					t.Error("redialed not set: a second break could redial again")
				}
				l.closeSocket(c)
				return
			}
			if c.fd >= 0 || l.inflight != 0 || recorded != 1 || tot.Errors[metrics.ErrReset] == 0 {
				t.Errorf("fd %d, in flight %d, recorded %d (%v): want one failed request of kind reset",
					c.fd, l.inflight, recorded, errorsOf(tot))
			}
		})
	}
}
