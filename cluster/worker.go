package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/metrics"
)

// Assignment is a worker's part of a run, as the controller sent it.
type Assignment struct {
	Job     *fukapb.Job // the whole load
	Share   engine.Share
	StartAt time.Time // in this worker's clock
	Names   []string  // the request names the controller merges under
}

// Prepare turns an assignment into the load to run; cleanup (may be nil)
// runs after the run. Implemented by the command line, with the same code
// a local run uses.
type Prepare func(a Assignment) (cfg engine.Config, cleanup func(), err error)

// Worker runs the load a controller assigns. One Worker runs one session
// at a time.
type Worker struct {
	Name string
	// Version is this fuka's version: the controller must run the same
	// (see VersionError).
	Version string
	// CPUs is how many CPUs this worker may use, told to the controller
	// in its Hello (0: GOMAXPROCS). The process's GOMAXPROCS is no measure
	// of it once raised above the CPUs (engine.SetProcs).
	CPUs     int
	Identity *Identity // nil: no TLS (the command line allows it only on loopback)
	Prepare  Prepare
	Log      *slog.Logger
	// DialTimeout bounds how long Dial keeps trying to reach the controller.
	DialTimeout time.Duration

	busy sync.Mutex
}

// ErrControllerLost is the end of a session whose controller vanished
// (stream broken, or silent for 3 s). The run was cancelled.
var ErrControllerLost = errors.New("controller lost")

// ErrRefused is the end of a session the controller turned down before
// assigning anything (it had all its workers, or it was stopped).
var ErrRefused = errors.New("controller sent no work")

