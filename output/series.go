package output

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// Kind is how a metric family counts.
type Kind int

// The kinds of metric family.
const (
	Counter   Kind = iota // cumulative over the run
	Gauge                 // the value now
	Histogram             // cumulative buckets, with _bucket{le}, _sum and _count in Prometheus
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	}
	return "histogram"
}

// Family is one metric the live outputs write.
type Family struct {
	Name   string
	Kind   Kind
	Labels []string // label names besides run_id, which every series has
	Unit   string   // UCUM unit, for OTLP
	Help   string
}

// RunIDLabel is the label every series carries: the run that wrote it, so
// one Prometheus holds many runs apart.
const RunIDLabel = "run_id"

// reqLabels are the labels of the per-request families: the request name
// and the plan's scenario(s) and group(s) it is in ("" in quick mode;
// comma-separated when a name is in several).
var reqLabels = []string{"name", "scenario", "group"}

// The families' indexes in Families.
const (
	famRequests = iota
	famResponses
	famFailed
	famErrors
	famRetried
	famBytesIn
	famBytesOut
	famLatency
	famService
	famChecks
	famDropped
	famClients
	famRPS
	famIntervalLatency
	famMonitor
)

// Families is every metric the Prometheus endpoint, OTLP and remote write
// send, in the order they send them: the single list that docs/outputs.md
// and the Grafana dashboard are tested against. The names are stable.
var Families = []Family{
	famRequests:  {"fuka_requests_total", Counter, reqLabels, "{request}", "Completed requests (a response or a transport error), per request name."},
	famResponses: {"fuka_responses_total", Counter, append(slices.Clip(reqLabels), "status"), "{response}", "Responses by HTTP status code (\"invalid\" outside 100..599), per request name."},
	famFailed:    {"fuka_failed_total", Counter, reqLabels, "{request}", "Failed requests (transport errors and status >= 400), per request name."},
	famErrors:    {"fuka_errors_total", Counter, append(slices.Clip(reqLabels), "kind"), "{request}", "Requests that got no complete response, by kind of error, per request name."},
	famRetried:   {"fuka_retried_total", Counter, reqLabels, "{request}", "Requests that were a plan's retries of a failed attempt (counted in fuka_requests_total too)."},
	famBytesIn:   {"fuka_bytes_in_total", Counter, reqLabels, "By", "Response bytes read, headers included, per request name."},
	famBytesOut:  {"fuka_bytes_out_total", Counter, reqLabels, "By", "Request bytes written, per request name."},
	famLatency:   {"fuka_latency_seconds", Histogram, reqLabels, "s", "Latency: from the intended start (open model) or the send (closed model) to the end of the response."},
	famService:   {"fuka_service_time_seconds", Histogram, reqLabels, "s", "Service time: from the actual send to the end of the response."},
	famChecks:    {"fuka_checks_total", Counter, []string{"check", "result"}, "{check}", "A plan's named checks, by result (pass or fail)."},
	famDropped:   {"fuka_dropped_total", Counter, nil, "{start}", "Open-model starts that found no free client."},
	famClients:   {"fuka_clients", Gauge, nil, "{client}", "Clients active at the end of the last interval."},
	famRPS:       {"fuka_rps", Gauge, nil, "{request}/s", "Requests completed per second over the last interval."},
	famIntervalLatency: {"fuka_interval_latency_seconds", Gauge, []string{"quantile"}, "s",
		"Latency percentiles of the last one-second interval, as the progress line shows them; aggregate fuka_latency_seconds instead."},
	famMonitor: {"fuka_monitor_value", Gauge, []string{"source", "series"}, "1",
		"The latest value of a monitored series (host, process, nginx, postgres, redis, kube, prometheus, agent), named as in the report."},
}

// Emits reports whether a Prometheus series name is one fuka writes: a
// family's name, or a histogram's _bucket, _sum or _count.
func Emits(name string) bool {
	for _, f := range Families {
		if name == f.Name {
			return true
		}
		if f.Kind == Histogram && (name == f.Name+"_bucket" || name == f.Name+"_sum" || name == f.Name+"_count") {
			return true
		}
	}
	return false
}

// LatencyBounds are the upper bounds (seconds) of the latency histograms'
// buckets: 10 µs to 100 s in the R10 series (10 per decade, each at most
// 28 % above the last), so a quantile read from the buckets is within one
// bucket's width of the exact one. Values above the last fall in +Inf.
var LatencyBounds = latencyBounds()

