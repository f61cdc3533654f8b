package plan_test

import (
	"math"
	"testing"
	"time"

	"github.com/fuka-load/fuka/plan"
)

// basePlan is a valid plan built in code, as a CLI override would leave it.
func basePlan() *plan.Plan {
	at := func(line int) plan.Pos { return plan.Pos{File: "p.yaml", Line: line, Column: 1} }
	return &plan.Plan{
		File:    "p.yaml",
		BaseURL: plan.String{Value: "http://127.0.0.1:8080", Pos: at(1)},
		Scenarios: []*plan.Scenario{
			{
				Name: "browse", Weight: 1, Pos: at(2),
				Steps: []*plan.Step{
					{Kind: plan.StepRequest, Method: "GET", Path: plan.String{Value: "/", Pos: at(3)}, Pos: at(3)},
					{Kind: plan.StepThink, Think: &plan.Think{Min: time.Second}, Pos: at(4)},
				},
			},
			{
				Name: "buy", Weight: 1, Pos: at(5),
				Steps: []*plan.Step{
					{Kind: plan.StepRequest, Method: "POST", Path: plan.String{Value: "/login", Pos: at(6)}, Pos: at(6)},
				},
			},
		},
		Load: &plan.Load{Clients: 10, Duration: time.Minute, Pos: at(7)},
		Pos:  at(1),
	}
}

