package output

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// Prometheus serves the run's live metrics on /metrics for a Prometheus
// server to scrape. It uses a registry of its own, so nothing else in the
// process (Go runtime metrics, other libraries) leaks into the endpoint.
type Prometheus struct {
	st   state
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve returns
	err  error         // Serve's error, read after done

	closeOnce sync.Once
	closeErr  error
}

// PrometheusOption configures NewPrometheus.
type PrometheusOption = SinkOption

// AllowNonLoopback lets the endpoint listen on any address. Without it,
// only 127.0.0.0/8, ::1 and localhost are accepted: the metrics name the
// target's requests, and a load generator is often run on a shared host.
func AllowNonLoopback() PrometheusOption {
	return func(c *sinkConfig) { c.allowNonLoopback = true }
}

// NewPrometheus listens on addr (host:port; an empty host means 127.0.0.1,
// port 0 picks a free one) and serves /metrics until Close.
func NewPrometheus(addr string, opts ...PrometheusOption) (*Prometheus, error) {
	cfg := newSinkConfig(opts)
	addr, err := listenAddr(addr, cfg.allowNonLoopback)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	p := &Prometheus{done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	if err := reg.Register(newPromCollector(&p.st, cfg.runID)); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.HTTPErrorOnError,
		MaxRequestsInFlight: 4,
		Timeout:             5 * time.Second,
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	p.ln = ln
	p.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
	}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			p.err = err
		}
	}()
	return p, nil
}

// Addr is the address the endpoint listens on, with the port it was given.
func (p *Prometheus) Addr() net.Addr { return p.ln.Addr() }

// Finish publishes the whole run, its last partial interval included.
func (p *Prometheus) Finish(run *metrics.Run) { p.st.finish(run) }

// SetScopes labels the per-request series with the plan's scenarios and groups.
func (p *Prometheus) SetScopes(sc Scopes) { p.st.setScopes(sc) }

// Resources publishes the monitors' latest values.
func (p *Prometheus) Resources(_ time.Duration, vals map[string]float64) { p.st.resources(vals) }

// Tick publishes the interval and the run so far.
func (p *Prometheus) Tick(_ time.Duration, pt metrics.Point, run *metrics.Run) {
	p.st.update(pt, run)
}

// Close publishes the final counters and stops serving, waiting for
// in-flight scrapes until ctx ends.
func (p *Prometheus) Close(ctx context.Context, sum *report.Summary) error {
	p.closeOnce.Do(func() {
		p.st.final(sum)
		err := p.srv.Shutdown(ctx)
		if err != nil {
			p.srv.Close()
		}
		<-p.done
		if p.err != nil {
			err = errors.Join(err, p.err)
		}
		if err != nil {
			p.closeErr = fmt.Errorf("prometheus: %w", err)
		}
	})
	return p.closeErr
}

// listenAddr checks addr and fills in the default host. Unless anyHost is set,
// the host must be a loopback IP or "localhost".
func listenAddr(addr string, anyHost bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: want host:port, e.g. 127.0.0.1:9464", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("address %q: port %q is not a number in 0..65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !anyHost && host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", fmt.Errorf("address %q: refusing to serve metrics beyond this host; use 127.0.0.1, [::1] or localhost", addr)
		}
	}
	return net.JoinHostPort(host, port), nil
}

// promCollector turns a snapshot of the state into constant metrics at each
// scrape, so a scrape never waits for the ticker beyond one copy.
type promCollector struct {
	st    *state
	descs []*prometheus.Desc // by Families index
}

func newPromCollector(st *state, runID string) *promCollector {
	c := &promCollector{st: st, descs: make([]*prometheus.Desc, len(Families))}
	for i, f := range Families {
		c.descs[i] = prometheus.NewDesc(f.Name, f.Help, f.Labels, prometheus.Labels{RunIDLabel: runID})
	}
	return c
}

// Describe sends every metric's description.
func (c *promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect sends the current values.
func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	v, _ := c.st.snapshot()
	v.each(func(s sample) {
		d := c.descs[s.fam]
		var m prometheus.Metric
		var err error
		switch Families[s.fam].Kind {
		case Counter:
			m, err = prometheus.NewConstMetric(d, prometheus.CounterValue, s.v, s.labels...)
		case Gauge:
			m, err = prometheus.NewConstMetric(d, prometheus.GaugeValue, s.v, s.labels...)
		case Histogram:
			cum := s.h.cumulative()
			buckets := make(map[float64]uint64, len(LatencyBounds))
			for i, b := range LatencyBounds {
				buckets[b] = cum[i]
			}
			m, err = prometheus.NewConstHistogram(d, s.h.count, s.h.sum, buckets, s.labels...)
		}
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	})
}
