package html

import (
	"reflect"
	"testing"

	"github.com/fuka-load/fuka/report"
)

func TestSourceOf(t *testing.T) {
	for _, tt := range []struct {
		name, source, agent string
	}{
		{"cpu.user_pct", "host", ""},
		{"cpu.core.3_busy_pct", "host", ""},
		{"mem.used_bytes", "host", ""},
		{"swap.in_pages_per_s", "host", ""},
		{"net.lo.rx_bytes_per_s", "host", ""},
		{"tcp.listen_overflows_per_s", "host", ""},
		{"disk.util_pct", "host", ""},
		{"load.1m", "host", ""},
		{"procs.running", "host", ""},
		{"proc.nginx.cpu_pct", "process", ""},
		{"nginx.active", "nginx", ""},
		{"postgres.connections.active", "postgres", ""},
		{"redis.connected_clients", "redis", ""},
		{"kube.deployment.api.replicas_ready", "kube", ""},
		{"prom.http_requests_per_s", "prometheus", ""},
		{"agent.10.0.0.5:9810.cpu.user_pct", "agent", "10.0.0.5:9810"},
		{"agent.[::1]:9810.mem.used_bytes", "agent", "[::1]:9810"},
		{"agent.broken", "agent", "?"},
		{"app.queue", "other", ""},
		{"processes", "other", ""},
		{"", "other", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, agent := sourceOf(tt.name)
			if src != tt.source || agent != tt.agent {
				t.Errorf("sourceOf(%q) = %q, %q; want %q, %q", tt.name, src, agent, tt.source, tt.agent)
			}
		})
	}
}