func TestValidate(t *testing.T) {
	open := func(p *plan.Plan) {
		p.Load = &plan.Load{Rate: []plan.RateStage{{Target: 100, Over: time.Minute}}, MaxClients: 10, Pos: p.Load.Pos}
	}
	tests := []struct {
		name   string
		change func(p *plan.Plan)
		want   string // "" = valid
	}{
		{"valid closed", func(p *plan.Plan) {}, ""},
		{"valid loop", func(p *plan.Plan) { p.Scenarios[0].Steps = []*plan.Step{loopStep(&plan.Loop{Count: 3})} }, ""},
		{"loop without a bound", func(p *plan.Plan) { p.Scenarios[0].Steps = []*plan.Step{loopStep(&plan.Loop{})} },
			"p.yaml:9:1: loop has no bound; want count: N, or while: '{{ expr }}' with max: N"},
		{"while without max", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{loopStep(&plan.Loop{While: &plan.Expr{Src: "true"}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 9}})}
		}, "p.yaml:9:9: loop: a while needs max: N, the most turns it may take"},
		{"if without then, bad on_failure", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{{Kind: plan.StepIf, If: &plan.Expr{Src: "true"}, OnFailure: "retry", Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
		}, "p.yaml:9:1: if has no then: list of steps\n" +
			"p.yaml:9:1: on_failure: want continue, next_iteration or stop_client, got \"retry\""},
		{"request inside a foreach is validated", func(p *plan.Plan) {
			st := &plan.Step{Kind: plan.StepForeach, Foreach: &plan.Foreach{In: plan.Expr{Src: "xs"}, As: "x"}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}
			st.Steps = []*plan.Step{{Kind: plan.StepRequest, Method: "FETCH", Path: plan.String{Value: "/"}, Pos: plan.Pos{File: "p.yaml", Line: 10, Column: 1}}}
			p.Scenarios[0].Steps = []*plan.Step{st}
		}, "p.yaml:10:1: step: bad method \"FETCH\"; want one of: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS"},
		{"valid open", open, ""},
		{"CLI set clients to 0", func(p *plan.Plan) { p.Load.Clients = 0 },
			"p.yaml:7:1: load: clients must be at least 1, got 0"},
		{"closed load that never ends", func(p *plan.Plan) { p.Load.Duration = 0 },
			"p.yaml:7:1: load: the closed model needs duration or iterations (per client) to end"},
		{"ramp-up longer than the run", func(p *plan.Plan) { p.Load.RampUp = 2 * time.Minute },
			"p.yaml:7:1: load: ramp_up 2m0s is longer than duration 1m0s"},
		{"NaN max_rps", func(p *plan.Plan) { p.Load.MaxRPS = math.NaN() },
			"p.yaml:7:1: load: max_rps NaN must be more than 0 (or 0 for no cap)"},
		{"CLI added clients to an open load", func(p *plan.Plan) { open(p); p.Load.Clients = 5 },
			"p.yaml:7:1: load: rate and closed-model settings (clients, ramp_up, iterations, max_rps) are both set; a load is closed or open, not both"},
		{"open load with duration and negative max_clients", func(p *plan.Plan) { open(p); p.Load.Duration = time.Second; p.Load.MaxClients = -1 },
			"p.yaml:7:1: load: duration is not used with rate; the stages set the length\n" +
				"p.yaml:7:1: load: max_clients must be at least 1, got -1"},
		{"rate stages of no length", func(p *plan.Plan) { open(p); p.Load.Rate[0].Over = 0 },
			"p.yaml:7:1: load: the rate stages last 0s in total; want some over > 0"},
		{"negative target", func(p *plan.Plan) { open(p); p.Load.Rate[0].Target = -1 },
			"p.yaml:7:1: load: rate stage 1: target -1 must be a number >= 0"},
		{"rate too large to count", func(p *plan.Plan) { open(p); p.Load.Rate[0].Target = 1e308 },
			"p.yaml:7:1: load: rate: the stages start more iterations than fuka can count (2^53, about 9e15); want a lower rate or a shorter load"},
		{"rate that starts nothing", func(p *plan.Plan) { open(p); p.Load.Rate[0].Target = 0 },
			"p.yaml:7:1: load: rate: the stages start no iteration in their 1m0s (the rate is 0 throughout); want a target above 0 over some time"},
		{"rate that starts one iteration", func(p *plan.Plan) { open(p); p.Load.Rate[0].Target = 0.01 }, ""},
		{"headers fuka sets itself", func(p *plan.Plan) {
			p.Defaults.Headers = map[string]plan.String{"content-length": {Value: "5", Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
			p.Scenarios[1].Steps[0].Headers = map[string]plan.String{
				"Transfer-Encoding": {Value: "chunked", Pos: plan.Pos{File: "p.yaml", Line: 10, Column: 1}},
				"Host":              {Value: "example.com"}, "Connection": {Value: "close"},
			}
		}, "p.yaml:9:1: defaults: headers: content-length: fuka sets Content-Length from the body; remove the header\n" +
			"p.yaml:10:1: headers: Transfer-Encoding: fuka sends bodies with a Content-Length, not chunked; remove the header"},
		{"a line break in a header set in code", func(p *plan.Plan) {
			p.Scenarios[0].Steps[0].Headers = map[string]plan.String{"X-A": {Value: "a\r\nX-B: b", Pos: plan.Pos{File: "p.yaml", Line: 3, Column: 9}}}
		}, `p.yaml:3:9: headers: header "X-A": value contains a line break`},
		{"no load anywhere", func(p *plan.Plan) { p.Load = nil; p.Scenarios[1].Load = &plan.Load{Clients: 1, Iterations: 1} },
			`p.yaml:2:1: scenario "browse" has no load, and the plan has none; add load: to the plan or to every scenario`},
		{"no scenarios", func(p *plan.Plan) { p.Scenarios = nil },
			"p.yaml:1:1: plan has no scenarios; want at least one under scenarios:"},
		{"duplicate scenario names", func(p *plan.Plan) { p.Scenarios[1].Name = "browse" },
			`p.yaml:5:1: scenario "browse" is defined twice; first at p.yaml:2:1`},
		{"weight and steps", func(p *plan.Plan) { p.Scenarios[1].Weight = 0; p.Scenarios[1].Steps = nil },
			"p.yaml:5:1: scenario \"buy\": weight must be at least 1, got 0\np.yaml:5:1: scenario \"buy\" has no steps"},
		{"start_after cycle", func(p *plan.Plan) {
			p.Scenarios[0].StartAfter = plan.String{Value: "buy", Pos: p.Scenarios[0].Pos}
			p.Scenarios[1].StartAfter = plan.String{Value: "browse", Pos: p.Scenarios[1].Pos}
		}, "p.yaml:2:1: start_after: scenarios wait for each other in a cycle: browse -> buy -> browse"},
		{"start_after unknown", func(p *plan.Plan) { p.Scenarios[0].StartAfter = plan.String{Value: "nope", Pos: p.Scenarios[0].Pos} },
			`p.yaml:2:1: start_after: unknown scenario "nope"; want a duration (30s) or one of: browse, buy`},
		{"no base_url", func(p *plan.Plan) { p.BaseURL = plan.String{} },
			`p.yaml:3:1: relative path "/" needs base_url; set base_url: http://host:port or use absolute URLs`},
		{"bad base_url", func(p *plan.Plan) { p.BaseURL.Value = "ftp://x" },
			`p.yaml:1:1: base_url: bad URL "ftp://x": want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080`},
		{"bad method and think", func(p *plan.Plan) {
			p.Scenarios[0].Steps[0].Method = "FETCH"
			p.Scenarios[0].Steps[1].Think = &plan.Think{Min: 2 * time.Second, Max: time.Second}
		}, "p.yaml:3:1: step: bad method \"FETCH\"; want one of: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS\n" +
			"p.yaml:4:1: think: min 2s is more than max 1s"},
		{"two bodies", func(p *plan.Plan) {
			st := p.Scenarios[1].Steps[0]
			st.Body = &plan.String{Value: "x"}
			st.Form = map[string]plan.String{"a": {Value: "b"}}
		}, "p.yaml:6:1: step: a request has at most one of json, form, body, body_file, multipart"},
		{"feeder", func(p *plan.Plan) {
			p.Data = map[string]*plan.Feeder{"u": {Name: "u", Pick: "shuffle", Pos: plan.Pos{File: "p.yaml", Line: 8, Column: 1}}}
		}, "p.yaml:8:1: data \"u\": want exactly one of csv: PATH or jsonl: PATH\n" +
			`p.yaml:8:1: data "u": pick: want sequential, random or unique, got "shuffle"`},
		{"retries on a POST", func(p *plan.Plan) {
			st := p.Scenarios[1].Steps[0]
			st.Retries, st.RetriesPos = ptr(2), plan.Pos{File: "p.yaml", Line: 6, Column: 18}
		}, "p.yaml:6:18: retries: POST is not idempotent: a retry may repeat what a failed attempt already did (a second order); add retry_non_idempotent: true to retry it anyway"},
		{"ws expect without a bound", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{
				{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}},
				{Kind: plan.StepExpect, WS: plan.StepWebSocket{HasExpect: true}, Pos: plan.Pos{File: "p.yaml", Line: 10, Column: 3}},
			}
		}, "p.yaml:10:3: WS expect: an expect needs a timeout: how long to wait for the message (e.g. timeout: 5s)"},
		{"ws send and expect without a bound", func(p *plan.Plan) {
			msg := plan.String{Value: "hi"}
			p.Scenarios[0].Steps = []*plan.Step{
				{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}},
				{Kind: plan.StepSend, WS: plan.StepWebSocket{Message: &msg, HasExpect: true}, Pos: plan.Pos{File: "p.yaml", Line: 10, Column: 3}},
			}
		}, "p.yaml:10:3: WS send+expect: an expect needs a timeout: how long to wait for the message (e.g. timeout: 5s)"},
		{"ws expect with its bound", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{
				{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}},
				{Kind: plan.StepExpect, WS: plan.StepWebSocket{HasExpect: true}, Timeout: time.Second, Pos: plan.Pos{File: "p.yaml", Line: 10, Column: 3}},
			}
		}, ""},
		{"ws every with neither send nor ping", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}, Every: time.Second}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
		}, "p.yaml:9:1: every: wants send (a message) or ping: true, one of them"},
		{"ws every with both", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}, Every: time.Second, EveryPing: true, EverySend: plan.String{Value: "x"}}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
		}, "p.yaml:9:1: every: wants send (a message) or ping: true, one of them"},
		{"ws every ping", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}, Every: time.Second, EveryPing: true}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
		}, ""},
		{"ws every negative", func(p *plan.Plan) {
			p.Scenarios[0].Steps = []*plan.Step{{Kind: plan.StepWS, WS: plan.StepWebSocket{URL: plan.String{Value: "/ws"}, Every: -time.Second, EveryPing: true}, Pos: plan.Pos{File: "p.yaml", Line: 9, Column: 1}}}
		}, "p.yaml:9:1: every: period and timeout must be more than 0"},
		{"retries on a POST, forced in defaults", func(p *plan.Plan) {
			p.Scenarios[1].Steps[0].Retries = ptr(2)
			p.Defaults.RetryNonIdempotent = true
		}, ""},
		{"retries on a POST, forced on the step", func(p *plan.Plan) {
			p.Scenarios[1].Steps[0].Retries = ptr(2)
			p.Scenarios[1].Steps[0].RetryNonIdempotent = ptr(true)
		}, ""},
		{"retries out of range", func(p *plan.Plan) {
			st := p.Scenarios[0].Steps[0]
			st.Retries, st.RetriesPos = ptr(plan.MaxRetries+1), plan.Pos{File: "p.yaml", Line: 3, Column: 18}
			p.Defaults.Retries = -1
		}, "p.yaml:1:1: defaults: retries: want 0 to 10, got -1\np.yaml:3:18: retries: want 0 to 10, got 11"},
		{"name clash without positions", func(p *plan.Plan) {
			p.Vars = map[string]plan.String{"u": {Value: "1"}}
			p.Data = map[string]*plan.Feeder{"u": {Name: "u", CSV: plan.String{Value: "u.csv"}}}
		}, `data "u" has the same name as variable "u"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePlan()
			tt.change(p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate:\n%v\nwant nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate = nil, want\n%s", tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("Validate:\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestPosString(t *testing.T) {
	tests := []struct {
		pos  plan.Pos
		want string
	}{
		{plan.Pos{File: "a.yaml", Line: 3, Column: 7}, "a.yaml:3:7"},
		{plan.Pos{File: "a.yaml", Line: 3}, "a.yaml:3"},
		{plan.Pos{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.pos.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRetriesOf: how many times each request of a plan is sent again. A
// step's own retries: win; defaults reach POST and PATCH only when
// retry_non_idempotent says so, and the idempotent methods always.
func TestRetriesOf(t *testing.T) {
	tests := []struct {
		name     string
		defaults plan.Defaults
		method   string
		retries  *int
		force    *bool
		want     int
	}{
		{"nothing set", plan.Defaults{}, "GET", nil, nil, 0},
		{"defaults, GET", plan.Defaults{Retries: 2}, "GET", nil, nil, 2},
		{"defaults, PUT", plan.Defaults{Retries: 2}, "PUT", nil, nil, 2},
		{"defaults, DELETE", plan.Defaults{Retries: 2}, "DELETE", nil, nil, 2},
		{"defaults, HEAD", plan.Defaults{Retries: 2}, "HEAD", nil, nil, 2},
		{"defaults, OPTIONS", plan.Defaults{Retries: 2}, "OPTIONS", nil, nil, 2},
		{"defaults skip POST", plan.Defaults{Retries: 2}, "POST", nil, nil, 0},
		{"defaults skip PATCH", plan.Defaults{Retries: 2}, "PATCH", nil, nil, 0},
		{"defaults forced for POST", plan.Defaults{Retries: 2, RetryNonIdempotent: true}, "POST", nil, nil, 2},
		{"step forces POST", plan.Defaults{Retries: 2}, "POST", nil, ptr(true), 2},
		{"step unforces POST", plan.Defaults{Retries: 2, RetryNonIdempotent: true}, "POST", nil, ptr(false), 0},
		{"step overrides defaults", plan.Defaults{Retries: 2}, "GET", ptr(0), nil, 0},
		{"step's own", plan.Defaults{}, "GET", ptr(3), nil, 3},
		{"step's own on a forced POST", plan.Defaults{}, "POST", ptr(1), ptr(true), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &plan.Plan{Defaults: tt.defaults}
			st := &plan.Step{Kind: plan.StepRequest, Method: tt.method, Retries: tt.retries, RetryNonIdempotent: tt.force}
			if got := p.RetriesOf(st); got != tt.want {
				t.Errorf("RetriesOf = %d, want %d", got, tt.want)
			}
		})
	}
}

// loopStep is a loop at line 9 around one request.
func loopStep(l *plan.Loop) *plan.Step {
	at := plan.Pos{File: "p.yaml", Line: 9, Column: 1}
	return &plan.Step{Kind: plan.StepLoop, Loop: l, Pos: at, Steps: []*plan.Step{
		{Kind: plan.StepRequest, Method: "GET", Path: plan.String{Value: "/", Pos: at}, Pos: at},
	}}
}
