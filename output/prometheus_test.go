package output

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fuka-load/fuka/metrics"
)

// testRunID is the run_id the tests' sinks label their series with.
const testRunID = "test-run"

// key names one series: metric{label="value",...}, labels sorted by name
// and those with an empty value left out (Prometheus treats them as absent).
func key(name string, labels ...string) string {
	type pair struct{ k, v string }
	var ps []pair
	for i := 0; i+1 < len(labels); i += 2 {
		if labels[i+1] != "" {
			ps = append(ps, pair{labels[i], labels[i+1]})
		}
	}
	if len(ps) == 0 {
		return name
	}
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.WriteString(name + "{")
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", p.k, p.v)
	}
	b.WriteByte('}')
	return b.String()
}

// fedUntil returns the latencies of the shop fixture's requests up to
// offset at, per name index, as fuka reports them: each value's highest
// equivalent in the HDR histogram.
func fedUntil(at time.Duration) map[int][]time.Duration {
	out := map[int][]time.Duration{}
	for _, tk := range shopTicks {
		if tk.at > at {
			break
		}
		for _, b := range tk.out {
			st := metrics.NewStats()
			st.Record(b.o)
			reported := time.Duration(st.Latency.Max()) * time.Microsecond
			for range b.n {
				out[b.name] = append(out[b.name], reported)
			}
		}
	}
	return out
}

// wantSeries is every series the live outputs must publish after the
// interval p of run, a run of the shop fixture, flattened the way
// Prometheus stores histograms (_bucket{le}, _sum, _count).
func wantSeries(p metrics.Point, run *metrics.Run) map[string]float64 {
	m := make(map[string]float64)
	id := []string{"run_id", testRunID}
	lat := fedUntil(p.At)
	for i, n := range run.Names {
		st := run.ByName[i]
		l := append([]string{"name", n}, id...)
		lab := func(extra ...string) []string { return append(slices.Clone(l), extra...) }
		m[key("fuka_requests_total", l...)] += float64(st.Requests)
		m[key("fuka_failed_total", l...)] += float64(st.Failed)
		m[key("fuka_retried_total", l...)] += float64(st.Retried)
		m[key("fuka_bytes_in_total", l...)] += float64(st.BytesIn)
		m[key("fuka_bytes_out_total", l...)] += float64(st.BytesOut)
		for code, c := range st.Status {
			if c != 0 {
				m[key("fuka_responses_total", lab("status", fmt.Sprint(code))...)] += float64(c)
			}
		}
		for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
			m[key("fuka_errors_total", lab("kind", k.String())...)] += float64(st.Errors[k])
		}
		// The fixture's latency and service time are the same.
		for _, h := range []string{"fuka_latency_seconds", "fuka_service_time_seconds"} {
			for _, b := range LatencyBounds {
				n := 0
				for _, d := range lat[i] {
					if d.Seconds() <= b {
						n++
					}
				}
				m[key(h+"_bucket", lab("le", strconv.FormatFloat(b, 'g', -1, 64))...)] = float64(n)
			}
			m[key(h+"_bucket", lab("le", "+Inf")...)] = float64(len(lat[i]))
			m[key(h+"_count", l...)] = float64(len(lat[i]))
			m[key(h+"_sum", l...)] = st.Latency.Mean() * float64(st.Latency.TotalCount()) / 1e6
		}
	}
	m[key("fuka_dropped_total", id...)] = float64(run.Dropped)
	m[key("fuka_clients", id...)] = float64(p.Clients)
	m[key("fuka_rps", id...)] = p.RPS()
	for i, d := range []time.Duration{p.P50, p.P90, p.P95, p.P99} {
		m[key("fuka_interval_latency_seconds", append([]string{"quantile", quantiles[i]}, id...)...)] = d.Seconds()
	}
	return m
}

// counters are the families that must be exposed as counters, histograms
// those that must be histograms; the rest are gauges.
var (
	counters = map[string]bool{
		"fuka_requests_total": true, "fuka_failed_total": true, "fuka_errors_total": true,
		"fuka_dropped_total": true, "fuka_bytes_in_total": true, "fuka_bytes_out_total": true,
		"fuka_retried_total": true, "fuka_responses_total": true, "fuka_checks_total": true,
	}
	histograms = map[string]bool{"fuka_latency_seconds": true, "fuka_service_time_seconds": true}
)

