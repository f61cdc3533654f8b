package results

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/report"
)

// want is what a fixture must import as: every number was read from the
// file by hand (or, for the files with raw samples, computed from them by
// the nearest-rank method; fuka's HDR histograms agree within 0.1%).
type want struct {
	format, tool     string
	target           string // checked when set
	percentiles      string
	requests, failed int64
	durationS        float64
	rps              float64 // when set, to 0.01/s
	p50, p90, p95    float64 // ms; NaN = not measured
	p99, max         float64
	bytesIn          int64
	status           map[string]int64
	names            map[string]int64 // requests by name
	timeline         []int64          // requests per point
	timelineFailed   []int64          // failed per point, when set
	checks           []report.CheckSummary
	notMeasured      []string
}

var nan = math.NaN()

var fixtures = map[string]want{
	"wrk-latency.txt": {
		format: Wrk, tool: "wrk", percentiles: report.PercentilesGiven,
		requests: 17261, durationS: 3.00,
		p50: 1.32, p90: 1.49, p95: nan, p99: 4.89, max: 14.98,
		bytesIn:     2401239, // 2.29MB as wrk prints it
		names:       map[string]int64{"GET /": 17261},
		notMeasured: []string{"latency.p95_ms", "latency.min_ms", "timeline", "status"},
	},
	"wrk-plain.txt": {
		format: Wrk, tool: "wrk", percentiles: report.PercentilesGiven,
		requests: 72848, failed: 7284, durationS: 2.005, rps: 36340.92, // from Requests/sec, not "in 2.00s"
		p50: nan, p90: nan, p95: nan, p99: nan, max: 17.09,
		bytesIn:     9059697,
		notMeasured: []string{"latency.p50_ms", "latency.p99_ms"},
	},
	"wrk-rounded.txt": {
		format: Wrk, tool: "wrk", percentiles: report.PercentilesGiven,
		requests: 91899, durationS: 3.077, rps: 29870.34, // "in 3.08s" gave 29837.3/s
		p50: nan, p90: nan, p95: nan, p99: nan, max: 9.87,
		bytesIn:     11429478,
		notMeasured: []string{"latency.p50_ms", "latency.p99_ms"},
	},
	"wrk-instant.txt": {
		format: Wrk, tool: "wrk", percentiles: report.PercentilesGiven,
		requests: 41, durationS: 0.005, rps: 8200, // "in 0.00s" gave 0/s
		p50: nan, p90: nan, p95: nan, p99: nan, max: 1.2,
		bytesIn:     5120,
		notMeasured: []string{"latency.p50_ms", "latency.p99_ms"},
	},
	"hey.txt": {
		format: Hey, tool: "hey", percentiles: report.PercentilesGiven,
		requests: 400, failed: 40, durationS: 0.029, // 0.0285 s, to the ms
		p50: 0.4, p90: 0.9, p95: 1.2, p99: 2.8, max: 3.3,
		bytesIn: 1280, status: map[string]int64{"200": 360, "500": 40},
		notMeasured: []string{"latency.p999_ms", "timeline", "bytes_out"},
	},
	"bombardier.json": {
		format: Bombardier, tool: "bombardier", percentiles: report.PercentilesGiven,
		requests: 500, failed: 50, durationS: 0.018,
		p50: 0.238, p90: 0.44, p95: 0.625, p99: 0.943, max: 1.253,
		bytesIn: 62200, status: map[string]int64{"200": 450, "500": 50},
		names:       map[string]int64{"GET /flaky": 500},
		notMeasured: []string{"latency.min_ms", "timeline"},
	},
	"bombardier-ir.json": {
		format: Bombardier, tool: "bombardier", percentiles: report.PercentilesGiven,
		requests: 300, durationS: 0.068,
		p50: nan, p90: nan, p95: nan, p99: nan, max: 18.182,
		bytesIn: 41700, status: map[string]int64{"200": 300},
		notMeasured: []string{"latency.p50_ms", "latency.p99_ms"},
	},
	"locust_stats.csv": {
		format: LocustStats, tool: "Locust", percentiles: report.PercentilesGiven,
		requests: 198, failed: 4, durationS: 2.971, // 198 / 66.6467 req/s
		p50: 3, p90: 14, p95: 24, p99: 31, max: 31.713,
		bytesIn: 3547, names: map[string]int64{"flaky": 43, "home": 155},
		notMeasured: []string{"status", "timeline"},
	},
	"locust-history.csv": {
		format: LocustHistory, tool: "Locust", percentiles: report.PercentilesGiven,
		requests: 230, failed: 5, durationS: 4,
		p50: 3, p90: 10, p95: 12, p99: 21, max: 26.1,
		timeline: []int64{40, 70, 120},
	},
	"k6-summary.json": {
		format: K6Summary, tool: "k6", percentiles: report.PercentilesGiven,
		requests: 100, failed: 5, durationS: 10,
		p50: 10.1, p90: 20.3, p95: 30.4, p99: nan, max: 120.7,
		bytesIn:     123456,
		checks:      []report.CheckSummary{{Name: "status is 200", Passes: 95, Fails: 5}},
		notMeasured: []string{"latency.p99_ms", "timeline", "status"},
	},
	"k6.json": {
		format: K6JSON, tool: "k6", percentiles: report.PercentilesRecomputed,
		// five requests, 10..50 ms, ending at .010, .420, 1.230, 1.540,
		// 2.100 s; the first started at 0.000.
		requests: 5, failed: 2, durationS: 2.1,
		p50: 30, p90: 50, p95: 50, p99: 50, max: 50,
		bytesIn: 1200, status: map[string]int64{"200": 3, "503": 1},
		names:    map[string]int64{"home": 3, "login": 2},
		timeline: []int64{2, 2, 1}, timelineFailed: []int64{0, 1, 1},
		checks: []report.CheckSummary{{Name: "status is 200", Passes: 3, Fails: 2}},
	},
	"jmeter.jtl": {
		target: "http://127.0.0.1:8080",
		format: JTLCSV, tool: "JMeter", percentiles: report.PercentilesRecomputed,
		requests: 10, failed: 2, durationS: 2.995,
		p50: 50, p90: 90, p95: 95, p99: 95, max: 95,
		bytesIn: 1150, status: map[string]int64{"200": 8, "500": 1},
		names:    map[string]int64{"home": 7, "login": 3},
		timeline: []int64{3, 3, 4}, timelineFailed: []int64{0, 1, 1},
		checks: []report.CheckSummary{{Name: jtlSuccessCheck, Passes: 7, Fails: 1}},
	},
	"jmeter.xml": {
		format: JTLXML, tool: "JMeter", percentiles: report.PercentilesRecomputed,
		requests: 10, failed: 2, durationS: 2.995,
		p50: 50, p90: 90, p95: 95, p99: 95, max: 95,
		bytesIn: 1150, status: map[string]int64{"200": 8, "500": 1},
		names:    map[string]int64{"home": 7, "login": 3},
		timeline: []int64{3, 3, 4}, timelineFailed: []int64{0, 1, 1},
		checks: []report.CheckSummary{{Name: jtlSuccessCheck, Passes: 7, Fails: 1}},
	},
	"vegeta.bin": {
		format: VegetaGob, tool: "vegeta", percentiles: report.PercentilesRecomputed,
		requests: 40, failed: 2, durationS: 1.951,
		p50: 1.597, p90: 4.888, p95: 5.638, p99: 13.078, max: 13.078,
		bytesIn: 504, status: map[string]int64{"200": 38, "500": 2},
		names:  map[string]int64{"GET /": 20, "GET /flaky": 20},
		target: "http://127.0.0.1:18931",
	},
	"vegeta.json": {
		format: VegetaJSON, tool: "vegeta", percentiles: report.PercentilesRecomputed,
		requests: 40, failed: 2, durationS: 1.951,
		p50: 1.597, p90: 4.888, p95: 5.638, p99: 13.078, max: 13.078,
		bytesIn: 504, status: map[string]int64{"200": 38, "500": 2},
		names: map[string]int64{"GET /": 20, "GET /flaky": 20},
	},
}

