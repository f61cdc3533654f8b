// Package output sends a run's numbers to the tools teams already have: CSV
// files for spreadsheets and notebooks, a Prometheus endpoint to scrape,
// Prometheus remote write and OTLP export to an OpenTelemetry collector
// while the run goes on, and a short webhook message (Slack-compatible)
// when it ends.
//
// The live outputs are [Sink]s: the engine's ticker calls Tick once a second
// with the interval that just ended and the run so far, and Close once with
// the final [report.Summary]. A sink copies what it needs during Tick and
// never touches the [metrics.Run] afterwards, so its exporters (an HTTP
// handler, an OTLP reader) run on their own goroutines without racing the
// collector.
//
// The metric names and labels are the same in Prometheus (scrape and
// remote write) and OTLP; [Families] lists them and docs/outputs.md
// documents them. Every series carries a run_id label.
package output

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// called once at the end with the final summary. A sink may also be a
// [ScopeSink], [ResourceSink], [Finisher] or [Warner].
type Sink interface {
	Tick(elapsed time.Duration, p metrics.Point, run *metrics.Run)
	Close(ctx context.Context, sum *report.Summary) error
}

var (
	_ Sink    = (*Prometheus)(nil)
	_ Sink    = (*OTLP)(nil)
	_ Sink    = (*RemoteWrite)(nil)
	_ Drainer = (*RemoteWrite)(nil)
	_ Sink    = (*CSV)(nil)
	_ Sink    = Multi(nil)
)

// ParseOut starts the sink an --out value names, with a run ID of its
// own; see [ParseOutWith].
func ParseOut(spec string) (Sink, error) {
	return ParseOutWith(spec, NewRunID())
}

// ParseOutWith starts the sink an --out value names, its series labelled
// run_id=runID (every sink of one run gets the same):
//
//	prometheus=127.0.0.1:9464                serve /metrics on a loopback address
//	otlp=http://127.0.0.1:4318               push OTLP/HTTP to a collector (base URL, or the full /v1/metrics URL)
//	prometheus-rw=URL[|option=value,...]     push Prometheus remote write 1.0 (see [ParseRemoteWrite])
//	csv=DIR                                  write timeline.csv, summary.csv (and resources.csv) into DIR at the end
//
// The Prometheus endpoint listens once ParseOutWith returns; the caller
// must Close the sink. Serving Prometheus on a non-loopback address needs
// [NewPrometheus] with [AllowNonLoopback].
func ParseOutWith(spec, runID string) (Sink, error) {
	kind, target, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	var s Sink
	switch kind {
	case "prometheus":
		s, err = NewPrometheus(target, RunID(runID))
	case "otlp":
		s, err = NewOTLP(context.Background(), target, RunID(runID))
	case "prometheus-rw":
		var c RemoteWriteConfig
		if c, err = ParseRemoteWrite(target); err == nil {
			s, err = NewRemoteWrite(c, RunID(runID))
		}
	case "csv":
		s, err = NewCSV(target)
	}
	if err != nil {
		return nil, fmt.Errorf("out %q: %w", spec, err)
	}
	return s, nil
}

// NewRunID returns a run ID for the run_id label: the UTC start time to the
// second and 4 random hex digits, e.g. 20261205T010203Z-9f3a, so IDs sort by
// time and two runs started in the same second differ.
func NewRunID() string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// SinkOption configures a live output.
type SinkOption func(*sinkConfig)

type sinkConfig struct {
	runID            string
	allowNonLoopback bool
}

func newSinkConfig(opts []SinkOption) sinkConfig {
	var c sinkConfig
	for _, o := range opts {
		o(&c)
	}
	if c.runID == "" {
		c.runID = NewRunID()
	}
	return c
}

// RunID sets the run_id label of every series ("" = a new ID).
func RunID(id string) SinkOption {
	return func(c *sinkConfig) { c.runID = strings.ToValidUTF8(id, "\uFFFD") }
}

// kinds are the sink kinds ParseOut knows, in the order its errors list them.
var kinds = []string{"prometheus", "otlp", "prometheus-rw", "csv"}

// parseSpec splits KIND=TARGET and checks that the kind is known.
func parseSpec(spec string) (kind, target string, err error) {
	kind, target, ok := strings.Cut(spec, "=")
	kind = strings.TrimSpace(kind)
	target = strings.TrimSpace(target)
	switch {
	case !ok || kind == "":
		return "", "", fmt.Errorf("out %q: want KIND=TARGET, e.g. prometheus=127.0.0.1:9464, otlp=http://127.0.0.1:4318, prometheus-rw=http://127.0.0.1:9090/api/v1/write or csv=results", spec)
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

// state is the values shared between the ticker (update) and the
// exporters (snapshot).
type state struct {
	mu     sync.Mutex
	v      values
	slots  slotMap
	scopes Scopes
	at     time.Time // when v was last updated
}

// update publishes the interval p and the run so far. run may be nil,
// in which case only the gauges and the dropped starts change.
func (s *state) update(p metrics.Point, run *metrics.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = buildValues(&s.slots, s.scopes, p, run, s.v, false)
	s.at = time.Now()
}

// setScopes labels the per-request series from the next update on.
func (s *state) setScopes(sc Scopes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = Scopes{Scenario: slices.Clone(sc.Scenario), Group: slices.Clone(sc.Group)}
}

// resources publishes the monitors' latest values.
func (s *state) resources(vals map[string]float64) {
	mon := monitorValues(vals)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.monitor = mon
}

// finish publishes the whole run's counters and histograms, keeping the
// gauges of the last interval.
func (s *state) finish(run *metrics.Run) {
	if run == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.v
	v := buildValues(&s.slots, s.scopes, metrics.Point{}, run, prev, true)
	v.clients, v.rps, v.latencyS = prev.clients, prev.rps, prev.latencyS
	s.v = v
	s.at = time.Now()
}

// final sets the counters to the summary's, which is what the run
// measured in the end (the gauges keep the last interval).
func (s *state) final(sum *report.Summary) {
	if sum == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = finalValues(&s.slots, sum, s.v)
	s.at = time.Now()
}

// snapshot returns the values now and when they were set; the caller may
// keep them (they are never changed, only replaced).
func (s *state) snapshot() (values, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v, s.at
}
