package output

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// receiver is an OTLP/HTTP metrics receiver: it decodes every export the
// way a collector does and keeps it.
type receiver struct {
	*httptest.Server
	status int // answer to every export

	mu       sync.Mutex
	path     string
	exports  []*collectorpb.ExportMetricsServiceRequest
	problems []string
}

func newReceiver(t *testing.T, path string, status int) *receiver {
	r := &receiver{status: status, path: path}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve)) // listens on 127.0.0.1
	t.Cleanup(func() {
		r.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range r.problems {
			t.Errorf("receiver: %s", p)
		}
	})
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	problem := func(format string, args ...any) {
		r.mu.Lock()
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
		r.mu.Unlock()
		http.Error(w, "bad request", http.StatusBadRequest)
	}
	if req.Method != http.MethodPost || req.URL.Path != r.path {
		problem("%s %s, want POST %s", req.Method, req.URL.Path, r.path)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		problem("Content-Type %q", ct)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			problem("gzip: %v", err)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 4<<20))
	if err != nil {
		problem("read: %v", err)
		return
	}
	var m collectorpb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(b, &m); err != nil {
		problem("decode: %v", err)
		return
	}
	r.mu.Lock()
	r.exports = append(r.exports, &m)
	r.mu.Unlock()
	if r.status != http.StatusOK {
		http.Error(w, "no", r.status)
		return
	}
	out, _ := proto.Marshal(&collectorpb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// last returns the latest export.
func (r *receiver) last() *collectorpb.ExportMetricsServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.exports) == 0 {
		return nil
	}
	return r.exports[len(r.exports)-1]
}

// flattenOTLP turns an export into the same keys as a Prometheus scrape and
// checks the resource and the kinds of the metrics on the way.
func flattenOTLP(t *testing.T, req *collectorpb.ExportMetricsServiceRequest) map[string]float64 {
	t.Helper()
	got := make(map[string]float64)
	for _, rm := range req.GetResourceMetrics() {
		var service string
		for _, a := range rm.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		if service != "fuka" {
			t.Errorf("resource service.name = %q, want fuka", service)
		}
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				var points []*metricspb.NumberDataPoint
				switch d := m.GetData().(type) {
				case *metricspb.Metric_Sum:
					if !counters[m.GetName()] {
						t.Errorf("%s is a sum, want a gauge", m.GetName())
					}
					if !d.Sum.GetIsMonotonic() || d.Sum.GetAggregationTemporality() != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
						t.Errorf("%s: want a monotonic cumulative sum", m.GetName())
					}
					points = d.Sum.GetDataPoints()
				case *metricspb.Metric_Gauge:
					if counters[m.GetName()] || histograms[m.GetName()] {
						t.Errorf("%s is a gauge, want a sum or a histogram", m.GetName())
					}
					points = d.Gauge.GetDataPoints()
				case *metricspb.Metric_ExponentialHistogram:
					if !histograms[m.GetName()] {
						t.Errorf("%s is a histogram", m.GetName())
					}
					if d.ExponentialHistogram.GetAggregationTemporality() != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
						t.Errorf("%s: want a cumulative histogram", m.GetName())
					}
					for _, p := range d.ExponentialHistogram.GetDataPoints() {
						var labels []string
						for _, a := range p.GetAttributes() {
							labels = append(labels, a.GetKey(), a.GetValue().GetStringValue())
						}
						n := p.GetZeroCount()
						for _, c := range p.GetPositive().GetBucketCounts() {
							n += c
						}
						if n != p.GetCount() || len(p.GetNegative().GetBucketCounts()) != 0 {
							t.Errorf("%s%v: buckets hold %d values (%d negative), count is %d", m.GetName(), labels, n, len(p.GetNegative().GetBucketCounts()), p.GetCount())
						}
						got[key(m.GetName()+"_count", labels...)] = float64(p.GetCount())
						got[key(m.GetName()+"_sum", labels...)] = p.GetSum()
					}
				default:
					t.Errorf("%s: unexpected data %T", m.GetName(), d)
				}
				for _, p := range points {
					var labels []string
					for _, a := range p.GetAttributes() {
						labels = append(labels, a.GetKey(), a.GetValue().GetStringValue())
					}
					v := p.GetAsDouble()
					if _, ok := p.GetValue().(*metricspb.NumberDataPoint_AsInt); ok {
						v = float64(p.GetAsInt())
					}
					got[key(m.GetName(), labels...)] = v
				}
			}
		}
	}
	return got
}

