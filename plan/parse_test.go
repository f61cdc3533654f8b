package plan_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/plan"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/bad")

// TestBadPlans parses every testdata/bad/*.yaml and compares the whole
// error output with the .err file next to it.
func TestBadPlans(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("%d bad plans in testdata/bad; want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			p, err := plan.ParseFile(file)
			if err == nil {
				t.Fatalf("ParseFile returned a plan (%q), want errors", p.Name)
			}
			if p != nil {
				t.Errorf("ParseFile returned a plan and an error")
			}
			var errs plan.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %q; want a non-empty plan.Errors", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plan -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestExamples parses every plan in examples/: they are documentation and
// must stay valid.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("%d plans in examples/; want at least 2", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			p, err := plan.ParseFile(file)
			if err != nil {
				t.Fatalf("ParseFile:\n%v", err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate after ParseFile:\n%v", err)
			}
		})
	}
}

// TestParseFull checks every field of a plan that uses the whole schema.
func TestParseFull(t *testing.T) {
	const file = "testdata/good/full.yaml"
	p, err := plan.ParseFile(file)
	if err != nil {
		t.Fatalf("ParseFile:\n%v", err)
	}
	at := func(line, col int) plan.Pos { return plan.Pos{File: file, Line: line, Column: col} }
	str := func(v string, line, col int) plan.String { return plan.String{Value: v, Pos: at(line, col)} }
	ptr := func(s plan.String) *plan.String { return &s }
	headers := map[string]plan.String{ // defined once under an anchor, used twice
		"User-Agent": str("fuka-test", 13, 17),
		"Accept":     str("application/json", 14, 13),
	}
	want := &plan.Plan{
		File:    file,
		Name:    "full",
		BaseURL: str("https://shop.example:8443/v1", 3, 11),
		Vars: map[string]plan.String{
			"page_size": str("20", 5, 14),
			"greeting":  str(`hello {{ env "USER" }}`, 6, 13),
		},
		Env: map[string]plan.String{
			"TOKEN":  {Pos: at(8, 9)},
			"REGION": str("eu", 9, 11),
		},
		Defaults: plan.Defaults{
			Timeout: 5 * time.Second,
			Headers: headers,
			Think:   &plan.Think{Min: time.Second, Max: 2 * time.Second},
		},
		Data: map[string]*plan.Feeder{
			"users": {Name: "users", CSV: str("users.csv", 17, 17), Pick: "sequential", Pos: at(17, 3)},
			"items": {Name: "items", JSONL: str("items.jsonl", 18, 19), Pick: "unique", OnExhausted: "end_run", Pos: at(18, 3)},
		},
		Scenarios: []*plan.Scenario{
			{
				Name: "browse", Weight: 3, Pos: at(20, 3),
				Steps: []*plan.Step{
					{
						Kind: plan.StepRequest, Pos: at(23, 9), Method: "GET", Name: "list",
						Path: str("/products?size={{ page_size }}", 23, 14),
						Query: map[string]plan.String{
							"page": str("{{ randInt 1 10 }}", 25, 24),
							"sort": str("name", 25, 52),
						},
						Checks: []plan.Check{
							{Kind: plan.CheckStatus, Name: "status is 200", Statuses: []int{200}, Pos: at(27, 11)},
							{Kind: plan.CheckBodyContains, Name: `body contains "\"id\""`, Expr: `"id"`, Pos: at(28, 11)},
							{Kind: plan.CheckBodyRegex, Name: `body matches "\"price\":\\s*\\d"`, Expr: `"price":\s*\d`, Pos: at(29, 11)},
							{Kind: plan.CheckJSONEquals, Name: `json 0.name == "Oak Chair"`, Expr: "0.name", Value: `"Oak Chair"`, Pos: at(30, 19)},
							{Kind: plan.CheckJSONEquals, Name: `json 0.price == 2.5`, Expr: "0.price", Value: `2.5`, Pos: at(30, 40)},
							{Kind: plan.CheckJSONEquals, Name: `json meta == {"more":true}`, Expr: "meta", Value: `{"more":true}`, Pos: at(30, 54)},
							{Kind: plan.CheckJSONExists, Name: "json 0.id exists", Expr: "0.id", Pos: at(31, 25)},
							{Kind: plan.CheckJSONExists, Name: "json 0.price exists", Expr: "0.price", Pos: at(31, 31)},
							{Kind: plan.CheckMaxLatency, Name: "max_latency 500ms", Latency: 500 * time.Millisecond, Pos: at(32, 11)},
							{Kind: plan.CheckHeader, Name: `header Content-Type == "application/json"`, Expr: "Content-Type", Value: "application/json", Pos: at(33, 21)},
							{Kind: plan.CheckHeader, Name: "header X-Request-Id exists", Expr: "X-Request-Id", Pos: at(33, 53)},
						},
						Extract: []plan.Extract{
							{Var: "first", From: plan.FromJSON, Expr: "0.id", Pos: at(35, 18)},
							{Var: "rid", From: plan.FromHeader, Expr: "X-Request-Id", Pos: at(36, 16)},
						},
					},
					{Kind: plan.StepThink, Pos: at(37, 9), Think: &plan.Think{Min: 250 * time.Millisecond, Max: 250 * time.Millisecond}},
					{
						Kind: plan.StepGroup, Pos: at(38, 9), Group: "product page",
						Steps: []*plan.Step{
							{
								Kind: plan.StepRequest, Pos: at(40, 13), Method: "GET",
								Path:    str("https://cdn.example/img/{{ first }}.png", 40, 18),
								Name:    "GET https://cdn.example/img/{{ first }}.png",
								Timeout: 2 * time.Second,
							},
							{
								Kind: plan.StepRequest, Pos: at(42, 13), Method: "HEAD",
								Path: str("/products/{{ first }}", 42, 19), Name: "HEAD /products/{{ first }}",
							},
						},
					},
				},
			},
			{
				Name: "checkout", Weight: 1, Pos: at(43, 3),
				StartAfter: str("browse", 45, 18),
				Load: &plan.Load{
					Rate:       []plan.RateStage{{Target: 10, Over: 30 * time.Second}, {Target: 50, Over: time.Minute}},
					MaxClients: 200,
					Pos:        at(47, 7),
				},
				Steps: []*plan.Step{
					{
						Kind: plan.StepRequest, Pos: at(52, 9), Method: "POST", Name: "POST /login",
						Path:    str("/login", 52, 15),
						Headers: headers,
						JSON:    ptr(str(`{"user":"{{ users.user }}","pass":"{{ users.pass }}","remember":true,"tries":16,"tags":["a",1,null,1.50]}`, 55, 11)),
						Extract: []plan.Extract{
							{Var: "token", From: plan.FromJSON, Expr: "$.token", Pos: at(61, 18)},
							{Var: "session", From: plan.FromCookie, Expr: "session", Pos: at(62, 20)},
							{Var: "order", From: plan.FromRegex, Expr: `order=(\d+)`, Pos: at(63, 18)},
						},
						Checks:      []plan.Check{{Kind: plan.CheckStatus, Name: "status in [200 201]", Statuses: []int{200, 201}, Pos: at(64, 18)}},
						AbortOnFail: true,
					},
					{
						Kind: plan.StepRequest, Pos: at(66, 9), Method: "PUT", Name: "PUT /cart/{{ items.sku }}",
						Path:    str("/cart/{{ items.sku }}", 66, 14),
						Headers: map[string]plan.String{"Authorization": str("Bearer {{ token }}", 67, 35)},
						Form:    map[string]plan.String{"qty": str("{{ items.qty }}", 68, 22)},
					},
					{
						Kind: plan.StepRequest, Pos: at(69, 9), Method: "PATCH", Name: "PATCH /cart/1",
						Path: str("/cart/1", 69, 16),
						Body: ptr(str(`{"qty": {{ randInt 1 5 }}}`, 70, 15)),
					},
					{
						Kind: plan.StepRequest, Pos: at(71, 9), Method: "DELETE", Name: "DELETE /cart/1",
						Path:     str("/cart/1", 71, 17),
						BodyFile: str("order.xml", 72, 20),
						BodyData: []byte("<order><id>1</id></order>\n"),
					},
					{Kind: plan.StepRequest, Pos: at(73, 9), Method: "OPTIONS", Name: "OPTIONS /cart", Path: str("/cart", 73, 18)},
				},
			},
			{
				Name: "warmup", Weight: 1, Pos: at(74, 3),
				StartAfter: str("10s", 75, 18),
				Load: &plan.Load{
					Rate: []plan.RateStage{{Target: 5, Over: 0}, {Target: 5, Over: 20 * time.Second}},
					Pos:  at(76, 11),
				},
				Steps: []*plan.Step{
					{Kind: plan.StepRequest, Pos: at(78, 9), Method: "GET", Name: "GET /health", Path: str("/health", 78, 14)},
				},
			},
		},
		Load: &plan.Load{
			Clients: 20, RampUp: 10 * time.Second, Duration: 2 * time.Minute, Iterations: 100, MaxRPS: 150.5,
			Pos: at(80, 3),
		},
		Thresholds: []plan.Threshold{
			{Expr: str("p99 < 300ms", 86, 5)},
			{Expr: str("checkout.p95 < 500ms", 87, 5)},
		},
		AbortWhen: []plan.Abort{
			{Expr: str("error_rate > 50%", 89, 16), For: 10 * time.Second},
			{Expr: str("p99 > 5s", 91, 16)},
		},
		Pos: at(2, 1),
	}
	normalize(p)
	normalize(want)
	if !reflect.DeepEqual(p, want) {
		g, _ := json.MarshalIndent(p, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("plan differs:\n%s", lineDiff(string(g), string(w)))
	}

	if got, want := p.Resolve("users.csv"), filepath.Join("testdata", "good", "users.csv"); got != want {
		t.Errorf("Resolve(users.csv) = %q, want %q", got, want)
	}
	if got := p.Resolve("/abs/users.csv"); got != "/abs/users.csv" {
		t.Errorf("Resolve(/abs/users.csv) = %q, want it unchanged", got)
	}
	if d, s := p.Scenarios[1].After(); d != 0 || s != "browse" {
		t.Errorf("checkout.After() = %v, %q; want 0, browse", d, s)
	}
	if d, s := p.Scenarios[2].After(); d != 10*time.Second || s != "" {
		t.Errorf("warmup.After() = %v, %q; want 10s, \"\"", d, s)
	}
	if d, s := p.Scenarios[0].After(); d != 0 || s != "" {
		t.Errorf("browse.After() = %v, %q; want 0, \"\"", d, s)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate after ParseFile:\n%v", err)
	}
	var js any
	for _, s := range []string{p.Scenarios[1].Steps[0].JSON.Value, p.Scenarios[0].Steps[0].Checks[5].Value} {
		if err := json.Unmarshal([]byte(s), &js); err != nil {
			t.Errorf("JSON %s: %v", s, err)
		}
	}
}

// normalize makes empty maps and slices nil, so that DeepEqual compares
// contents only.
func normalize(p *plan.Plan) {
	var steps func([]*plan.Step)
	steps = func(ss []*plan.Step) {
		for _, st := range ss {
			if len(st.Headers) == 0 {
				st.Headers = nil
			}
			if len(st.Query) == 0 {
				st.Query = nil
			}
			if len(st.Form) == 0 {
				st.Form = nil
			}
			if len(st.Extract) == 0 {
				st.Extract = nil
			}
			if len(st.Checks) == 0 {
				st.Checks = nil
			}
			if len(st.Steps) == 0 {
				st.Steps = nil
			}
			steps(st.Steps)
		}
	}
	for _, s := range p.Scenarios {
		steps(s.Steps)
	}
}

// lineDiff shows the lines where got and want first differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			lo := max(0, i-8)
			return "got:\n" + strings.Join(g[lo:min(len(g), i+3)], "\n") + "\nwant:\n" + strings.Join(w[lo:min(len(w), i+3)], "\n")
		}
	}
	return "(no line differs)"
}

