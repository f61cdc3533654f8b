package output

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// otlpInterval is how often the run's metrics are pushed; the timeline has
// one point a second, so pushing more often would send nothing new.
const otlpInterval = time.Second

// otlpTimeout bounds one export, retries included, so a collector that
// hangs costs at most a few missed points and never backs exports up.
const otlpTimeout = 5 * time.Second

// OTLP pushes the run's live metrics to an OpenTelemetry collector over
// OTLP/HTTP (protobuf) once a second, with the resource attribute
// service.name=fuka, and once more at Close. Counters are cumulative.
//
// The exporter honours the standard OTEL_EXPORTER_OTLP_* variables other
// than the endpoint (headers for authentication, TLS certificates,
// compression).
type OTLP struct {
	st       state
	endpoint string
	exp      *countingExporter
	provider *sdkmetric.MeterProvider

	requests, failed, errKinds, dropped, bytesIn metric.Int64ObservableCounter
	clients                                      metric.Int64ObservableGauge
	rps, latency                                 metric.Float64ObservableGauge

	closeOnce sync.Once
	closeErr  error
}

// NewOTLP returns a sink that exports to endpoint: the collector's base URL
// (http://127.0.0.1:4318, to which /v1/metrics is added) or the full URL of
// its metrics path. Nothing is sent until the first export, a second later.
func NewOTLP(ctx context.Context, endpoint string) (*OTLP, error) {
	u, err := otlpURL(endpoint)
	if err != nil {
		return nil, fmt.Errorf("otlp: %w", err)
	}
	exp, err := otlpmetrichttp.New(ctx,
		otlpmetrichttp.WithEndpointURL(u),
		otlpmetrichttp.WithTimeout(otlpTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("otlp: %w", err)
	}
	o := &OTLP{endpoint: u, exp: &countingExporter{Exporter: exp}}
	reader := sdkmetric.NewPeriodicReader(o.exp,
		sdkmetric.WithInterval(otlpInterval),
		sdkmetric.WithTimeout(otlpTimeout),
	)
	o.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "fuka"))),
	)
	if err := o.instruments(); err != nil {
		_ = o.provider.Shutdown(ctx)
		return nil, fmt.Errorf("otlp: %w", err)
	}
	return o, nil
}

// instruments creates the observable instruments and the one callback that
// reads them all from a single snapshot, so an export is consistent.
func (o *OTLP) instruments() error {
	m := o.provider.Meter("github.com/fuka-load/fuka/output")
	var errs [8]error
	o.requests, errs[0] = m.Int64ObservableCounter("fuka_requests_total",
		metric.WithDescription("Completed requests, per request name."), metric.WithUnit("{request}"))
	o.failed, errs[1] = m.Int64ObservableCounter("fuka_failed_total",
		metric.WithDescription("Failed requests (transport errors and status >= 400), per request name."), metric.WithUnit("{request}"))
	o.errKinds, errs[2] = m.Int64ObservableCounter("fuka_errors_total",
		metric.WithDescription("Requests that got no complete response, by kind of error."), metric.WithUnit("{request}"))
	o.dropped, errs[3] = m.Int64ObservableCounter("fuka_dropped_total",
		metric.WithDescription("Open-model starts that found no free client."), metric.WithUnit("{start}"))
	o.bytesIn, errs[4] = m.Int64ObservableCounter("fuka_bytes_in_total",
		metric.WithDescription("Response bytes read, headers included."), metric.WithUnit("By"))
	o.clients, errs[5] = m.Int64ObservableGauge("fuka_clients",
		metric.WithDescription("Clients active at the end of the last interval."), metric.WithUnit("{client}"))
	o.rps, errs[6] = m.Float64ObservableGauge("fuka_rps",
		metric.WithDescription("Requests completed per second over the last interval."), metric.WithUnit("{request}/s"))
	o.latency, errs[7] = m.Float64ObservableGauge("fuka_latency_seconds",
		metric.WithDescription("Latency percentiles of the last interval."), metric.WithUnit("s"))
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	_, err := m.RegisterCallback(o.observe,
		o.requests, o.failed, o.errKinds, o.dropped, o.bytesIn, o.clients, o.rps, o.latency)
	return err
}

func (o *OTLP) observe(_ context.Context, obs metric.Observer) error {
	v := o.st.snapshot()
	for i, name := range v.names {
		a := metric.WithAttributes(attribute.String("name", name))
		obs.ObserveInt64(o.requests, v.requests[i], a)
		obs.ObserveInt64(o.failed, v.failed[i], a)
	}
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		obs.ObserveInt64(o.errKinds, v.errors[k], metric.WithAttributes(attribute.String("kind", k.String())))
	}
	obs.ObserveInt64(o.dropped, v.dropped)
	obs.ObserveInt64(o.bytesIn, v.bytesIn)
	obs.ObserveInt64(o.clients, int64(v.clients))
	obs.ObserveFloat64(o.rps, v.rps)
	for i, q := range quantiles {
		obs.ObserveFloat64(o.latency, v.latencyS[i], metric.WithAttributes(attribute.String("quantile", q)))
	}
	return nil
}

// Tick publishes the interval and the run so far; the next export sends it.
func (o *OTLP) Tick(_ time.Duration, p metrics.Point, run *metrics.Run) {
	o.st.update(p, run)
}

// Close publishes the final counters, exports them and shuts the exporter
// down, giving up when ctx ends. It reports exports that failed during the
// run as well, since nothing else does.
func (o *OTLP) Close(ctx context.Context, sum *report.Summary) error {
	o.closeOnce.Do(func() {
		o.st.final(sum)
		err := o.provider.Shutdown(ctx)
		if n, failed, last := o.exp.result(); failed > 0 {
			err = errors.Join(err, fmt.Errorf("%d of %d exports to %s failed, the last with: %w", failed, n, o.endpoint, last))
		}
		if err != nil {
			o.closeErr = fmt.Errorf("otlp: %w", err)
		}
	})
	return o.closeErr
}

// otlpURL checks endpoint and adds the default metrics path to a base URL.
func otlpURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", fmt.Errorf("endpoint %q: want an http:// or https:// URL, e.g. http://127.0.0.1:4318", endpoint)
	case u.User != nil:
		return "", fmt.Errorf("endpoint %q: credentials in the URL are not sent; use OTEL_EXPORTER_OTLP_HEADERS", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("endpoint %q: want no query or fragment", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	return u.String(), nil
}

// countingExporter counts exports and failures instead of handing failures
// to OpenTelemetry's global error handler, which would print them in the
// middle of the progress line; Close reports them.
type countingExporter struct {
	sdkmetric.Exporter

	mu      sync.Mutex
	exports int
	failed  int
	last    error
}

// Export exports rm and records the outcome.
func (e *countingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exports++
	if err != nil {
		e.failed++
		e.last = err
	}
	return nil
}

func (e *countingExporter) result() (exports, failed int, last error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exports, e.failed, e.last
}
