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
type PrometheusOption func(*promConfig)

type promConfig struct {
	allowNonLoopback bool
}

// AllowNonLoopback lets the endpoint listen on any address. Without it,
// only 127.0.0.0/8, ::1 and localhost are accepted: the metrics name the
// target's requests, and a load generator is often run on a shared host.
func AllowNonLoopback() PrometheusOption {
	return func(c *promConfig) { c.allowNonLoopback = true }
}

// NewPrometheus listens on addr (host:port; an empty host means 127.0.0.1,
// port 0 picks a free one) and serves /metrics until Close.
func NewPrometheus(addr string, opts ...PrometheusOption) (*Prometheus, error) {
	var cfg promConfig
	for _, o := range opts {
		o(&cfg)
	}
	addr, err := listenAddr(addr, cfg.allowNonLoopback)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	p := &Prometheus{done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	if err := reg.Register(&promCollector{st: &p.st}); err != nil {
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
	st *state
}

var (
	promRequests = prometheus.NewDesc("fuka_requests_total", "Completed requests, per request name.", []string{"name"}, nil)
	promFailed   = prometheus.NewDesc("fuka_failed_total", "Failed requests (transport errors and status >= 400), per request name.", []string{"name"}, nil)
	promErrors   = prometheus.NewDesc("fuka_errors_total", "Requests that got no complete response, by kind of error.", []string{"kind"}, nil)
	promDropped  = prometheus.NewDesc("fuka_dropped_total", "Open-model starts that found no free client.", nil, nil)
	promBytesIn  = prometheus.NewDesc("fuka_bytes_in_total", "Response bytes read, headers included.", nil, nil)
	promClients  = prometheus.NewDesc("fuka_clients", "Clients active at the end of the last interval.", nil, nil)
	promRPS      = prometheus.NewDesc("fuka_rps", "Requests completed per second over the last interval.", nil, nil)
	promLatency  = prometheus.NewDesc("fuka_latency_seconds", "Latency percentiles of the last interval.", []string{"quantile"}, nil)
)

// Describe sends every metric's description.
func (c *promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{promRequests, promFailed, promErrors, promDropped, promBytesIn, promClients, promRPS, promLatency} {
		ch <- d
	}
}

// Collect sends the current values.
func (c *promCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.st.snapshot()
	for i, name := range v.names {
		ch <- prometheus.MustNewConstMetric(promRequests, prometheus.CounterValue, float64(v.requests[i]), name)
		ch <- prometheus.MustNewConstMetric(promFailed, prometheus.CounterValue, float64(v.failed[i]), name)
	}
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		ch <- prometheus.MustNewConstMetric(promErrors, prometheus.CounterValue, float64(v.errors[k]), k.String())
	}
	ch <- prometheus.MustNewConstMetric(promDropped, prometheus.CounterValue, float64(v.dropped))
	ch <- prometheus.MustNewConstMetric(promBytesIn, prometheus.CounterValue, float64(v.bytesIn))
	ch <- prometheus.MustNewConstMetric(promClients, prometheus.GaugeValue, float64(v.clients))
	ch <- prometheus.MustNewConstMetric(promRPS, prometheus.GaugeValue, v.rps)
	for i, q := range quantiles {
		ch <- prometheus.MustNewConstMetric(promLatency, prometheus.GaugeValue, v.latencyS[i], q)
	}
}
