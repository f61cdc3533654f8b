package engine

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/load"
)

// acceptServer counts the connections it accepted and the requests it
// served.
type acceptServer struct {
	*httptest.Server
	accepts  atomic.Int64
	requests atomic.Int64
}

func newAcceptServer(t *testing.T) *acceptServer {
	t.Helper()
	s := &acceptServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepts.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestPreconnect: an open-model run opens its connections before its clock
// starts, and every connection the target accepted is either one of those
// (Warmup.Opened) or counted in the run's connects, per interval.
func TestPreconnect(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, tc := range []struct {
				name       string
				rate       string
				preconnect int
				want       int // opened (at least, for an estimate); -1: no warm-up
			}{
				{"explicit", "200", 20, 20},
				// At 200/s the estimate (3) is below the probes, which stay.
				{"estimate", "200", 0, warmProbes},
				// The estimate grows with the probes' connect time: at least
				// the one for an instant connect.
				{"estimate above the probes", "2000", 0, warmCount(Open{Rate: rate(t, "2000", time.Second), Resolution: time.Millisecond}, 0, 50, 1)},
				{"none", "200", -1, -1},
			} {
				t.Run(tc.name, func(t *testing.T) {
					srv := newAcceptServer(t)
					r := rate(t, tc.rate, time.Second)
					cfg := Config{
						Load: Open{Rate: r, MaxClients: 50, Resolution: time.Millisecond, Preconnect: tc.preconnect},
						Work: Request{Request: newReq(t, "GET", srv.URL+"/", nil, nil)},
					}
					res := prepareAndRun(t, tr, cfg, srv)
					accepts := srv.accepts.Load()
					if tc.want < 0 {
						if res.Warmup != nil {
							t.Fatalf("Warmup = %+v, want none", res.Warmup)
						}
					} else {
						w := res.Warmup
						// An estimate may open fewer than it wanted when its
						// time runs out on a busy machine; never more.
						exact := tc.preconnect > 0 || tc.want == warmProbes
						if w == nil || w.Opened > w.Wanted || exact && w.Opened != w.Wanted || w.Opened < tc.want || exact && w.Opened != tc.want || w.Failed != 0 || w.Error != "" {
							t.Fatalf("Warmup = %+v, want %d opened", w, tc.want)
						}
						if w.ConnectP50 <= 0 || w.ConnectMax < w.ConnectP50 {
							t.Errorf("connect times p50 %v max %v", w.ConnectP50, w.ConnectMax)
						}
					}
					opened := int64(0)
					if res.Warmup != nil {
						opened = int64(res.Warmup.Opened)
					}
					var perInterval int64
					for _, p := range res.Run.Timeline {
						perInterval += p.Connects
					}
					if !res.Run.CountsConnects || res.Run.Connects != perInterval || opened+res.Run.Connects != accepts {
						t.Fatalf("accepted %d, pre-connected %d + connects %d (timeline %d, counted %v)",
							accepts, opened, res.Run.Connects, perInterval, res.Run.CountsConnects)
					}
					if tc.want < 0 && res.Run.Connects == 0 {
						t.Fatal("no pre-connect and no connects: the run's connections went uncounted")
					}
					if got := srv.requests.Load(); got != res.Run.Total.Requests || got+res.Run.Dropped != r.Total() {
						t.Fatalf("served %d, measured %d, dropped %d, want %d", got, res.Run.Total.Requests, res.Run.Dropped, r.Total())
					}
				})
			}
		})
	}
}

// TestPreconnectRefused: a target that refuses every connection fails the
// pre-connect, which says so, and then every request, as without it.
func TestPreconnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			cfg := Config{
				Load: Open{Rate: rate(t, "50", 200*time.Millisecond), MaxClients: 10},
				Work: Request{Request: newReq(t, "GET", url, nil, nil)},
			}
			res, _ := run(t, tr, cfg)
			w := res.Warmup
			if w == nil || w.Opened != 0 || w.Failed == 0 || !strings.Contains(w.Error, "refused") {
				t.Fatalf("Warmup = %+v, want every attempt refused", w)
			}
			tot := res.Run.Total
			if tot.Requests == 0 || tot.Failed != tot.Requests || res.Run.Connects != 0 {
				t.Fatalf("requests %d failed %d connects %d: want all failed, none connected", tot.Requests, tot.Failed, res.Run.Connects)
			}
		})
	}
}

// TestWarmCount pins the estimate: the first second's peak rate times one
// resolution step plus the expected latency (10 connect times, at least
// 10 ms), within the clients the run may hold.
func TestWarmCount(t *testing.T) {
	ramp, err := load.ParseRate("1000:1s,1000:1s", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		l     Open
		rtt   time.Duration
		slots int
		frac  float64
		want  int
	}{
		{"floor", Open{Rate: rate(t, "10000", time.Second), Resolution: time.Millisecond}, 50 * time.Microsecond, 10000, 1, 110},
		{"rtt", Open{Rate: rate(t, "1000", time.Second)}, 20 * time.Millisecond, 10000, 1, 200},
		{"share", Open{Rate: rate(t, "10000", time.Second), Resolution: time.Millisecond}, 0, 10000, 0.5, 55},
		{"bounded", Open{Rate: rate(t, "50000", time.Second)}, time.Second, 300, 1, 300},
		{"ramp from 0", Open{Rate: ramp}, 0, 10000, 1, 10},
		{"override", Open{Rate: rate(t, "10", time.Second), Preconnect: 7}, 0, 10000, 1, 7},
		{"override bounded", Open{Rate: rate(t, "10", time.Second), Preconnect: 70}, 0, 5, 1, 5},
		{"none", Open{Rate: rate(t, "10000", time.Second), Preconnect: -1}, 0, 10000, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := warmCount(tc.l, tc.rtt, tc.slots, tc.frac); got != tc.want {
				t.Errorf("warmCount = %d, want %d", got, tc.want)
			}
		})
	}
}

// prepareAndRun runs cfg as Run does, in its two halves, and checks in
// between, before the run's clock starts, that the target has accepted
// every pre-connected connection and seen no request.
func prepareAndRun(t *testing.T, tr transport, cfg Config, srv *acceptServer) *Result {
	t.Helper()
	cfg.ForceStd = tr.std
	w := cfg.Work.(Request)
	w.Timeout, w.UserAgent = 5*time.Second, "fuka-test"
	cfg.Work = w
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	p, err := Prepare(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if wu := p.Warmup(); wu != nil {
		// The server accepts in its own goroutine, after the kernel
		// completed the handshake: give it a moment.
		for end := time.Now().Add(2 * time.Second); srv.accepts.Load() < int64(wu.Opened) && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
		if got := srv.accepts.Load(); got != int64(wu.Opened) || srv.requests.Load() != 0 {
			t.Fatalf("before the clock: accepted %d, pre-connected %d, requests %d (want none)", got, wu.Opened, srv.requests.Load())
		}
	}
	res, err := p.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkTransport(t, tr, cfg, res)
	return res
}
