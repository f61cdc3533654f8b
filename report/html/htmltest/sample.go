package htmltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// Hostile is text that runs script wherever a page puts it unescaped: the
// classic payloads, and variants that set window.__xss so a test can tell
// that something ran even where alert is not noticed.
const Hostile = `<script>alert(1)</script>` +
	`"><img src=x onerror=alert(1)>` +
	`</script><script>alert(2)</script>` +
	`'><img src=x onerror="window.__xss=1">` +
	`<script>window.__xss=2</script>` +
	`<svg onload="window.__xss=3"></svg>` +
	`<!--`

// Sample is an open-model run of the "shop" plan as the engine would report
// it: seconds of load on three requests, ramping up, with a latency spike and
// timeouts in the middle, checks, thresholds, monitored resources, profiles
// and a warning. Every text in it (names, URLs, check names, error texts,
// series and function names) ends in inject, e.g. [Hostile]; "" gives a
// plain run for a screenshot.
func Sample(seconds int, inject string) *report.Summary {
	names := []string{"list products" + inject, "product page" + inject, "checkout" + inject}
	rec := metrics.NewRecorder(len(names))
	col := metrics.NewCollector(names, []*metrics.Recorder{rec})
	rng := rand.New(rand.NewPCG(1, 2))

	var scheduled int64
	for s := 1; s <= seconds; s++ {
		ramp := math.Min(1, float64(s)/10) // rate ramps up over the first 10 s
		spike := s >= seconds*6/10 && s < seconds*6/10+4
		for i, share := range []float64{0.6, 0.3, 0.1} {
			n := int(400 * ramp * share)
			for range n {
				lat := time.Duration((2 + float64(i)*3 + rng.ExpFloat64()*3) * float64(time.Millisecond))
				o := metrics.Outcome{Latency: lat, Service: lat, Status: 200, BytesIn: 2048, BytesOut: 180}
				switch {
				case spike && rng.Float64() < 0.02:
					o = metrics.Outcome{Latency: 2 * time.Second, Service: 2 * time.Second, Err: metrics.ErrTimeout, BytesOut: 180}
				case spike:
					o.Latency += time.Duration(rng.IntN(250)) * time.Millisecond
					o.Service += 20 * time.Millisecond
				case i == 2 && rng.Float64() < 0.01:
					o.Status = 500
				}
				rec.Record(i, o)
				scheduled++
			}
		}
		if spike {
			rec.Drop(25)
			scheduled += 25
		}
		clients := int(8 + 40*ramp)
		if spike {
			clients = 200
		}
		col.Tick(time.Duration(s)*time.Second, clients)
	}

	started := time.Date(2025, 6, 1, 14, 30, 0, 0, time.UTC)
	sum := report.NewSummary(report.Meta{
		Name: "shop" + inject, Target: "http://127.0.0.1:8080/?q=" + inject,
		Model: report.ModelOpen, LatencyFrom: report.FromIntended,
		Clients: 200, MaxClients: 200, Planned: time.Duration(seconds) * time.Second,
		Rate: "40:10s,400", Started: started, Elapsed: time.Duration(seconds) * time.Second,
		Scheduled: scheduled, Version: "v0.1.0-test",
	}, col.Run())

	sum.Checks = []report.CheckSummary{
		{Name: names[0] + ": status 200" + inject, Passes: 4000, Fails: 0},
		{Name: names[2] + ": status 201" + inject, Passes: 640, Fails: 9},
		{Name: names[2] + ": max_latency 500ms" + inject, Passes: 649, Fails: 0},
	}
	sum.Thresholds = []report.ThresholdResult{
		{Expr: "p99 < 300ms" + inject, Pass: false, Detail: fmt.Sprintf("✗ p99 < 300ms (actual %.1fms)%s", sum.Latency.P99MS, inject)},
		{Expr: "error_rate < 1%", Pass: true, Detail: fmt.Sprintf("✓ error_rate < 1%% (actual %.2f%%)", 100*sum.ErrorRate)},
	}
	sum.Warnings = []string{"the load generator used 96% of its CPU at " + fmt.Sprint(seconds*6/10) + "s: latencies there may be its own" + inject}
	sum.Resources = sampleResources(sum, inject)
	heapFile := "profiles/heap-18s.pb.gz"
	if inject != "" {
		heapFile = "javascript:window.__xss=4" // a link must not run it
	}
	sum.Profiles = []report.ProfileSummary{
		{Kind: "cpu", URL: "http://127.0.0.1:6060/debug/pprof/profile?seconds=5" + inject, File: "profiles/cpu-18s.pb.gz",
			StartedS: float64(seconds * 6 / 10), Top: []report.ProfileFunc{
				{Name: "encoding/json.(*encodeState).marshal" + inject, Flat: 1.42, Cum: 2.1, FlatPct: 28.4, CumPct: 42},
				{Name: "runtime.mallocgc", Flat: 0.61, Cum: 0.9, FlatPct: 12.2, CumPct: 18},
				{Name: "main.(*catalog).search", Flat: 0.4, Cum: 3.8, FlatPct: 8, CumPct: 76},
				{Name: "syscall.Syscall6", Flat: 0.22, Cum: 0.22, FlatPct: 4.4, CumPct: 4.4},
			}},
		{Kind: "heap", URL: "http://127.0.0.1:6060/debug/pprof/heap", File: heapFile,
			StartedS: float64(seconds * 6 / 10), Top: []report.ProfileFunc{
				{Name: "bytes.growSlice", Flat: 24 << 20, Cum: 24 << 20, FlatPct: 40, CumPct: 40},
				{Name: "main.loadCatalog" + inject, Flat: 12 << 20, Cum: 36 << 20, FlatPct: 20, CumPct: 60},
			}},
		{Kind: "goroutine", URL: "http://127.0.0.1:6060/debug/pprof/goroutine", Error: "connection refused" + inject},
	}
	return sum
}

