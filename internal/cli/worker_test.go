package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/run"
)

// roundTrip sends job over the wire format and builds a worker's
// configuration of share from what arrived, as a worker does.
func roundTrip(t *testing.T, job *fukapb.Job, share engine.Share) engine.Config {
	t.Helper()
	b, err := proto.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	var got fukapb.Job
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	cfg, cleanup, err := run.PrepareJob(cluster.Assignment{Job: &got, Share: share}, version())
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	if cleanup != nil {
		t.Cleanup(cleanup)
	}
	return cfg
}

var shares = []engine.Share{{Index: 0, Count: 1}, {Index: 1, Count: 3}, {Index: 2, Count: 3}}

// TestAttackJobRoundTrip: an attack's job, marshalled and unmarshalled,
// becomes on a worker exactly the engine configuration the controller
// built from the flags, and that is what the flags say (wantAttack, built
// without the job).
func TestAttackJobRoundTrip(t *testing.T) {
	body := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(body, []byte(`{"from":"file"}`), 0o644)
	for _, tc := range []struct {
		name        string
		f           run.AttackFlags
		durationSet bool
	}{
		{"closed", run.AttackFlags{Clients: 5, RampUp: time.Second, Duration: 3 * time.Second, MaxRPS: 123.5, RequestFlags: run.RequestFlags{Method: "POST",
			Headers: []string{"X-A: 1", "X-A: 2", "Content-Type: text/plain"}, Body: "hi", Timeout: 7 * time.Second, Insecure: true, Name: "n"}}, true},
		{"requests alone", run.AttackFlags{Clients: 2, Requests: 100, Duration: 10 * time.Second, RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second, HTTP2: true}}, false},
		{"body file", run.AttackFlags{Clients: 1, Duration: time.Second, RequestFlags: run.RequestFlags{Method: "PUT", BodyFile: body, Timeout: time.Second}}, true},
		{"open stages", run.AttackFlags{Rate: "10:1s,50:2s,0:0s,5:1s", MaxClients: 30, Resolution: 2 * time.Millisecond, RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}, false},
		{"open constant", run.AttackFlags{Rate: "40", Duration: 2 * time.Second, MaxClients: 7, RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}, true},
		{"open, preconnect 25", run.AttackFlags{Rate: "40", Duration: 2 * time.Second, MaxClients: 7, Preconnect: ptr(25), RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}, true},
		{"open, no preconnect", run.AttackFlags{Rate: "40", Duration: 2 * time.Second, MaxClients: 7, Preconnect: ptr(0), RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}, true},
		{"closed cap batched", run.AttackFlags{Clients: 3, Duration: time.Second, MaxRPS: 50, Resolution: 5 * time.Millisecond, RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, _, j, err := tc.f.Config("http://127.0.0.1:9/x?y=1", tc.durationSet, version())
			if err != nil {
				t.Fatal(err)
			}
			if want := wantAttack(t, tc.f, "http://127.0.0.1:9/x?y=1", tc.durationSet); !reflect.DeepEqual(local, want) {
				t.Errorf("controller's config\n%+v\nwant what the flags say\n%+v", local, want)
			}
			for _, share := range shares {
				got := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: j}}, share)
				if !reflect.DeepEqual(got, local) {
					t.Errorf("share %v: worker's config\n%+v\nwant the controller's\n%+v", share, got, local)
				}
			}
		})
	}
}

