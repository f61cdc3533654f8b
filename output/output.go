// Package output sends a run's numbers to the tools teams already have: CSV
// files for spreadsheets and notebooks, a Prometheus endpoint to scrape and
// OTLP export to an OpenTelemetry collector while the run goes on, and a
// short webhook message (Slack-compatible) when it ends.
//
// The live outputs are [Sink]s: the engine's ticker calls Tick once a second
// with the interval that just ended and the run so far, and Close once with
// the final [report.Summary]. A sink copies what it needs during Tick and
// never touches the [metrics.Run] afterwards, so its exporters (an HTTP
// handler, an OTLP reader) run on their own goroutines without racing the
// collector.
//
// The metric names are the same in Prometheus and OTLP:
//
//	fuka_requests_total{name}      counter  completed requests per request name
//	fuka_failed_total{name}        counter  failed requests (transport errors and status >= 400)
//	fuka_errors_total{kind}        counter  transport errors by kind (timeout, refused, ...)
//	fuka_dropped_total             counter  open-model starts that found no free client
//	fuka_bytes_in_total            counter  response bytes read
//	fuka_clients                   gauge    clients active at the end of the last interval
//	fuka_rps                       gauge    throughput of the last interval, requests/s
//	fuka_latency_seconds{quantile} gauge    latency percentiles (0.5, 0.9, 0.95, 0.99) of the last interval
package output

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// Sink receives the run's progress. Tick is called once a second from one
// goroutine with the interval that just ended and the run so far; Close is
// called once at the end with the final summary.
type Sink interface {
	Tick(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	Close(ctx context.Context, sum *report.Summary) error
}

var (
	_ Sink = (*Prometheus)(nil)
	_ Sink = (*OTLP)(nil)
	_ Sink = (*CSV)(nil)
	_ Sink = Multi(nil)
)

// ParseOut starts the sink an --out value names:
//
//	prometheus=127.0.0.1:9464    serve /metrics on a loopback address
//	otlp=http://127.0.0.1:4318   push OTLP/HTTP to a collector (base URL, or the full /v1/metrics URL)
//	csv=DIR                      write timeline.csv, summary.csv (and resources.csv) into DIR at the end
//
// The Prometheus endpoint listens once ParseOut returns; the caller must
// Close the sink. Serving Prometheus on a non-loopback address needs
// [NewPrometheus] with [AllowNonLoopback].
func ParseOut(spec string) (Sink, error) {
	kind, target, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	var s Sink
	switch kind {
	case "prometheus":
		s, err = NewPrometheus(target)
	case "otlp":
		s, err = NewOTLP(context.Background(), target)
	case "csv":
		s, err = NewCSV(target)
	}
	if err != nil {
		return nil, fmt.Errorf("out %q: %w", spec, err)
	}
	return s, nil
}

// kinds are the sink kinds ParseOut knows, in the order its errors list them.
var kinds = []string{"prometheus", "otlp", "csv"}

// parseSpec splits KIND=TARGET and checks that the kind is known.
func parseSpec(spec string) (kind, target string, err error) {
	kind, target, ok := strings.Cut(spec, "=")
	kind = strings.TrimSpace(kind)
	target = strings.TrimSpace(target)
	switch {
	case !ok || kind == "":
		return "", "", fmt.Errorf("out %q: want KIND=TARGET, e.g. prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318 or csv=results", spec)
	case !slices.Contains(kinds, kind):
		return "", "", fmt.Errorf("out %q: unknown kind %q (want %s)", spec, kind, strings.Join(kinds, ", "))
	case target == "":
		return "", "", fmt.Errorf("out %q: %s needs a target after %q", spec, kind, "=")
	}
	return kind, target, nil
}

// Multi is several sinks fed as one, in order.
type Multi []Sink

// Tick passes the interval to every sink.
func (m Multi) Tick(elapsed time.Duration, p metrics.Point, run *metrics.Run) {
	for _, s := range m {
		s.Tick(elapsed, p, run)
	}
}

// Close closes every sink, even when one fails, and joins their errors.
func (m Multi) Close(ctx context.Context, sum *report.Summary) error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close(ctx, sum))
	}
	return errors.Join(errs...)
}