// sampleResources follow the load: CPU and network with throughput, TCP
// connections with clients; the nginx sampler fails for two seconds.
func sampleResources(sum *report.Summary, inject string) *report.Resources {
	names := []string{
		"cpu.system_pct", "cpu.user_pct", "mem.used_bytes", "mem.used_pct",
		"net.rx_bytes_per_s", "net.tx_bytes_per_s", "disk.write_bytes_per_s",
		"tcp.established", "tcp.time_wait", "nginx.active", "nginx.requests_per_s",
		"app.queue" + inject, "nginx.waiting" + inject,
		"cpu.count", "swap.used_bytes", "tcp.listen_overflows_per_s", // did not move
	}
	r := &report.Resources{}
	stats := make(map[string]*report.ResourceStat, len(names))
	for _, n := range names {
		stats[n] = &report.ResourceStat{Name: n}
	}
	for i, p := range sum.Timeline {
		var p99 float64
		if p.P99MS != nil {
			p99 = *p.P99MS
		}
		v := map[string]float64{
			"cpu.user_pct":               math.Min(95, 5+p.RPS/6),
			"cpu.system_pct":             math.Min(40, 2+p.RPS/20),
			"mem.used_bytes":             float64(900<<20) + float64(i)*float64(6<<20),
			"mem.used_pct":               22 + float64(i)*0.15,
			"net.rx_bytes_per_s":         p.RPS * 180,
			"net.tx_bytes_per_s":         float64(p.BytesIn),
			"disk.write_bytes_per_s":     float64(64<<10) * float64(i%5),
			"tcp.established":            float64(p.Clients) + 4,
			"tcp.time_wait":              float64(p.Failed) * 3,
			"nginx.active":               float64(p.Clients) + 1,
			"nginx.requests_per_s":       p.RPS,
			"app.queue" + inject:         p99 / 10,
			"nginx.waiting" + inject:     float64(p.Clients / 4),
			"cpu.count":                  4,
			"swap.used_bytes":            0,
			"tcp.listen_overflows_per_s": 0,
		}
		if i == 4 || i == 5 {
			for n := range v {
				if len(n) > 6 && n[:6] == "nginx." {
					delete(v, n)
				}
			}
			r.Failures = append(r.Failures, report.ResourceFailure{TS: p.TS, Source: "nginx", Error: "GET http://127.0.0.1:8080/nginx_status: 502 Bad Gateway" + inject})
		}
		for n, x := range v {
			st := stats[n]
			st.Peak = math.Max(st.Peak, x)
			st.Mean += x
			st.Samples++
		}
		r.Timeline = append(r.Timeline, report.ResourcePoint{TS: p.TS, Values: v})
	}
	for _, n := range names {
		st := stats[n]
		if st.Samples > 0 {
			st.Mean = math.Round(st.Mean/float64(st.Samples)*1000) / 1000
		}
		r.Series = append(r.Series, *st)
	}
	return r
}
