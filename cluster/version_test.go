package cluster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// lockedBuffer is a log sink safe for the controller's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestVersionMismatchRefused: a worker of another fuka version is refused
// before any job is assigned; the controller's log, its error and the
// worker's error each name both versions. The versions are the
// Controller's and Worker's own fields: nothing global changes.
func TestVersionMismatchRefused(t *testing.T) {
	for _, tc := range []struct {
		name                string
		controller, worker  string
		dial                bool // the controller dials a listening worker
		wantControllerError bool
	}{
		{name: "worker dials", controller: "v1.4.0", worker: "v1.3.2"},
		{name: "controller dials", controller: "v1.4.0", worker: "v1.5.0-rc1", dial: true, wantControllerError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			c := newCluster(t, 1, testJob{URL: tg.URL, Clients: 1, Duration: time.Second, MaxRPS: 100})
			var ctlLog lockedBuffer
			c.ctl.Log = slog.New(slog.NewTextHandler(&ctlLog, nil))
			c.ctl.Version, c.workers[0].Version = tc.controller, tc.worker
			c.ctl.WaitTimeout = 2 * time.Second
			var workerErr error
			if tc.dial {
				ln := c.ctl.Listener
				c.ctl.Listener, c.ctl.Dial = nil, []string{ln.Addr().String()}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c.workers[0].Log = slog.New(slog.NewTextHandler(&ctlLog, nil))
				go c.workers[0].Serve(ctx, ln)
			} else {
				c.start(t)
			}
			res, err := c.ctl.Run(context.Background())
			if res != nil || !errors.Is(err, ErrNoWorkers) {
				t.Fatalf("controller: result %v, err %v; want ErrNoWorkers", res, err)
			}
			var ve *VersionError
			if !errors.As(err, &ve) && tc.wantControllerError {
				t.Errorf("controller's error %v is not a VersionError", err)
			}
			for _, v := range []string{tc.controller, tc.worker} {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("controller's error does not name version %s: %v", v, err)
				}
				if !strings.Contains(ctlLog.String(), v) {
					t.Errorf("controller's log does not name version %s:\n%s", v, ctlLog.String())
				}
			}
			if !tc.dial {
				workerErr = c.workerErr(t, 0)
				if !errors.As(workerErr, &ve) {
					t.Fatalf("worker's error %v is not a VersionError", workerErr)
				}
				if ve.Worker != tc.worker || ve.Controller != tc.controller || ve.WorkerProtocol != ProtocolVersion || ve.ControllerProtocol != ProtocolVersion {
					t.Errorf("worker's error %+v", ve)
				}
				for _, v := range []string{tc.controller, tc.worker} {
					if !strings.Contains(workerErr.Error(), v) {
						t.Errorf("worker's error does not name version %s: %v", v, workerErr)
					}
				}
			}
			if n := tg.total.Load(); n != 0 {
				t.Errorf("the target got %d requests from a refused worker", n)
			}
		})
	}
}

// TestWorkerRefusesOtherVersionsJob: a controller that assigns without
// checking versions (one of protocol 1 did not) gets its job refused by
// the worker, which sends nothing.
func TestWorkerRefusesOtherVersionsJob(t *testing.T) {
	for _, tc := range []struct {
		name     string
		version  string
		protocol int32
	}{
		{"other version", "v0.9.0", ProtocolVersion},
		{"older protocol", "v2.0.0", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			ids := newIDs(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			job := testJob{URL: tg.URL, Clients: 1, Duration: time.Second, MaxRPS: 100}.msg()
			done := make(chan *fukapb.Done, 1)
			srv := serve(ln, ids.controller, func(se *session) {
				go func() {
					if _, err := se.s.Recv(); err != nil { // Hello
						t.Error(err)
						return
					}
					_ = se.s.Send(msgAssign(&fukapb.Assign{Job: job, ShareIndex: 0, ShareCount: 1, StartAtUnixNanos: time.Now().UnixNano(),
						Names: []string{"GET /"}, Version: tc.version, Protocol: tc.protocol}))
					for {
						m, err := se.s.Recv()
						if err != nil {
							done <- nil
							return
						}
						if d := m.GetDone(); d != nil {
							done <- d
							return
						}
					}
				}()
			})
			defer srv.Stop()
			w := &Worker{Name: "w", Version: "v2.0.0", Identity: ids.worker, Prepare: prepareFor("w"), DialTimeout: 5 * time.Second, Log: testLog(t)}
			err = w.Dial(context.Background(), ln.Addr().String())
			var ve *VersionError
			if !errors.As(err, &ve) || ve.Controller != tc.version || ve.ControllerProtocol != tc.protocol || ve.Worker != "v2.0.0" {
				t.Fatalf("worker: %v (%+v); want a VersionError naming both", err, ve)
			}
			select {
			case d := <-done:
				if !strings.Contains(d.GetError(), tc.version) || !strings.Contains(d.GetError(), "v2.0.0") {
					t.Errorf("Done to the controller: %q; want both versions", d.GetError())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no Done reached the controller")
			}
			if n := tg.total.Load(); n != 0 {
				t.Errorf("the target got %d requests from a job of another version", n)
			}
		})
	}
}
