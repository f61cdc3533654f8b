// Package plan turns a plan file (YAML) into a validated Plan: scenarios of
// requests with dynamic data, extraction and checks, a load shape, and
// thresholds. Every error names file:line:column and what was expected;
// unknown keys are errors; Validate reports all errors at once.
//
// Parsing keeps positions (Pos) on every value a user can get wrong, so that
// later stages (template compilation, data files, thresholds) can report
// errors at the right place too.
package plan

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/reflect/protodesc"
)

// Pos is a place in a plan file.
type Pos struct {
	File         string
	Line, Column int
}

// String formats p as file:line:column. A position without a column (YAML
// syntax errors only know the line) is file:line, and the zero Pos, for a
// Plan built in code, is "".
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is one problem in a plan, at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if at := e.Pos.String(); at != "" {
		return at + ": " + e.Msg
	}
	return e.Msg
}

// Errors is every problem found in a plan, in file order.
type Errors []*Error

func (es Errors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

// String is a string value from the file with its position. Template
// strings ({{ ... }}) are kept raw here and compiled by the runner.
type String struct {
	Value string
	Pos   Pos
}

// Plan is a parsed plan file.
type Plan struct {
	File     string
	Name     string
	BaseURL  String
	Vars     map[string]String // plain variables, usable in templates as {{ name }}
	Env      map[string]String // NAME -> default; {{ env "NAME" }} or {{ NAME }} reads the environment, else the default
	Defaults Defaults
	Data     map[string]*Feeder
	// Scenarios in file order.
	Scenarios  []*Scenario
	Load       *Load // the plan-wide load; a scenario's own Load overrides it
	Thresholds []Threshold
	AbortWhen  []Abort
	Monitor    []MonitorSource
	Profile    []ProfileSpec
	// Protos are the .proto files grpc: steps take their schemas from
	// (else from server reflection); GRPCSchema is what they define, set
	// by Parse (protos.go).
	Protos     []String
	GRPCSchema protodesc.Resolver
	Pos        Pos
}

// Monitor source kinds.
var MonitorKinds = []string{"local", "agent", "process", "prometheus", "nginx", "postgres", "redis", "kubernetes"}

// MonitorSource is one entry of the plan's monitor: list: what to watch
// while the load runs. Target is the agent's host:port, the process name or
// PID, the URL (prometheus, nginx stub_status), the DSN (postgres) or the
// address (redis); empty for local.
type MonitorSource struct {
	Kind      string
	Target    String
	Keep      []string    // prometheus: metric names or globs to keep
	TokenFile String      // agent: file holding the agent's token
	Kube      *KubeSource // kubernetes: the objects to watch (Target is their namespace)
	Pos       Pos
}

// KubeSource is a kubernetes: monitor entry: autoscaled workloads in one
// namespace, by name, and how to reach the cluster (see monitor/kube).
// Unset names are not watched; at least one is set.
type KubeSource struct {
	Namespace    String
	Deployment   String
	StatefulSet  String
	HPA          String
	ScaledObject String // KEDA
	Kubeconfig   String // path, relative to the plan file; empty: $KUBECONFIG, ~/.kube/config, or in-cluster
	Context      String // kubeconfig context; empty: the current one
}

// ProfileSpec is one entry of the plan's profile: list: pprof profiles to
// capture from the application while the load is on.
type ProfileSpec struct {
	URL     String   // base of net/http/pprof, e.g. http://127.0.0.1:6060
	At      String   // peak (default), 60%, or an offset such as 30s
	Seconds int      // CPU profile length; 0 = default
	Kinds   []string // cpu, heap, goroutine, allocs, block, mutex; empty = default
	Pos     Pos
}

// Defaults apply to every request unless the step overrides them.
type Defaults struct {
	Timeout time.Duration
	Headers map[string]String
	Think   *Think
	// Retries is how many more times a failed request is sent (0: never).
	// From defaults it applies only to requests that may be retried: the
	// idempotent methods, or all with RetryNonIdempotent.
	Retries            int
	RetryNonIdempotent bool
	DefaultsHTTP       // follow_redirects, http_version, tls (http.go)
}

// MaxRetries bounds retries:, so one step cannot multiply the load unseen.
const MaxRetries = 10

// Idempotent reports whether method is idempotent (RFC 9110 9.2.2): sending
// it twice has the effect of sending it once, so a plan may retry it.
func Idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// RetriesOf is how many more times the request step st is sent after a
// failed attempt: its own retries:, else the plan's defaults. A non-idempotent
// request (POST, PATCH) takes the defaults only when retry_non_idempotent
// is true; its own retries: without it is an error (see Validate).
func (p *Plan) RetriesOf(st *Step) int {
	if st.Retries != nil {
		return *st.Retries
	}
	force := p.Defaults.RetryNonIdempotent
	if st.RetryNonIdempotent != nil {
		force = *st.RetryNonIdempotent
	}
	if !Idempotent(st.Method) && !force {
		return 0
	}
	return p.Defaults.Retries
}

// Feeder is a data source: rows of named columns shared by all clients.
type Feeder struct {
	Name  string
	CSV   String // path, relative to the plan file
	JSONL String // path, relative to the plan file
	// Pick is "sequential" (default), "random" or "unique" (each row once).
	Pick string
	// OnExhausted applies to "unique" when rows run out: "stop_client"
	// (default) or "end_run"; "sequential" wraps around.
	OnExhausted string
	Pos         Pos
}

// Scenario is the pattern of requests one client makes.
type Scenario struct {
	Name   string
	Weight int // share of clients/starts; default 1
	Steps  []*Step
	// Script, instead of Steps, is a Starlark file (relative to the plan
	// file) whose function Function (default: the scenario's name) is one
	// iteration; see docs/scripts.md. A scenario has Steps or a Script.
	Script     String
	Function   String
	Load       *Load  // optional, overrides Plan.Load for this scenario
	StartAfter String // "" | duration ("30s") | the name of another scenario (runs after it ends)
	Pos        Pos
}

// StepKind tells what a step does.
type StepKind int

// Step kinds.
const (
	StepRequest StepKind = iota
	StepThink
	StepGroup
	StepIf      // if: then: else:
	StepLoop    // loop: steps:
	StepForeach // foreach: steps:
	StepSet     // set:
)

// Step is a request, a pause, a named group of steps, or logic: a
// condition, a loop, or variables set from expressions.
type Step struct {
	Kind StepKind
	Pos  Pos

	// OnFailure says what a client does when this step fails (a check
	// fails, no response comes, a required value is missing, or an
	// expression cannot be evaluated); on a group, an if, a loop or a
	// foreach it applies to every step inside that sets none of its own.
	// OnFailurePos is where it is written.
	OnFailure    OnFailure
	OnFailurePos Pos

	// StepRequest
	Method   string // GET POST PUT DELETE PATCH HEAD OPTIONS
	Path     String // template; relative to base_url, or absolute
	Name     string // request name in results; default "METHOD path" (path before templates)
	Headers  map[string]String
	Query    map[string]String
	JSON     *String // a JSON document (template), sent with Content-Type: application/json
	Form     map[string]String
	Body     *String // template
	BodyFile String  // path relative to the plan file, sent as is
	// BodyData is BodyFile's content, read by Parse (at most MaxBodyFile
	// bytes), so that the file is read once: it may be a FIFO.
	BodyData []byte
	Timeout  time.Duration
	Extract  []Extract
	Checks   []Check
	// AbortOnFail stops the client's scenario iteration when a check fails.
	AbortOnFail bool
	// Retries, when set, is how many more times the request is sent after
	// a failed attempt (a transport error or a 5xx), overriding defaults;
	// RetriesPos is where it is written. A POST or PATCH may be retried
	// only with RetryNonIdempotent (here or in defaults). See Plan.RetriesOf.
	Retries            *int
	RetriesPos         Pos
	RetryNonIdempotent *bool
	StepHTTP                 // multipart, follow_redirects (http.go)
	GRPC               *GRPC // a grpc: step (grpc.go); Method is MethodGRPC

	// StepWS, StepSend, StepExpect, StepClose (ws.go)
	WS StepWebSocket

	// StepThink
	Think *Think

	// StepGroup: Group is its name. StepIf, StepLoop, StepForeach: Group
	// is the optional name: that makes the construct a scope in the report
	// and in thresholds, as a group is. Steps are the group's or loop's
	// steps, or an if's then: steps.
	Group string
	Steps []*Step

	// StepIf: the condition, and the steps run when it is false.
	If   *Expr
	Else []*Step

	// StepLoop
	Loop *Loop

	// StepForeach
	Foreach *Foreach

	// StepSet: variables, in file order.
	Set []SetVar
}

// Children are the step lists inside st: a group's or loop's steps, an
// if's then: and else: steps.
func (st *Step) Children() [][]*Step {
	switch {
	case st.Kind == StepIf:
		return [][]*Step{st.Steps, st.Else}
	case len(st.Steps) > 0:
		return [][]*Step{st.Steps}
	}
	return nil
}

// Walk calls fn for every step in steps and in the step lists inside
// them, parents before their children.
func Walk(steps []*Step, fn func(*Step)) {
	for _, st := range steps {
		fn(st)
		for _, ch := range st.Children() {
			Walk(ch, fn)
		}
	}
}

// OnFailure is what a client does when a step fails.
type OnFailure string

// What a client does when a step fails. Unset, a failed check or a request
// without a response goes on with the next step (unless abort_on_fail), and
// a missing required value or an expression error ends the iteration.
const (
	FailUnset         OnFailure = ""
	FailContinue      OnFailure = "continue"       // go on with the next step
	FailNextIteration OnFailure = "next_iteration" // end this iteration; the client starts its next one
	FailStopClient    OnFailure = "stop_client"    // the client makes no more requests in this run
)

// Expr is an expression, written '{{ expr }}' in the plan: Src is the text
// inside the braces, trimmed, and Pos is where Src starts in the file, so
// that an error's column inside the expression adds to it. Expressions
// are compiled by the scenario package (github.com/expr-lang/expr syntax).
type Expr struct {
	Src string
	Pos Pos
}

// MaxTurns bounds a loop's count and max, and a foreach's max.
const MaxTurns = 1_000_000

// Loop repeats its steps Count times, or, with While, as long as While is
// true (checked before each turn) and at most Max times. Think is a pause
// between turns; As, when set, names a variable that holds the turn's
// number (0, 1, 2...).
type Loop struct {
	Count int
	While *Expr
	Max   int
	Think *Think
	As    string
	Pos   Pos
}

// Foreach runs its steps once for each element of the list In evaluates to
// (an extracted JSON array, say), with the element in variable As. In a
// template, {{ As.field }} is a field of an element that is an object. Max,
// when not 0, bounds the turns; Think is a pause between turns.
type Foreach struct {
	In    Expr
	As    string
	Max   int
	Think *Think
	Pos   Pos
}

// SetVar sets variable Var: to the value of Expr when the plan wrote
// '{{ expr }}', else to the template Value rendered.
type SetVar struct {
	Var   string
	Value String
	Expr  *Expr
	Pos   Pos
}

// Think is a pause: Min, or a uniform random duration in [Min, Max]. Parse
// sets Max = Min for a fixed pause ("2s"); Max 0 also means fixed.
type Think struct {
	Min, Max time.Duration
}

// ExtractFrom is where an extracted value comes from.
type ExtractFrom int

// Extraction sources.
const (
	FromJSON    ExtractFrom = iota // a gjson path, e.g. "json:token" or "json:$.token" ($. is optional)
	FromRegex                      // the first submatch (or whole match) in the body, "regex:id=(\d+)"
	FromHeader                     // a response header, "header:X-Request-Id"
	FromCookie                     // a cookie set by the response, "cookie:session"
	FromTrailer                    // a gRPC call's trailer metadata, "trailer:x-total" (grpc: steps)
)

// Extract stores a value from a response into a variable for later steps.
//
// A value that is not in the response leaves the variable as it was, or
// sets it to Default when that is not nil. With Required, a missing value
// fails the step: a failed check named "VAR is extracted" is counted and,
// unless on_failure says otherwise, the iteration ends.
type Extract struct {
	Var      string
	From     ExtractFrom
	Expr     string
	Default  *string
	Required bool
	Pos      Pos
}

// CheckKind is what a check tests.
type CheckKind int

// Check kinds.
const (
	CheckStatus       CheckKind = iota // Statuses contains the status
	CheckBodyContains                  // Expr is a substring of the body
	CheckBodyRegex                     // Expr matches the body
	CheckJSONEquals                    // the JSON path Expr equals Value (compared as JSON)
	CheckJSONExists                    // the JSON path Expr exists
	CheckMaxLatency                    // latency <= Latency
	CheckHeader                        // header Expr equals Value (or, with Value "", exists)
	CheckTrailer                       // a gRPC call's trailer Expr equals Value (or exists); grpc: steps
)

// Check is one assertion on a response, counted pass/fail by Name.
type Check struct {
	Kind     CheckKind
	Name     string // e.g. "status is 200"; unique within the step
	Statuses []int
	Expr     string
	Value    string
	Latency  time.Duration
	Pos      Pos
}

// Load is a load shape: closed (Clients > 0) or open (Rate stages).
//
// In the open model the stages alone set the length and Duration is 0: Parse
// turns a constant `rate: 50` with `duration: 1m` into the stages {50, 0s}
// {50, 1m}. MaxClients is 0 when the file does not set it: DefaultMaxClients.
type Load struct {
	// Closed model.
	Clients    int
	RampUp     time.Duration
	Duration   time.Duration
	Iterations int // per client; 0 = until Duration ends
	MaxRPS     float64
	// Open model.
	Rate       []RateStage
	MaxClients int
	Pos        Pos
}

// Open reports whether l is an open-model load.
func (l *Load) Open() bool { return len(l.Rate) > 0 }

// RateStage ramps the arrival rate to Target per second over Over.
type RateStage struct {
	Target float64
	Over   time.Duration
}

// Threshold is a pass/fail expression over the results, e.g. "p99 < 300ms",
// "checkout.p95 < 500ms", "error_rate < 1%". Expr is parsed by the
// thresholds package; here it is kept with its position.
type Threshold struct {
	Expr String
}

// Abort stops the run early when Expr holds for For (e.g. error rate > 50% for 10s).
type Abort struct {
	Expr String
	For  time.Duration
}
