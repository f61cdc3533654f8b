package engine

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// countScenario is a Scenario whose iterations only count themselves.
type countScenario struct{ n atomic.Int64 }

func (s *countScenario) Names() []string      { return []string{"step"} }
func (s *countScenario) CheckNames() []string { return []string{"ok"} }
func (s *countScenario) NewClient(int, *metrics.Recorder, func()) ScenarioClient {
	return countClient{s}
}

type countClient struct{ s *countScenario }

func (c countClient) Iterate(context.Context, int64, time.Time) bool {
	c.s.n.Add(1)
	return true
}

// TestValidate: Validate accepts each load with each work it fits, refuses
// what does not fit with the error the user reads, and never changes the
// configuration it checks (no default filled in: the request's name stays
// empty, MetricName gives the default).
func TestValidate(t *testing.T) {
	req := newReq(t, "GET", "http://127.0.0.1:9/", nil, nil)
	sc := &countScenario{}
	r := rate(t, "10", time.Second)
	closed := Closed{Clients: 2, Duration: time.Second}
	open := Open{Rate: r, MaxClients: 5}
	quick := Request{Request: req, Timeout: time.Second}
	part := func(l Load) Part { return Part{Load: l, Scenario: sc, After: -1} }
	cases := []struct {
		name string
		cfg  Config
		want string // "": valid
	}{
		{"request closed", Config{Load: closed, Work: quick}, ""},
		{"request closed by count", Config{Load: Closed{Clients: 1, Requests: 5}, Work: quick}, ""},
		{"request open", Config{Load: open, Work: quick}, ""},
		{"plan closed by iterations", Config{Load: Closed{Clients: 1, Iterations: 3}, Work: Plan{Scenario: sc}}, ""},
		{"plan open", Config{Load: open, Work: Plan{Scenario: sc}}, ""},
		{"parts", Config{Work: Parts{Parts: []Part{part(closed), part(open)}}}, ""},

		{"no work", Config{Load: closed}, "no request"},
		{"no request", Config{Load: closed, Work: Request{Timeout: time.Second}}, "no request"},
		{"no timeout", Config{Load: closed, Work: Request{Request: req}}, "timeout must be > 0"},
		{"request, no load", Config{Work: quick}, "no load"},
		{"request, load by pointer", Config{Load: &closed, Work: quick}, "load *engine.Closed: not Closed or Open"},
		{"work by pointer", Config{Load: closed, Work: &quick}, "work *engine.Request: not a Request, Plan or Parts"},
		{"request open, no max clients", Config{Load: Open{Rate: r}, Work: quick}, "max clients must be > 0"},
		{"request closed, no clients", Config{Load: Closed{Duration: time.Second}, Work: quick}, "clients must be > 0"},
		{"request closed, no bound", Config{Load: Closed{Clients: 1}, Work: quick}, "need a duration or a request count"},
		{"request closed, iterations are no bound", Config{Load: Closed{Clients: 1, Iterations: 3}, Work: quick}, "need a duration or a request count"},
		{"request closed, negative requests", Config{Load: Closed{Clients: 1, Duration: time.Second, Requests: -1}, Work: quick}, "requests must be >= 0"},
		{"request closed, negative cap", Config{Load: Closed{Clients: 1, Duration: time.Second, MaxRPS: -1}, Work: quick}, "max rps must be >= 0"},
		{"request closed, negative ramp-up", Config{Load: Closed{Clients: 1, Duration: time.Second, RampUp: -1}, Work: quick}, "ramp-up must be >= 0"},
		{"plan, no scenario", Config{Load: closed, Work: Plan{}}, "no scenario"},
		{"plan, no load", Config{Work: Plan{Scenario: sc}}, "no load"},
		{"plan closed, no bound", Config{Load: Closed{Clients: 1}, Work: Plan{Scenario: sc}}, "closed model needs clients and a duration or iterations"},
		{"plan closed, no clients", Config{Load: Closed{Iterations: 1}, Work: Plan{Scenario: sc}}, "closed model needs clients and a duration or iterations"},
		{"plan open, no max clients", Config{Load: Open{Rate: r}, Work: Plan{Scenario: sc}}, "max clients must be > 0"},
		{"parts with a run load", Config{Load: closed, Work: Parts{Parts: []Part{part(closed)}}}, "a run of parts has a load per part, not one for the run"},
		{"parts, none", Config{Work: Parts{}}, "a run of parts needs a part"},
		{"part without scenario", Config{Work: Parts{Parts: []Part{part(closed), {Load: closed, After: -1}}}}, "part 1: no scenario"},
		{"part without load", Config{Work: Parts{Parts: []Part{part(nil)}}}, "part 0: no load"},
		{"part open, no max clients", Config{Work: Parts{Parts: []Part{part(closed), part(Open{Rate: r})}}}, "part 1: max clients must be > 0"},
		{"part closed, no bound", Config{Work: Parts{Parts: []Part{part(Closed{Clients: 3})}}}, "part 0: closed model needs clients and a duration or iterations"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.cfg
			if w, ok := before.Work.(Parts); ok {
				before.Work = Parts{Parts: append([]Part(nil), w.Parts...), HTTP2: w.HTTP2}
			}
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
			if !reflect.DeepEqual(tc.cfg, before) {
				t.Errorf("Validate changed the configuration:\n%+v\nwas\n%+v", tc.cfg, before)
			}
			if w, ok := tc.cfg.Work.(Request); ok && w.Name != "" {
				t.Errorf("Validate named the request %q; the name stays empty (MetricName gives the default)", w.Name)
			}
		})
	}
}

