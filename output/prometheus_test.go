package output

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fuka-load/fuka/metrics"
)

// key names one series: metric{label="value",...}, labels in the order given.
func key(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name + "{")
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// wantSeries is every series the live outputs must publish after the
// interval p of run.
func wantSeries(p metrics.Point, run *metrics.Run) map[string]float64 {
	m := make(map[string]float64)
	for i, n := range run.Names {
		m[key("fuka_requests_total", "name", n)] += float64(run.ByName[i].Requests)
		m[key("fuka_failed_total", "name", n)] += float64(run.ByName[i].Failed)
	}
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		m[key("fuka_errors_total", "kind", k.String())] = float64(run.Total.Errors[k])
	}
	m["fuka_dropped_total"] = float64(run.Dropped)
	m["fuka_bytes_in_total"] = float64(run.Total.BytesIn)
	m["fuka_clients"] = float64(p.Clients)
	m["fuka_rps"] = p.RPS()
	for i, d := range []time.Duration{p.P50, p.P90, p.P95, p.P99} {
		m[key("fuka_latency_seconds", "quantile", quantiles[i])] = d.Seconds()
	}
	return m
}

// counters are the families that must be exposed as counters; the rest are
// gauges.
var counters = map[string]bool{
	"fuka_requests_total": true, "fuka_failed_total": true, "fuka_errors_total": true,
	"fuka_dropped_total": true, "fuka_bytes_in_total": true,
}

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
		if counters[name] {
			wantType = dto.MetricType_COUNTER
		}
		if f.GetType() != wantType {
			t.Errorf("%s: type %v, want %v", name, f.GetType(), wantType)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			v := m.GetGauge().GetValue()
			if wantType == dto.MetricType_COUNTER {
				v = m.GetCounter().GetValue()
			}
			got[key(name, labels...)] = v
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
	p, err := NewPrometheus("127.0.0.1:0")
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
	p, err := NewPrometheus("127.0.0.1:0")
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