func latencyBounds() []float64 {
	mantissas := []string{"1", "1.25", "1.6", "2", "2.5", "3.2", "4", "5", "6.3", "8"}
	var out []float64
	for exp := -5; exp <= 1; exp++ {
		for _, m := range mantissas {
			// Parsed from text, so 1.25e-4 is the double nearest 0.000125 and
			// prints back as it reads.
			v, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(exp), 64)
			out = append(out, v)
		}
	}
	return append(out, 100)
}

// hist is a latency histogram in LatencyBounds' buckets, and the same
// values in exponential buckets for OTLP.
type hist struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	count  uint64
	sum    float64 // seconds
	exp    expHist
}

// ExpScale is the scale of the OTLP exponential latency histograms: bucket
// i holds the values in (2^(i/16), 2^((i+1)/16)] seconds, each bucket 4.4 %
// wide, so a quantile read at a bucket's middle is within 2.2 % of the
// value in it. Scale 5 would halve that and double the buckets sent.
const ExpScale = 4

// expHist is a histogram of seconds in OTLP's exponential buckets at
// ExpScale. A value v > 0 is in bucket expIndex(v); counts[i] is bucket
// offset+i's. A published expHist is never changed.
type expHist struct {
	offset   int32
	counts   []uint64
	zero     uint64  // values of 0
	min, max float64 // seconds, valid when some value was recorded
}

// expIndex returns the exponential bucket of v > 0 at ExpScale: the i with
// 2^(i/2^ExpScale) < v <= 2^((i+1)/2^ExpScale).
func expIndex(v float64) int32 {
	frac, exp := math.Frexp(v) // v = frac·2^exp, frac in [0.5, 1)
	if frac == 0.5 {
		// A power of two is its bucket's upper bound; computed exactly,
		// since Log2 of it is exact but Ceil would land it one above.
		return int32((exp-1)<<ExpScale) - 1
	}
	return int32(math.Ceil(math.Log2(v)*(1<<ExpScale))) - 1
}

// expBucketBounds returns bucket i's lower and upper bound at ExpScale.
func expBucketBounds(i int32) (lo, hi float64) {
	return math.Exp2(float64(i) / (1 << ExpScale)), math.Exp2(float64(i+1) / (1 << ExpScale))
}

// merge returns the histogram of e's and o's values together.
func (e expHist) merge(o expHist) expHist {
	switch {
	case len(o.counts) == 0 && o.zero == 0:
		return e
	case len(e.counts) == 0 && e.zero == 0:
		return o
	}
	out := expHist{zero: e.zero + o.zero, min: min(e.min, o.min), max: max(e.max, o.max)}
	switch {
	case len(e.counts) == 0:
		out.offset, out.counts = o.offset, slices.Clone(o.counts)
		return out
	case len(o.counts) == 0:
		out.offset, out.counts = e.offset, slices.Clone(e.counts)
		return out
	}
	lo := min(e.offset, o.offset)
	hi := max(e.offset+int32(len(e.counts)), o.offset+int32(len(o.counts)))
	out.offset, out.counts = lo, make([]uint64, hi-lo)
	for _, h := range []expHist{e, o} {
		for i, n := range h.counts {
			out.counts[h.offset-lo+int32(i)] += n
		}
	}
	return out
}

// histOf buckets an HDR histogram of microseconds. A value goes in the
// first bucket whose bound is at least its highest equivalent value, the
// value fuka's percentiles report, so fuka's p99 lies in the bucket where
// the buckets put the 99th percentile.
func histOf(h *hdrhistogram.Histogram) hist {
	out := hist{counts: make([]uint64, len(LatencyBounds)+1)}
	if h == nil || h.TotalCount() == 0 {
		return out
	}
	b := 0
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		s := float64(bar.To) / 1e6
		for b < len(LatencyBounds) && s > LatencyBounds[b] {
			b++
		}
		out.counts[b] += uint64(bar.Count)
	}
	out.count = uint64(h.TotalCount())
	out.sum = h.Mean() * float64(h.TotalCount()) / 1e6
	out.exp = expOf(h)
	return out
}

