package output

import (
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// Runs are built the way the engine builds them, through a Recorder and a
// Collector, so the sinks see the shapes a real run produces.

// hostile is a request name that tries to break out of every format the
// outputs write: CSV (comma, quote, newline, formula), JSON, HTML and
// Slack markup.
const hostile = "=cmd|' /C calc'!A0,\"quoted\"\n</script><img src=x onerror=alert(1)> <!channel> & <https://evil.example|click>"

// batch is n identical outcomes for one request name.
type batch struct {
	name int
	o    metrics.Outcome
	n    int
}

// tick is one interval of a fixture run.
type tick struct {
	at      time.Duration
	clients int
	out     []batch
	drop    int64
}

func ok(lat time.Duration) metrics.Outcome {
	return metrics.Outcome{Latency: lat, Service: lat, Status: 200, BytesIn: 1000, BytesOut: 100}
}

func status(code int, lat time.Duration) metrics.Outcome {
	return metrics.Outcome{Latency: lat, Service: lat, Status: code, BytesIn: 500, BytesOut: 100}
}

func failure(kind metrics.ErrorKind, lat time.Duration) metrics.Outcome {
	return metrics.Outcome{Latency: lat, Service: lat, Err: kind, BytesOut: 100}
}

var shopNames = []string{"list products", "checkout", hostile}

// shopTicks are three intervals of an open-model run stopped after 2.5 s.
var shopTicks = []tick{
	{at: time.Second, clients: 8, out: []batch{
		{0, ok(800 * time.Microsecond), 70},
		{0, ok(3 * time.Millisecond), 10},
		{1, ok(12 * time.Millisecond), 18},
		{1, status(500, 40*time.Millisecond), 1},
		{1, failure(metrics.ErrReset, 2*time.Millisecond), 1},
		{2, ok(time.Millisecond), 5},
	}},
	{at: 2 * time.Second, clients: 20, drop: 12, out: []batch{
		{0, ok(900 * time.Microsecond), 60},
		{0, ok(250 * time.Millisecond), 20},
		{1, ok(300 * time.Millisecond), 17},
		{1, failure(metrics.ErrTimeout, time.Second), 2},
		{2, failure(metrics.ErrRefused, time.Millisecond), 3},
	}},
	{at: 2500 * time.Millisecond, clients: 20, drop: 3, out: []batch{
		{0, ok(time.Millisecond), 40},
		{1, ok(15 * time.Millisecond), 10},
	}},
}

// feed runs ticks through a real Collector and hands every interval to fn,
// the way the engine's ticker feeds a Sink.
func feed(names []string, ticks []tick, fn func(p metrics.Point, run *metrics.Run)) *metrics.Run {
	r := metrics.NewRecorder(len(names))
	c := metrics.NewCollector(names, []*metrics.Recorder{r})
	for _, t := range ticks {
		for _, b := range t.out {
			for range b.n {
				r.Record(b.name, b.o)
			}
		}
		r.Drop(t.drop)
		p := c.Tick(t.at, t.clients)
		if fn != nil {
			fn(p, c.Run())
		}
	}
	return c.Run()
}

func shopSummary(run *metrics.Run) *report.Summary {
	sum := report.NewSummary(report.Meta{
		Name: "shop", Target: "http://127.0.0.1:8080", Model: report.ModelOpen,
		Clients: 20, MaxClients: 50, Planned: 10 * time.Second,
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: 2500 * time.Millisecond,
		Scheduled: 265, Version: "v0.1.0",
	}, run)
	sum.Thresholds = []report.ThresholdResult{
		{Expr: "p99 < 300ms", Pass: false, Detail: "✗ p99 < 300ms (actual 1s)"},
		{Expr: "error_rate < 10%", Pass: true, Detail: "✓ error_rate < 10% (actual 2.9%)"},
	}
	return sum
}
