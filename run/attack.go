package run

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
)

// RequestFlags are one URL's request as fuka attack and fuka capacity take
// it from the command line.
type RequestFlags struct {
	Method, Body, BodyFile, Name string
	Headers                      []string
	Timeout                      time.Duration
	Insecure, HTTP2              bool
	ConnFlags                    // --client-cert, --client-key, --cacert, --http1 (http.go)
	// Phases times each request's phases (--phases; fuka attack).
	Phases bool
}

// AttackFlags are fuka attack's load and request, as given: Config checks
// them (errors name the flags) and builds the run.
type AttackFlags struct {
	Clients          int
	RampUp, Duration time.Duration
	Requests         int64
	MaxRPS           float64
	Rate             string
	MaxClients       int
	Resolution       time.Duration
	Call             string // gRPC: pkg.Service/Method (grpc.go)
	// WS is a ws:// or wss:// URL's round trip (--ws-send, ...; ws.go).
	WS *fukapb.WebSocket
	// Protos and ImportPaths are gRPC's --proto and --import-path: the
	// schema from .proto files instead of server reflection (grpc.go).
	Protos, ImportPaths []string
	// Preconnect is --preconnect when given: connections opened before
	// the clock starts (open model); -1 estimates them, 0 opens none. nil:
	// estimate.
	Preconnect *int
	RequestFlags
}

// Config is the engine configuration and the report's meta the flags
// make, with the job: a distributed run's workers get the job and build
// the same configuration from it (AttackConfig). durationSet says
// whether --duration was given.
func (f *AttackFlags) Config(rawURL string, durationSet bool, version string) (engine.Config, report.Meta, *fukapb.AttackJob, error) {
	var zero engine.Config
	meta := report.Meta{Version: version}
	j, err := f.Job(rawURL, durationSet, version)
	if err != nil {
		return zero, meta, nil, err
	}
	cfg, err := AttackConfig(j)
	if err != nil {
		return zero, meta, nil, err
	}
	if w, ok := cfg.Work.(engine.Request); ok { // else a gRPC call (grpc.go)
		meta.Target, meta.Method = w.Request.URL.String(), w.Request.Method
		meta.H2C = f.HTTP2 && w.Request.URL.Scheme == "http"
	} else if j.GetWs() != nil {
		meta.Target, meta.Method = rawURL, "WS"
	} else {
		meta.Target, meta.Method = rawURL, j.GetMethod()
	}
	if l, ok := cfg.Load.(engine.Open); ok {
		meta.Model, meta.LatencyFrom = report.ModelOpen, report.FromIntended
		meta.Planned, meta.Rate, meta.MaxClients = l.Rate.Duration(), f.Rate, l.MaxClients
		if !strings.Contains(f.Rate, ":") {
			meta.Rate = strings.TrimSuffix(f.Rate, "/s") + "/s" // constant: "5000/s" reads better than stages
		}
		return cfg, meta, j, nil
	}
	l := cfg.Load.(engine.Closed)
	meta.Model, meta.LatencyFrom = report.ModelClosed, report.FromSend
	meta.Clients, meta.RampUp, meta.Planned, meta.MaxRPS = l.Clients, l.RampUp, l.Duration, l.MaxRPS
	return cfg, meta, j, nil
}

// Job turns the flags into the typed job, with every flag's error named
// after the flag. A gRPC job also carries its method's schema, resolved
// here, after the flags were checked (grpcSchema).
func (f *AttackFlags) Job(rawURL string, durationSet bool, version string) (*fukapb.AttackJob, error) {
	j, err := f.job(rawURL, durationSet, version)
	if err == nil && grpccall.IsURL(rawURL) {
		err = f.grpcSchema(j)
	}
	if err != nil {
		return nil, err
	}
	return j, nil
}