func TestOTLPExportsToReceiver(t *testing.T) {
	tests := []struct {
		name     string
		path     string // receiver path
		endpoint func(base string) string
	}{
		{"base URL", "/v1/metrics", func(b string) string { return b }},
		{"base URL with slash", "/v1/metrics", func(b string) string { return b + "/" }},
		{"full metrics URL", "/otlp/v1/metrics", func(b string) string { return b + "/otlp/v1/metrics" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, tt.path, http.StatusOK)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			o, err := NewOTLP(ctx, tt.endpoint(rcv.URL), RunID(testRunID))
			if err != nil {
				t.Fatal(err)
			}

			var lastP metrics.Point
			var lastRun *metrics.Run
			first := true
			run := feed(shopNames, shopTicks, func(p metrics.Point, run *metrics.Run) {
				o.Tick(p.At, p, run)
				lastP, lastRun = p, run
				if !first {
					return
				}
				first = false
				// The periodic reader exports once a second without
				// being asked; wait for the first interval to arrive.
				want := float64(run.ByName[0].Requests)
				k := key("fuka_requests_total", "name", shopNames[0], "run_id", testRunID)
				for {
					if m := rcv.last(); m != nil && flattenOTLP(t, m)[k] == want {
						break
					}
					select {
					case <-ctx.Done():
						t.Fatalf("no periodic export with %s = %v", k, want)
					case <-time.After(20 * time.Millisecond):
					}
				}
			})

			if err := o.Close(ctx, shopSummary(run)); err != nil {
				t.Fatalf("Close: %v", err)
			}
			m := rcv.last()
			if m == nil {
				t.Fatal("nothing exported")
			}
			want := wantSeries(lastP, lastRun)
			for k := range want {
				if strings.Contains(k, "_bucket{") { // Prometheus' explicit buckets; OTLP's are exponential
					delete(want, k)
				}
			}
			diffSeries(t, flattenOTLP(t, m), want)
			checkExpQuantiles(t, m, shopSummary(lastRun))
			if err := o.Close(ctx, nil); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// checkExpQuantiles checks the exponential latency histograms against the
// summary: the p50 and p99 read from the buckets (as a collector or
// Prometheus reads them, at a bucket's middle) are fuka's within the
// scale's relative error, fuka's values lie in the buckets that quantile
// falls in, and min and max are fuka's.
func checkExpQuantiles(t *testing.T, req *collectorpb.ExportMetricsServiceRequest, sum *report.Summary) {
	t.Helper()
	byName := make(map[string]report.Latency)
	for _, n := range sum.ByName {
		byName[n.Name] = n.Latency
	}
	seen := 0
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				for _, p := range m.GetExponentialHistogram().GetDataPoints() {
					var name string
					for _, a := range p.GetAttributes() {
						if a.GetKey() == "name" {
							name = a.GetValue().GetStringValue()
						}
					}
					lat, ok := byName[name]
					if !ok {
						t.Errorf("%s{name=%q}: no such name in the summary", m.GetName(), name)
						continue
					}
					seen++
					// Scale 4: buckets 2^(1/16) wide, ±2.2 % around the middle.
					if p.GetScale() < 4 {
						t.Errorf("%s{name=%q}: scale %d, want at least 4 (relative error ≤ 2.2 %%)", m.GetName(), name, p.GetScale())
					}
					for _, q := range []struct {
						q    float64
						fuka float64 // seconds
					}{{0.5, lat.P50MS / 1e3}, {0.99, lat.P99MS / 1e3}} {
						lo, hi := expQuantileBucket(p, q.q)
						mid := math.Sqrt(lo * hi)
						const tiny = 1e-9 // the summary's milliseconds are rounded to the µs
						if !(q.fuka > lo*(1-tiny) && q.fuka <= hi*(1+tiny)) || math.Abs(mid-q.fuka)/q.fuka > 0.022 {
							t.Errorf("%s{name=%q} p%g: bucket (%g, %g] s, middle %g s; fuka's is %g s", m.GetName(), name, q.q*100, lo, hi, mid, q.fuka)
						}
					}
					if math.Abs(p.GetMin()-lat.MinMS/1e3) > 1e-6 || math.Abs(p.GetMax()-lat.MaxMS/1e3) > 1e-6 {
						t.Errorf("%s{name=%q}: min %g max %g s, fuka's %g %g ms", m.GetName(), name, p.GetMin(), p.GetMax(), lat.MinMS, lat.MaxMS)
					}
				}
			}
		}
	}
	if seen != 2*len(sum.ByName) {
		t.Errorf("%d exponential histogram points for %d names, want latency and service time each", seen, len(sum.ByName))
	}
}

