package monitor

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promTarget is an application's /metrics, served by client_golang.
type promTarget struct {
	url      string
	requests prometheus.Counter
	temp     prometheus.Gauge
	queue    *prometheus.GaugeVec
	served   *prometheus.CounterVec
	latency  prometheus.Histogram
}

func newPromTarget(t *testing.T) *promTarget {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := &promTarget{
		requests: prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}),
		temp:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_temperature_celsius", Help: "Heat."}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_queue_depth", Help: "Jobs waiting."},
			[]string{"queue", "shard"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_served_bytes_total", Help: "Bytes."},
			[]string{"path", "version"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "app_latency_seconds", Help: "Latency."}),
	}
	reg.MustRegister(p.requests, p.temp, p.queue, p.served, p.latency)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	p.url = srv.URL + "/metrics"
	return p
}

func TestPrometheusSeriesFromAClientGolangRegistry(t *testing.T) {
	app := newPromTarget(t)
	app.requests.Add(100)
	app.temp.Set(21.5)
	app.queue.WithLabelValues("email", "0").Set(3)
	app.queue.WithLabelValues("email", "1").Set(4)
	app.queue.WithLabelValues("sms", "0").Set(0)
	app.served.WithLabelValues("/api/v1.2", "").Add(1000)
	app.latency.Observe(0.5)

	s, err := NewPrometheus(app.url, []string{"app_*"})
	if err != nil {
		t.Fatal(err)
	}
	s.(*promSampler).now = fakeClock(2 * time.Second)

	first := mustSample(t, s)
	wantFirst := map[string]float64{
		"prom.app_temperature_celsius": 21.5,
		"prom.app_queue_depth.email.0": 3, // label values in label-name order: queue, shard
		"prom.app_queue_depth.email.1": 4,
		"prom.app_queue_depth.sms.0":   0,
	}
	if !maps.Equal(first, wantFirst) {
		t.Errorf("first scrape (gauges only, no rates yet):\n got %v\nwant %v", first, wantFirst)
	}

	app.requests.Add(30) // over 2 s of the sampler's clock: 15/s
	app.served.WithLabelValues("/api/v1.2", "").Add(500)
	app.latency.Observe(0.25)
	app.latency.Observe(0.75) // binary fractions: the sum rate is exact
	app.temp.Set(22)

	second := mustSample(t, s)
	wantSecond := map[string]float64{
		"prom.app_temperature_celsius":                22,
		"prom.app_queue_depth.email.0":                3,
		"prom.app_queue_depth.email.1":                4,
		"prom.app_queue_depth.sms.0":                  0,
		"prom.app_requests_total_per_s":               15,
		"prom.app_served_bytes_total._api_v1_2_per_s": 250, // "/" and "." cleaned, the empty version left out
		"prom.app_latency_seconds_count_per_s":        1,
		"prom.app_latency_seconds_sum_per_s":          0.5,
	}
	if !maps.Equal(second, wantSecond) {
		t.Errorf("second scrape:\n got %v\nwant %v", second, wantSecond)
	}
}

