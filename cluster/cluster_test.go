package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// target is an HTTP server on 127.0.0.1 that counts requests, in total
// and by the X-Worker header the test workers send.
type target struct {
	*httptest.Server
	total   atomic.Int64
	accepts atomic.Int64 // connections accepted
	mu      sync.Mutex
	by      map[string]int64
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{by: map[string]int64{}}
	tg.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.total.Add(1)
		tg.mu.Lock()
		tg.by[r.Header.Get("X-Worker")]++
		tg.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	tg.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			tg.accepts.Add(1)
		}
	}
	tg.Start()
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) count(worker string) int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.by[worker]
}

// testJob is the tests' job: a closed-model attack on one URL.
type testJob struct {
	URL      string
	Clients  int
	Duration time.Duration
	MaxRPS   float64
}

func (j testJob) msg() *fukapb.Job {
	return &fukapb.Job{Work: &fukapb.Job_Attack{Attack: &fukapb.AttackJob{
		Url: j.URL, Method: "GET",
		Load: &fukapb.Load{Clients: int32(j.Clients), DurationNanos: int64(j.Duration), MaxRps: j.MaxRPS},
	}}}
}

// prepareFor builds a Prepare for a worker named name: its requests carry
// X-Worker: name.
func prepareFor(name string) Prepare {
	return func(a Assignment) (engine.Config, func(), error) {
		j := a.Job.GetAttack()
		if j == nil {
			return engine.Config{}, nil, errors.New("not an attack job")
		}
		req, err := client.NewRequest(j.GetMethod(), j.GetUrl(), http.Header{"X-Worker": {name}}, nil)
		if err != nil {
			return engine.Config{}, nil, err
		}
		l := j.GetLoad()
		return engine.Config{Load: engine.Closed{Clients: int(l.GetClients()), Duration: time.Duration(l.GetDurationNanos()), MaxRPS: l.GetMaxRps()}, Work: engine.Request{Request: req, Name: "GET /", Timeout: 2 * time.Second}, Loops: 1}, nil, nil
	}
}

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return nil
}

// cluster is an in-process controller and workers over 127.0.0.1 TLS.
type testCluster struct {
	ctl     *Controller
	workers []*Worker
	errs    []chan error
	conns   *connTracker
}

func newCluster(t *testing.T, n int, job testJob) *testCluster {
	t.Helper()
	ids := newIDs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &connTracker{Listener: ln}
	c := &testCluster{conns: tr, ctl: &Controller{
		Job: job.msg(), Names: []string{"GET /"},
		Workers: n, Listener: tr, Identity: ids.controller,
		WaitTimeout: 10 * time.Second, StartDelay: 500 * time.Millisecond, StopGrace: 3 * time.Second,
		OnLoss: LossContinue, Log: testLog(t),
	}}
	for i := range n {
		name := string(rune('a'+i)) + "-worker"
		c.workers = append(c.workers, &Worker{Name: name, Identity: ids.worker, Prepare: prepareFor(name), DialTimeout: 5 * time.Second, Log: testLog(t)})
	}
	return c
}

// start dials every worker to the controller, each with its own context.
func (c *testCluster) start(t *testing.T, ctxs ...context.Context) {
	for i, w := range c.workers {
		ctx := context.Background()
		if i < len(ctxs) && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		ch := make(chan error, 1)
		c.errs = append(c.errs, ch)
		go func() { ch <- w.Dial(ctx, c.conns.Addr().String()) }()
	}
}

func (c *testCluster) workerErr(t *testing.T, i int) error {
	t.Helper()
	select {
	case err := <-c.errs[i]:
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("worker %d did not return", i)
		return nil
	}
}

// connTracker remembers the connections a listener accepted, so a test
// can cut one abruptly.
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func TestThreeWorkersMergeExactly(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 6, Duration: 2 * time.Second, MaxRPS: 3000})
	c.start(t)
	var ticks atomic.Int32
	c.ctl.OnTick = func(time.Duration, metrics.Point, *metrics.Run) { ticks.Add(1) }
	res, err := c.ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.workers {
		if err := c.workerErr(t, i); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if got, want := res.Run.Total.Requests, tg.total.Load(); got != want || got == 0 {
		t.Errorf("merged report has %d requests; the target counted %d", got, want)
	}
	if res.Degraded || res.Interrupted {
		t.Errorf("degraded %v, interrupted %v; want a clean run", res.Degraded, res.Interrupted)
	}
	for _, w := range res.Workers {
		if w.State != "ok" || w.Requests != tg.count(w.Name) {
			t.Errorf("worker %+v: target counted %d of its requests", w, tg.count(w.Name))
		}
	}
	// Progress ticks come ~250 ms after each whole second; the last, partial
	// second of a 2 s run may end before its tick (it is still in the
	// timeline, checked below), so one tick is the least to expect.
	if n := ticks.Load(); n < 1 {
		t.Errorf("OnTick called %d times, want once a second", n)
	}
	if len(res.Run.Timeline) < 2 || res.Elapsed < 2*time.Second {
		t.Errorf("timeline %d points, elapsed %v", len(res.Run.Timeline), res.Elapsed)
	}
	// The workers' connects per second add up on the controller's timeline
	// to what the target accepted (the closed model pre-connects nothing).
	var connects int64
	for _, p := range res.Run.Timeline {
		connects += p.Connects
	}
	if !res.Run.CountsConnects || res.Run.Connects != tg.accepts.Load() || connects != res.Run.Connects {
		t.Errorf("connects %d (timeline %d, counted %v), the target accepted %d", res.Run.Connects, connects, res.Run.CountsConnects, tg.accepts.Load())
	}
}

