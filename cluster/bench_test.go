package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/internal/testnginx"
	"github.com/fuka-load/fuka/metrics"
)

// benchNames are five request names, as a small plan has.
var benchNames = []string{"list products", "product", "login", "add to cart", "checkout"}

// workerSecond is one second of a busy worker: 5 request names, 2,000
// requests each with latencies spread from 200 µs to ~1 s, a few errors
// and statuses, encoded as on the wire.
func workerSecond(b testing.TB) []byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	rec := metrics.NewRecorder(len(benchNames))
	for name := range benchNames {
		for range 2000 {
			lat := time.Duration(200+rng.ExpFloat64()*3000) * time.Microsecond
			if rng.IntN(100) == 0 {
				lat *= 300
			}
			o := metrics.Outcome{Latency: lat, Service: lat * 9 / 10, Status: 200, BytesIn: 512, BytesOut: 120}
			switch rng.IntN(200) {
			case 0:
				o.Status = 500
			case 1:
				o.Status, o.Err = 0, metrics.ErrTimeout
			}
			rec.Record(name, o)
		}
	}
	col := metrics.NewCollector(benchNames, []*metrics.Recorder{rec})
	col.Tick(time.Second, 50)
	s := metrics.Snapshot{Interval: 1, Stats: col.Interval(), Clients: 50}
	data, err := s.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkControllerWorkerSecond is what the controller spends on one
// worker's second: decode its snapshot, merge it into the worker's
// recorder, and that worker's share of the tick (here 1 of 1).
func BenchmarkControllerWorkerSecond(b *testing.B) {
	data := workerSecond(b)
	b.Logf("snapshot: %d bytes on the wire", len(data))
	var s metrics.Snapshot
	if err := s.UnmarshalBinary(data); err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s metrics.Snapshot
			if err := s.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("merge", func(b *testing.B) {
		rec := metrics.NewRecorder(len(benchNames))
		col := metrics.NewCollector(benchNames, []*metrics.Recorder{rec})
		b.ReportAllocs()
		for b.Loop() {
			if err := rec.MergeSnapshot(&s); err != nil {
				b.Fatal(err)
			}
		}
		col.Tick(time.Second, 0)
	})
	b.Run("tick", func(b *testing.B) {
		rec := metrics.NewRecorder(len(benchNames))
		col := metrics.NewCollector(benchNames, []*metrics.Recorder{rec})
		b.ReportAllocs()
		at := time.Duration(0)
		for b.Loop() {
			b.StopTimer()
			if err := rec.MergeSnapshot(&s); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			at += time.Second
			col.Tick(at, 50)
		}
	})
	b.Run("all", func(b *testing.B) {
		rec := metrics.NewRecorder(len(benchNames))
		col := metrics.NewCollector(benchNames, []*metrics.Recorder{rec})
		b.ReportAllocs()
		at := time.Duration(0)
		for b.Loop() {
			var s metrics.Snapshot
			if err := s.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
			if err := rec.MergeSnapshot(&s); err != nil {
				b.Fatal(err)
			}
			at += time.Second
			col.Tick(at, 50)
		}
	})
}

// BenchmarkLocalWorkers is the throughput of a distributed run with 1 and
// 2 workers in this process (over gRPC and TLS on 127.0.0.1), against
// nginx when it is installed, else an httptest server. Each iteration is a
// 3 s closed-model run of 64 clients; req/s is the merged throughput. Run
// with -benchtime 1x.
func BenchmarkLocalWorkers(b *testing.B) {
	url := benchTarget(b)
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			var rps float64
			for b.Loop() {
				rps = runLocal(b, url, n)
			}
			b.ReportMetric(rps, "req/s")
		})
	}
}

func runLocal(b *testing.B, url string, n int) float64 {
	ids := newIDs(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	job := testJob{URL: url, Clients: 64, Duration: 3 * time.Second}.msg()
	ctl := &Controller{Job: job, Names: []string{"GET /"}, Workers: n, Listener: ln,
		Identity: ids.controller, StartDelay: 300 * time.Millisecond, WaitTimeout: 10 * time.Second}
	for i := range n {
		prep := func(a Assignment) (engine.Config, func(), error) {
			req, err := client.NewRequest("GET", url, nil, nil)
			return engine.Config{Load: engine.Closed{Clients: 64, Duration: 3 * time.Second}, Work: engine.Request{Request: req, Name: "GET /", Timeout: 5 * time.Second}}, nil, err
		}
		w := &Worker{Name: fmt.Sprint("w", i), Identity: ids.worker, Prepare: prep, DialTimeout: 10 * time.Second}
		go w.Dial(context.Background(), ln.Addr().String())
	}
	res, err := ctl.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return float64(res.Run.Total.Requests) / res.Elapsed.Seconds()
}

// benchTarget starts nginx (one worker process) on 127.0.0.1, or an
// httptest server where nginx is not installed.
func benchTarget(b *testing.B) string {
	if testnginx.Find() == "" {
		b.Log("nginx not installed: target is an httptest server in this process")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }))
		b.Cleanup(srv.Close)
		return srv.URL + "/"
	}
	url, _ := testnginx.Start(b, testnginx.Config{
		NoAccessLog: true, WorkerConnections: 4096, HTTP: "keepalive_requests 100000;",
		Locations: `location / { return 200 "ok\n"; }`,
	})
	b.Logf("target: nginx, one worker process, on %s", url)
	return url + "/"
}