func TestPrometheusKeep(t *testing.T) {
	app := newPromTarget(t)
	app.requests.Inc()
	app.queue.WithLabelValues("email", "0").Set(1)
	app.latency.Observe(1)
	tests := []struct {
		keep []string
		want []string // series after two scrapes
	}{
		{[]string{"app_temperature_celsius"}, []string{"prom.app_temperature_celsius"}},
		{[]string{"app_queue_*", "app_requests_total"}, []string{"prom.app_queue_depth.email.0", "prom.app_requests_total_per_s"}},
		{[]string{"app_latency_seconds_count"}, []string{"prom.app_latency_seconds_count_per_s"}},
		{[]string{"app_latency_seconds"}, []string{"prom.app_latency_seconds_count_per_s", "prom.app_latency_seconds_sum_per_s"}},
		{[]string{"nothing_here"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keep, ","), func(t *testing.T) {
			s, err := NewPrometheus(app.url, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			mustSample(t, s)
			got := slices.Sorted(maps.Keys(mustSample(t, s)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrometheusDefaultCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "many", Help: "Many."}, []string{"i"})
	reg.MustRegister(g)
	for i := range defaultPromSeries + 10 {
		g.WithLabelValues(fmt.Sprintf("%03d", 100+i)).Set(float64(i))
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	s, err := NewPrometheus(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := mustSample(t, s)
	if len(first) != defaultPromSeries {
		t.Fatalf("kept %d series, want %d", len(first), defaultPromSeries)
	}
	if _, ok := first["prom.many.100"]; !ok {
		t.Errorf("the first series by name is not kept: %v", slices.Sorted(maps.Keys(first)))
	}
	note := s.(interface{ Note() string }).Note()
	if !strings.Contains(note, "first 50 series") || !strings.Contains(note, "left out 10") {
		t.Errorf("Note() = %q, want it to say 50 kept and 10 left out", note)
	}

	// A series that sorts first but appears later does not push out one
	// already on the timeline.
	g.WithLabelValues("000").Set(1)
	second := mustSample(t, s)
	if !sameKeys(first, second) {
		t.Errorf("the kept series changed:\n first %v\nsecond %v", slices.Sorted(maps.Keys(first)), slices.Sorted(maps.Keys(second)))
	}

	kept, err := NewPrometheus(srv.URL, []string{"many"})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(mustSample(t, kept)); got != defaultPromSeries+11 {
		t.Errorf("with keep: %d series, want all %d", got, defaultPromSeries+11)
	}
	if note := kept.(interface{ Note() string }).Note(); note != "" {
		t.Errorf("with keep: Note() = %q, want none", note)
	}
}

func sameKeys(a, b map[string]float64) bool {
	return slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
}

// TestPrometheusTextFixtures covers what client_golang does not write:
// untyped samples, counter resets, NaN, odd label values.
func TestPrometheusTextFixtures(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		want          map[string]float64 // from the second scrape, 1 s after the first
	}{
		{
			name:   "untyped _total is a counter, other untyped a gauge",
			first:  "jobs_done_total 10\nworkers 3\n",
			second: "jobs_done_total 17\nworkers 4\n",
			want:   map[string]float64{"prom.jobs_done_total_per_s": 7, "prom.workers": 4},
		},
		{
			name:   "a counter that went backwards has no rate",
			first:  "# TYPE restarts counter\nrestarts 50\n# TYPE up gauge\nup 1\n",
			second: "# TYPE restarts counter\nrestarts 2\n# TYPE up gauge\nup 1\n",
			want:   map[string]float64{"prom.up": 1},
		},
		{
			name:   "a counter seen for the first time has no rate",
			first:  "# TYPE a_total counter\na_total 1\n",
			second: "# TYPE a_total counter\na_total 2\n# TYPE b_total counter\nb_total 5\n",
			want:   map[string]float64{"prom.a_total_per_s": 1},
		},
		{
			name:   "NaN and Inf are gaps",
			first:  "# TYPE g gauge\ng NaN\nh +Inf\n",
			second: "# TYPE g gauge\ng NaN\nh +Inf\n",
			want:   map[string]float64{},
		},
		{
			name:   "label values: dots, spaces, unicode, empty; label-name order",
			first:  `t{z="last",a="1.5",m="",b="two words",c="ü"} 1` + "\n",
			second: `t{z="last",a="1.5",m="",b="two words",c="ü"} 2` + "\n",
			want:   map[string]float64{"prom.t.1_5.two_words._.last": 2},
		},
		{
			name:   "summary: count and sum rates, no quantiles",
			first:  "# TYPE rpc summary\nrpc{quantile=\"0.5\"} 0.1\nrpc_sum 10\nrpc_count 100\n",
			second: "# TYPE rpc summary\nrpc{quantile=\"0.5\"} 0.2\nrpc_sum 12\nrpc_count 110\n",
			want:   map[string]float64{"prom.rpc_count_per_s": 10, "prom.rpc_sum_per_s": 2},
		},
		{
			name:   "timestamps and comments are ignored",
			first:  "# a comment\n# HELP x The x.\n# TYPE x gauge\nx 5 1700000000000\n",
			second: "# a comment\n# HELP x The x.\n# TYPE x gauge\nx 6 1700000001000\n",
			want:   map[string]float64{"prom.x": 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.first
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; version=0.0.4")
				fmt.Fprint(w, body)
			}))
			defer srv.Close()
			s, err := NewPrometheus(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.(*promSampler).now = fakeClock(time.Second)
			mustSample(t, s)
			body = tt.second
			if got := mustSample(t, s); !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrometheusScrapeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/garbled":
			fmt.Fprint(w, "metric{label=\"unterminated 1\n")
		case "/clash":
			fmt.Fprint(w, "# TYPE x counter\n# TYPE x gauge\nx 1\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tt := range []struct{ path, wantErr string }{
		{"/garbled", "text format parsing error"},
		{"/clash", "second TYPE line for metric name"},
		{"/missing", "404 Not Found"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			s, err := NewPrometheus(srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := contextFor(t)
			defer cancel()
			if _, err := s.Sample(ctx); err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "prometheus") {
				t.Errorf("err = %v, want a prometheus error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewPrometheusRejects(t *testing.T) {
	for _, tt := range []struct {
		url  string
		keep []string
	}{
		{"", nil},
		{"127.0.0.1:9100/metrics", nil},
		{"unix:///run/app.sock", nil},
		{"http://127.0.0.1:9100/metrics", []string{""}},
		{"http://127.0.0.1:9100/metrics", []string{"ok", "bad["}},
	} {
		t.Run(tt.url+strings.Join(tt.keep, ","), func(t *testing.T) {
			if _, err := NewPrometheus(tt.url, tt.keep); err == nil || !strings.HasPrefix(err.Error(), "prometheus") {
				t.Errorf("err = %v, want a prometheus error", err)
			}
		})
	}
}