// expQuantileBucket returns the bounds of the bucket that holds quantile q
// of p by the rank fuka's HDR percentiles use, read from p's buckets the
// way the OTLP data model defines them.
func expQuantileBucket(p *metricspb.ExponentialHistogramDataPoint, q float64) (lo, hi float64) {
	rank := max(uint64(q*float64(p.GetCount())+0.5), 1)
	n := p.GetZeroCount()
	if n >= rank {
		return 0, 0
	}
	base := math.Exp2(math.Exp2(-float64(p.GetScale())))
	for i, c := range p.GetPositive().GetBucketCounts() {
		n += c
		if n >= rank {
			idx := float64(p.GetPositive().GetOffset()) + float64(i)
			return math.Pow(base, idx), math.Pow(base, idx+1)
		}
	}
	return math.Inf(1), math.Inf(1)
}

func TestOTLPCloseReportsFailedExports(t *testing.T) {
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
	}{
		{"receiver rejects", func(t *testing.T) string { return newReceiver(t, "/v1/metrics", http.StatusBadRequest).URL }},
		{"nobody listens", func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close() // a loopback port that was just free
			return srv.URL
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			o, err := NewOTLP(ctx, tt.endpoint(t))
			if err != nil {
				t.Fatal(err)
			}
			run := feed(shopNames, shopTicks[:1], func(p metrics.Point, run *metrics.Run) { o.Tick(p.At, p, run) })
			err = o.Close(ctx, shopSummary(run))
			t.Logf("Close: %v", err)
			if err == nil || !strings.Contains(err.Error(), "exports to") {
				t.Errorf("Close = %v, want the failed exports reported", err)
			}
			if ws := o.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], "exports to") {
				t.Errorf("Warnings = %q, want the failed exports for the summary", ws)
			}
		})
	}
}

func TestOTLPURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" = error
	}{
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/metrics"},
		{"http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/metrics"},
		{"https://otel.example/otlp/v1/metrics", "https://otel.example/otlp/v1/metrics"},
		{"http://[::1]:4318", "http://[::1]:4318/v1/metrics"},
		{"127.0.0.1:4318", ""},
		{"localhost:4318", ""},
		{"grpc://127.0.0.1:4317", ""},
		{"http://", ""},
		{"http://user:secret@127.0.0.1:4318", ""},
		{"http://127.0.0.1:4318/?x=1", ""},
		{"http://127.0.0.1:port", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := otlpURL(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Errorf("otlpURL = %q, want an error", got)
				} else if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("otlpURL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestExpIndex(t *testing.T) {
	step := math.Exp2(1.0 / (1 << ExpScale))
	tests := []struct {
		name string
		v    float64
		want int32
	}{
		{"one is bucket -1's upper bound", 1, -1},
		{"just above one", 1.0001, 0},
		{"two", 2, (1 << ExpScale) - 1},
		{"half", 0.5, -(1 << ExpScale) - 1},
		{"one bucket above one, just over", step * 1.0001, 1},
		{"1 ms", 0.001, int32(math.Ceil(math.Log2(0.001)*(1<<ExpScale))) - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := expIndex(tt.v)
			if got != tt.want {
				t.Errorf("expIndex(%g) = %d, want %d", tt.v, got, tt.want)
			}
			if lo, hi := expBucketBounds(got); !(tt.v > lo && tt.v <= hi*(1+1e-12)) {
				t.Errorf("%g not in its bucket (%g, %g]", tt.v, lo, hi)
			}
		})
	}
}

func TestExpHistMerge(t *testing.T) {
	a := expHist{offset: 3, counts: []uint64{1, 2}, min: 0.1, max: 0.2}
	b := expHist{offset: 1, counts: []uint64{5, 0, 0, 0, 7}, zero: 2, min: 0, max: 0.3}
	tests := []struct {
		name string
		x, y expHist
		want expHist
	}{
		{"overlapping", a, b, expHist{offset: 1, counts: []uint64{5, 0, 1, 2, 7}, zero: 2, min: 0, max: 0.3}},
		{"other way round", b, a, expHist{offset: 1, counts: []uint64{5, 0, 1, 2, 7}, zero: 2, min: 0, max: 0.3}},
		{"empty left", expHist{}, a, a},
		{"empty right", a, expHist{}, a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.x.merge(tt.y)
			if got.offset != tt.want.offset || !slices.Equal(got.counts, tt.want.counts) || got.zero != tt.want.zero || got.min != tt.want.min || got.max != tt.want.max {
				t.Errorf("merge = %+v, want %+v", got, tt.want)
			}
		})
	}
	if a.counts[0] != 1 || b.counts[0] != 5 {
		t.Error("merge changed its inputs")
	}
}