// TestNames: the names a run records under, by work; a request without a
// name is "METHOD path", "/" for an empty path.
func TestNames(t *testing.T) {
	sc := &countScenario{}
	cases := []struct {
		name   string
		work   Work
		names  []string
		checks []string
	}{
		{"request", Request{Request: newReq(t, "POST", "http://127.0.0.1:9/orders?x=1", nil, nil)}, []string{"POST /orders"}, nil},
		{"request, empty path", Request{Request: newReq(t, "GET", "http://127.0.0.1:9", nil, nil)}, []string{"GET /"}, nil},
		{"request named", Request{Request: newReq(t, "GET", "http://127.0.0.1:9/a", nil, nil), Name: "home"}, []string{"home"}, nil},
		{"plan", Plan{Scenario: sc}, []string{"step"}, []string{"ok"}},
		{"parts", Parts{Parts: []Part{{Scenario: sc}}}, []string{"step"}, []string{"ok"}},
		{"parts, none", Parts{}, nil, nil},
		{"plan, no scenario", Plan{}, nil, nil},
		{"no work", nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Work: tc.work}
			names, checks := cfg.Names()
			if !reflect.DeepEqual(names, tc.names) || !reflect.DeepEqual(checks, tc.checks) {
				t.Errorf("Names() = %q, %q; want %q, %q", names, checks, tc.names, tc.checks)
			}
		})
	}
}

