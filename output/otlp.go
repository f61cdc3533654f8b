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
	"go.opentelemetry.io/otel/sdk/instrumentation"
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
// service.name=fuka, and once more at Close. Counters and histograms are
// cumulative from the sink's start; the latency histograms are
// exponential at scale [ExpScale], bucketed from the same HDR histograms as
// Prometheus' explicit buckets.
//
// The exporter honours the standard OTEL_EXPORTER_OTLP_* variables other
// than the endpoint (headers for authentication, TLS certificates,
// compression).
type OTLP struct {
	st       state
	runID    string
	start    time.Time // the cumulative series' start
	endpoint string
	exp      *countingExporter
	provider *sdkmetric.MeterProvider

	closeOnce sync.Once
	closeErr  error
}

// NewOTLP returns a sink that exports to endpoint: the collector's base URL
// (http://127.0.0.1:4318, to which /v1/metrics is added) or the full URL of
// its metrics path. Nothing is sent until the first export, a second later.
func NewOTLP(ctx context.Context, endpoint string, opts ...SinkOption) (*OTLP, error) {
	cfg := newSinkConfig(opts)
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
	o := &OTLP{endpoint: u, runID: cfg.runID, start: time.Now(), exp: &countingExporter{Exporter: exp}}
	reader := sdkmetric.NewPeriodicReader(o.exp,
		sdkmetric.WithInterval(otlpInterval),
		sdkmetric.WithTimeout(otlpTimeout),
		sdkmetric.WithProducer(otlpProducer{o}),
	)
	o.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "fuka"))),
	)
	return o, nil
}

// otlpProducer builds every export from one snapshot, so an export is
// consistent; the SDK's instruments cannot carry a histogram measured
// elsewhere.
type otlpProducer struct{ o *OTLP }

// Produce returns the state now as OTLP metrics.
func (p otlpProducer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	v, _ := p.o.st.snapshot()
	now := time.Now()
	ms := make([]metricdata.Metrics, len(Families))
	ints := make([][]metricdata.DataPoint[int64], len(Families))
	floats := make([][]metricdata.DataPoint[float64], len(Families))
	hists := make([][]metricdata.ExponentialHistogramDataPoint[float64], len(Families))
	v.each(func(s sample) {
		f := Families[s.fam]
		kv := make([]attribute.KeyValue, 0, len(s.labels)+1)
		kv = append(kv, attribute.String(RunIDLabel, p.o.runID))
		for i, l := range s.labels {
			if l != "" { // as in Prometheus, where an empty label is no label
				kv = append(kv, attribute.String(f.Labels[i], l))
			}
		}
		attrs := attribute.NewSet(kv...)
		switch f.Kind {
		case Counter:
			ints[s.fam] = append(ints[s.fam], metricdata.DataPoint[int64]{Attributes: attrs, StartTime: p.o.start, Time: now, Value: int64(s.v)})
		case Gauge:
			floats[s.fam] = append(floats[s.fam], metricdata.DataPoint[float64]{Attributes: attrs, Time: now, Value: s.v})
		case Histogram:
			hists[s.fam] = append(hists[s.fam], expPoint(s.h, attrs, p.o.start, now))
		}
	})
	out := ms[:0]
	for i, f := range Families {
		m := metricdata.Metrics{Name: f.Name, Description: f.Help, Unit: f.Unit}
		switch f.Kind {
		case Counter:
			if len(ints[i]) == 0 {
				continue
			}
			m.Data = metricdata.Sum[int64]{DataPoints: ints[i], Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
		case Gauge:
			if len(floats[i]) == 0 {
				continue
			}
			m.Data = metricdata.Gauge[float64]{DataPoints: floats[i]}
		case Histogram:
			if len(hists[i]) == 0 {
				continue
			}
			m.Data = metricdata.ExponentialHistogram[float64]{DataPoints: hists[i], Temporality: metricdata.CumulativeTemporality}
		}
		out = append(out, m)
	}
	return []metricdata.ScopeMetrics{{
		Scope:   instrumentation.Scope{Name: "github.com/fuka-load/fuka/output"},
		Metrics: out,
	}}, nil
}

// expPoint is h as an OTLP exponential histogram point; the latencies are
// never negative, and min and max are sent only when a value was recorded.
func expPoint(h *hist, attrs attribute.Set, start, now time.Time) metricdata.ExponentialHistogramDataPoint[float64] {
	pt := metricdata.ExponentialHistogramDataPoint[float64]{
		Attributes: attrs, StartTime: start, Time: now,
		Count: h.count, Sum: h.sum, Scale: ExpScale, ZeroCount: h.exp.zero,
		PositiveBucket: metricdata.ExponentialBucket{Offset: h.exp.offset, Counts: h.exp.counts},
	}
	if h.count > 0 {
		pt.Min, pt.Max = metricdata.NewExtrema(h.exp.min), metricdata.NewExtrema(h.exp.max)
	}
	return pt
}

// Finish publishes the whole run, its last partial interval included.
func (o *OTLP) Finish(run *metrics.Run) { o.st.finish(run) }

// SetScopes labels the per-request series with the plan's scenarios and groups.
func (o *OTLP) SetScopes(sc Scopes) { o.st.setScopes(sc) }

// Resources publishes the monitors' latest values.
func (o *OTLP) Resources(_ time.Duration, vals map[string]float64) { o.st.resources(vals) }

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

// Warnings says, for the summary, how many exports failed so far.
func (o *OTLP) Warnings() []string {
	if n, failed, last := o.exp.result(); failed > 0 {
		return []string{fmt.Sprintf("otlp: %d of %d exports to %s failed, the last with: %v; the load itself was not affected", failed, n, o.endpoint, last)}
	}
	return nil
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
