package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/metrics"
)

// Config is one load to run: a Load (how starts are paced) and a Work
// (what each start does), and what applies to the whole run.
type Config struct {
	Load Load // Closed or Open; nil with Parts, whose parts have their own
	Work Work // Request, Plan or Parts

	// Share makes this run one worker's part of a distributed run (see
	// Share). Zero value: all of it.
	Share Share
	// Lease, if set, bounds when this run may start anything (see Lease).
	Lease *Lease

	// Loops is the number of event loops (fast path) ; 0 means GOMAXPROCS.
	Loops int
	// ForceStd sends through net/http even where the fast path could be used.
	ForceStd bool
	// Phases times each request's phases (DNS, connect, TLS, time to
	// first byte, transfer) into metrics.Stats.Phases.
	Phases bool
	// OnTick is called once a second from one goroutine.
	OnTick func(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	// OnSnapshot, if set, gets each interval's measurements as a wire
	// snapshot, from the same goroutine, including the last partial one
	// (Final). A worker sends them to its controller; they are valid only
	// during the call.
	OnSnapshot func(s *metrics.Snapshot)
}

// Load is how a run paces its starts: Closed or Open, the only two (its
// unexported methods keep it so), which the engine tells apart by type.
type Load interface {
	// planned is when scheduling stops; 0 means no time bound.
	planned() time.Duration
	// Slots is how many clients the load may hold at once, Clients or
	// MaxClients: what a Share deals among workers.
	Slots() int
	// late is how overdue a start may be and still be sent (see
	// Config.LateLimit).
	late() time.Duration
	String() string
}

// Closed is the closed model: Clients clients, each sending its next
// start when the previous one ended; latency is measured from the send.
type Closed struct {
	Clients  int
	RampUp   time.Duration // clients start evenly over this period
	Duration time.Duration // 0: until Requests or Iterations are done
	Requests int64         // total across clients; 0: no bound
	// Iterations bounds each client's starts (0: none): a plan's
	// iterations per client.
	Iterations int
	MaxRPS     float64 // throughput cap across all clients; 0: none
	// Resolution batches the cap's starts as Open's does: clients whose
	// capped start falls within one step go together at its end. 0: each
	// at its own time.
	Resolution time.Duration
}

// Open is the open model: start i is due at Rate.Offset(i) whether or
// not earlier ones were answered; a start that finds none of MaxClients
// free is dropped. Latency is measured from the intended time.
type Open struct {
	Rate       load.Rate
	MaxClients int
	// Resolution is how finely starts are timed, on the fast path and in
	// the goroutine pool alike: starts due within one step go out together
	// at its end. 0: each start at its own time (most wake-ups).
	Resolution time.Duration
	// Preconnect is how many connections to open before the run's clock
	// starts (see Warmup): 0 estimates the concurrency the start needs,
	// < 0 opens none. Bounded by MaxClients.
	Preconnect int
}

func (l Closed) planned() time.Duration { return l.Duration }
func (l Open) planned() time.Duration   { return l.Rate.Duration() }
func (l Closed) Slots() int             { return l.Clients }
func (l Open) Slots() int               { return l.MaxClients }
func (l Closed) late() time.Duration    { return time.Second + max(l.Resolution, 0) }
func (l Open) late() time.Duration      { return time.Second + max(l.Resolution, 0) }

func (l Closed) String() string { return fmt.Sprintf("closed model, %d clients", l.Clients) }
func (l Open) String() string {
	return fmt.Sprintf("open model, rate %s, max %d clients", l.Rate, l.MaxClients)
}

// Work is what a run's clients do with each start: Request, Plan or
// Parts, the only three.
type Work interface {
	// names are the request and check names the work records under, by
	// index.
	names() (names, checks []string)
}

// Request is the same HTTP request on every start (quick mode).
type Request struct {
	Request *client.Request
	Name    string        // request name for metrics; "": see MetricName
	Timeout time.Duration // per request, connect to last byte
	// Insecure skips TLS verification; HTTP2 forces the standard path with
	// HTTP/2, HTTP1 forces HTTP/1.1 over TLS too (else https negotiates h2
	// by ALPN).
	Insecure, HTTP2, HTTP1 bool
	TLS                    *client.TLS // client certificate and CA; nil: none
	UserAgent              string
}

// MetricName is the name the request's measurements go under: Name, or
// "METHOD path" when Name is empty.
func (r Request) MetricName() string {
	if r.Name != "" || r.Request == nil {
		return r.Name
	}
	if r.Request.URL.Path == "" {
		return r.Request.Method + " /"
	}
	return r.Request.Method + " " + r.Request.URL.Path
}

// Plan runs a plan's scenarios: each client runs iterations of Scenario,
// on the event loops when Scenario is a LoopScenario whose requests can
// all go there (see LoopScenario), else through net/http.
type Plan struct {
	Scenario Scenario
	// HTTP2: the scenario's clients speak HTTP/2, which multiplexes their
	// requests (see Footprint).
	HTTP2 bool
}

// Parts runs several scenarios at once, each with its own load and start:
// plans whose scenarios have their own load and start_after. Config.Load
// is nil: each part has its own.
type Parts struct {
	Parts []Part
	HTTP2 bool // as Plan's
}

// Part is one scenario's load within a run of several (see Parts).
type Part struct {
	Load     Load
	Scenario Scenario
	Delay    time.Duration // start this long after the run starts
	After    int           // or, when >= 0, when part After has ended
}

func (w Request) names() ([]string, []string) { return []string{w.MetricName()}, nil }
func (w Plan) names() ([]string, []string) {
	if w.Scenario == nil {
		return nil, nil
	}
	return w.Scenario.Names(), w.Scenario.CheckNames()
}

// A run of parts records every part under the plan's names: the parts'
// scenarios share one runner.
func (w Parts) names() ([]string, []string) {
	if len(w.Parts) == 0 || w.Parts[0].Scenario == nil {
		return nil, nil
	}
	return w.Parts[0].Scenario.Names(), w.Parts[0].Scenario.CheckNames()
}

var (
	_ Load = Closed{}
	_ Load = Open{}
	_ Work = Request{}
	_ Work = Plan{}
	_ Work = Parts{}
)

// Scenario makes the clients of a plan run. Implemented by scenario.Runner.
type Scenario interface {
	Names() []string      // request names, by the index clients record under
	CheckNames() []string // check names, by index
	// NewClient returns client id, which records into rec and may call
	// endRun to end the whole run early.
	NewClient(id int, rec *metrics.Recorder, endRun func()) ScenarioClient
}

// ScenarioClient is one client of a Scenario; one goroutine uses it.
type ScenarioClient interface {
	// Iterate runs one iteration: seq numbers the start, intended is when
	// it was due. It returns false when this client must stop.
	Iterate(ctx context.Context, seq int64, intended time.Time) (more bool)
}

// Names returns the request and check names the run records under, by
// index: what a distributed run's controller and workers agree on.
func (c *Config) Names() (names, checks []string) {
	if c.Work == nil {
		return nil, nil
	}
	return c.Work.names()
}

// Validate checks c without changing it. Errors are meant for the user.
func (c *Config) Validate() error {
	switch w := c.Work.(type) {
	case Request:
		return w.validate(c.Load)
	case Plan:
		if w.Scenario == nil {
			return errors.New("no scenario")
		}
		return validateScenarioLoad(c.Load)
	case Parts:
		if c.Load != nil {
			return errors.New("a run of parts has a load per part, not one for the run")
		}
		if len(w.Parts) == 0 {
			return errors.New("a run of parts needs a part")
		}
		for i, p := range w.Parts {
			if p.Scenario == nil {
				return fmt.Errorf("part %d: no scenario", i)
			}
			if err := validateScenarioLoad(p.Load); err != nil {
				return fmt.Errorf("part %d: %w", i, err)
			}
		}
		return nil
	case nil:
		return errors.New("no request")
	default:
		return fmt.Errorf("work %T: not a Request, Plan or Parts", w)
	}
}

func (w Request) validate(l Load) error {
	if w.Request == nil {
		return errors.New("no request")
	}
	if w.Timeout <= 0 {
		return errors.New("timeout must be > 0")
	}
	switch l := l.(type) {
	case Open:
		if l.MaxClients <= 0 {
			return errors.New("max clients must be > 0")
		}
		return nil
	case Closed:
		switch {
		case l.Clients <= 0:
			return errors.New("clients must be > 0")
		case l.Duration <= 0 && l.Requests <= 0:
			return errors.New("need a duration or a request count")
		case l.Requests < 0:
			return errors.New("requests must be >= 0")
		case l.MaxRPS < 0:
			return errors.New("max rps must be >= 0")
		case l.RampUp < 0:
			return errors.New("ramp-up must be >= 0")
		}
		return nil
	}
	return badLoad(l)
}

// validateScenarioLoad checks the load of a plan's scenarios: the plan's
// own validation checked the rest.
func validateScenarioLoad(l Load) error {
	switch l := l.(type) {
	case Open:
		if l.MaxClients <= 0 {
			return errors.New("max clients must be > 0")
		}
		return nil
	case Closed:
		if l.Clients <= 0 || (l.Duration <= 0 && l.Iterations <= 0 && l.Requests <= 0) {
			return errors.New("closed model needs clients and a duration or iterations")
		}
		return nil
	}
	return badLoad(l)
}

func badLoad(l Load) error {
	if l == nil {
		return errors.New("no load")
	}
	return fmt.Errorf("load %T: not Closed or Open", l)
}

// LateLimit is how overdue a start may be and still be sent: one heartbeat
// of a distributed run (a second), plus the open model's resolution
// batching. Only a stalled generator (a frozen process or host, a worker
// paused and resumed) falls further behind: a busy target never delays a
// start (the open model drops a start that finds no free client). Sending
// such starts late would fire the stall's backlog in one burst, a load the
// plan never asked for, and their latency would be the generator's stall;
// so they are dropped and counted as dropped, in local and distributed
// runs alike. The closed model's throughput cap likewise makes up at most
// this much.
func (c *Config) LateLimit() time.Duration {
	if c.Load == nil {
		return time.Second
	}
	return c.Load.late()
}

func (c *Config) String() string {
	if w, ok := c.Work.(Parts); ok {
		return fmt.Sprintf("%d parts", len(w.Parts))
	}
	if c.Load == nil {
		return "no load"
	}
	return c.Load.String()
}
