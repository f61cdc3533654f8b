package findings

import (
	"slices"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/report"
)

// run is a synthetic run of n whole seconds: the load's timeline from
// served and p99 (per interval i, covering (i, i+1]), and resources from
// series (per point at t = 0..n).
type run struct {
	model      string
	rate       string // open model
	maxRPS     float64
	n          int
	served     func(i int) int64
	p99        func(i int) float64
	failed     func(i int) int64
	dropped    func(i int) int64
	maxClients int
	clients    int // the most in flight
	series     map[string]func(t int) float64
	pgRefused  []float64 // seconds the postgres sampler was refused
}

func (r run) summary() *report.Summary {
	s := &report.Summary{Model: r.model, RateProfile: r.rate, PlannedDurationS: float64(r.n), MaxClients: r.maxClients, Clients: r.clients, Latency: report.Latency{P99MS: 2}}
	if r.model == "" {
		s.Model = report.ModelOpen
	}
	if r.maxRPS > 0 {
		s.RequestedRPS = &r.maxRPS
	}
	for i := range r.n {
		iv := report.Interval{TS: float64(i + 1), SpanS: 1, Requests: r.served(i)}
		iv.RPS = float64(iv.Requests)
		p := r.p99(i)
		iv.P99MS = &p
		if r.failed != nil {
			iv.Failed = r.failed(i)
		}
		if r.dropped != nil {
			iv.Dropped = r.dropped(i)
		}
		s.Requests += iv.Requests
		s.Failed += iv.Failed
		s.Dropped += iv.Dropped
		s.Timeline = append(s.Timeline, iv)
	}
	if r.series != nil {
		s.Resources = &report.Resources{}
		for t := 0; t <= r.n; t++ {
			p := report.ResourcePoint{TS: float64(t), Values: map[string]float64{}}
			for k, f := range r.series {
				if strings.HasPrefix(k, "postgres.") && slices.Contains(r.pgRefused, float64(t)) {
					continue // the sampler failed: a gap
				}
				p.Values[k] = f(t)
			}
			s.Resources.Timeline = append(s.Resources.Timeline, p)
		}
		for _, t := range r.pgRefused {
			s.Resources.Failures = append(s.Resources.Failures, report.ResourceFailure{TS: t, Source: "postgres",
				Error: "postgres: failed to connect: server error: FATAL: sorry, too many clients already (SQLSTATE 53300)"})
		}
	}
	return s
}

func flat(v float64) func(int) float64 { return func(int) float64 { return v } }
func flatN(v int64) func(int) int64    { return func(int) int64 { return v } }

// from is lo before t0 and hi from t0 on.
func from(t0 int, lo, hi float64) func(int) float64 {
	return func(t int) float64 {
		if t >= t0 {
			return hi
		}
		return lo
	}
}

// every3rd is hi at every third t from t0 on (a third of the seconds, none
// before), else lo: often enough for a counter, not for a level.
func every3rd(t0 int, lo, hi float64) func(int) float64 {
	return func(t int) float64 {
		if t >= t0 && (t-t0)%3 == 0 {
			return hi
		}
		return lo
	}
}

func fromN(t0 int, lo, hi int64) func(int) int64 {
	return func(t int) int64 {
		if t >= t0 {
			return hi
		}
		return lo
	}
}