func TestWorkerLostMidRun(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 3, Duration: 3 * time.Second, MaxRPS: 600})
	c.start(t)
	// Cut the first worker's connection abruptly 1.5 s into the run.
	var cut string
	go func() {
		time.Sleep(c.ctl.StartDelay + 1500*time.Millisecond)
		c.conns.mu.Lock()
		conn := c.conns.conns[0]
		c.conns.mu.Unlock()
		cut = conn.RemoteAddr().String()
		conn.Close()
	}()
	res, err := c.ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Degraded {
		t.Fatal("not marked degraded")
	}
	lost := 0
	for _, w := range res.Workers {
		switch w.State {
		case "lost":
			lost++
			if w.Addr != cut {
				t.Errorf("lost worker %s at %s; the cut connection was %s", w.Name, w.Addr, cut)
			}
			if w.LastInterval < 1 || w.LastInterval > 3 {
				t.Errorf("lost worker's last interval %d, want about 1", w.LastInterval)
			}
			if w.Requests > tg.count(w.Name) {
				t.Errorf("lost worker reported %d requests, the target saw %d", w.Requests, tg.count(w.Name))
			}
		case "ok":
			if w.Requests != tg.count(w.Name) || w.Requests == 0 {
				t.Errorf("worker %s: %d requests reported, target counted %d", w.Name, w.Requests, tg.count(w.Name))
			}
		}
	}
	if lost != 1 {
		t.Errorf("%d workers lost, want 1: %+v", lost, res.Workers)
	}
	// The cut worker lost its controller and stopped its load.
	var lostErrs int
	for i := range c.workers {
		if err := c.workerErr(t, i); errors.Is(err, ErrControllerLost) {
			lostErrs++
		} else if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if lostErrs != 1 {
		t.Errorf("%d workers report a lost controller, want 1", lostErrs)
	}
}

func TestControllerCancelStopsWorkers(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 3, Duration: time.Minute, MaxRPS: 600})
	c.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(c.ctl.StartDelay+1500*time.Millisecond, cancel)
	begin := time.Now()
	res, err := c.ctl.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("Run took %v after cancel", took)
	}
	if !res.Interrupted || res.Degraded {
		t.Errorf("interrupted %v degraded %v; want interrupted, not degraded", res.Interrupted, res.Degraded)
	}
	for i := range c.workers {
		if err := c.workerErr(t, i); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	// The report is complete after a Ctrl-C: every request the target saw.
	if got, want := res.Run.Total.Requests, tg.total.Load(); got != want || got == 0 {
		t.Errorf("merged %d requests, target counted %d", got, want)
	}
	before := tg.total.Load()
	time.Sleep(500 * time.Millisecond)
	if after := tg.total.Load(); after != before {
		t.Errorf("load went on after the workers returned: %d more requests", after-before)
	}
}