func (f *AttackFlags) job(rawURL string, durationSet bool, version string) (*fukapb.AttackJob, error) {
	j := &fukapb.AttackJob{
		Url: rawURL, Method: f.Method, TimeoutNanos: int64(f.Timeout),
		Insecure: f.Insecure, Http2: f.HTTP2, Name: f.Name, UserAgent: "fuka/" + version, Http1: f.HTTP1,
		Phases: f.Phases,
	}
	if err := f.grpcJob(j, rawURL); err != nil {
		return nil, err
	}
	if err := f.wsJob(j, rawURL); err != nil {
		return nil, err
	}
	tf, err := f.Files(f.HTTP2)
	if err != nil {
		return nil, err
	}
	j.Cert, j.Key, j.Ca = tf.Cert, tf.Key, tf.CA
	for _, h := range f.Headers {
		k, v, err := client.ParseHeader(h)
		if err != nil {
			return nil, err
		}
		if why := client.ManagedHeader(k); why != "" && !grpccall.IsURL(rawURL) {
			return nil, fmt.Errorf("-H %q: %s", h, why)
		}
		j.Headers = append(j.Headers, &fukapb.Header{Key: k, Value: v})
	}
	switch {
	case f.Body != "" && f.BodyFile != "":
		return nil, errors.New("--body and --body-file: give one")
	case f.BodyFile != "":
		b, err := plan.ReadBodyFile(f.BodyFile)
		if err != nil {
			return nil, fmt.Errorf("--body-file %s: %w", f.BodyFile, err)
		}
		j.Body = b
	case f.Body != "":
		j.Body = []byte(f.Body)
	}
	if f.Timeout <= 0 {
		return nil, fmt.Errorf("--timeout %v: must be > 0", f.Timeout)
	}
	if f.Duration < 0 {
		return nil, fmt.Errorf("--duration %v: must be > 0", f.Duration)
	}
	if f.Rate != "" {
		if f.Requests > 0 || f.MaxRPS > 0 || f.RampUp > 0 {
			return nil, errors.New("--rate (open model) does not combine with --requests, --max-rps or --ramp-up (closed model)")
		}
		if f.MaxClients <= 0 || f.MaxClients > math.MaxInt32 {
			return nil, fmt.Errorf("--max-clients %d: must be > 0", f.MaxClients)
		}
		r, err := load.ParseRate(f.Rate, f.Duration)
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		// Stages set the run's length; a --duration given with them was
		// ignored, and "-d 10s" ran for the stages' minutes.
		if durationSet && strings.ContainsAny(f.Rate, ":,") && f.Duration != r.Duration() {
			return nil, fmt.Errorf("--duration %v with --rate %s: the stages set the length (%v); leave --duration out, or make the stages add up to it", f.Duration, f.Rate, r.Duration())
		}
		if r.Total() == 0 {
			return nil, fmt.Errorf("--rate %s: starts no request in its %v (the rate is 0 throughout); want a rate above 0", f.Rate, r.Duration())
		}
		if f.Resolution < 0 || f.Resolution > time.Second {
			return nil, fmt.Errorf("--resolution %v: want 0 to 1s", f.Resolution)
		}
		pre, err := preconnectMsg(f.Preconnect)
		if err != nil {
			return nil, err
		}
		j.Load = &fukapb.Load{Rate: RateMsg(r), MaxClients: int32(f.MaxClients), ResolutionNanos: int64(f.Resolution), Preconnect: pre}
		return j, nil
	}
	if f.Clients <= 0 || f.Clients > math.MaxInt32 {
		return nil, fmt.Errorf("--clients %d: must be > 0", f.Clients)
	}
	if f.Requests < 0 || f.MaxRPS < 0 || f.RampUp < 0 {
		return nil, errors.New("--requests, --max-rps and --ramp-up must not be negative")
	}
	duration := f.Duration
	if f.Requests > 0 && !durationSet {
		duration = 0 // -n alone: run until the requests are done
	}
	if duration == 0 && f.Requests == 0 {
		return nil, errors.New("--duration 0 needs --requests")
	}
	if f.Resolution < 0 || f.Resolution > time.Second {
		return nil, fmt.Errorf("--resolution %v: want 0 to 1s", f.Resolution)
	}
	j.Load = &fukapb.Load{
		Clients: int32(f.Clients), RampUpNanos: int64(f.RampUp), DurationNanos: int64(duration),
		Requests: f.Requests, MaxRps: f.MaxRPS, ResolutionNanos: int64(f.Resolution),
	}
	return j, nil
}

// preconnectMsg is --preconnect as the job carries it (engine.Open's
// Preconnect): 0 estimates, -1 opens none, so that a job without the field
// estimates.
func preconnectMsg(flag *int) (int32, error) {
	switch {
	case flag == nil || *flag == -1:
		return 0, nil
	case *flag == 0:
		return -1, nil
	case *flag < -1 || *flag > math.MaxInt32:
		return 0, fmt.Errorf("--preconnect %d: want -1 (estimate), 0 (none) or a count", *flag)
	}
	return int32(*flag), nil
}

// AttackPreflight checks that this machine can hold the attack's clients
// (CheckResources), after capping the open model's default MaxClients to
// what it can hold unless --max-clients was given (note says so).
func AttackPreflight(cfg *engine.Config, meta *report.Meta, maxClientsSet bool) (note string, err error) {
	if !maxClientsSet {
		note = CapDefault(cfg, meta, "--max-clients")
	}
	var what string
	switch l := cfg.Load.(type) {
	case engine.Closed:
		what = fmt.Sprintf("--clients %d", l.Clients)
	case engine.Open:
		what = fmt.Sprintf("--max-clients %d", l.MaxClients)
	}
	return note, CheckResources(cfg, what)
}