// expOf buckets a non-empty HDR histogram of microseconds exponentially,
// each value by its highest equivalent value as histOf does, so fuka's
// percentiles lie in the buckets where the exponential buckets put them.
func expOf(h *hdrhistogram.Histogram) expHist {
	out := expHist{min: float64(h.Min()) / 1e6, max: float64(h.Max()) / 1e6}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		if bar.To <= 0 {
			out.zero += uint64(bar.Count)
			continue
		}
		i := expIndex(float64(bar.To) / 1e6)
		switch {
		case len(out.counts) == 0:
			out.offset = i
		case i < out.offset: // bars come in ascending order; kept for safety
			out.counts = append(make([]uint64, out.offset-i), out.counts...)
			out.offset = i
		}
		for int(i-out.offset) >= len(out.counts) {
			out.counts = append(out.counts, 0)
		}
		out.counts[i-out.offset] += uint64(bar.Count)
	}
	return out
}

// add adds o's buckets to h.
func (h *hist) add(o hist) {
	if h.counts == nil {
		h.counts = make([]uint64, len(o.counts))
	}
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.count += o.count
	h.sum += o.sum
	h.exp = h.exp.merge(o.exp)
}

// cumulative returns the bucket counts as Prometheus wants them: each the
// number of values at or below its bound.
func (h *hist) cumulative() []uint64 {
	out := make([]uint64, len(LatencyBounds)+1)
	var n uint64
	for i, c := range h.counts {
		n += c
		out[i] = n
	}
	return out
}

// Scopes places request names in a plan's scenarios and groups, by request
// name index: the label values of the per-request series.
type Scopes struct {
	Scenario, Group []string
}

// ScopeSink is a sink that labels its per-request series with the plan's
// scenarios and groups; the run gives them before the first tick.
type ScopeSink interface {
	SetScopes(Scopes)
}

// ResourceSink is a sink that sends the monitored series too; the run
// gives it the monitors' latest point at each tick.
type ResourceSink interface {
	Resources(at time.Duration, values map[string]float64)
}

// Finisher is a sink that takes the whole run's measurements once the
// load is done, before Close: the engine's last, partial interval (what
// finished after the last whole second) reaches no Tick.
type Finisher interface {
	Finish(run *metrics.Run)
}

// Warner is a sink whose trouble the summary must tell (samples it had to
// drop); the run asks before it writes the summary.
type Warner interface {
	Warnings() []string
}

// nameValues is one request name's numbers over the run so far.
type nameValues struct {
	name, scenario, group string // label values, valid UTF-8
	requests, failed      int64
	retried               int64
	bytesIn, bytesOut     int64
	status                [metrics.MaxStatus]int64
	errors                [metrics.NumErrorKinds]int64
	latency, service      hist
}

// monValue is one monitored series' latest value.
type monValue struct {
	source, series string
	v              float64
}

// values is the run's numbers as the live outputs publish them: counters
// over the whole run so far and gauges of the last interval. A published
// values is never changed: update and final build new slices, so a
// snapshot may be read without the lock.
type values struct {
	names    []nameValues
	checks   []checkValue
	dropped  int64
	clients  int
	rps      float64
	latencyS [len(quantiles)]float64 // seconds, by quantiles index
	monitor  []monValue
}

type checkValue struct {
	name       string
	pass, fail int64
}

// slotMap maps the run's request names onto unique, valid UTF-8 label
// values: Prometheus refuses two series with the same labels, and protobuf
// refuses invalid UTF-8. Built again only when the names or scopes change.
type slotMap struct {
	names  []string // the run's names it was built for
	scopes Scopes
	slotOf []int        // run name index -> slot
	slots  []nameValues // label values of each slot
}

func (m *slotMap) build(names []string, sc Scopes) {
	if m.slotOf != nil && slices.Equal(m.names, names) &&
		slices.Equal(m.scopes.Scenario, sc.Scenario) && slices.Equal(m.scopes.Group, sc.Group) {
		return
	}
	m.names = slices.Clone(names)
	m.scopes = Scopes{Scenario: slices.Clone(sc.Scenario), Group: slices.Clone(sc.Group)}
	m.slotOf = make([]int, 0, len(names))
	m.slots = m.slots[:0]
	seen := make(map[string]int, len(names))
	for i, n := range names {
		n = strings.ToValidUTF8(n, "\uFFFD")
		slot, ok := seen[n]
		if !ok {
			slot = len(m.slots)
			seen[n] = slot
			m.slots = append(m.slots, nameValues{name: n, scenario: scopeAt(sc.Scenario, i), group: scopeAt(sc.Group, i)})
		}
		m.slotOf = append(m.slotOf, slot)
	}
}