// TestParseForms covers the shorter spellings of the schema.
func TestParseForms(t *testing.T) {
	const head = "base_url: http://127.0.0.1:8080\n"
	tests := []struct {
		name string
		src  string
		test func(t *testing.T, p *plan.Plan)
	}{
		{
			name: "plan name defaults to the file name",
			src:  head + "scenarios: {s: {steps: [{get: /}]}}\nload: {clients: 1, iterations: 1}\n",
			test: func(t *testing.T, p *plan.Plan) {
				if p.Name != "forms" {
					t.Errorf("Name = %q, want forms", p.Name)
				}
			},
		},
		{
			name: "json scalar body and json_exists as one path",
			src: head + `scenarios:
  s:
    steps:
      - post: /a
        json: "{{ payload }}"
        check: { json_exists: token, status: 200 }
load: {clients: 1, duration: 1s}
`,
			test: func(t *testing.T, p *plan.Plan) {
				st := p.Scenarios[0].Steps[0]
				if st.JSON == nil || st.JSON.Value != `"{{ payload }}"` {
					t.Errorf("JSON = %v, want the JSON string \"{{ payload }}\"", st.JSON)
				}
				if len(st.Checks) != 2 || st.Checks[0].Name != "json token exists" || st.Checks[1].Name != "status is 200" {
					t.Errorf("Checks = %+v", st.Checks)
				}
			},
		},
		{
			name: "every scenario has its own load, no plan load",
			src: `scenarios:
  a: {steps: [{get: "http://127.0.0.1:1/x"}], load: {clients: 2, iterations: 3}}
  b: {steps: [{get: "{{ next_url }}"}], load: {rate: [{target: 1, over: 1s}]}}
`,
			test: func(t *testing.T, p *plan.Plan) {
				if p.Load != nil || p.Scenarios[0].Load.Clients != 2 || !p.Scenarios[1].Load.Open() {
					t.Errorf("loads: plan %v, a %+v, b %+v", p.Load, p.Scenarios[0].Load, p.Scenarios[1].Load)
				}
			},
		},
		{
			name: "zero durations, a unique feeder's default, think ranges with spaces",
			src: head + `data: {u: {csv: users.csv, pick: unique}}
defaults: {think: 0}
scenarios: {s: {steps: [{think: 1s .. 2s}, {get: /}]}}
load: {clients: 1, ramp_up: 0, iterations: 0, duration: 1h30m}
`,
			test: func(t *testing.T, p *plan.Plan) {
				if f := p.Data["u"]; f.OnExhausted != "stop_client" {
					t.Errorf("OnExhausted = %q, want stop_client", f.OnExhausted)
				}
				if th := p.Scenarios[0].Steps[0].Think; *th != (plan.Think{Min: time.Second, Max: 2 * time.Second}) {
					t.Errorf("Think = %+v", th)
				}
				if d := p.Load.Duration; d != 90*time.Minute {
					t.Errorf("Duration = %v", d)
				}
			},
		},
		{
			name: "retries from defaults and steps",
			src: head + `defaults: {retries: 2}
scenarios:
  s:
    steps:
      - get: /a
      - get: /b
        retries: 0
      - post: /c
      - post: /d
        retries: 1
        retry_non_idempotent: true
load: {clients: 1, iterations: 1}
`,
			test: func(t *testing.T, p *plan.Plan) {
				var got []int
				for _, st := range p.Scenarios[0].Steps {
					got = append(got, p.RetriesOf(st))
				}
				if want := []int{2, 0, 0, 1}; !reflect.DeepEqual(got, want) {
					t.Errorf("retries %v, want %v", got, want)
				}
				if pos := p.Scenarios[0].Steps[3].RetriesPos; pos.Line != 11 || pos.Column != 18 {
					t.Errorf("RetriesPos = %v, want line 11, column 18", pos)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := plan.Parse(filepath.Join("testdata", "good", "forms.yaml"), []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate after Parse:\n%v", err)
			}
			tt.test(t, p)
		})
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := plan.ParseFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
}
