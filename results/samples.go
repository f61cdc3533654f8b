package results

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// sample is one request as a tool's raw results give it.
type sample struct {
	name    string
	start   time.Time // when it was sent
	latency time.Duration
	status  int               // HTTP status; 0 with err
	err     metrics.ErrorKind // ErrNone when a response came
	in, out int64             // bytes
}

// The timeline's seconds are wall-clock seconds (from one whole second to
// the next), so a sample's second does not depend on the order samples
// come in; the points are then placed from the run's start (the earliest
// request's), the first one as short as the part of its second the run
// had, the last ending with the run, as fuka's last interval does.
//
// window is how many seconds a sample may arrive out of order (tools
// write a request when it ends, stamped with its start) and still count in
// its second's percentiles; a second is closed once a sample this much
// later arrives, so at most window+1 per-second histograms are open.
const window = 60

// second is one second of the timeline being built.
type second struct {
	used          bool
	requests      int64
	failed        int64
	in, out       int64
	errors        [metrics.NumErrorKinds]int64
	hist          *hdrhistogram.Histogram // nil once closed
	p50, p90, p95 time.Duration
	p99, max      time.Duration
	measured      bool // percentiles were computed
}

// samples records raw samples into fuka's Stats: by name, in total, and
// per second of the run (the second a request ended in, as fuka counts).
type samples struct {
	names   []string
	index   map[string]int
	byName  []*metrics.Stats
	total   *metrics.Stats
	origin  time.Time // the grid's zero: window seconds before the first end
	secs    []second
	open    []int // indexes of secs with an open histogram
	pool    []*hdrhistogram.Histogram
	first   time.Time // earliest start
	last    time.Time // latest end
	offGrid int64     // samples outside the timeline
}

func newSamples() *samples {
	return &samples{index: map[string]int{}, total: metrics.NewStats()}
}

// add records one sample.
func (s *samples) add(x sample) {
	i, ok := s.index[x.name]
	if !ok {
		if len(s.names) >= maxNames {
			x.name = otherNames
			i, ok = s.index[otherNames]
		}
		if !ok {
			i = len(s.names)
			s.index[x.name] = i
			s.names = append(s.names, x.name)
			s.byName = append(s.byName, metrics.NewStats())
		}
	}
	if x.latency < 0 {
		x.latency = 0
	}
	o := metrics.Outcome{Latency: x.latency, Service: x.latency, Status: x.status, Err: x.err, BytesIn: x.in, BytesOut: x.out}
	s.byName[i].Record(o)
	s.total.Record(o)
	if x.start.IsZero() {
		s.offGrid++
		return
	}
	end := x.start.Add(x.latency)
	if s.first.IsZero() || x.start.Before(s.first) {
		s.first = x.start
	}
	if end.After(s.last) {
		s.last = end
	}
	if s.origin.IsZero() {
		s.origin = x.start.Truncate(time.Second).Add(-window * time.Second)
	}
	s.second(o, end)
}

// second counts o in the second it ended in.
func (s *samples) second(o metrics.Outcome, end time.Time) {
	d := end.Sub(s.origin)
	if d < 0 || d >= (maxSeconds+window)*time.Second {
		s.offGrid++
		return
	}
	k := int(d / time.Second)
	for len(s.secs) <= k {
		s.secs = append(s.secs, second{})
	}
	sec := &s.secs[k]
	if !sec.used {
		sec.used = true
		sec.hist = s.histogram()
		s.open = append(s.open, k)
	}
	sec.requests++
	if o.Err != metrics.ErrNone {
		sec.errors[o.Err]++
		sec.failed++
	} else if o.Status >= 400 || o.Status < 100 || o.Status >= metrics.MaxStatus {
		sec.failed++
	}
	sec.in += o.BytesIn
	sec.out += o.BytesOut
	if sec.hist != nil {
		sec.hist.RecordValue(min(max(o.Latency.Microseconds(), 0), time.Hour.Microseconds()))
	}
	s.closeBefore(k - window)
}

func (s *samples) histogram() *hdrhistogram.Histogram {
	if n := len(s.pool); n > 0 {
		h := s.pool[n-1]
		s.pool = s.pool[:n-1]
		return h
	}
	return hdrhistogram.New(1, time.Hour.Microseconds(), 3)
}

// closeBefore computes the percentiles of the open seconds before k and
// gives their histograms back to the pool. A sample that arrives for a
// closed second still counts in its requests, not in its percentiles.
func (s *samples) closeBefore(k int) {
	kept := s.open[:0]
	for _, i := range s.open {
		if i >= k {
			kept = append(kept, i)
			continue
		}
		s.closeSecond(i)
	}
	s.open = kept
}

func (s *samples) closeSecond(i int) {
	sec := &s.secs[i]
	h := sec.hist
	if h == nil {
		return
	}
	at := func(p float64) time.Duration { return time.Duration(h.ValueAtPercentile(p)) * time.Microsecond }
	if h.TotalCount() > 0 {
		sec.p50, sec.p90, sec.p95, sec.p99 = at(50), at(90), at(95), at(99)
		sec.max = time.Duration(h.Max()) * time.Microsecond
		sec.measured = true
	}
	h.Reset()
	s.pool = append(s.pool, h)
	sec.hist = nil
}

// run turns what was recorded into fuka's measured run, and the meta that
// goes with it: a closed-model run, latency from the send, started at the
// first request's start.
func (s *samples) run() (*metrics.Run, report.Meta) {
	s.closeBefore(math.MaxInt)
	run := &metrics.Run{Names: s.names, ByName: s.byName, Total: s.total}
	meta := report.Meta{Model: report.ModelClosed, LatencyFrom: report.FromSend, Started: s.first}
	if s.first.IsZero() {
		return run, meta
	}
	meta.Elapsed = s.last.Sub(s.first)
	lo := 0
	for lo < len(s.secs) && !s.secs[lo].used {
		lo++
	}
	var prev time.Duration
	for i := lo; i < len(s.secs) && i-lo < maxSeconds; i++ {
		sec := s.secs[i]
		at := s.origin.Add(time.Duration(i+1) * time.Second).Sub(s.first)
		if at > meta.Elapsed && meta.Elapsed > prev {
			at = meta.Elapsed
		}
		if at <= prev {
			continue // a second wholly before the run's start: no request ended in it
		}
		p := metrics.Point{
			At: at, Span: at - prev,
			Requests: sec.requests, Failed: sec.failed, Errors: sec.errors, BytesIn: sec.in, BytesOut: sec.out,
		}
		if i == lo {
			p.Span = min(at, time.Second)
		}
		if sec.measured {
			p.P50, p.P90, p.P95, p.P99, p.Max = sec.p50, sec.p90, sec.p95, sec.p99, sec.max
		}
		run.Timeline = append(run.Timeline, p)
		prev = at
	}
	return run, meta
}

// summary is the run's summary, with requests per name and the timeline.
func (s *samples) summary(im *report.Imported) *report.Summary {
	run, meta := s.run()
	sum := report.NewSummary(meta, run)
	sum.Imported = im
	if s.offGrid > 0 {
		sum.Warnings = append(sum.Warnings, plural(s.offGrid, "request")+" had no time or fell outside the timeline's day: they count in the totals, not on the timeline")
	}
	return sum
}
