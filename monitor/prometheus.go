package monitor

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Prometheus scrapes a /metrics endpoint in the Prometheus text format and
// keeps the series the user names. A sample
//
//	http_requests_total{code="200",method="get"} 1027
//
// becomes prom.<metric>.<label values in label-name order, joined by ".">,
// here prom.http_requests_total.200.get. Counters (type counter, or untyped
// with a name ending in _total) become per-second rates since the previous
// scrape, named with _per_s at the end (prom.http_requests_total.200.get_per_s),
// none on the first scrape; gauges and other untyped samples are kept as
// they are. A histogram or summary gives the rates of its _count and _sum
// (prom.<metric>_count.<labels>_per_s): requests per second and, divided,
// the mean; its buckets and quantiles are left out.
//
// Characters other than letters, digits, '_', ':' and '-' in names and label
// values become '_', so a label value cannot add a level to the dotted name;
// empty label values are skipped, as Prometheus treats them as absent.
// Values that are NaN or infinite are skipped (a gap).
type promSampler struct {
	url    string
	keep   []string // metric names or path.Match globs; empty: the first defaultPromSeries series
	client *http.Client
	now    func() time.Time
	rates  counterRates

	// With keep empty, chosen holds the series picked so far: a series, once
	// picked, stays, and new ones join while there is room, so the set does
	// not shift from scrape to scrape.
	chosen  map[string]bool
	dropped int // series left out by the cap at the last scrape
}

var _ Sampler = (*promSampler)(nil)

// defaultPromSeries caps the series kept when keep names none: an exporter
// can serve thousands, and a timeline of thousands of lines says nothing.
const defaultPromSeries = 50

// maxPromBody bounds one scrape; large exporters serve a few megabytes.
const maxPromBody = 32 << 20

// NewPrometheus returns a Sampler that scrapes url (e.g.
// "http://127.0.0.1:9100/metrics") and keeps the series of the metrics
// named in keep: exact names ("process_resident_memory_bytes") or globs
// with * ("http_requests_*", "go_gc_*"), matched against the metric's name
// (a histogram's or summary's family name, or its name_count/name_sum). An
// empty keep keeps the first 50 series in name order and says so in Note.
func NewPrometheus(url string, keep []string) (Sampler, error) {
	if err := checkHTTPURL(url); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	for _, k := range keep {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("prometheus %s: empty name in keep", url)
		}
		if _, err := path.Match(k, ""); err != nil {
			return nil, fmt.Errorf("prometheus %s: keep %q: %w", url, k, err)
		}
	}
	return &promSampler{
		url:    url,
		keep:   slices.Clone(keep),
		client: newScrapeClient(),
		now:    time.Now,
		chosen: map[string]bool{},
	}, nil
}

func (p *promSampler) Name() string { return "prometheus" }

// Note says, for the report, when series were left out because keep named
// none; it is "" otherwise.
func (p *promSampler) Note() string {
	if len(p.keep) > 0 || p.dropped == 0 {
		return ""
	}
	return fmt.Sprintf("prometheus %s: kept the first %d series by name and left out %d; name the metrics to watch to choose",
		p.url, defaultPromSeries, p.dropped)
}

func (p *promSampler) Sample(ctx context.Context) ([]Value, error) {
	body, err := fetch(ctx, p.client, p.url, "text/plain;version=0.0.4;q=1,*/*;q=0.1", maxPromBody)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	at := p.now()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", p.url, err)
	}
	gauges, counters := p.flatten(families)
	if len(p.keep) == 0 {
		p.capSeries(gauges, counters)
	}
	return appendByName(appendByName(nil, gauges), p.rates.next(at, counters)), nil
}

// flatten turns the kept families into series: gauges by name, and counters
// (cumulative values, to become rates) by the name of their rate.
func (p *promSampler) flatten(families map[string]*dto.MetricFamily) (gauges, counters map[string]float64) {
	gauges, counters = map[string]float64{}, map[string]float64{}
	put := func(m map[string]float64, name string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[name] = v
		}
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := promLabels(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				if p.kept(name) {
					put(counters, promSeries(name, labels)+"_per_s", m.GetCounter().GetValue())
				}
			case dto.MetricType_GAUGE:
				if p.kept(name) {
					put(gauges, promSeries(name, labels), m.GetGauge().GetValue())
				}
			case dto.MetricType_UNTYPED:
				if !p.kept(name) {
					continue
				}
				if strings.HasSuffix(name, "_total") {
					put(counters, promSeries(name, labels)+"_per_s", m.GetUntyped().GetValue())
				} else {
					put(gauges, promSeries(name, labels), m.GetUntyped().GetValue())
				}
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				p.putCountSum(put, counters, name, labels, float64(h.GetSampleCount()), h.GetSampleSum())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				p.putCountSum(put, counters, name, labels, float64(s.GetSampleCount()), s.GetSampleSum())
			}
		}
	}
	return gauges, counters
}

func (p *promSampler) putCountSum(put func(map[string]float64, string, float64), counters map[string]float64,
	name, labels string, count, sum float64) {
	for _, c := range []struct {
		name string
		v    float64
	}{{name + "_count", count}, {name + "_sum", sum}} {
		if p.kept(name) || p.kept(c.name) {
			put(counters, promSeries(c.name, labels)+"_per_s", c.v)
		}
	}
}

// kept reports whether keep names the metric; with keep empty, every metric
// is a candidate for the capped default.
func (p *promSampler) kept(metric string) bool {
	if len(p.keep) == 0 {
		return true
	}
	for _, k := range p.keep {
		if ok, _ := path.Match(k, metric); ok {
			return true
		}
	}
	return false
}

// capSeries deletes from gauges and counters the series beyond the default
// cap, keeping those chosen at earlier scrapes and adding new ones, in name
// order, while there is room.
func (p *promSampler) capSeries(gauges, counters map[string]float64) {
	var names []string
	for _, m := range []map[string]float64{gauges, counters} {
		for n := range m {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if !p.chosen[n] && len(p.chosen) < defaultPromSeries {
			p.chosen[n] = true
		}
	}
	p.dropped = 0
	for _, n := range names {
		if !p.chosen[n] {
			delete(gauges, n)
			delete(counters, n)
			p.dropped++
		}
	}
}

// promSeries names a series: prom.<metric>, then its label values.
func promSeries(metric, labels string) string {
	if labels == "" {
		return "prom." + promClean(metric)
	}
	return "prom." + promClean(metric) + "." + labels
}

// promLabels joins the non-empty label values with ".", in label-name
// order.
func promLabels(pairs []*dto.LabelPair) string {
	pairs = slices.Clone(pairs)
	slices.SortFunc(pairs, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	var vals []string
	for _, lp := range pairs {
		if v := lp.GetValue(); v != "" {
			vals = append(vals, promClean(v))
		}
	}
	return strings.Join(vals, ".")
}

// promClean replaces every character but letters, digits, '_', ':' and '-'
// with '_', so that names and label values stay one level of a dotted name.
func promClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == ':', r == '-':
			return r
		}
		return '_'
	}, s)
}
