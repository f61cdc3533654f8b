package cli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
)

// attackFlags are the quick-mode options of `fuka attack`.
type attackFlags struct {
	clients    int
	rampUp     time.Duration
	duration   time.Duration
	requests   int64
	maxRPS     float64
	rate       string
	maxClients int
	resolution time.Duration
	method     string
	headers    []string
	body       string
	bodyFile   string
	timeout    time.Duration
	insecure   bool
	http2      bool
	name       string
	cpuProfile string
	out        outputs
	cluster    clusterFlags // distributed run (cluster_run.go)
	conn       connFlags    // --cert, --key, --cacert, --http1
}

func newAttack(stdio Stdio) *cobra.Command {
	var f attackFlags
	cmd := &cobra.Command{
		Use:   "attack URL",
		Short: "Load one URL: closed model (clients) or open model (arrival rate)",
		Long: `attack sends load to one URL and prints what it measured.

Closed model (default): --clients clients each send a request, wait for the
response and send the next, for --duration or until --requests are done;
--ramp-up starts them gradually and --max-rps caps the total throughput.
Latency is measured from the send.

Open model (--rate): starts arrive at the given rate whether or not the target
keeps up. --rate 5000 holds 5000/s for --duration; --rate 100:1m,5000:2m ramps
linearly from 0 to 100/s over 1m, then to 5000/s over 2m (a 0s stage jumps).
A start that finds all --max-clients busy is counted as dropped. Latency is
measured from the intended start, so a stalled target shows in the
percentiles (no coordinated omission).`,
		Example: `  fuka attack http://127.0.0.1:8080/ -c 64 -d 30s
  fuka attack http://127.0.0.1:8080/ -c 200 --ramp-up 10s -d 1m --max-rps 2000
  fuka attack http://127.0.0.1:8080/ -n 10000 -c 10
  fuka attack http://127.0.0.1:8080/ --rate 5000 -d 30s --max-clients 2000
  fuka attack http://127.0.0.1:8080/ --rate 100:1m,5000:2m
  fuka attack http://127.0.0.1:8080/api/login -m POST -H 'Content-Type: application/json' -b '{"user":"a","pass":"b"}'
  fuka attack https://127.0.0.1:8443/ --insecure --http2 -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("attack takes exactly one URL (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			readingInput.Store(true)
			fl := cmd.Flags()
			if f.rate != "" && (fl.Changed("clients") || fl.Changed("requests") || fl.Changed("max-rps") || fl.Changed("ramp-up")) {
				return errors.New("--rate (open model) does not combine with --clients, --requests, --max-rps or --ramp-up (closed model)")
			}
			if f.rate == "" && (fl.Changed("max-clients") || fl.Changed("resolution")) {
				return errors.New("--max-clients and --resolution are for the open model: use them with --rate")
			}
			cfg, meta, job, err := f.configJob(args[0], fl.Changed("duration"))
			if err != nil {
				return err
			}
			if !f.cluster.distributed() { // else each worker checks its share
				if !fl.Changed("max-clients") {
					if note := run.CapDefault(&cfg, &meta, "--max-clients"); note != "" {
						fmt.Fprintf(stdio.Err, "fuka: note: %s\n", note)
					}
				}
				var what string
				switch l := cfg.Load.(type) {
				case engine.Closed:
					what = fmt.Sprintf("--clients %d", l.Clients)
				case engine.Open:
					what = fmt.Sprintf("--max-clients %d", l.MaxClients)
				}
				if err := run.CheckResources(&cfg, what); err != nil {
					return err
				}
			}
			if f.cpuProfile != "" {
				pf, err := os.Create(f.cpuProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			var src run.Source
			if f.cluster.distributed() { // the workers send the load (cluster_run.go)
				if src, err = f.cluster.source(stdio, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: job}}, &cfg, f.timeout); err != nil {
					return err
				}
			}
			return execute(cmd.Context(), f.out.spec(stdio, cfg, meta, src))
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVarP(&f.clients, "clients", "c", 10, "closed model: concurrent clients")
	fl.DurationVar(&f.rampUp, "ramp-up", 0, "closed model: start clients evenly over this period")
	fl.DurationVarP(&f.duration, "duration", "d", 10*time.Second, "how long to send load (closed model, or a constant --rate)")
	fl.Int64VarP(&f.requests, "requests", "n", 0, "closed model: total requests, then stop (with -d unset, no time limit)")
	fl.Float64Var(&f.maxRPS, "max-rps", 0, "closed model: cap throughput across all clients (requests/s)")
	fl.StringVar(&f.rate, "rate", "", "open model: arrival rate, e.g. 5000 or 100:1m,5000:2m")
	fl.IntVar(&f.maxClients, "max-clients", plan.DefaultMaxClients, "open model: most clients (connections) in flight")
	fl.DurationVar(&f.resolution, "resolution", time.Millisecond, "open model: starts due within one step are sent together (0: each on its own; lateness counts in latency)")
	fl.StringVarP(&f.method, "method", "m", "GET", "HTTP method: "+strings.Join(client.Methods, " "))
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Key: Value' (repeatable)")
	fl.StringVarP(&f.body, "body", "b", "", "request body")
	fl.StringVar(&f.bodyFile, "body-file", "", "read the request body from `FILE`")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "per-request timeout (connect to last byte)")
	fl.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
	fl.BoolVar(&f.http2, "http2", false, "use HTTP/2 (h2 over TLS, h2c prior knowledge over http)")
	fl.StringVar(&f.name, "name", "", "request name in results (default: METHOD path)")
	addOutputFlags(fl, &f.out)
	addClusterFlags(fl, &f.cluster)
	addConnFlags(fl, &f.conn)
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write fuka's own CPU profile to `FILE` (for fuka's developers)")
	_ = fl.MarkHidden("cpuprofile")
	return cmd
}

// config turns flags into an engine configuration, checking everything
// before a single request is sent.
func (f *attackFlags) config(rawURL string, durationSet bool) (engine.Config, report.Meta, error) {
	cfg, meta, _, err := f.configJob(rawURL, durationSet)
	return cfg, meta, err
}

// configJob is config with the job the flags made: a distributed run's
// workers get the job and build the same configuration from it
// (run.AttackConfig).
func (f *attackFlags) configJob(rawURL string, durationSet bool) (engine.Config, report.Meta, *fukapb.AttackJob, error) {
	var zero engine.Config
	meta := report.Meta{Version: version()}
	j, err := f.job(rawURL, durationSet)
	if err != nil {
		return zero, meta, nil, err
	}
	cfg, err := run.AttackConfig(j)
	if err != nil {
		return zero, meta, nil, err
	}
	req := cfg.Work.(engine.Request).Request // run.AttackConfig's work
	meta.Target, meta.Method = req.URL.String(), req.Method
	meta.H2C = f.http2 && req.URL.Scheme == "http"
	if l, ok := cfg.Load.(engine.Open); ok {
		meta.Model, meta.LatencyFrom = report.ModelOpen, report.FromIntended
		meta.Planned, meta.Rate, meta.MaxClients = l.Rate.Duration(), f.rate, l.MaxClients
		if !strings.Contains(f.rate, ":") {
			meta.Rate = strings.TrimSuffix(f.rate, "/s") + "/s" // constant: "5000/s" reads better than stages
		}
		return cfg, meta, j, nil
	}
	l := cfg.Load.(engine.Closed)
	meta.Model, meta.LatencyFrom = report.ModelClosed, report.FromSend
	meta.Clients, meta.RampUp, meta.Planned, meta.MaxRPS = l.Clients, l.RampUp, l.Duration, l.MaxRPS
	return cfg, meta, j, nil
}

// job turns the flags into the typed job, with every flag's error named
// after the flag.
func (f *attackFlags) job(rawURL string, durationSet bool) (*fukapb.AttackJob, error) {
	j := &fukapb.AttackJob{
		Url: rawURL, Method: f.method, TimeoutNanos: int64(f.timeout),
		Insecure: f.insecure, Http2: f.http2, Name: f.name, UserAgent: "fuka/" + version(), Http1: f.conn.http1,
	}
	tf, err := f.conn.files(f.http2)
	if err != nil {
		return nil, err
	}
	j.Cert, j.Key, j.Ca = tf.Cert, tf.Key, tf.CA
	for _, h := range f.headers {
		k, v, err := client.ParseHeader(h)
		if err != nil {
			return nil, err
		}
		if why := client.ManagedHeader(k); why != "" {
			return nil, fmt.Errorf("-H %q: %s", h, why)
		}
		j.Headers = append(j.Headers, &fukapb.Header{Key: k, Value: v})
	}
	switch {
	case f.body != "" && f.bodyFile != "":
		return nil, errors.New("--body and --body-file: give one")
	case f.bodyFile != "":
		b, err := plan.ReadBodyFile(f.bodyFile)
		if err != nil {
			return nil, fmt.Errorf("--body-file %s: %w", f.bodyFile, err)
		}
		j.Body = b
	case f.body != "":
		j.Body = []byte(f.body)
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %v: must be > 0", f.timeout)
	}
	if f.duration < 0 {
		return nil, fmt.Errorf("--duration %v: must be > 0", f.duration)
	}
	if f.rate != "" {
		if f.requests > 0 || f.maxRPS > 0 || f.rampUp > 0 {
			return nil, errors.New("--rate (open model) does not combine with --requests, --max-rps or --ramp-up (closed model)")
		}
		if f.maxClients <= 0 || f.maxClients > math.MaxInt32 {
			return nil, fmt.Errorf("--max-clients %d: must be > 0", f.maxClients)
		}
		r, err := load.ParseRate(f.rate, f.duration)
		if err != nil {
			return nil, fmt.Errorf("--rate: %w", err)
		}
		if r.Total() == 0 {
			return nil, fmt.Errorf("--rate %s: starts no request in its %v (the rate is 0 throughout); want a rate above 0", f.rate, r.Duration())
		}
		if f.resolution < 0 || f.resolution > time.Second {
			return nil, fmt.Errorf("--resolution %v: want 0 to 1s", f.resolution)
		}
		j.Load = &fukapb.Load{Rate: run.RateMsg(r), MaxClients: int32(f.maxClients), ResolutionNanos: int64(f.resolution)}
		return j, nil
	}
	if f.clients <= 0 || f.clients > math.MaxInt32 {
		return nil, fmt.Errorf("--clients %d: must be > 0", f.clients)
	}
	if f.requests < 0 || f.maxRPS < 0 || f.rampUp < 0 {
		return nil, errors.New("--requests, --max-rps and --ramp-up must not be negative")
	}
	duration := f.duration
	if f.requests > 0 && !durationSet {
		duration = 0 // -n alone: run until the requests are done
	}
	if duration == 0 && f.requests == 0 {
		return nil, errors.New("--duration 0 needs --requests")
	}
	j.Load = &fukapb.Load{
		Clients: int32(f.clients), RampUpNanos: int64(f.rampUp), DurationNanos: int64(duration),
		Requests: f.requests, MaxRps: f.maxRPS,
	}
	return j, nil
}