// wantAttack is the engine configuration the attack flags f describe,
// built here field by field from the flags, not through the job.
func wantAttack(t *testing.T, f run.AttackFlags, url string, durationSet bool) engine.Config {
	t.Helper()
	header := http.Header{}
	for _, h := range f.Headers {
		k, v, _ := strings.Cut(h, ":")
		header.Add(k, strings.TrimSpace(v))
	}
	body := []byte(f.Body)
	if f.BodyFile != "" {
		body, _ = os.ReadFile(f.BodyFile)
	}
	if len(body) == 0 {
		body = nil
	}
	req, err := client.NewRequest(f.Method, url, header, body)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Work: engine.Request{Request: req, Name: f.Name, Timeout: f.Timeout, Insecure: f.Insecure, HTTP2: f.HTTP2, UserAgent: "fuka/" + version()}}
	if f.Rate != "" {
		r, err := load.ParseRate(f.Rate, f.Duration)
		if err != nil {
			t.Fatal(err)
		}
		pre := 0 // --preconnect -1 or absent: estimate
		if p := f.Preconnect; p != nil && *p == 0 {
			pre = -1
		} else if p != nil {
			pre = *p
		}
		cfg.Load = engine.Open{Rate: r, MaxClients: f.MaxClients, Resolution: f.Resolution, Preconnect: pre}
		return cfg
	}
	l := engine.Closed{Clients: f.Clients, RampUp: f.RampUp, Requests: f.Requests, MaxRPS: f.MaxRPS, Duration: f.Duration, Resolution: f.Resolution}
	if f.Requests > 0 && !durationSet {
		l.Duration = 0
	}
	cfg.Load = l
	return cfg
}

// TestWorkerOfAnotherVersion: `fuka worker` meeting a controller of
// another fuka version exits 2 (a usage error: nothing was sent), and
// both sides name both versions. The controller's version is its own
// field: nothing global changes.
func TestWorkerOfAnotherVersion(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ctlLog syncBuffer
	const other = "v0.0.1-other"
	ctl := &cluster.Controller{
		Job:   &fukapb.Job{Work: &fukapb.Job_Attack{Attack: &fukapb.AttackJob{Url: "http://127.0.0.1:9/", Method: "GET"}}},
		Names: []string{"GET /"}, Workers: 1, Listener: ln, WaitTimeout: 3 * time.Second,
		Log: run.LineLogger(&ctlLog, slog.LevelInfo), Version: other,
	}
	ran := make(chan error, 1)
	go func() {
		_, err := ctl.Run(context.Background())
		ran <- err
	}()
	r := fuka(t, "worker", "--controller", ln.Addr().String(), "--insecure-no-tls", "--connect-timeout", "5s")
	if r.code != ExitUsage {
		t.Errorf("worker exit %d, want %d: %s", r.code, ExitUsage, r.err)
	}
	err = <-ran
	if !errors.Is(err, cluster.ErrNoWorkers) {
		t.Errorf("controller: %v", err)
	}
	for _, v := range []string{version(), other} {
		if !strings.Contains(r.err, v) {
			t.Errorf("worker's message does not name version %s:\n%s", v, r.err)
		}
		if !strings.Contains(ctlLog.String(), v) {
			t.Errorf("controller's log does not name version %s:\n%s", v, ctlLog.String())
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestWorkerTellsItsCPUs: a worker tells its controller the CPUs it may
// use (Stdio.CPUs), not its GOMAXPROCS, which SetProcs raises above them.
func TestWorkerTellsItsCPUs(t *testing.T) {
	want := 1
	if runtime.GOMAXPROCS(0) == 1 {
		want = 2
	}
	tg := newPlanTarget(t, always(200))
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	worked := make(chan int, 1)
	go func() {
		var errb syncBuffer
		worked <- Main(ctx, []string{"fuka", "worker", "--name", "w1", "--connect-timeout", "10s", "--controller", addr, "--insecure-no-tls"},
			Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &errb, CPUs: want})
	}()
	var errb syncBuffer
	code := Main(ctx, []string{"fuka", "attack", tg.URL, "-n", "5", "-c", "1", "--workers", "1", "--listen", addr, "--insecure-no-tls",
		"--start-delay", "200ms", "-o", "json", "--no-history", "--no-report"}, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &errb})
	if wc := <-worked; code != 0 || wc != 0 {
		t.Fatalf("controller exit %d, worker exit %d: %s", code, wc, errb.String())
	}
	if s := fmt.Sprintf("cpus=%d ", want); !strings.Contains(errb.String(), s) {
		t.Errorf("the controller's log has no %q:\n%s", s, errb.String())
	}
}
