package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// jobOf is a Job for RunJob from a test job.
func jobOf(j testJob) Job { return Job{Work: j.msg(), Names: []string{"GET /"}} }

// counted is what the target counted per worker since before.
func (tg *target) snapshot() map[string]int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	m := make(map[string]int64, len(tg.by))
	for k, v := range tg.by {
		m[k] = v
	}
	return m
}

// checkJob: a job's merged result is exactly what the target counted
// during it, in all and per worker.
func checkJob(t *testing.T, tg *target, res *Result, before map[string]int64, beforeTotal int64, wantWorkers ...string) {
	t.Helper()
	if got, want := res.Run.Total.Requests, tg.total.Load()-beforeTotal; got != want || got == 0 {
		t.Errorf("merged %d requests; the target counted %d", got, want)
	}
	if res.Degraded || res.Interrupted {
		t.Errorf("degraded %v interrupted %v; want a clean job", res.Degraded, res.Interrupted)
	}
	var names []string
	defer func() {
		slices.Sort(names)
		if strings.Join(names, ",") != strings.Join(wantWorkers, ",") {
			t.Errorf("workers %v, want %v", names, wantWorkers)
		}
	}()
	for _, w := range res.Workers {
		names = append(names, w.Name)
		if d := tg.count(w.Name) - before[w.Name]; w.State != "ok" || w.Requests != d {
			t.Errorf("worker %+v: the target counted %d of its requests", w, d)
		}
	}
}

// TestJobsOnHeldWorkers: a controller holds its workers for a sequence of
// jobs over the same connections; each job's merged counts are exact; the
// workers return (nil) when the controller closes.
func TestJobsOnHeldWorkers(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 2, testJob{})
	c.start(t)
	ctx := context.Background()
	if err := c.ctl.Join(ctx); err != nil {
		t.Fatal(err)
	}
	for i, j := range []testJob{
		{URL: tg.URL, Clients: 2, Duration: time.Second, MaxRPS: 200},
		{URL: tg.URL + "/second", Clients: 4, Duration: 1500 * time.Millisecond, MaxRPS: 400},
	} {
		before, total := tg.snapshot(), tg.total.Load()
		res, err := c.ctl.RunJob(ctx, jobOf(j))
		if err != nil {
			t.Fatalf("job %d: %v", i+1, err)
		}
		checkJob(t, tg, res, before, total, "a-worker", "b-worker")
		if res.PeakClients != j.Clients {
			t.Errorf("job %d: peak clients %d, want %d", i+1, res.PeakClients, j.Clients)
		}
	}
	c.conns.mu.Lock()
	conns := len(c.conns.conns)
	c.conns.mu.Unlock()
	if conns != 2 {
		t.Errorf("%d connections for 2 workers and 2 jobs; want the same 2", conns)
	}
	c.ctl.Close()
	for i := range c.workers {
		if err := c.workerErr(t, i); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if _, err := c.ctl.RunJob(ctx, jobOf(testJob{URL: tg.URL, Clients: 1})); err == nil {
		t.Error("RunJob after Close ran")
	}
}

// TestWorkerLostBetweenJobs: a worker gone between two jobs is replaced
// by one that joins before the next job, which runs complete; with none
// to replace it, the next job fails for want of workers.
func TestWorkerLostBetweenJobs(t *testing.T) {
	for _, replace := range []bool{true, false} {
		name := map[bool]string{true: "replaced", false: "not replaced"}[replace]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			c := newCluster(t, 2, testJob{})
			wctx, stopWorker := context.WithCancel(context.Background())
			defer stopWorker()
			c.start(t, wctx)
			ctx := context.Background()
			if err := c.ctl.Join(ctx); err != nil {
				t.Fatal(err)
			}
			defer c.ctl.Close()
			job := testJob{URL: tg.URL, Clients: 2, Duration: time.Second, MaxRPS: 200}
			before, total := tg.snapshot(), tg.total.Load()
			res, err := c.ctl.RunJob(ctx, jobOf(job))
			if err != nil {
				t.Fatal(err)
			}
			checkJob(t, tg, res, before, total, "a-worker", "b-worker")
			// The first worker goes away between the jobs (Ctrl-C on its
			// host), and the controller sees it go.
			stopWorker()
			if err := c.workerErr(t, 0); !errors.Is(err, context.Canceled) {
				t.Errorf("stopped worker: %v, want context.Canceled", err)
			}
			i := slices.IndexFunc(c.ctl.h.members, func(m *member) bool { return m.name == "a-worker" })
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if dead, _ := c.ctl.h.members[i].link.failed(); dead {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the controller did not see the worker go")
				}
			}
			if !replace {
				c.ctl.WaitTimeout = 700 * time.Millisecond
				if _, err := c.ctl.RunJob(ctx, jobOf(job)); !errors.Is(err, ErrNoWorkers) {
					t.Fatalf("second job with one worker of two: %v, want ErrNoWorkers", err)
				}
				return
			}
			w := &Worker{Name: "c-worker", Identity: c.workers[0].Identity, Prepare: prepareFor("c-worker"), DialTimeout: 5 * time.Second, Log: testLog(t)}
			c.workers = append(c.workers, w)
			ch := make(chan error, 1)
			c.errs = append(c.errs, ch)
			go func() { ch <- w.Dial(ctx, c.conns.Addr().String()) }()
			before, total = tg.snapshot(), tg.total.Load()
			res, err = c.ctl.RunJob(ctx, jobOf(job))
			if err != nil {
				t.Fatal(err)
			}
			checkJob(t, tg, res, before, total, "b-worker", "c-worker")
		})
	}
}

// TestOlderProtocolRefused: a worker of the one-job protocol (2) is
// refused with the version message, which names both protocols.
func TestOlderProtocolRefused(t *testing.T) {
	c := newCluster(t, 1, testJob{})
	c.ctl.Version = "v1.0.0"
	c.ctl.WaitTimeout = 2 * time.Second
	joined := make(chan error, 1)
	go func() { joined <- c.ctl.Join(context.Background()) }()
	se, err := dial(context.Background(), c.conns.Addr().String(), c.workers[0].Identity, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer se.end()
	if err := se.s.Send(msgHello(&fukapb.Hello{Name: "old", Version: "v1.0.0", Protocol: 2, UnixNanos: time.Now().UnixNano()})); err != nil {
		t.Fatal(err)
	}
	var stop *fukapb.Stop
	for stop == nil {
		m, err := se.s.Recv()
		if err != nil {
			t.Fatalf("no Stop before the stream ended: %v", err)
		}
		stop = m.GetStop()
		if m.GetAssign() != nil {
			t.Fatal("a worker of protocol 2 was assigned a job")
		}
	}
	if !stop.GetVersionMismatch() || stop.GetProtocol() != ProtocolVersion || !strings.Contains(stop.GetReason(), "protocol 2") {
		t.Errorf("Stop %+v; want a version mismatch naming protocol 2", stop)
	}
	if err := <-joined; !errors.Is(err, ErrNoWorkers) || !strings.Contains(err.Error(), "protocol 2") {
		t.Errorf("Join: %v; want ErrNoWorkers naming the refused protocol", err)
	}
}
