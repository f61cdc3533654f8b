package run

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
)

// loadView is the load of an engine configuration, without its work: what
// a plan's load must become.
type loadView struct {
	Clients, MaxClients     int
	RampUp, Duration, Delay time.Duration
	Iterations, After       int
	MaxRPS                  float64
	Rate                    string // load.Rate.String(); "" in the closed model
	Scenario, HTTP2         bool   // a runner is set; HTTP/2
}

func viewLoad(l engine.Load) loadView {
	v := loadView{After: -1}
	switch l := l.(type) {
	case engine.Closed:
		v.Clients, v.RampUp, v.Duration, v.Iterations, v.MaxRPS = l.Clients, l.RampUp, l.Duration, l.Iterations, l.MaxRPS
	case engine.Open:
		v.MaxClients, v.Rate = l.MaxClients, l.Rate.String()
	}
	return v
}

func viewOf(c engine.Config) loadView {
	v := viewLoad(c.Load)
	switch w := c.Work.(type) {
	case engine.Plan:
		v.Scenario, v.HTTP2 = w.Scenario != nil, w.HTTP2
	case engine.Parts:
		v.HTTP2 = w.HTTP2
	}
	return v
}

func partsOf(c engine.Config) []loadView {
	var parts []loadView
	w, _ := c.Work.(engine.Parts)
	for _, p := range w.Parts {
		v := viewLoad(p.Load)
		v.Scenario, v.Delay, v.After = p.Scenario != nil, p.Delay, p.After
		parts = append(parts, v)
	}
	return parts
}

func maxClientsOf(c engine.Config) int {
	n := 0
	if o, ok := c.Load.(engine.Open); ok {
		n = o.MaxClients
	}
	w, _ := c.Work.(engine.Parts)
	for _, p := range w.Parts {
		if o, ok := p.Load.(engine.Open); ok {
			n += o.MaxClients
		}
	}
	return n
}