// hostSeries is an idle 2-CPU host's series; extra replaces or adds some.
func hostSeries(extra map[string]func(int) float64) map[string]func(int) float64 {
	m := map[string]func(int) float64{
		"cpu.idle_pct": flat(70), "cpu.iowait_pct": flat(0), "cpu.steal_pct": flat(0), "cpu.count": flat(2),
		"cpu.core.0_busy_pct": flat(30), "cpu.core.1_busy_pct": flat(30), "cpu.max_core_busy_pct": flat(30),
		"procs.running": flat(2), "mem.total_bytes": flat(8e9), "mem.available_bytes": flat(6e9), "swap.in_pages_per_s": flat(0),
		"tcp.established": flat(50), "tcp.listen_overflows_per_s": flat(0), "tcp.listen_drops_per_s": flat(0),
		"disk.util_pct": flat(3), "net.rx_drops_per_s": flat(0), "net.tx_drops_per_s": flat(0), "net.rx_errors_per_s": flat(0), "net.tx_errors_per_s": flat(0),
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// kneeAt5 serves 200/s until 5s, then 100/s of the 200/s asked.
var kneeAt5 = run{rate: "200", n: 12, served: func(i int) int64 { return int64(from(5, 200, 100)(i)) }, p99: from(5, 2, 400)}

func with(r run, f func(*run)) run { f(&r); return r }

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  run
		gen  Generator
		want []string // the findings' kinds, in order
		top  string   // a word the first finding's summary has
	}{
		{name: "healthy: served as asked, nothing busy", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2), series: hostSeries(nil)}, gen: Generator{CPUs: 2, CPU: []Sample{{1, 20}, {2, 25}}}},
		{name: "healthy: a CPU at 100% without a symptom is no finding",
			run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2), series: hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": flat(100), "cpu.idle_pct": flat(0)})}},
		{name: "healthy: jitter is no climb", run: run{rate: "100", n: 10, served: flatN(100), p99: func(i int) float64 { return []float64{2, 2, 2, 40, 2, 2, 30, 2, 2, 2}[i] }}},
		{name: "healthy: one bad second is no knee", run: run{rate: "100", n: 10, served: func(i int) int64 { return []int64{100, 100, 100, 40, 100, 100, 100, 100, 100, 100}[i] }, p99: flat(2)}},
		{name: "healthy: a fast target's p99 from 1ms to 4ms is no climb", run: run{rate: "100", n: 10, served: flatN(100), p99: from(4, 1, 4)}},
		{name: "a slow target's p99 from 1ms to 12ms is", run: run{rate: "100", n: 10, served: flatN(100), p99: from(4, 1, 12)}, want: []string{"p99_climb"}},
		{name: "healthy: served 85% of the asked is within the knee's margin", run: run{rate: "100", n: 10, served: fromN(3, 100, 85), p99: flat(2)}},
		{name: "healthy: a closed model under its cap", run: run{model: report.ModelClosed, maxRPS: 50, n: 10, served: flatN(50), p99: flat(2), series: hostSeries(nil)}},
		{name: "knee without resources", run: kneeAt5, want: []string{"knee", "p99_climb"}, top: "from 5s throughput stopped following"},
		{name: "one core busy from the knee", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": from(5, 40, 99), "cpu.max_core_busy_pct": from(5, 40, 99)})
		}), want: []string{"cpu", "knee", "p99_climb"}, top: "CPU 0 was at least 90% busy"},
		{name: "all CPUs busy", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.idle_pct": from(5, 60, 3), "cpu.core.0_busy_pct": from(5, 40, 97), "cpu.core.1_busy_pct": from(5, 40, 97)})
		}), want: []string{"cpu", "knee", "p99_climb"}, top: "all CPUs were busy"},
		{name: "iowait is not busy", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.idle_pct": from(5, 60, 3), "cpu.iowait_pct": from(5, 0, 60)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "listen overflows rank above a busy CPU", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": from(5, 40, 99), "tcp.listen_overflows_per_s": from(5, 0, 30), "tcp.listen_drops_per_s": from(5, 0, 30)})
		}), want: []string{"listen_overflow", "cpu", "knee", "p99_climb"}, top: "listen queue overflowed"},
		{name: "overflows as often before as during are the host's, not the symptom's", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"tcp.listen_overflows_per_s": func(t int) float64 { return float64(t % 2 * 5) }})
		}), want: []string{"knee", "p99_climb"}},
		{name: "overflows a second before the symptom are no baseline", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"tcp.listen_overflows_per_s": from(1, 0, 30)})
			r.served = func(i int) int64 { return int64(from(2, 200, 100)(i)) }
			r.p99 = from(2, 2, 400)
		}), want: []string{"listen_overflow", "knee", "p99_climb"}},
		{name: "overflows that grew tenfold with the symptom", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"tcp.listen_overflows_per_s": from(5, 3, 30)})
		}), want: []string{"listen_overflow", "knee", "p99_climb"}},
		{name: "one second of overflows is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"tcp.listen_overflows_per_s": func(t int) float64 { return float64(max(0, 1-abs(t-7)) * 40) }})
		}), want: []string{"knee", "p99_climb"}},
		{name: "a CPU busy in a third of the seconds is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": func(t int) float64 { return float64(t%3/2) * 99 }})
		}), want: []string{"knee", "p99_climb"}},
		{name: "what began far from the knee ranks lower", run: with(kneeAt5, func(r *run) {
			r.n = 25
			r.series = hostSeries(map[string]func(int) float64{
				"redis.rejected_connections": func(t int) float64 { return float64(min(max(0, t-5), 7)) },
				"tcp.listen_overflows_per_s": from(18, 0, 9),
			})
		}), want: []string{"redis_rejected", "listen_overflow", "knee", "p99_climb"}},
		{name: "SYN drops without overflows", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"tcp.listen_drops_per_s": from(6, 0, 12)})
		}), want: []string{"listen_overflow", "knee", "p99_climb"}, top: "0 overflows/s, 12 drops/s"},
		{name: "postgres at max_connections with errors", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": from(3, 2, 6), "postgres.max_connections": flat(6)})},
			want: []string{"postgres_connections", "knee", "errors"}, top: "max_connections: 6 of 6"},
		{name: "connections refused rank above a busy host, even for fewer seconds", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40),
			series: hostSeries(map[string]func(int) float64{"cpu.idle_pct": flat(0), "cpu.core.0_busy_pct": flat(100), "cpu.core.1_busy_pct": flat(100),
				"postgres.connections.total": from(6, 2, 6), "postgres.max_connections": flat(6)})},
			want: []string{"postgres_connections", "cpu", "knee", "errors"}},
		{name: "a big max_connections keeps superusers' reserve", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": from(3, 2, 97), "postgres.max_connections": flat(100)})},
			want: []string{"postgres_connections", "knee", "errors"}},
		{name: "a tiny max_connections has no reserve", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": from(3, 2, 5), "postgres.max_connections": flat(6)})},
			want: []string{"knee", "errors"}},
		{name: "the monitor refused for too many clients counts as at the limit", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40), pgRefused: []float64{4, 5, 6, 7, 8},
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": from(3, 2, 5), "postgres.max_connections": flat(6)})},
			want: []string{"postgres_connections", "knee", "errors"}, top: "refused for too many clients in 5 of its samples"},
		{name: "failed requests are not the load followed", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 60)},
			want: []string{"knee", "errors"}, top: "100 starts/s asked, 40/s served without error"},
		{name: "postgres at its limit in a quarter of the samples: connections churn", run: run{rate: "100", n: 8, served: flatN(100), p99: flat(5), failed: fromN(1, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": func(t int) float64 { return []float64{1, 4, 6, 5, 4, 6, 5, 4, 3}[t] }, "postgres.max_connections": flat(6)})},
			want: []string{"postgres_connections", "knee", "errors"}},
		{name: "postgres at its limit once is no finding", run: run{rate: "100", n: 8, served: flatN(100), p99: flat(5), failed: fromN(1, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": func(t int) float64 { return []float64{1, 4, 6, 5, 4, 5, 5, 4, 3}[t] }, "postgres.max_connections": flat(6)})},
			want: []string{"knee", "errors"}},
		{name: "postgres below its limit", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(5), failed: fromN(3, 0, 40),
			series: hostSeries(map[string]func(int) float64{"postgres.connections.total": flat(20), "postgres.max_connections": flat(100)})},
			want: []string{"knee", "errors"}},
		{name: "fuka's CPU tops the target's", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": from(5, 40, 99)})
		}), gen: Generator{CPUs: 1, CPU: []Sample{{5, 95}, {6, 99}, {7, 97}, {8, 99}}}, want: []string{"generator_cpu", "cpu", "knee", "p99_climb"}, top: "fuka was the limit"},
		{name: "fuka waited for a busy CPU", run: kneeAt5, gen: Generator{CPUs: 1, CPU: []Sample{{6, 30}, {7, 35}, {8, 30}}, Wait: []Sample{{6, 70}, {7, 65}, {8, 68}}},
			want: []string{"generator_cpu", "knee", "p99_climb"}, top: "its threads waited for a CPU 0.68s a second (summed over its threads, on the run queue; peak 0.70s) and ran 0.32s, on the 1 CPU(s)"},
		{name: "fuka's wait in a closed model's run is no finding", run: run{model: report.ModelClosed, n: 8, served: flatN(900), p99: flat(9)},
			gen: Generator{CPUs: 1, CPU: []Sample{{2, 30}, {3, 35}}, Wait: []Sample{{2, 70}, {3, 65}}}},
		{name: "fuka's wait without a symptom is no finding", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2)},
			gen: Generator{CPUs: 1, CPU: []Sample{{6, 30}, {7, 35}}, Wait: []Sample{{6, 70}, {7, 65}}}},
		{name: "fuka's wait under half its CPUs", run: kneeAt5, gen: Generator{CPUs: 2, CPU: []Sample{{6, 100}, {7, 100}}, Wait: []Sample{{6, 90}, {7, 90}}},
			want: []string{"knee", "p99_climb"}},
		{name: "fuka's CPU under its limit", run: kneeAt5, gen: Generator{CPUs: 2, CPU: []Sample{{5, 95}, {6, 99}, {7, 97}}}, want: []string{"knee", "p99_climb"}},
		{name: "dropped starts at a steady p99: too few clients", run: run{rate: "100", n: 10, maxClients: 2, clients: 2, served: flatN(40), p99: flat(50), dropped: flatN(60)},
			want: []string{"generator_clients", "knee", "dropped_starts"}, top: "fuka was the limit: from 0s it dropped 600 starts because all 2 clients"},
		{name: "dropped starts with clients free were late: fuka stalled", run: run{rate: "100", n: 10, maxClients: 1000, clients: 12, served: flatN(60), p99: flat(50), dropped: fromN(4, 0, 40)},
			want: []string{"generator_late", "knee", "dropped_starts"}, top: "more than a second overdue, with at most 12 of its 1,000 clients busy"},
		{name: "dropped starts as p99 climbs follow the target", run: with(kneeAt5, func(r *run) { r.dropped = fromN(7, 0, 50) }),
			want: []string{"knee", "p99_climb", "dropped_starts"}},
		{name: "a closed model without a cap: the whole run is in question", run: run{model: report.ModelClosed, n: 8, served: flatN(900), p99: flat(9),
			series: hostSeries(map[string]func(int) float64{"cpu.idle_pct": flat(1), "cpu.core.0_busy_pct": flat(99), "cpu.core.1_busy_pct": flat(99)})},
			want: []string{"cpu"}, top: "it correlates with the run's throughput, which a closed model without a cap raises to all the target gives (a correlation, not a proof)"},
		{name: "memory, swap, disk, steal, run queue, network", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"mem.available_bytes": from(5, 4e9, 1e8), "swap.in_pages_per_s": from(5, 0, 300), "disk.util_pct": from(5, 2, 99),
				"cpu.steal_pct": from(5, 0, 30), "procs.running": from(5, 2, 9), "net.rx_drops_per_s": from(5, 0, 4)})
		}), want: []string{"net_drops", "memory", "disk", "swap_in", "cpu_steal", "run_queue", "knee", "p99_climb"}},
		{name: "redis and the autoscaler", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"redis.rejected_connections": func(t int) float64 { return float64(max(0, t-5) * 10) }, "redis.blocked_clients": from(5, 0, 3),
				"kube.hpa.api.replicas_current": from(5, 2, 6), "kube.hpa.api.replicas_max": flat(6), "kube.hpa.api.replicas_min": flat(2)})
		}), want: []string{"redis_rejected", "hpa_max", "redis_blocked", "knee", "p99_climb"}},
		{name: "redis near maxmemory", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"redis.used_memory_bytes": from(5, 1e6, 95e6), "redis.maxmemory_bytes": flat(100e6)})
		}), want: []string{"redis_memory", "knee", "p99_climb"}, top: "near maxmemory"},
		{name: "redis under 90% of maxmemory", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"redis.used_memory_bytes": from(5, 1e6, 85e6), "redis.maxmemory_bytes": flat(100e6)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "redis near maxmemory in a third of the seconds is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"redis.used_memory_bytes": every3rd(6, 1e6, 95e6), "redis.maxmemory_bytes": flat(100e6)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "redis without maxmemory (0) has no limit", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"redis.used_memory_bytes": from(5, 1e6, 95e6), "redis.maxmemory_bytes": flat(0)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "healthy: redis at maxmemory without a symptom is no finding", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2),
			series: hostSeries(map[string]func(int) float64{"redis.used_memory_bytes": flat(99e6), "redis.maxmemory_bytes": flat(100e6)})}},
		{name: "nginx near worker_connections", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"nginx.active": from(5, 100, 922), "nginx.connection_limit": flat(1024)})
		}), want: []string{"nginx_connections", "knee", "p99_climb"}, top: "922 at the peak (mean 922.0) of 1,024"},
		{name: "nginx just under 90% of worker_connections", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"nginx.active": from(5, 100, 921), "nginx.connection_limit": flat(1024)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "nginx near worker_connections in a third of the seconds is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"nginx.active": every3rd(6, 100, 1024), "nginx.connection_limit": flat(1024)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "nginx without worker_connections has no limit", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"nginx.active": from(5, 100, 5000)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "an agent's nginx near worker_connections", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"agent.web:9100.nginx.active": from(5, 10, 60), "agent.web:9100.nginx.connection_limit": flat(64)})
		}), want: []string{"nginx_connections", "knee", "p99_climb"}, top: "web:9100: nginx's"},
		{name: "process fds near its limit", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.api.fds": from(5, 40, 922), "proc.api.fd_limit": flat(1024)})
		}), want: []string{"process_fds", "knee", "p99_climb"}, top: "process api had 922 files open at the peak (mean 922.0), against its limit of 1,024"},
		{name: "process fds just under 90% of its limit", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.api.fds": from(5, 40, 921), "proc.api.fd_limit": flat(1024)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "process fds near its limit in a third of the seconds is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.api.fds": every3rd(6, 40, 1024), "proc.api.fd_limit": flat(1024)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "process fds without a limit series is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.api.fds": from(5, 40, 100000)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "several processes: the one nearest its limit (fds_max) counts, not the sum", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.nginx.fds": from(5, 40, 2000), "proc.nginx.fds_max": from(5, 20, 60), "proc.nginx.fd_limit": flat(64)})
		}), want: []string{"process_fds", "knee", "p99_climb"}, top: "process nginx had 60 files open"},
		{name: "several processes, none near its own limit, though their sum is", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"proc.nginx.fds": from(5, 40, 2000), "proc.nginx.fds_max": from(5, 20, 500), "proc.nginx.fd_limit": flat(1024)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "healthy: nginx and fds at their limits without a symptom are no finding", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2),
			series: hostSeries(map[string]func(int) float64{"nginx.active": flat(1024), "nginx.connection_limit": flat(1024), "proc.api.fds": flat(1024), "proc.api.fd_limit": flat(1024)})}},
		{name: "postgres lock waits", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"postgres.lock_waits": from(5, 0, 3)})
		}), want: []string{"postgres_lock_waits", "knee", "p99_climb"}, top: "waited for locks"},
		{name: "postgres lock waits in a third of the seconds are no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"postgres.lock_waits": every3rd(6, 0, 2)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "healthy: postgres lock waits without a symptom are no finding", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2),
			series: hostSeries(map[string]func(int) float64{"postgres.lock_waits": flat(2)})}},
		{name: "an interface at its link speed", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"net.eth0.speed_mbps": flat(1000), "net.eth0.rx_bytes_per_s": flat(1e6), "net.eth0.tx_bytes_per_s": from(5, 1e6, 120e6)})
		}), want: []string{"net_throughput", "knee", "p99_climb"}, top: "eth0 sent 114.4 MiB/s at the peak"},
		{name: "an agent's interface at its link speed", run: with(kneeAt5, func(r *run) {
			r.series = map[string]func(int) float64{"agent.[::1]:9810.net.eth0.100.speed_mbps": flat(100), "agent.[::1]:9810.net.eth0.100.rx_bytes_per_s": from(5, 1e6, 12e6)}
		}), want: []string{"net_throughput", "knee", "p99_climb"}, top: "[::1]:9810: eth0.100 received 11.4 MiB/s"},
		{name: "an interface under 90% of its link speed", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"net.eth0.speed_mbps": flat(1000), "net.eth0.rx_bytes_per_s": flat(1e6), "net.eth0.tx_bytes_per_s": from(5, 1e6, 110e6)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "an interface at its link speed in a third of the seconds is no finding", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"net.eth0.speed_mbps": flat(1000), "net.eth0.rx_bytes_per_s": every3rd(6, 1e6, 124e6)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "an interface without a stated speed has no limit", run: with(kneeAt5, func(r *run) {
			r.series = hostSeries(map[string]func(int) float64{"net.lo.rx_bytes_per_s": from(5, 1e6, 5e9), "net.lo.tx_bytes_per_s": from(5, 1e6, 5e9)})
		}), want: []string{"knee", "p99_climb"}},
		{name: "healthy: an interface at its link speed without a symptom is no finding", run: run{rate: "100", n: 10, served: flatN(100), p99: flat(2),
			series: hostSeries(map[string]func(int) float64{"net.eth0.speed_mbps": flat(1000), "net.eth0.rx_bytes_per_s": flat(124e6)})}},
		{name: "an agent's host is named", run: with(kneeAt5, func(r *run) {
			r.series = map[string]func(int) float64{"agent.db1:9810.cpu.idle_pct": from(5, 60, 2), "agent.db1:9810.cpu.core.0_busy_pct": from(5, 40, 98)}
		}), want: []string{"cpu", "knee", "p99_climb"}, top: "db1:9810: all CPUs were busy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Analyze(tc.run.summary(), tc.gen)
			var kinds []string
			for _, f := range got {
				kinds = append(kinds, f.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(tc.want, ",") {
				for _, f := range got {
					t.Logf("%s %.3f %s", f.Kind, f.Score, f.Summary)
				}
				t.Fatalf("findings %v, want %v", kinds, tc.want)
			}
			if tc.top != "" && !strings.Contains(got[0].Summary, tc.top) {
				t.Errorf("top finding %q, want it to say %q", got[0].Summary, tc.top)
			}
			for _, f := range got {
				if f.Subject == report.SubjectTarget && f.Confidence != report.ConfidenceWeak && !strings.Contains(f.Summary, "not a proof") {
					t.Errorf("%s: a target's finding must say it is a correlation: %q", f.Kind, f.Summary)
				}
				// The relation's parenthesis must not follow the symptom's.
				if _, rel, _ := strings.Cut(f.Summary, "; it "); strings.Contains(rel, ") (") {
					t.Errorf("%s: stacked parentheses: %q", f.Kind, f.Summary)
				}
				if strings.Contains(f.Summary, "caused") {
					t.Errorf("%s: says caused: %q", f.Kind, f.Summary)
				}
				if f.Subject != report.SubjectGenerator && strings.Contains(f.Summary, "fuka was the limit") {
					t.Errorf("%s: only fuka's own numbers may say fuka was the limit", f.Kind)
				}
				if f.Kind != "profile" && len(f.Evidence) == 0 {
					t.Errorf("%s: no evidence", f.Kind)
				}
			}
		})
	}
}