// scrape gets /metrics the way a Prometheus server does and flattens it.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	got := make(map[string]float64)
	for name, f := range fams {
		if !strings.HasPrefix(name, "fuka_") {
			t.Errorf("family %q is not fuka's: the endpoint must use its own registry", name)
		}
		wantType := dto.MetricType_GAUGE
		switch {
		case counters[name]:
			wantType = dto.MetricType_COUNTER
		case histograms[name]:
			wantType = dto.MetricType_HISTOGRAM
		}
		if f.GetType() != wantType {
			t.Errorf("%s: type %v, want %v", name, f.GetType(), wantType)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch wantType {
			case dto.MetricType_COUNTER:
				got[key(name, labels...)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				got[key(name, labels...)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					got[key(name+"_bucket", append(slices.Clone(labels), "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))...)] = float64(b.GetCumulativeCount())
				}
				got[key(name+"_bucket", append(slices.Clone(labels), "le", "+Inf")...)] = float64(h.GetSampleCount())
				got[key(name+"_count", labels...)] = float64(h.GetSampleCount())
				got[key(name+"_sum", labels...)] = h.GetSampleSum()
			}
		}
	}
	return got
}

// diffSeries reports the differences between two flattened expositions.
func diffSeries(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s missing, want %v", k, want[k])
		case g != want[k]:
			t.Errorf("%s = %v, want %v", k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s = %v", k, got[k])
		}
	}
}

func TestPrometheusServesEachTick(t *testing.T) {
	p, err := NewPrometheus("127.0.0.1:0", RunID(testRunID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background(), nil) })
	addr := p.Addr().String()

	// Before the first tick: no names yet, every other series at zero.
	diffSeries(t, scrape(t, addr), wantSeries(metrics.Point{}, &metrics.Run{Total: metrics.NewStats()}))

	feed(shopNames, shopTicks, func(pt metrics.Point, run *metrics.Run) {
		p.Tick(pt.At, pt, run)
		t.Run(fmt.Sprintf("after %v", pt.At), func(t *testing.T) {
			diffSeries(t, scrape(t, addr), wantSeries(pt, run))
		})
	})
}

func TestPrometheusClose(t *testing.T) {
	p, err := NewPrometheus("127.0.0.1:0", RunID(testRunID))
	if err != nil {
		t.Fatal(err)
	}
	addr := p.Addr().String()
	run := feed(shopNames, shopTicks[:1], func(pt metrics.Point, run *metrics.Run) { p.Tick(pt.At, pt, run) })
	scrape(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Close(ctx, shopSummary(run)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(ctx, nil); err != nil {
		t.Errorf("second Close: %v", err)
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("scrape after Close answered %s, want a refused connection", resp.Status)
	}
}

func TestNewPrometheusRefuses(t *testing.T) {
	tests := []struct {
		name, addr, want string
	}{
		{"all interfaces", "0.0.0.0:9464", "refusing"},
		{"private address", "10.1.2.3:9464", "refusing"},
		{"ipv6 all interfaces", "[::]:9464", "refusing"},
		{"host name", "metrics.example:9464", "refusing"},
		{"no port", "127.0.0.1", "want host:port"},
		{"port out of range", "127.0.0.1:70000", "port"},
		{"port not a number", "127.0.0.1:http", "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPrometheus(tt.addr)
			if err == nil {
				p.Close(context.Background(), nil)
				t.Fatalf("NewPrometheus(%q) succeeded, want an error", tt.addr)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "prometheus: ") {
				t.Errorf("error %q, want prefix %q and %q in it", err, "prometheus: ", tt.want)
			}
		})
	}
}

func TestListenAddr(t *testing.T) {
	tests := []struct {
		addr    string
		anyHost bool
		want    string // "" = error
	}{
		{"127.0.0.1:9464", false, "127.0.0.1:9464"},
		{":9464", false, "127.0.0.1:9464"},
		{"localhost:0", false, "localhost:0"},
		{"[::1]:9464", false, "[::1]:9464"},
		{"127.8.9.10:9464", false, "127.8.9.10:9464"},
		{"0.0.0.0:9464", false, ""},
		{"0.0.0.0:9464", true, "0.0.0.0:9464"},
		{"metrics.example:9464", true, "metrics.example:9464"},
		{":9464", true, "127.0.0.1:9464"}, // still loopback by default
		{"127.0.0.1:-1", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s any=%v", tt.addr, tt.anyHost), func(t *testing.T) {
			got, err := listenAddr(tt.addr, tt.anyHost)
			if tt.want == "" {
				if err == nil {
					t.Errorf("listenAddr = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("listenAddr = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPrometheusScopesAndMonitors(t *testing.T) {
	p, err := NewPrometheus("127.0.0.1:0", RunID(testRunID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background(), nil) })
	p.SetScopes(Scopes{Scenario: []string{"browse", "buy", "browse,buy"}, Group: []string{"", "cart"}})
	p.Resources(time.Second, map[string]float64{
		"cpu.user_pct": 12.5, "proc.nginx.cpu_pct": 40, "nginx.active": 3, "postgres.connections.active": 2,
		"redis.connected_clients": 7, "kube.deployment.api.replicas_ready": 4, "prom.http_requests_per_s": 9,
		"agent.10.0.0.5:9810.cpu.user_pct": 33,
	})
	feed(shopNames, shopTicks[:1], func(pt metrics.Point, run *metrics.Run) {
		run.CheckNames, run.Checks = []string{"status is 200"}, [][2]int64{{7, 2}}
		p.Tick(pt.At, pt, run)
	})
	got := scrape(t, p.Addr().String())
	want := map[string]float64{
		key("fuka_requests_total", "name", shopNames[0], "scenario", "browse", "run_id", testRunID):                      80,
		key("fuka_requests_total", "name", shopNames[1], "scenario", "buy", "group", "cart", "run_id", testRunID):        20,
		key("fuka_requests_total", "name", shopNames[2], "scenario", "browse,buy", "run_id", testRunID):                  5,
		key("fuka_monitor_value", "source", "host", "series", "cpu.user_pct", "run_id", testRunID):                       12.5,
		key("fuka_monitor_value", "source", "process", "series", "proc.nginx.cpu_pct", "run_id", testRunID):              40,
		key("fuka_monitor_value", "source", "nginx", "series", "nginx.active", "run_id", testRunID):                      3,
		key("fuka_monitor_value", "source", "postgres", "series", "postgres.connections.active", "run_id", testRunID):    2,
		key("fuka_monitor_value", "source", "redis", "series", "redis.connected_clients", "run_id", testRunID):           7,
		key("fuka_monitor_value", "source", "kube", "series", "kube.deployment.api.replicas_ready", "run_id", testRunID): 4,
		key("fuka_monitor_value", "source", "prometheus", "series", "prom.http_requests_per_s", "run_id", testRunID):     9,
		key("fuka_monitor_value", "source", "agent", "series", "agent.10.0.0.5:9810.cpu.user_pct", "run_id", testRunID):  33,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "fuka_monitor_value{") {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d monitor series, want 8", n)
	}
}
