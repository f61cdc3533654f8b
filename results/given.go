package results

import (
	"math"
	"net/url"
	"time"

	"github.com/fuka-load/fuka/report"
)

// given is a run as a tool summarised it: totals and the percentiles it
// chose to report, in milliseconds. NaN marks a figure the tool did not
// give; it becomes 0 in the summary and is listed as not measured.
type given struct {
	requests, failed   int64
	bytesIn, bytesOut  int64
	durationS          float64
	started            time.Time
	target, method     string
	latency            [8]float64 // min, mean, p50, p90, p95, p99, p999, max
	status             map[string]int64
	errors             report.ErrorCounts
	clients            int
	noStatus, noErrors bool // the tool does not break failures down
	noBytesIn          bool
	noBytesOut         bool
}

// The latency figures, in the order of given.latency, by JSON key.
var latencyKeys = [8]string{"latency.min_ms", "latency.mean_ms", "latency.p50_ms", "latency.p90_ms", "latency.p95_ms", "latency.p99_ms", "latency.p999_ms", "latency.max_ms"}

func newGiven() *given {
	g := &given{status: map[string]int64{}}
	for i := range g.latency {
		g.latency[i] = math.NaN()
	}
	return g
}

// summary builds the summary of g; im.NotMeasured gets what g lacks.
func (g *given) summary(im *report.Imported) *report.Summary {
	val := func(i int) float64 {
		v := g.latency[i]
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			im.NotMeasured = append(im.NotMeasured, latencyKeys[i])
			return 0
		}
		return ms(v)
	}
	lat := report.Latency{MinMS: val(0), MeanMS: val(1), P50MS: val(2), P90MS: val(3), P95MS: val(4), P99MS: val(5), P999MS: val(6), MaxMS: val(7)}
	im.NotMeasured = append(im.NotMeasured, "service_time", "timeline")
	if g.noStatus {
		im.NotMeasured = append(im.NotMeasured, "status")
	}
	if g.noErrors {
		im.NotMeasured = append(im.NotMeasured, "errors")
	}
	if g.noBytesIn {
		im.NotMeasured = append(im.NotMeasured, "bytes_in")
	}
	if g.noBytesOut {
		im.NotMeasured = append(im.NotMeasured, "bytes_out")
	}
	if g.started.IsZero() {
		im.NotMeasured = append(im.NotMeasured, "started")
	}
	d := g.durationS
	if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		d = 0
	}
	sum := &report.Summary{
		Target:        g.target,
		Method:        g.method,
		Model:         report.ModelClosed,
		LatencyFrom:   report.FromSend,
		Started:       g.started.Round(time.Millisecond),
		DurationS:     round3(d),
		Clients:       g.clients,
		Requests:      g.requests,
		Failed:        g.failed,
		ErrorRate:     round6(ratio(float64(g.failed), float64(g.requests))),
		RPS:           round3(ratio(float64(g.requests), d)),
		BytesIn:       g.bytesIn,
		BytesOut:      g.bytesOut,
		ThroughputBPS: round3(ratio(float64(g.bytesIn), d)),
		Latency:       lat,
		Status:        g.status,
		Errors:        g.errors,
		ByName:        []report.NameSummary{},
		Timeline:      []report.Interval{},
		Imported:      im,
	}
	return sum
}

// oneRequest gives a summary of a tool that sends one request over and
// over (wrk, bombardier) that request as its only name, "METHOD /path" as
// fuka attack names it, so that fuka compare sets it against fuka's row.
func oneRequest(sum *report.Summary) {
	u, err := url.Parse(sum.Target)
	if err != nil || sum.Method == "" || u.Host == "" {
		return
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	sum.ByName = []report.NameSummary{{
		Name: sum.Method + " " + path, Requests: sum.Requests, Failed: sum.Failed, RPS: sum.RPS,
		Latency: sum.Latency, Status: sum.Status, Errors: sum.Errors,
	}}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func round3(f float64) float64 { return math.Round(f*1e3) / 1e3 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