// TestWorkerStopsWhenControllerVanishes: a controller that assigns a job
// and then goes silent (no heartbeat, connection left open, as in a
// partition) must see its worker stop sending load within 5 s.
func TestWorkerStopsWhenControllerVanishes(t *testing.T) {
	tg := newTarget(t)
	ids := newIDs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	job := testJob{URL: tg.URL, Clients: 2, Duration: time.Minute, MaxRPS: 400}.msg()
	assigned := make(chan time.Time, 1)
	hold := make(chan struct{})
	defer close(hold)
	srv := serve(ln, ids.controller, func(se *session) {
		go func() {
			if _, err := se.s.Recv(); err != nil { // Hello
				t.Error(err)
				return
			}
			start := time.Now()
			_ = se.s.Send(msgAssign(&fukapb.Assign{Job: job, ShareIndex: 0, ShareCount: 1, StartAtUnixNanos: start.UnixNano(), Names: []string{"GET /"}, Protocol: ProtocolVersion}))
			assigned <- start
			<-hold // then silence: no heartbeat, nothing read
		}()
	})
	defer srv.Stop()
	w := &Worker{Name: "w", Identity: ids.worker, Prepare: prepareFor("w"), DialTimeout: 5 * time.Second, Log: testLog(t)}
	errc := make(chan error, 1)
	go func() { errc <- w.Dial(context.Background(), ln.Addr().String()) }()
	start := <-assigned
	time.Sleep(time.Second)
	if tg.total.Load() == 0 {
		t.Fatal("no load was sent")
	}
	// Silence since the Assign: the worker must stop within 5 s of it.
	time.Sleep(time.Until(start.Add(5 * time.Second)))
	n := tg.total.Load()
	time.Sleep(time.Second)
	if m := tg.total.Load(); m != n {
		t.Errorf("worker still sent %d requests 5-6 s after its controller went silent", m-n)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrControllerLost) {
			t.Errorf("worker returned %v, want ErrControllerLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("worker did not return")
	}
}

func TestNotEnoughWorkers(t *testing.T) {
	c := newCluster(t, 2, testJob{URL: "http://127.0.0.1:1/", Clients: 1, Duration: time.Second})
	c.ctl.WaitTimeout = 700 * time.Millisecond
	c.workers = c.workers[:1]
	c.start(t)
	_, err := c.ctl.Run(context.Background())
	if !errors.Is(err, ErrNoWorkers) {
		t.Fatalf("got %v, want ErrNoWorkers", err)
	}
}

// TestControllerDialsWorkers: workers listen (`fuka worker --listen`), the
// controller dials them; the roles are the same.
func TestControllerDialsWorkers(t *testing.T) {
	tg := newTarget(t)
	ids := newIDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var addrs []string
	for i := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		name := string(rune('a'+i)) + "-listener"
		w := &Worker{Name: name, Identity: ids.worker, Prepare: prepareFor(name), Log: testLog(t)}
		go w.Serve(ctx, ln)
	}
	job := testJob{URL: tg.URL, Clients: 2, Duration: time.Second, MaxRPS: 400}.msg()
	ctl := &Controller{Job: job, Names: []string{"GET /"}, Workers: 2, Dial: addrs,
		Identity: ids.controller, WaitTimeout: 5 * time.Second, StartDelay: 300 * time.Millisecond, Log: testLog(t)}
	res, err := ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Total.Requests != tg.total.Load() || res.Degraded || len(res.Workers) != 2 {
		t.Errorf("merged %d, target %d, workers %+v", res.Run.Total.Requests, tg.total.Load(), res.Workers)
	}
	// A listening worker serves the next run too.
	res, err = ctl.Run(context.Background())
	if err != nil || res.Degraded {
		t.Fatalf("second run: %v %+v", err, res)
	}
}

// TestExtraWorkerRefused: a worker beyond the number the run needs is sent
// away, and the run goes on with the others.
func TestExtraWorkerRefused(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 2, testJob{URL: tg.URL, Clients: 2, Duration: time.Second, MaxRPS: 400})
	c.workers = append(c.workers, &Worker{Name: "extra", Identity: c.workers[0].Identity, Prepare: prepareFor("extra"), DialTimeout: 5 * time.Second})
	c.start(t)
	res, err := c.ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range c.workers {
		if err := c.workerErr(t, i); errors.Is(err, ErrRefused) {
			refused++
		} else if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if refused != 1 || len(res.Workers) != 2 || res.Degraded {
		t.Errorf("%d refused, workers %+v", refused, res.Workers)
	}
	if res.Run.Total.Requests != tg.total.Load() {
		t.Errorf("merged %d, target %d", res.Run.Total.Requests, tg.total.Load())
	}
}

// TestLossStopsRun: with LossStop, losing a worker stops the others.
func TestLossStopsRun(t *testing.T) {
	tg := newTarget(t)
	c := newCluster(t, 3, testJob{URL: tg.URL, Clients: 3, Duration: 20 * time.Second, MaxRPS: 300})
	c.ctl.OnLoss = LossStop
	c.start(t)
	go func() {
		time.Sleep(c.ctl.StartDelay + 1500*time.Millisecond)
		c.conns.mu.Lock()
		c.conns.conns[1].Close()
		c.conns.mu.Unlock()
	}()
	begin := time.Now()
	res, err := c.ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 8*time.Second {
		t.Errorf("the run went on for %v after a loss with LossStop", took)
	}
	if !res.Degraded || !res.Interrupted {
		t.Errorf("degraded %v interrupted %v; want both", res.Degraded, res.Interrupted)
	}
	var ok int64
	for _, w := range res.Workers {
		if w.State == "ok" {
			ok++
			if w.Requests != tg.count(w.Name) {
				t.Errorf("%s: %d reported, target counted %d", w.Name, w.Requests, tg.count(w.Name))
			}
		}
	}
	if ok != 2 {
		t.Errorf("workers %+v, want 2 ok", res.Workers)
	}
}
