package engine

import (
	"context"
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