// close says whether got is want within HDR's 0.1% (and 1 µs of rounding).
func closeTo(got, want float64) bool { return math.Abs(got-want) <= want*0.001+0.0015 }

func TestImportFixtures(t *testing.T) {
	for file, w := range fixtures {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Detect(data); err != nil || got != w.format {
				t.Fatalf("Detect = %q, %v; want %q", got, err, w.format)
			}
			sum, err := Import(strings.NewReader(string(data)), Options{File: file, Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			im := sum.Imported
			if im == nil || im.Tool != w.tool || im.Format != w.format || im.Percentiles != w.percentiles || im.File != file {
				t.Fatalf("imported = %+v", im)
			}
			if sum.Name != w.tool || sum.Version != "test" {
				t.Errorf("name %q version %q", sum.Name, sum.Version)
			}
			if w.target != "" && sum.Target != w.target {
				t.Errorf("target %q, want %q", sum.Target, w.target)
			}
			if sum.Requests != w.requests || sum.Failed != w.failed {
				t.Errorf("requests %d failed %d, want %d %d", sum.Requests, sum.Failed, w.requests, w.failed)
			}
			if !closeTo(sum.DurationS, w.durationS) {
				t.Errorf("duration %v s, want %v", sum.DurationS, w.durationS)
			}
			// The duration is rounded to the ms: short runs' rates differ by that.
			if rps := float64(w.requests) / w.durationS; w.durationS > 0 && math.Abs(sum.RPS-rps) > rps*0.02 {
				t.Errorf("rps %v, want %v", sum.RPS, float64(w.requests)/w.durationS)
			}
			if w.rps > 0 && math.Abs(sum.RPS-w.rps) > 0.01 {
				t.Errorf("rps %v, want %v as the tool said", sum.RPS, w.rps)
			}
			for _, m := range []struct {
				key       string
				got, want float64
			}{
				{"latency.p50_ms", sum.Latency.P50MS, w.p50},
				{"latency.p90_ms", sum.Latency.P90MS, w.p90},
				{"latency.p95_ms", sum.Latency.P95MS, w.p95},
				{"latency.p99_ms", sum.Latency.P99MS, w.p99},
				{"latency.max_ms", sum.Latency.MaxMS, w.max},
			} {
				if math.IsNaN(m.want) {
					if !im.Missing(m.key) || m.got != 0 {
						t.Errorf("%s = %v, not listed as not measured: %v", m.key, m.got, im.NotMeasured)
					}
					continue
				}
				if im.Missing(m.key) || !closeTo(m.got, m.want) {
					t.Errorf("%s = %v (missing %v), want %v", m.key, m.got, im.Missing(m.key), m.want)
				}
			}
			if sum.BytesIn != w.bytesIn {
				t.Errorf("bytes in %d, want %d", sum.BytesIn, w.bytesIn)
			}
			for code, n := range w.status {
				if sum.Status[code] != n {
					t.Errorf("status %s: %d, want %d (%v)", code, sum.Status[code], n, sum.Status)
				}
			}
			if w.names != nil {
				got := map[string]int64{}
				for _, n := range sum.ByName {
					got[n.Name] = n.Requests
				}
				if !mapsEqual(got, w.names) {
					t.Errorf("by name %v, want %v", got, w.names)
				}
			}
			if w.timeline != nil {
				var got []int64
				for _, iv := range sum.Timeline {
					got = append(got, iv.Requests)
				}
				if !slices.Equal(got, w.timeline) {
					t.Errorf("timeline %v, want %v", got, w.timeline)
				}
			}
			if w.timelineFailed != nil {
				var got []int64
				for _, iv := range sum.Timeline {
					got = append(got, iv.Failed)
				}
				if !slices.Equal(got, w.timelineFailed) {
					t.Errorf("timeline failures %v, want %v", got, w.timelineFailed)
				}
			}
			if !slices.Equal(sum.Checks, w.checks) {
				t.Errorf("checks %+v, want %+v", sum.Checks, w.checks)
			}
			for _, k := range w.notMeasured {
				if !im.Missing(k) {
					t.Errorf("%s not listed as not measured: %v", k, im.NotMeasured)
				}
			}
			if len(im.Notes) == 0 || !slices.Contains(sum.Warnings, im.Notes[0]) {
				t.Errorf("notes %q not among the warnings %q", im.Notes, sum.Warnings)
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
