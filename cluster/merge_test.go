package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
)

// TestMergedFigures: beyond the totals, the merged run's timeline, peak,
// active clients and scheduled starts are the workers' figures added up,
// interval by interval.
func TestMergedFigures(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		tg := newTarget(t)
		c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 6, Duration: 2 * time.Second, MaxRPS: 600})
		c.start(t)
		res, err := c.ctl.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.workers {
			if err := c.workerErr(t, i); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}
		checkTimeline(t, res, tg.total.Load())
		if res.PeakClients != 6 {
			t.Errorf("peak clients %d, want the 6 clients of the 3 workers", res.PeakClients)
		}
		// At 1 s every worker's clients are all running.
		if tl := res.Run.Timeline; len(tl) > 0 && tl[0].Clients != 6 {
			t.Errorf("clients at 1s: %d, want 6", tl[0].Clients)
		}
	})
	t.Run("slow target", func(t *testing.T) {
		// 300 ms a request: the requests in flight when the load ends
		// complete after it, in the workers' final, partial intervals,
		// which the controller merges after the last whole second.
		var served atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			served.Add(1)
		}))
		defer srv.Close()
		c := newCluster(t, 3, testJob{URL: srv.URL, Clients: 6, Duration: 2 * time.Second})
		c.start(t)
		res, err := c.ctl.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.workers {
			if err := c.workerErr(t, i); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}
		checkTimeline(t, res, served.Load())
	})
	t.Run("open", func(t *testing.T) {
		tg := newTarget(t)
		c := newCluster(t, 3, testJob{})
		r, err := load.ParseRate("300", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.workers {
			w.Prepare = func(Assignment) (engine.Config, func(), error) {
				req, err := client.NewRequest("GET", tg.URL, http.Header{"X-Worker": {w.Name}}, nil)
				return engine.Config{Load: engine.Open{Rate: r, MaxClients: 30}, Work: engine.Request{Request: req, Name: "GET /", Timeout: 2 * time.Second}, Loops: 1}, nil, err
			}
		}
		c.start(t)
		res, err := c.ctl.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.workers {
			if err := c.workerErr(t, i); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}
		checkTimeline(t, res, tg.total.Load())
		if tot := res.Run.Total; res.Scheduled != 600 || tot.Requests+res.Run.Dropped != res.Scheduled {
			t.Errorf("scheduled %d (requests %d + dropped %d), want the plan's 600 starts",
				res.Scheduled, tot.Requests, res.Run.Dropped)
		}
	})
}

// checkTimeline: the merged timeline adds up to the merged totals and to
// what the target served, and no whole second of the load is empty.
func checkTimeline(t *testing.T, res *Result, served int64) {
	t.Helper()
	tot := res.Run.Total
	var req, dropped int64
	for _, p := range res.Run.Timeline {
		req += p.Requests
		dropped += p.Dropped
	}
	if tot.Requests != served || req != tot.Requests || dropped != res.Run.Dropped || tot.Latency.TotalCount() != tot.Requests {
		t.Errorf("served %d; merged run %d requests (%d latency samples), timeline %d; dropped %d, timeline %d",
			served, tot.Requests, tot.Latency.TotalCount(), req, res.Run.Dropped, dropped)
	}
	tl := res.Run.Timeline
	if len(tl) < 2 {
		t.Fatalf("timeline %+v, want a point for each second of the 2s load", tl)
	}
	for _, p := range tl[:2] {
		if p.Requests == 0 {
			t.Errorf("no request in the interval ending at %v: intervals merged out of place (%d requests in all)",
				p.At, tot.Requests)
		}
	}
}

// TestLostWorkerClients: once a worker is lost, its clients no longer count
// as active in the merged timeline.
func TestLostWorkerClients(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 3, Duration: 3 * time.Second, MaxRPS: 300})
	c.start(t)
	begin := time.Now()
	cut := make(chan time.Duration, 1) // when, from the load's start (about)
	go func() {
		time.Sleep(c.ctl.StartDelay + 1600*time.Millisecond) // after the tick at 1s
		c.conns.mu.Lock()
		conn := c.conns.conns[0]
		c.conns.mu.Unlock()
		conn.Close()
		cut <- time.Since(begin) - c.ctl.StartDelay
	}()
	res, err := c.ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.workers {
		_ = c.workerErr(t, i) // one of them lost its controller: that is the test
	}
	if !res.Degraded {
		t.Fatal("not marked degraded")
	}
	cutAt := <-cut
	for _, p := range res.Run.Timeline {
		t.Logf("at %v: %d clients, %d requests (cut at %v)", p.At, p.Clients, p.Requests, cutAt)
		if p.At > cutAt+200*time.Millisecond && p.Clients > 2 {
			t.Errorf("%d clients active at %v, after one of 3 one-client workers was lost", p.Clients, p.At)
		}
	}
}