func (w *Worker) cpus() int {
	if w.CPUs > 0 {
		return w.CPUs
	}
	return runtime.GOMAXPROCS(0)
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// Dial connects to the controller at addr and runs one session: it runs
// the jobs the controller assigns, one after another, and returns when the
// controller ends the session. A controller that is not up yet,
// or a session that fails before the controller said anything (a refused
// certificate), is retried until DialTimeout.
func (w *Worker) Dial(ctx context.Context, addr string) error {
	timeout := w.DialTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	backoff := 250 * time.Millisecond
	for {
		left := time.Until(deadline)
		if left <= 0 {
			left = time.Millisecond
		}
		se, err := dial(ctx, addr, w.Identity, left)
		heard := false
		if err == nil {
			heard, err = w.session(ctx, se)
		}
		if err == nil || heard || ctx.Err() != nil {
			return err
		}
		if time.Now().Add(backoff).After(deadline) {
			return fmt.Errorf("controller %s: %w", addr, err)
		}
		w.log().Info("controller not reachable yet; retrying", "controller", addr, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// Serve accepts controllers' sessions on ln, one at a time, until ctx
// ends. A controller that comes while a run is going on is turned away.
func (w *Worker) Serve(ctx context.Context, ln net.Listener) error {
	srv := serve(ln, w.Identity, func(se *session) {
		go func() {
			defer se.end()
			// The previous run may still be closing its session (up to a
			// second): a controller that starts the next run at once waits
			// for it rather than being turned away. One that comes during a
			// run is turned away.
			if !tryLockFor(&w.busy, 3*time.Second) {
				w.log().Warn("a controller connected during a run: turned away", "from", se.addr)
				return
			}
			defer w.busy.Unlock()
			if _, err := w.session(ctx, se); err != nil && !errors.Is(err, context.Canceled) {
				w.log().Warn("session ended", "controller", se.addr, "err", err)
			}
		}()
	})
	<-ctx.Done()
	// A run in progress was cancelled with ctx: let its session send the
	// final snapshot and Done (GracefulStop waits for it) before the
	// listener goes, but not forever.
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(serveGrace):
		srv.Stop()
	}
	return nil
}

// serveGrace bounds how long an interrupted listening worker waits for its
// run to end (in-flight requests finish within their timeout).
const serveGrace = time.Minute

// tryLockFor takes mu, waiting at most d.
func tryLockFor(mu *sync.Mutex, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if mu.TryLock() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// session runs one conversation with a controller: the jobs it assigns,
// one after another, until it ends the session. heard reports whether the
// controller sent anything at all.
func (w *Worker) session(ctx context.Context, se *session) (heard bool, err error) {
	defer se.end()
	in := make(chan *fukapb.Msg, 16)
	quit := make(chan struct{})
	defer close(quit)
	// The controller's answers to our heartbeats extend the lease: the run
	// starts requests only while it holds (see Heartbeat in proto/fuka.proto).
	lease := engine.NewLease()
	l := newLink(se.s, func(m *fukapb.Msg) error {
		select {
		case in <- m:
			return nil
		case <-quit:
			return context.Canceled
		}
	}, func(l *link, hb *fukapb.Heartbeat) {
		if e := hb.GetEchoUnixNanos(); e != 0 {
			lease.Extend(l.clockOf(e).Add(leaseFor))
		}
	})
	defer l.close(time.Second)
	l.send(msgHello(&fukapb.Hello{Name: w.Name, Version: w.Version, Protocol: ProtocolVersion, Cpus: int32(w.cpus()), UnixNanos: time.Now().UnixNano()}))
	check := time.NewTicker(livenessCheck)
	defer check.Stop()
	for jobs := 0; ; jobs++ {
		a, err := w.next(ctx, l, in, check.C, jobs > 0)
		if a == nil {
			return jobs > 0 || l.heard.Load(), err
		}
		done, verr := w.job(ctx, l, a, lease, in, check.C)
		l.send(msgDone(done))
		if done.GetError() == "" && !done.GetLeft() {
			continue
		}
		// The session ends: Done must reach the controller before the
		// stream does. Flush it, say nothing more follows, and give the
		// controller a moment to end the session its side.
		l.close(5 * time.Second)
		se.closeSend()
		select {
		case <-l.dead:
		case <-time.After(5 * time.Second):
		}
		switch e := done.GetError(); {
		case verr != nil:
			return true, verr
		case e == errLostText:
			return true, ErrControllerLost
		case e != "":
			return true, errors.New(e)
		}
		return true, nil
	}
}

// next waits for the controller's next assignment. It returns nil when the
// session ends: err says why, or is nil when the controller ended it after
// a job (after: a job has run).
func (w *Worker) next(ctx context.Context, l *link, in <-chan *fukapb.Msg, check <-chan time.Time, after bool) (*fukapb.Assign, error) {
	// The controller may wait a long time for other workers, or between
	// jobs; heartbeats keep both sides sure of each other.
	read := func(m *fukapb.Msg) (a *fukapb.Assign, end bool, err error) {
		st := m.GetStop()
		switch {
		case m.GetAssign() != nil:
			return m.GetAssign(), true, nil
		case st.GetVersionMismatch():
			return nil, true, &VersionError{Worker: w.Version, WorkerProtocol: ProtocolVersion, Controller: st.GetVersion(), ControllerProtocol: st.GetProtocol()}
		case st.GetEnd() && after:
			return nil, true, nil
		case st != nil && after:
			return nil, false, nil // the Stop of a job that had ended when it came
		case st != nil:
			return nil, true, fmt.Errorf("%w: %s", ErrRefused, st.GetReason())
		}
		return nil, false, nil
	}
	for {
		select {
		case m := <-in:
			if a, end, err := read(m); end {
				return a, err
			}
		case <-l.dead:
		case <-check:
			if !l.checkSilence(time.Now()) {
				continue
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// The link has ended. What arrived before it ended comes first:
		// the controller's last word may be the end of the session.
		for len(in) > 0 {
			if a, end, err := read(<-in); end {
				return a, err
			}
		}
		return nil, fmt.Errorf("%w: %s", ErrControllerLost, describe(l.err))
	}
}

// job runs one assignment and says how it went. err is set when the
// controller is of another fuka version.
func (w *Worker) job(ctx context.Context, l *link, a *fukapb.Assign, lease *engine.Lease, in <-chan *fukapb.Msg, check <-chan time.Time) (done *fukapb.Done, err error) {
	if !sameVersion(w.Version, a.GetVersion(), a.GetProtocol()) {
		// A controller that did not check (an older fuka) assigned a job
		// this worker may read differently: it runs nothing.
		e := &VersionError{Worker: w.Version, WorkerProtocol: ProtocolVersion, Controller: a.GetVersion(), ControllerProtocol: a.GetProtocol()}
		return &fukapb.Done{Error: e.Error()}, e
	}
	log := w.log().With("share", fmt.Sprintf("%d/%d", a.GetShareIndex()+1, a.GetShareCount()))
	if !a.GetEchoes() {
		log.Warn("the controller does not answer heartbeats (an older fuka?): running without a lease, so if this worker is cut off it may send load the controller does not count")
		lease = nil
	}
	cfg, asg, cleanup, bad := w.prepare(a, lease)
	if bad != nil {
		return bad, nil
	}
	defer cleanup()
	return w.run(ctx, l, cfg, asg, in, check, log), nil
}

const errLostText = "controller lost"

// prepare turns an assignment into the load to run, or into the Done
// that says why it cannot run. cleanup (not nil when prepared) runs after
// the run.
func (w *Worker) prepare(a *fukapb.Assign, lease *engine.Lease) (cfg engine.Config, asg Assignment, cleanup func(), bad *fukapb.Done) {
	share := engine.Share{Index: int(a.GetShareIndex()), Count: int(a.GetShareCount())}
	if share.Count < 1 || share.Index < 0 || share.Index >= share.Count {
		return cfg, asg, nil, &fukapb.Done{Error: fmt.Sprintf("bad share %d of %d", share.Index, share.Count)}
	}
	if a.GetJob().GetWork() == nil {
		return cfg, asg, nil, &fukapb.Done{Error: "the assignment carries no job"}
	}
	asg = Assignment{Job: a.GetJob(), Share: share, StartAt: time.Unix(0, a.GetStartAtUnixNanos()), Names: a.GetNames()}
	if w.Prepare == nil {
		return cfg, asg, nil, &fukapb.Done{Error: "worker has no way to prepare a job"}
	}
	cfg, cleanup, err := w.Prepare(asg)
	if err != nil {
		return cfg, asg, nil, &fukapb.Done{Error: err.Error()}
	}
	if cleanup == nil {
		cleanup = func() {}
	}
	cfg.Share, cfg.Lease = share, lease
	if names, _ := Names(cfg); !slices.Equal(names, asg.Names) {
		cleanup()
		return cfg, asg, nil, &fukapb.Done{Error: fmt.Sprintf("the job's request names %q differ from the controller's %q (different fuka versions?)", names, asg.Names)}
	}
	return cfg, asg, cleanup, nil
}

// run runs a prepared assignment, streaming snapshots, until the load
// ends, the controller says Stop, or the controller is lost.
func (w *Worker) run(ctx context.Context, l *link, cfg engine.Config, asg Assignment, in <-chan *fukapb.Msg, check <-chan time.Time, log *slog.Logger) *fukapb.Done {
	var sendErr error
	cfg.OnSnapshot = func(s *metrics.Snapshot) {
		b, err := s.MarshalBinary()
		if err != nil {
			sendErr = err
			return
		}
		l.send(msgSnapshot(b)) // false when the link is gone: the run is being cancelled
	}
	cfg.OnTick = nil
	log.Info("job assigned", "kind", jobKind(asg.Job), "starts_in", time.Until(asg.StartAt).Round(time.Millisecond))

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type outcome struct {
		res *engine.Result
		err error
	}
	ended := make(chan outcome, 1)
	go func() {
		// Pre-connecting happens before the agreed start, not after it.
		p, err := engine.Prepare(runCtx, cfg)
		if err != nil {
			ended <- outcome{nil, err}
			return
		}
		if w := p.Warmup(); w != nil {
			log.Info("pre-connected", "opened", w.Opened, "wanted", w.Wanted, "failed", w.Failed, "error", w.Error, "took", w.Elapsed.Round(time.Millisecond))
		}
		if wait := time.Until(asg.StartAt); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-runCtx.Done():
				t.Stop()
				p.Close()
				ended <- outcome{res: &engine.Result{Interrupted: true}}
				return
			}
		} else if wait < -100*time.Millisecond {
			log.Warn("assignment arrived after the agreed start: starting late", "late", -wait)
		}
		res, err := p.Run(runCtx)
		ended <- outcome{res, err}
	}()
	lost, stopped := false, false
	for {
		select {
		case o := <-ended:
			switch {
			case lost:
				return &fukapb.Done{Error: errLostText}
			case o.err != nil:
				return &fukapb.Done{Error: o.err.Error()}
			case sendErr != nil:
				return &fukapb.Done{Error: "encode snapshot: " + sendErr.Error()}
			}
			// Interrupted here, not by the controller: the worker leaves
			// early, with every request it sent in its final snapshot.
			return loadDone(o.res, o.res.Interrupted && !stopped && ctx.Err() != nil, log)
		case m := <-in:
			if st := m.GetStop(); st != nil {
				log.Info("controller says stop", "reason", st.GetReason())
				stopped = true
				cancel(errors.New("stopped by the controller"))
			}
		case <-l.dead:
			if !lost {
				lost = true
				log.Warn("controller lost: stopping the load", "why", describe(l.err))
				cancel(ErrControllerLost)
			}
		case <-check:
			if !lost && l.checkSilence(time.Now()) {
				lost = true
				log.Warn("controller lost: stopping the load", "why", describe(l.err))
				cancel(ErrControllerLost)
			}
		}
	}
}

// loadDone is the Done of a load that ran (left: it was interrupted on
// this worker's host).
func loadDone(r *engine.Result, left bool, log *slog.Logger) *fukapb.Done {
	if r.Run != nil {
		log.Info("load done", "requests", r.Run.Total.Requests, "elapsed", r.Elapsed.Round(time.Millisecond), "interrupted", r.Interrupted)
	}
	if left {
		log.Warn("interrupted: the final snapshot went to the controller; this worker's share is not complete")
	}
	return &fukapb.Done{
		ElapsedNanos: int64(r.Elapsed), Scheduled: r.Scheduled, PeakClients: int32(r.PeakClients),
		Interrupted: r.Interrupted, DataExhausted: r.DataExhausted, Transport: r.Transport, Left: left,
	}
}

// jobKind names a job's kind for the log.
func jobKind(j *fukapb.Job) string {
	switch j.GetWork().(type) {
	case *fukapb.Job_Attack:
		return "attack"
	case *fukapb.Job_Plan:
		return "plan"
	}
	return "unknown"
}