// TestPartsShared: in a distributed run of parts, each worker runs its
// share of every part (its clients, and its lease), so the workers
// together run each part's load once, not once each.
func TestPartsShared(t *testing.T) {
	t.Run("closed parts, two workers", func(t *testing.T) {
		var total int64
		for w := range 2 {
			a, b := &countScenario{}, &countScenario{}
			cfg := Config{Work: Parts{Parts: []Part{
				{Load: Closed{Clients: 4, Iterations: 3}, Scenario: a, After: -1},
				{Load: Closed{Clients: 2, Iterations: 5}, Scenario: b, After: 0},
			}}, Share: Share{Index: w, Count: 2}}
			if _, err := Run(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			if a.n.Load() != 6 || b.n.Load() != 5 {
				t.Errorf("worker %d ran %d and %d iterations; want 6 (2 of 4 clients × 3) and 5 (1 of 2 clients × 5)", w, a.n.Load(), b.n.Load())
			}
			total += a.n.Load() + b.n.Load()
		}
		if total != 4*3+2*5 {
			t.Errorf("workers ran %d iterations in all, want the load's %d", total, 4*3+2*5)
		}
	})
	t.Run("open part, run-out lease", func(t *testing.T) {
		sc := &countScenario{}
		cfg := Config{Work: Parts{Parts: []Part{
			{Load: Open{Rate: rate(t, "100", 300*time.Millisecond), MaxClients: 5}, Scenario: sc, After: -1},
		}}, Lease: NewLease()}
		res, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if sc.n.Load() != 0 || res.Run.Dropped != res.Scheduled || res.Scheduled != 30 {
			t.Errorf("%d iterations, %d of %d starts dropped; a run-out lease starts nothing (all 30 dropped)", sc.n.Load(), res.Run.Dropped, res.Scheduled)
		}
	})
}

// TestFootprint: what a run holds at its peak, by load and work: a
// connection per client (none with HTTP/2), the fast path's small clients
// for plain-text HTTP/1.1 requests only, a worker's part of the clients,
// and parts that start together counted together.
func TestFootprint(t *testing.T) {
	plain := Request{Request: newReq(t, "GET", "http://127.0.0.1:9/", nil, nil), Timeout: time.Second}
	tls := Request{Request: newReq(t, "GET", "https://127.0.0.1:9/", nil, nil), Timeout: time.Second}
	h2 := plain
	h2.HTTP2 = true
	sc := &countScenario{}
	c10 := Closed{Clients: 10, Duration: time.Second}
	open := Open{Rate: rate(t, "10", time.Second), MaxClients: 100}
	part := func(n int, delay time.Duration, after int) Part {
		return Part{Load: Closed{Clients: n, Duration: time.Second}, Scenario: sc, Delay: delay, After: after}
	}
	const fast, std = fastClientBytes, stdClientBytes
	cases := []struct {
		name      string
		cfg       Config
		conns     int64
		perClient int64
	}{
		{"request, fast path", Config{Load: c10, Work: plain}, 10, fast},
		{"request, forced onto net/http", Config{Load: c10, Work: plain, ForceStd: true}, 10, std},
		{"request over TLS", Config{Load: c10, Work: tls}, 10, std},
		{"request over HTTP/2", Config{Load: c10, Work: h2}, 0, std},
		{"request, open model", Config{Load: open, Work: plain}, 100, fast},
		{"request, worker 2 of 3", Config{Load: c10, Work: plain, Share: Share{Index: 1, Count: 3}}, share(10, 3, 1), fast},
		{"plan", Config{Load: c10, Work: Plan{Scenario: sc}}, 10, std},
		{"plan over HTTP/2", Config{Load: open, Work: Plan{Scenario: sc, HTTP2: true}}, 0, std},
		{"parts at once", Config{Work: Parts{Parts: []Part{part(3, 0, -1), part(4, 0, -1)}}}, 7, std},
		{"parts, a later one larger", Config{Work: Parts{Parts: []Part{part(3, 0, -1), part(4, 0, -1), part(10, 0, 0)}}}, 10, std},
		{"parts, a delayed one smaller", Config{Work: Parts{Parts: []Part{part(3, 0, -1), part(4, 0, -1), part(5, time.Second, -1)}}}, 7, std},
		{"parts, worker 2 of 2", Config{Work: Parts{Parts: []Part{part(3, 0, -1), part(4, 0, -1)}}, Share: Share{Index: 1, Count: 2}}, share(3, 2, 1) + share(4, 2, 1), std},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conns, mem := tc.cfg.Footprint()
			clients := tc.conns
			if clients == 0 { // HTTP/2: no connection per client, the memory still
				clients = int64(slotsOf(tc.cfg.Load))
			}
			if conns != tc.conns || mem != clients*tc.perClient {
				t.Errorf("Footprint() = %d conns, %d bytes; want %d, %d", conns, mem, tc.conns, clients*tc.perClient)
			}
		})
	}
}

// TestPartsShareArithmetic: in a run of parts, the workers' shares of
// each open part's starts add up to its starts, counted from when the part
// starts (after the part it waits for was planned to end), and data rows
// and the share's fraction follow the largest part.
func TestPartsShareArithmetic(t *testing.T) {
	sc := &countScenario{}
	r := rate(t, "0:1s,40:2s", 0)
	cfg := Config{Work: Parts{Parts: []Part{
		{Load: Closed{Clients: 4, Duration: 2 * time.Second}, Scenario: sc, After: -1},
		{Load: Open{Rate: r, MaxClients: 6}, Scenario: sc, After: 0},
		{Load: Open{Rate: r, MaxClients: 3}, Scenario: sc, Delay: 500 * time.Millisecond, After: -1},
	}}}
	for workers := 1; workers <= 7; workers++ {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			for _, at := range []time.Duration{0, 400 * time.Millisecond, 1500 * time.Millisecond, 2 * time.Second, 2700 * time.Millisecond, 5 * time.Second} {
				var sum int64
				var frac float64
				for w := range workers {
					s := Share{Index: w, Count: workers}
					sum += s.Due(&cfg, at)
					frac += s.Fraction(&cfg)
					if d := s.Rows(&cfg); d.Slots != 6 {
						t.Fatalf("rows dealt over %d slots, want the largest part's 6", d.Slots)
					}
				}
				want := r.Due(max(at-500*time.Millisecond, 0))*int64(min(at/(500*time.Millisecond), 1)) + r.Due(max(at-2*time.Second, 0))*int64(min(at/(2*time.Second), 1))
				if sum != want {
					t.Errorf("starts due by %v add up to %d, want %d", at, sum, want)
				}
				if frac < 0.999999 || frac > 1.000001 {
					t.Errorf("fractions add up to %g, want 1", frac)
				}
			}
		})
	}
}
