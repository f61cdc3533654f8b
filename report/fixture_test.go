package report

import (
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// Runs are built the way the engine builds them, through a Recorder and a
// Collector, so the tests see exactly the shapes a real run produces.

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

func buildRun(names []string, ticks ...tick) *metrics.Run {
	r := metrics.NewRecorder(len(names))
	c := metrics.NewCollector(names, []*metrics.Recorder{r})
	for _, t := range ticks {
		for _, b := range t.out {
			for range b.n {
				r.Record(b.name, b.o)
			}
		}
		r.Drop(t.drop)
		c.Tick(t.at, t.clients)
	}
	return c.Run()
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

// queued is an open-model outcome that waited for a client: the user waited
// lat, the server took svc.
func queued(lat, svc time.Duration) metrics.Outcome {
	return metrics.Outcome{Latency: lat, Service: svc, Status: 200, BytesIn: 2048, BytesOut: 120}
}

// retry is o as a plan's retry of a failed attempt.
func retry(o metrics.Outcome) metrics.Outcome {
	o.Retry = true
	return o
}

var started = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// simpleRun: one name, two seconds, 200 requests:
// 189 x 1ms, 1 x 2ms (503), 9 x 5ms, 1 x 5s (timeout).
func simpleRun() *metrics.Run {
	return buildRun([]string{"GET /"},
		tick{at: time.Second, clients: 4, out: []batch{
			{0, ok(time.Millisecond), 90},
			{0, ok(5 * time.Millisecond), 9},
			{0, status(503, 2*time.Millisecond), 1},
		}},
		tick{at: 2 * time.Second, clients: 4, out: []batch{
			{0, ok(time.Millisecond), 99},
			{0, failure(metrics.ErrTimeout, 5*time.Second), 1},
		}},
	)
}

func closedMeta() Meta {
	return Meta{
		Target: "http://127.0.0.1:8080/?a=1&b=2", Method: "GET", Model: ModelClosed,
		Clients: 4, Planned: 2 * time.Second, Started: started, Elapsed: 2 * time.Second,
		Version: "v0.1.0",
	}
}

func openMeta() Meta {
	m := closedMeta()
	m.Model, m.LatencyFrom = ModelOpen, FromIntended
	m.MaxClients, m.Rate, m.Scheduled = 100, "100:2s", 210
	return m
}

// shopRun: two names over three intervals of an open-model run that was
// stopped after 2.5 s; the last interval is half a second. The last 10
// checkouts are retries.
func shopRun() *metrics.Run {
	return buildRun([]string{"list products", "checkout"},
		tick{at: time.Second, clients: 8, out: []batch{
			{0, queued(800*time.Microsecond, 700*time.Microsecond), 70},
			{0, queued(3*time.Millisecond, time.Millisecond), 10},
			{1, queued(12*time.Millisecond, 9*time.Millisecond), 18},
			{1, status(500, 40*time.Millisecond), 1},
			{1, failure(metrics.ErrReset, 2*time.Millisecond), 1},
		}},
		tick{at: 2 * time.Second, clients: 20, drop: 12, out: []batch{
			{0, queued(900*time.Microsecond, 750*time.Microsecond), 60},
			{0, queued(250*time.Millisecond, 2*time.Millisecond), 20},
			{1, queued(300*time.Millisecond, 10*time.Millisecond), 17},
			{1, failure(metrics.ErrTimeout, time.Second), 2},
			{1, status(0, 5*time.Millisecond), 1}, // status outside 100..599
		}},
		tick{at: 2500 * time.Millisecond, clients: 20, drop: 3, out: []batch{
			{0, queued(time.Millisecond, 800*time.Microsecond), 40},
			{1, retry(queued(15*time.Millisecond, 11*time.Millisecond)), 10},
		}},
	)
}

func shopMeta() Meta {
	return Meta{
		Name: "shop", Target: "http://127.0.0.1:8080", Model: ModelOpen, LatencyFrom: FromIntended,
		Clients: 20, MaxClients: 50, Planned: 10 * time.Second, Rate: "100:10s",
		Started: started, Elapsed: 2500 * time.Millisecond, Scheduled: 265,
		Interrupted: true, Version: "v0.1.0", EndReason: EndInterrupted,
	}
}