// TestPlanConfig: a plan's load, closed, open or one per scenario, and
// the overrides, become the engine configuration and the report's
// description of it that the plan says, field by field.
func TestPlanConfig(t *testing.T) {
	steps := "    steps: [ { get: /x } ]\n"
	for _, tc := range []struct {
		name  string
		load  string // the plan after its scenarios
		f     LoadFlags
		http2 bool
		want  loadView
		parts []loadView
		meta  report.Meta // Model, Clients, MaxClients, RampUp, MaxRPS, Planned, Rate
	}{
		{name: "closed", load: "load: { clients: 7, ramp_up: 2s, duration: 10s, max_rps: 50 }\n",
			want: loadView{Clients: 7, RampUp: 2 * time.Second, Duration: 10 * time.Second, MaxRPS: 50, Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelClosed, Clients: 7, RampUp: 2 * time.Second, MaxRPS: 50, Planned: 10 * time.Second}},
		{name: "closed iterations", load: "load: { clients: 3, iterations: 4 }\n",
			want: loadView{Clients: 3, Iterations: 4, Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelClosed, Clients: 3}},
		{name: "closed, overridden", load: "load: { clients: 7, duration: 10s }\n",
			f:    LoadFlags{Clients: 9, Duration: 3 * time.Second, Changed: changedOf("clients", "duration")},
			want: loadView{Clients: 9, Duration: 3 * time.Second, Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelClosed, Clients: 9, Planned: 3 * time.Second}},
		{name: "open", load: "load: { rate: [ { target: 20, over: 2s }, { target: 20, over: 3s } ], max_clients: 40 }\n", http2: true,
			want: loadView{MaxClients: 40, Rate: "20:2s,20:3s", Scenario: true, HTTP2: true, After: -1},
			meta: report.Meta{Model: report.ModelOpen, MaxClients: 40, Planned: 5 * time.Second, Rate: "20:2s,20:3s"}},
		{name: "open, max_clients not set", load: "load: { rate: 5, duration: 4s }\n",
			want: loadView{MaxClients: plan.DefaultMaxClients, Rate: "5:0s,5:4s", Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelOpen, MaxClients: plan.DefaultMaxClients, Planned: 4 * time.Second, Rate: "5:0s,5:4s"}},
		{name: "closed, --rate", load: "load: { clients: 7, duration: 10s }\n",
			f:    LoadFlags{Rate: "8", Duration: 2 * time.Second},
			want: loadView{MaxClients: plan.DefaultMaxClients, Rate: "8:0s,8:2s", Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelOpen, MaxClients: plan.DefaultMaxClients, Planned: 2 * time.Second, Rate: "8:0s,8:2s"}},
		{name: "open, --max-clients", load: "load: { rate: 5, duration: 4s, max_clients: 40 }\n",
			f:    LoadFlags{MaxClients: 6, Changed: changedOf("max-clients")},
			want: loadView{MaxClients: 6, Rate: "5:0s,5:4s", Scenario: true, After: -1},
			meta: report.Meta{Model: report.ModelOpen, MaxClients: 6, Planned: 4 * time.Second, Rate: "5:0s,5:4s"}},
		{name: "parts", load: "", want: loadView{After: -1},
			parts: []loadView{
				{Clients: 2, Duration: 3 * time.Second, Scenario: true, After: -1},
				{MaxClients: 9, Rate: "10:1s", Scenario: true, Delay: time.Second, After: -1},
				{MaxClients: plan.DefaultMaxClients, Rate: "4:0s,4:2s", Scenario: true, After: 0},
			},
			// a's end at 3s; b's at 1s+1s; c's at 3s+2s.
			meta: report.Meta{Model: "mixed", Clients: 2, MaxClients: 9 + plan.DefaultMaxClients, Planned: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: p\nbase_url: http://127.0.0.1:9\nscenarios:\n  a:\n" + steps + tc.load
			if tc.parts != nil {
				src = `name: p
base_url: http://127.0.0.1:9
scenarios:
  a:
    load: { clients: 2, duration: 3s }
` + steps + `  b:
    start_after: 1s
    load: { rate: [ { target: 10, over: 1s } ], max_clients: 9 }
` + steps + `  c:
    start_after: a
    load: { rate: 4, duration: 2s }
` + steps
			}
			c, err := Compile("p.yaml", []byte(src), "", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			ov, err := tc.f.Overrides()
			if err != nil {
				t.Fatal(err)
			}
			cfg, meta, closeRunner, err := PlanConfig(c, ov, Options{HTTP2: tc.http2, Version: testVersion})
			if err != nil {
				t.Fatal(err)
			}
			defer closeRunner()
			want := max(tc.want.Clients, tc.want.MaxClients)
			for _, p := range tc.parts {
				want += max(p.Clients, p.MaxClients)
			}
			if got := slots(cfg); got != want {
				t.Errorf("the transport holds %d idle connections; want %d, one per client the loads may hold at once", got, want)
			}
			if got := viewOf(cfg); got != tc.want {
				t.Errorf("load\n%+v\nwant\n%+v", got, tc.want)
			}
			if parts := partsOf(cfg); !slices.Equal(parts, tc.parts) {
				t.Errorf("parts\n%+v\nwant\n%+v", parts, tc.parts)
			}
			wantMeta := tc.meta
			wantMeta.Name, wantMeta.Target, wantMeta.Version = "p", "http://127.0.0.1:9", testVersion
			wantMeta.H2C = tc.http2 // HTTP/2 forced on an http:// base_url: h2c
			wantMeta.LatencyFrom = report.FromSend
			if wantMeta.Model == report.ModelOpen {
				wantMeta.LatencyFrom = report.FromIntended
			}
			if !reflect.DeepEqual(meta, wantMeta) {
				t.Errorf("meta\n%+v\nwant\n%+v", meta, wantMeta)
			}
		})
	}
}

func changedOf(flags ...string) func(string) bool {
	return func(f string) bool { return slices.Contains(flags, f) }
}

func noEnv(string) (string, bool) { return "", false }

// TestCapDefault: an open-model cap that is the default is lowered to what
// the open-file limit and the memory allow, and says so; one the user gave
// (max_clients in the file, --max-clients) is never lowered: it is refused
// when it does not fit.
func TestCapDefault(t *testing.T) {
	plans := map[string]string{
		"default": "load: { rate: 5, duration: 2s }\n",
		"given":   "load: { rate: 5, duration: 2s, max_clients: 10000 }\n",
		"closed":  "load: { clients: 5, duration: 2s }\n",
		"parts": "    load: { rate: 5, duration: 2s }\n" +
			"  b:\n    steps: [ { get: /x } ]\n    load: { clients: 2, duration: 2s }\n" +
			"  c:\n    steps: [ { get: /x } ]\n    load: { rate: 5, duration: 2s, max_clients: 100 }\n",
	}
	for _, tc := range []struct {
		name   string
		plan   string
		f      LoadFlags
		limits HostLimits
		max    int    // cfg.MaxClients (the parts' sum) and meta.MaxClients after
		note   string // "" for none
		err    string // "" for none
	}{
		{"fits", "default", LoadFlags{}, HostLimits{Files: 20000, Mem: 64 << 30}, plan.DefaultMaxClients, "", ""},
		{"files", "default", LoadFlags{}, HostLimits{Files: 1000, FilesHard: 1000}, 936,
			"max_clients 10000 (the default) is more than this process may open files (ulimit -n 1000); using 936", ""},
		{"memory", "default", LoadFlags{}, HostLimits{Files: 20000, Mem: 32 << 20, MemFrom: "MemAvailable in /proc/meminfo"}, 1024,
			"max_clients 10000 (the default) is more than the memory available holds (32.0 MiB, MemAvailable in /proc/meminfo); using 1024", ""},
		{"--rate on a closed plan", "closed", LoadFlags{Rate: "5", Duration: 2 * time.Second}, HostLimits{Files: 1000}, 936,
			"max_clients 10000 (the default) is more than this process may open files (ulimit -n 1000); using 936", ""},
		{"parts", "parts", LoadFlags{}, HostLimits{Files: 1000}, 834 + 100,
			"max_clients 10000 (the default) of scenario a makes the scenarios' loads more than this process may open files (ulimit -n 1000); using 834", ""},
		{"parts that fit", "parts", LoadFlags{}, HostLimits{Files: 20000}, plan.DefaultMaxClients + 100, "", ""},
		{"max_clients given", "given", LoadFlags{}, HostLimits{Files: 1000}, 0, "",
			"p.yaml:6:7: load: max_clients 10000: each client holds a connection"},
		{"--max-clients given", "default", LoadFlags{MaxClients: 10000, Changed: changedOf("max-clients")}, HostLimits{Files: 1000}, 0, "",
			"--max-clients 10000: each client holds a connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withLimits(t, tc.limits)
			src := "name: p\nbase_url: http://127.0.0.1:9\nscenarios:\n  a:\n    steps: [ { get: /x } ]\n" + plans[tc.plan]
			c, err := Compile("p.yaml", []byte(src), "", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			cfg, meta, closeRunner, note, err := Preflight(c, tc.f, Options{Version: testVersion}, false)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			closeRunner()
			if got := maxClientsOf(cfg); got != tc.max || meta.MaxClients != tc.max {
				t.Errorf("max clients %d (report %d), want %d", got, meta.MaxClients, tc.max)
			}
			if note != tc.note {
				t.Errorf("note %q\nwant %q", note, tc.note)
			}
		})
	}
}

func withLimits(t *testing.T, l HostLimits) {
	old := ReadHostLimits
	ReadHostLimits = func() HostLimits { return l }
	t.Cleanup(func() { ReadHostLimits = old })
}

// TestCapacityConfig: a capacity search's cap on clients is --max-clients
// when given, else the plan's max_clients, else the default; a plan whose
// scenarios have their own loads is refused.
func TestCapacityConfig(t *testing.T) {
	for _, tc := range []struct {
		name, load string
		flag, want int
		err        string
	}{
		{"open plan's max_clients", "load: { rate: 5, duration: 2s, max_clients: 40 }\n", 0, 40, ""},
		{"--max-clients", "load: { rate: 5, duration: 2s, max_clients: 40 }\n", 7, 7, ""},
		{"open plan without max_clients", "load: { rate: 5, duration: 2s }\n", 0, plan.DefaultMaxClients, ""},
		{"closed plan", "load: { clients: 3, duration: 2s }\n", 0, plan.DefaultMaxClients, ""},
		{"own loads", "    load: { clients: 3, duration: 2s }\n", 0, 0, "capacity needs a plan whose scenarios share one load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: p\nbase_url: http://127.0.0.1:9\nscenarios:\n  a:\n    steps: [ { get: /x } ]\n" + tc.load
			c, err := Compile("p.yaml", []byte(src), "", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			cfg, closeRunner, err := CapacityConfig(c, tc.flag, 3*time.Millisecond, Options{Version: testVersion})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			closeRunner()
			open, _ := cfg.Load.(engine.Open)
			if w, _ := cfg.Work.(engine.Plan); open.MaxClients != tc.want || open.Resolution != 3*time.Millisecond || w.Scenario == nil {
				t.Errorf("config %+v, want max clients %d, resolution 3ms and a runner", cfg, tc.want)
			}
		})
	}
}

// TestPreflightRefuses: what run and validate refuse before sending
// anything, besides the load's own rules (plan.Validate's tests): the
// plan's watch settings, and overrides that do not fit the plan.
func TestPreflightRefuses(t *testing.T) {
	const head = "name: p\nbase_url: http://127.0.0.1:9\nscenarios:\n  a:\n    steps: [ { get: /x } ]\n"
	for _, tc := range []struct {
		name, plan string
		f          LoadFlags
		err        string
	}{
		{"profile at", head + "load: { clients: 1, duration: 1s }\nprofile: [ { pprof: 'http://127.0.0.1:9/debug/pprof', at: whenever } ]\n", LoadFlags{},
			"profile at"},
		{"--clients on an open plan", head + "load: { rate: 5, duration: 1s }\n", LoadFlags{Clients: 3, Changed: changedOf("clients")},
			"--clients (closed model) does not combine with an open-model load"},
		{"--max-clients on a closed plan", head + "load: { clients: 1, duration: 1s }\n", LoadFlags{MaxClients: 3, Changed: changedOf("max-clients")},
			"--max-clients is for the open model"},
		{"--duration shorter than ramp_up", head + "load: { clients: 1, ramp_up: 5s, duration: 10s }\n", LoadFlags{Duration: 2 * time.Second, Changed: changedOf("duration")},
			"p.yaml:6:7: load: ramp_up 5s is longer than duration 2s (with --duration 2s)"},
		{"overrides on scenarios' own loads", head + "    load: { clients: 1, duration: 1s }\n", LoadFlags{Clients: 3, Changed: changedOf("clients")},
			"this plan gives scenarios their own loads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withLimits(t, HostLimits{})
			c, err := Compile("p.yaml", []byte(tc.plan), "", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			_, _, closeRunner, _, err := Preflight(c, tc.f, Options{Version: testVersion}, false)
			if err == nil {
				closeRunner()
				t.Fatalf("no error; want %q", tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v\nwant %q", err, tc.err)
			}
		})
	}
}

// The reports name what a plan sends to: a plan without base_url whose
// steps carry their own grpc:// target is not reported with a blank one.
func TestPlanConfigTargets(t *testing.T) {
	grpcStep := func(target string) string {
		return "      - grpc: { target: " + target + ", service: a.B, method: C, message: {} }\n        timeout: 1s\n"
	}
	cases := []struct {
		name, src   string
		wantTarget  string
		wantTargets []string
	}{
		{"base_url", "base_url: http://127.0.0.1:8080\nload: { clients: 1, duration: 1s }\nscenarios:\n  s:\n    steps:\n      - get: /\n",
			"http://127.0.0.1:8080", nil},
		{"one grpc target", "load: { clients: 1, duration: 1s }\nscenarios:\n  s:\n    steps:\n" + grpcStep("grpc://127.0.0.1:9"),
			"grpc://127.0.0.1:9", nil},
		{"two targets, scenario loads", "scenarios:\n  s:\n    load: { clients: 1, duration: 1s }\n    steps:\n" + grpcStep("grpc://127.0.0.1:9") +
			"  t:\n    load: { clients: 1, duration: 1s }\n    steps:\n" + grpcStep("grpc://127.0.0.1:10"),
			"2 targets", []string{"grpc://127.0.0.1:9", "grpc://127.0.0.1:10"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := plan.Parse("t.yaml", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			conf := loadConfig
			if ownLoads(p) || p.Load == nil {
				conf = partsConfig
			}
			_, meta, err := conf(p, "test")
			if err != nil {
				t.Fatal(err)
			}
			if meta.Target != c.wantTarget || !slices.Equal(meta.Targets, c.wantTargets) {
				t.Errorf("target %q, targets %q; want %q, %q", meta.Target, meta.Targets, c.wantTarget, c.wantTargets)
			}
		})
	}
}