func scopeAt(s []string, i int) string {
	if i < len(s) {
		return strings.ToValidUTF8(s[i], "\uFFFD")
	}
	return ""
}

// fresh returns empty values for every slot, with their labels.
func (m *slotMap) fresh() []nameValues {
	out := make([]nameValues, len(m.slots))
	for i, s := range m.slots {
		out[i] = nameValues{name: s.name, scenario: s.scenario, group: s.group}
	}
	return out
}

// monitorSource is the source label of a monitored series: what was
// watched, from the series' first dot-separated part.
func monitorSource(series string) string {
	head, _, _ := strings.Cut(series, ".")
	switch head {
	case "cpu", "load", "procs", "mem", "swap", "tcp", "disk", "net", "vmstat":
		return "host"
	case "proc":
		return "process"
	case "prom":
		return "prometheus"
	case "nginx", "postgres", "redis", "kube", "agent":
		return head
	}
	return head
}

// buildValues computes the values of interval p and the run so far. run
// may be nil: then the names are unknown and only the gauges are set.
//
// Bucketing a histogram walks it, so a name whose interval recorded
// nothing keeps its previous buckets (unless whole: then every name is
// bucketed from the run's totals).
func buildValues(m *slotMap, sc Scopes, p metrics.Point, run *metrics.Run, prev values, whole bool) values {
	v := values{clients: p.Clients, rps: p.RPS(), monitor: prev.monitor}
	for i, d := range [len(quantiles)]time.Duration{p.P50, p.P90, p.P95, p.P99} {
		v.latencyS[i] = d.Seconds()
	}
	if run == nil {
		// No run to read: the totals grow by the interval, under the name "".
		n := nameValues{}
		if len(prev.names) == 1 && prev.names[0].name == "" {
			n = prev.names[0]
		}
		n.requests += p.Requests
		n.failed += p.Failed
		n.bytesIn += p.BytesIn
		n.bytesOut += p.BytesOut
		for k, c := range p.Errors {
			n.errors[k] += c
		}
		v.names, v.checks, v.dropped = []nameValues{n}, prev.checks, prev.dropped+p.Dropped
		return v
	}
	m.build(run.Names, sc)
	v.names = m.fresh()
	idle := idleSlots(m, run, prev, whole)
	for slot, ok := range idle {
		if ok {
			v.names[slot].latency, v.names[slot].service = prev.names[slot].latency, prev.names[slot].service
		}
	}
	for i, st := range run.ByName {
		if st == nil || i >= len(m.slotOf) {
			continue
		}
		n := &v.names[m.slotOf[i]]
		n.requests += st.Requests
		n.failed += st.Failed
		n.retried += st.Retried
		n.bytesIn += st.BytesIn
		n.bytesOut += st.BytesOut
		for c, k := range st.Status {
			n.status[c] += k
		}
		for k, c := range st.Errors {
			n.errors[k] += c
		}
		if !idle[m.slotOf[i]] {
			n.latency.add(histOf(st.Latency))
			n.service.add(histOf(st.Service))
		}
	}
	for i, name := range run.CheckNames {
		if i < len(run.Checks) {
			v.checks = append(v.checks, checkValue{strings.ToValidUTF8(name, "\uFFFD"), run.Checks[i][0], run.Checks[i][1]})
		}
	}
	v.dropped = run.Dropped
	return v
}

// idleSlots reports, by slot, whether none of its names recorded anything
// in the interval that just closed, so its histograms are those of prev.
func idleSlots(m *slotMap, run *metrics.Run, prev values, whole bool) []bool {
	idle := make([]bool, len(m.slots))
	if whole || len(prev.names) != len(m.slots) || len(run.Interval) != len(run.ByName) {
		return idle
	}
	for slot := range idle {
		idle[slot] = prev.names[slot].name == m.slots[slot].name && prev.names[slot].latency.counts != nil
	}
	for i, st := range run.Interval {
		if i < len(m.slotOf) && (st == nil || st.Latency == nil || st.Latency.TotalCount() > 0 || st.Service.TotalCount() > 0) {
			idle[m.slotOf[i]] = false
		}
	}
	return idle
}