func TestGroupResources(t *testing.T) {
	// res builds Resources from series values over time: name -> values
	// at t = 0, 1, 2, … (NaN: no sample then).
	type series struct {
		name string
		v    []float64
	}
	res := func(ss ...series) *report.Resources {
		r := &report.Resources{}
		n := 0
		for _, s := range ss {
			r.Series = append(r.Series, report.ResourceStat{Name: s.name})
			n = max(n, len(s.v))
		}
		for i := range n {
			p := report.ResourcePoint{TS: float64(i), Values: map[string]float64{}}
			for _, s := range ss {
				if i < len(s.v) && s.v[i] == s.v[i] {
					p.Values[s.name] = s.v[i]
				}
			}
			r.Timeline = append(r.Timeline, p)
		}
		return r
	}
	nan := func() float64 { var z float64; return z / z }()
	for _, tt := range []struct {
		name string
		res  *report.Resources
		keep map[string]bool
		want []resourceGroup
	}{
		{
			name: "moved drawn, flat and zero folded",
			res: res(
				series{"cpu.count", []float64{2, 2, 2}},
				series{"cpu.user_pct", []float64{5, 60, 80}},
				series{"swap.used_bytes", []float64{0, 0, 0}},
				series{"net.rx_drops_per_s", []float64{0, 0, 0}},
				series{"mem.used_bytes", []float64{1 << 30, 1<<30 + 4096, 1 << 30}},
			),
			want: []resourceGroup{{ID: "res-1", Source: "host", Title: "Host", Total: 5,
				Moved:     []string{"cpu.user_pct", "mem.used_bytes"},
				Unchanged: []unchangedSeries{{"cpu.count", "2"}, {"swap.used_bytes", "0 B"}, {"net.rx_drops_per_s", "0.0/s"}}}},
		},
		{
			name: "sources in page order, agents after, other last",
			res: res(
				series{"app.queue", []float64{1, 2}},
				series{"redis.connected_clients", []float64{3, 4}},
				series{"agent.10.0.0.5:9810.cpu.user_pct", []float64{1, 9}},
				series{"nginx.active", []float64{1, 2}},
				series{"proc.api.cpu_pct", []float64{10, 90}},
				series{"kube.hpa.api.replicas_current", []float64{1, 4}},
				series{"postgres.connections.active", []float64{1, 5}},
				series{"cpu.user_pct", []float64{5, 60}},
			),
			want: []resourceGroup{
				{ID: "res-1", Source: "host", Title: "Host", Total: 1, Moved: []string{"cpu.user_pct"}},
				{ID: "res-2", Source: "process", Title: "Processes", Total: 1, Moved: []string{"proc.api.cpu_pct"}},
				{ID: "res-3", Source: "nginx", Title: "nginx", Total: 1, Moved: []string{"nginx.active"}},
				{ID: "res-4", Source: "postgres", Title: "PostgreSQL", Total: 1, Moved: []string{"postgres.connections.active"}},
				{ID: "res-5", Source: "redis", Title: "Redis", Total: 1, Moved: []string{"redis.connected_clients"}},
				{ID: "res-6", Source: "kube", Title: "Kubernetes", Total: 1, Moved: []string{"kube.hpa.api.replicas_current"}},
				{ID: "res-7", Source: "agent", Title: "Host 10.0.0.5:9810 (agent)", Total: 1, Moved: []string{"agent.10.0.0.5:9810.cpu.user_pct"}},
				{ID: "res-8", Source: "other", Title: "Other", Total: 1, Moved: []string{"app.queue"}},
			},
		},
		{
			// A source whose every series kept its value is still listed.
			name: "all unchanged",
			res: res(
				series{"postgres.max_connections", []float64{100, 100}},
				series{"postgres.connections.active", []float64{0, 0}},
			),
			want: []resourceGroup{{ID: "res-1", Source: "postgres", Title: "PostgreSQL", Total: 2,
				Unchanged: []unchangedSeries{{"postgres.max_connections", "100"}, {"postgres.connections.active", "0"}}}},
		},
		{
			// Gaps (a failing sampler) are not values: a series that is
			// 3 whenever it was sampled did not move.
			name: "gaps and no samples",
			res: res(
				series{"nginx.active", []float64{3, nan, 3}},
				series{"nginx.waiting", []float64{nan, nan, nan}},
				series{"nginx.requests_per_s", []float64{nan, 1, 0}},
			),
			want: []resourceGroup{{ID: "res-1", Source: "nginx", Title: "nginx", Total: 3,
				Moved:     []string{"nginx.requests_per_s"},
				Unchanged: []unchangedSeries{{"nginx.active", "3"}, {"nginx.waiting", "no samples"}}}},
		},
		{
			// Rounding in a rate of equal counters is not a move; a real
			// change, however small against a large value, is.
			name: "tolerance",
			res: res(
				series{"disk.reads_per_s", []float64{0.1 + 0.2, 0.3, 0.3}},
				series{"mem.used_bytes", []float64{64 << 30, 64<<30 + 1<<20}},
			),
			want: []resourceGroup{{ID: "res-1", Source: "host", Title: "Host", Total: 2,
				Moved:     []string{"mem.used_bytes"},
				Unchanged: []unchangedSeries{{"disk.reads_per_s", "0.3/s"}}}},
		},
		{
			// A busy share stuck at its limit did not move, but it is drawn:
			// it is what a reader looks for. An idle share is not busy.
			name: "pegged",
			res: res(
				series{"cpu.core.0_busy_pct", []float64{100, 100, 100}},
				series{"cpu.core.1_busy_pct", []float64{89, 89, 89}},
				series{"cpu.idle_pct", []float64{100, 100, 100}},
				series{"disk.util_pct", []float64{95, 95, 95}},
			),
			want: []resourceGroup{{ID: "res-1", Source: "host", Title: "Host", Total: 4,
				Moved:     []string{"cpu.core.0_busy_pct", "disk.util_pct"},
				Unchanged: []unchangedSeries{{"cpu.core.1_busy_pct", "89.0%"}, {"cpu.idle_pct", "100.0%"}}}},
		},
		{
			// A finding rests on it: drawn, flat or not.
			name: "kept for a finding",
			res: res(
				series{"postgres.connections.total", []float64{5, 5, 5}},
				series{"postgres.max_connections", []float64{5, 5, 5}},
			),
			keep: map[string]bool{"postgres.connections.total": true, "rps": true},
			want: []resourceGroup{{ID: "res-1", Source: "postgres", Title: "PostgreSQL", Total: 2,
				Moved:     []string{"postgres.connections.total"},
				Unchanged: []unchangedSeries{{"postgres.max_connections", "5"}}}},
		},
		{name: "none", res: &report.Resources{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := groupResources(tt.res, tt.keep)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("groups:\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