// TestEvidence: a finding names the series, the times and the values it
// rests on, and the chart that draws them.
func TestEvidence(t *testing.T) {
	r := with(kneeAt5, func(r *run) {
		r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": from(6, 40, 99)})
	})
	got := Analyze(r.summary(), Generator{})
	cpu, knee := got[0], got[1]
	if cpu.AtS != 5 || cpu.Chart != "chart-cpu.core-pct" || len(cpu.Evidence) != 1 {
		t.Fatalf("cpu finding %+v", cpu)
	}
	if e := cpu.Evidence[0]; e.Series != "cpu.core.0_busy_pct" || e.FromS != 5 || e.ToS != 12 || e.Peak != 99 || e.Mean < 90 || e.Limit == nil || *e.Limit != BusyPct {
		t.Errorf("cpu evidence %+v", e)
	}
	if knee.AtS != 5 || knee.Chart != "chart-rps" || knee.Evidence[0].Limit == nil || *knee.Evidence[0].Limit != 200 || knee.Evidence[0].Mean != 100 {
		t.Errorf("knee %+v %+v", knee, knee.Evidence)
	}
	if !strings.Contains(knee.Summary, "200 starts/s asked, 100/s served without error (50%)") {
		t.Errorf("knee summary %q", knee.Summary)
	}
	if cpu.Confidence != report.ConfidenceCorrelates || knee.Confidence != report.ConfidenceMeasured {
		t.Errorf("confidences %s, %s", cpu.Confidence, knee.Confidence)
	}
}