// finalValues sets the counters to the summary's, which is what the run
// measured in the end; the histograms, bytes and gauges stay those of the
// last tick, which saw every request.
func finalValues(m *slotMap, sum *report.Summary, prev values) values {
	v := prev
	names := make([]string, len(sum.ByName))
	for i, n := range sum.ByName {
		names[i] = n.Name
	}
	m.build(names, m.scopes)
	byName := make(map[string]nameValues, len(prev.names))
	for _, n := range prev.names {
		byName[n.name] = n
	}
	v.names = m.fresh()
	// Keep what only the ticks measured (bytes, histograms); the counters
	// are the summary's.
	for i := range v.names {
		n := &v.names[i]
		if old, ok := byName[n.name]; ok {
			n.bytesIn, n.bytesOut, n.latency, n.service = old.bytesIn, old.bytesOut, old.latency, old.service
		}
	}
	for i, ns := range sum.ByName {
		n := &v.names[m.slotOf[i]]
		n.requests += ns.Requests
		n.failed += ns.Failed
		n.retried += ns.Retried
		for k, c := range ns.Status {
			code, err := strconv.Atoi(k)
			if err != nil || code < 0 || code >= metrics.MaxStatus {
				code = 0
			}
			n.status[code] += c
		}
		for k, c := range ns.Errors {
			n.errors[k] += c
		}
	}
	v.checks = nil
	for _, c := range sum.Checks {
		v.checks = append(v.checks, checkValue{strings.ToValidUTF8(c.Name, "\uFFFD"), c.Passes, c.Fails})
	}
	v.dropped = sum.Dropped
	return v
}

// sample is one series of a family at one moment.
type sample struct {
	fam    int      // Families index
	labels []string // values of Families[fam].Labels
	v      float64
	h      *hist // histograms only
}

// each calls fn with every series of v, family by family in Families
// order. The per-request counters are written for every name (and every
// error kind) from the first tick on, zeros included, so a rate over them
// sees their first increase.
func (v *values) each(fn func(sample)) {
	for fam := range Families {
		switch fam {
		case famRequests, famFailed, famRetried, famBytesIn, famBytesOut:
			for _, n := range v.names {
				fn(sample{fam: fam, labels: n.labels(), v: float64(n.counter(fam))})
			}
		case famResponses:
			for _, n := range v.names {
				for code, c := range n.status {
					if c != 0 {
						fn(sample{fam: fam, labels: append(n.labels(), report.StatusKey(code)), v: float64(c)})
					}
				}
			}
		case famErrors:
			for _, n := range v.names {
				for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
					fn(sample{fam: fam, labels: append(n.labels(), k.String()), v: float64(n.errors[k])})
				}
			}
		case famLatency, famService:
			for i := range v.names {
				n := &v.names[i]
				h := &n.latency
				if fam == famService {
					h = &n.service
				}
				fn(sample{fam: fam, labels: n.labels(), h: h})
			}
		case famChecks:
			for _, c := range v.checks {
				fn(sample{fam: fam, labels: []string{c.name, "pass"}, v: float64(c.pass)})
				fn(sample{fam: fam, labels: []string{c.name, "fail"}, v: float64(c.fail)})
			}
		case famDropped:
			fn(sample{fam: fam, v: float64(v.dropped)})
		case famClients:
			fn(sample{fam: fam, v: float64(v.clients)})
		case famRPS:
			fn(sample{fam: fam, v: v.rps})
		case famIntervalLatency:
			for i, q := range quantiles {
				fn(sample{fam: fam, labels: []string{q}, v: v.latencyS[i]})
			}
		case famMonitor:
			for _, m := range v.monitor {
				fn(sample{fam: fam, labels: []string{m.source, m.series}, v: m.v})
			}
		}
	}
}

func (n *nameValues) labels() []string {
	return []string{n.name, n.scenario, n.group}
}

func (n *nameValues) counter(fam int) int64 {
	switch fam {
	case famRequests:
		return n.requests
	case famFailed:
		return n.failed
	case famRetried:
		return n.retried
	case famBytesIn:
		return n.bytesIn
	}
	return n.bytesOut
}

// monitorValues turns a monitor point into sorted series.
func monitorValues(vals map[string]float64) []monValue {
	out := make([]monValue, 0, len(vals))
	for name, x := range vals {
		name = strings.ToValidUTF8(name, "\uFFFD")
		out = append(out, monValue{monitorSource(name), name, x})
	}
	slices.SortFunc(out, func(a, b monValue) int { return strings.Compare(a.series, b.series) })
	return out
}