// quantiles are the latency percentiles the live outputs publish, as their
// label values.
var quantiles = [4]string{"0.5", "0.9", "0.95", "0.99"}

// values is the run's numbers as the live outputs publish them: counters
// over the whole run so far and gauges of the last interval.
type values struct {
	names     []string // unique request names, valid UTF-8
	requests  []int64  // by names index
	failed    []int64  // by names index
	errors    [metrics.NumErrorKinds]int64
	dropped   int64
	bytesIn   int64
	clients   int
	rps       float64
	latencyS  [len(quantiles)]float64 // seconds, by quantiles index
	slotOf    []int                   // run name index -> names index
	slotNames []string                // the run's names slotOf was built for
}

// state is values shared between the ticker (update) and the exporters
// (snapshot).
type state struct {
	mu sync.Mutex
	v  values
}

// update copies the interval p and the run's totals. run may be nil, in
// which case the totals grow by p under the name "".
func (s *state) update(p metrics.Point, run *metrics.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &s.v
	v.clients = p.Clients
	v.rps = p.RPS()
	for i, d := range [len(quantiles)]time.Duration{p.P50, p.P90, p.P95, p.P99} {
		v.latencyS[i] = d.Seconds()
	}
	if run == nil {
		v.slots([]string{""})
		v.requests[0] += p.Requests
		v.failed[0] += p.Failed
		for k, n := range p.Errors {
			v.errors[k] += n
		}
		v.dropped += p.Dropped
		v.bytesIn += p.BytesIn
		return
	}
	v.slots(run.Names)
	clear(v.requests)
	clear(v.failed)
	for i, st := range run.ByName {
		if st == nil || i >= len(v.slotOf) {
			continue
		}
		v.requests[v.slotOf[i]] += st.Requests
		v.failed[v.slotOf[i]] += st.Failed
	}
	if run.Total != nil {
		v.errors = run.Total.Errors
		v.bytesIn = run.Total.BytesIn
	}
	v.dropped = run.Dropped
}

// final sets the counters to the summary's, which is what the run
// measured in the end (the gauges keep the last interval).
func (s *state) final(sum *report.Summary) {
	if sum == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &s.v
	names := make([]string, len(sum.ByName))
	for i, n := range sum.ByName {
		names[i] = n.Name
	}
	v.slots(names)
	clear(v.requests)
	clear(v.failed)
	for i, n := range sum.ByName {
		v.requests[v.slotOf[i]] += n.Requests
		v.failed[v.slotOf[i]] += n.Failed
	}
	v.errors = sum.Errors
	v.dropped = sum.Dropped
	v.bytesIn = sum.BytesIn
}

// slots maps the run's names onto unique, valid UTF-8 label values. A run's
// names do not change, so this allocates once per run: Prometheus refuses
// two series with the same labels, and protobuf refuses invalid UTF-8.
func (v *values) slots(names []string) {
	if slices.Equal(v.slotNames, names) {
		return
	}
	v.slotNames = append(v.slotNames[:0], names...)
	v.names = v.names[:0]
	v.slotOf = v.slotOf[:0]
	seen := make(map[string]int, len(names))
	for _, n := range names {
		n = strings.ToValidUTF8(n, "\uFFFD")
		slot, ok := seen[n]
		if !ok {
			slot = len(v.names)
			seen[n] = slot
			v.names = append(v.names, n)
		}
		v.slotOf = append(v.slotOf, slot)
	}
	v.requests = make([]int64, len(v.names))
	v.failed = make([]int64, len(v.names))
}

// snapshot returns a copy of the values that the caller may keep.
func (s *state) snapshot() values {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.v
	v.names = append([]string(nil), v.names...)
	v.requests = append([]int64(nil), v.requests...)
	v.failed = append([]int64(nil), v.failed...)
	v.slotOf, v.slotNames = nil, nil
	return v
}