// TestKneeOfARamp: a ramp's requested rate is read from its profile, so a
// target that stops at 150/s shows its knee where the ramp passed it.
func TestKneeOfARamp(t *testing.T) {
	r := run{rate: "300:10s", n: 10, p99: flat(2), served: func(i int) int64 { return min(int64(30*i+15), 150) }}
	got := Analyze(r.summary(), Generator{})
	if len(got) == 0 || got[0].Kind != "knee" {
		t.Fatalf("findings %+v", got)
	}
	// due (i+½)·30 per interval: 150 served of 195 due at 6s is 77 %.
	if got[0].AtS != 6 {
		t.Errorf("knee at %v, want 6", got[0].AtS)
	}
}

// TestPartialLastInterval: the last few milliseconds of a run are no knee.
func TestPartialLastInterval(t *testing.T) {
	s := run{rate: "100", n: 5, served: flatN(100), p99: flat(2)}.summary()
	p := 900.0
	s.Timeline = append(s.Timeline, report.Interval{TS: 5.004, SpanS: 0.004, Requests: 1, RPS: 250, P99MS: &p})
	if got := Analyze(s, Generator{}); got != nil {
		t.Errorf("findings %+v", got)
	}
}

func TestProfileAtTheKnee(t *testing.T) {
	s := with(kneeAt5, func(r *run) {
		r.series = hostSeries(map[string]func(int) float64{"cpu.core.0_busy_pct": from(5, 40, 99)})
	}).summary()
	s.Profiles = []report.ProfileSummary{
		{Kind: "cpu", StartedS: 0, Top: []report.ProfileFunc{{Name: "early", FlatPct: 50}}},
		{Kind: "cpu", StartedS: 6, Top: []report.ProfileFunc{{Name: "runtime.futex", FlatPct: 10, CumPct: 10}, {Name: "main.burn", FlatPct: 80, CumPct: 86.9}}},
		{Kind: "heap", StartedS: 5, Top: []report.ProfileFunc{{Name: "alloc", FlatPct: 90}}},
	}
	got := Analyze(s, Generator{})
	var p *report.Finding
	for i := range got {
		if got[i].Kind == "profile" {
			p = &got[i]
		}
	}
	if p == nil || got[0].Kind != "cpu" || !strings.Contains(p.Summary, "main.burn (80% of the samples") || p.Chart != "profiles" {
		t.Errorf("findings %+v", got)
	}
}

func TestChartAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"rps": "chart-rps", "cpu.core.0_busy_pct": "chart-cpu.core-pct", "cpu.count": "chart-cpu-count",
		"tcp.listen_overflows_per_s": "chart-tcp-per_s", "net.lo.rx_bytes_per_s": "chart-net.lo-bytes_per_s",
		"mem.used_bytes": "chart-mem-bytes", "plain": "chart-other-count",
	} {
		if got := report.ChartAnchor(in); got != want {
			t.Errorf("ChartAnchor(%q) = %q, want %q", in, got, want)
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestScaleOut: a watched workload's scale-out is an event with its time
// to scale and the p99 meanwhile, linked to its replicas' chart.
func TestScaleOut(t *testing.T) {
	s := run{rate: "100", n: 10, served: flatN(100), p99: flat(2)}.summary()
	ready, tts := 38.5, 28.5
	s.Scaling = []report.ScaleEpisode{{Workload: "deployment/api", FromReplicas: 2, ToReplicas: 6, LoadStepS: 10, ScaleOutS: 14, ReadyS: &ready, TimeToScaleS: &tts, P99DuringMS: 840, P99MeanDuringMS: 310}}
	got := Analyze(s, Generator{})
	if len(got) != 1 || got[0].Kind != "scale_out" || got[0].Chart != "chart-kube.deployment.api-count" || got[0].EndS == nil || *got[0].EndS != ready {
		t.Fatalf("findings %+v", got)
	}
	if want := "deployment/api scaled out from 2 to 6 replicas after the load step at 10s (asked at 14s), all ready at 38.5s: 28.5s to scale; p99 during it up to 840ms (mean 310ms)"; got[0].Summary != want {
		t.Errorf("summary %q\nwant    %q", got[0].Summary, want)
	}
}

// TestErrorCountsTakeInThePartialInterval: the errors finding's counts
// add up to the summary's totals, the last partial interval's requests
// included.
func TestErrorCountsTakeInThePartialInterval(t *testing.T) {
	tests := []struct {
		name         string
		failed       func(int) int64
		last         report.Interval // the final partial interval
		want, wantAt string
	}{
		{"errors throughout", flatN(100), report.Interval{TS: 5.2, SpanS: 0.2, Requests: 10, Failed: 10},
			"510 of 510 requests failed from then", "0s"},
		{"errors from 3s", fromN(3, 0, 10), report.Interval{TS: 5.2, SpanS: 0.2, Requests: 8, Failed: 1},
			"21 of 208 requests failed from then", "3s"},
		{"errors only in the partial interval", flatN(0), report.Interval{TS: 5.2, SpanS: 0.2, Requests: 8, Failed: 3},
			"3 of 8 requests failed from then", "5s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := run{rate: "100", n: 5, served: flatN(100), p99: flat(2), failed: tc.failed}.summary()
			p := 2.0
			tc.last.P99MS = &p
			s.Timeline = append(s.Timeline, tc.last)
			s.Requests += tc.last.Requests
			s.Failed += tc.last.Failed
			s.Status = map[string]int64{"200": s.Requests - s.Failed, "500": s.Failed}
			var got *report.Finding
			for _, f := range Analyze(s, Generator{}) {
				if f.Kind == "errors" {
					got = &f
				}
			}
			if got == nil {
				t.Fatalf("no errors finding in %+v", Analyze(s, Generator{}))
			}
			if !strings.Contains(got.Summary, tc.want) || !strings.Contains(got.Summary, "at "+tc.wantAt) {
				t.Errorf("summary %q, want %q at %s", got.Summary, tc.want, tc.wantAt)
			}
			if partialOnly := tc.wantAt == "5s"; partialOnly != (len(got.Evidence) == 0) {
				t.Errorf("evidence %+v; want none exactly when only the partial interval failed", got.Evidence)
			}
			if !strings.Contains(got.Summary, "in all "+report.FormatInt(s.Failed)+" HTTP ≥ 400") {
				t.Errorf("summary %q, want in all %d", got.Summary, s.Failed)
			}
		})
	}
}
