package cli

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
	cfg, cleanup, err := prepareJob(cluster.Assignment{Job: &got, Share: share})
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
		f           attackFlags
		durationSet bool
	}{
		{"closed", attackFlags{clients: 5, rampUp: time.Second, duration: 3 * time.Second, maxRPS: 123.5, method: "POST",
			headers: []string{"X-A: 1", "X-A: 2", "Content-Type: text/plain"}, body: "hi", timeout: 7 * time.Second, insecure: true, name: "n"}, true},
		{"requests alone", attackFlags{clients: 2, requests: 100, duration: 10 * time.Second, method: "GET", timeout: time.Second, http2: true}, false},
		{"body file", attackFlags{clients: 1, duration: time.Second, method: "PUT", bodyFile: body, timeout: time.Second}, true},
		{"open stages", attackFlags{rate: "10:1s,50:2s,0:0s,5:1s", maxClients: 30, resolution: 2 * time.Millisecond, method: "GET", timeout: time.Second}, false},
		{"open constant", attackFlags{rate: "40", duration: 2 * time.Second, maxClients: 7, method: "GET", timeout: time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, _, j, err := tc.f.configJob("http://127.0.0.1:9/x?y=1", tc.durationSet)
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
func wantAttack(t *testing.T, f attackFlags, url string, durationSet bool) engine.Config {
	t.Helper()
	header := http.Header{}
	for _, h := range f.headers {
		k, v, _ := strings.Cut(h, ":")
		header.Add(k, strings.TrimSpace(v))
	}
	body := []byte(f.body)
	if f.bodyFile != "" {
		body, _ = os.ReadFile(f.bodyFile)
	}
	if len(body) == 0 {
		body = nil
	}
	req, err := client.NewRequest(f.method, url, header, body)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Request: req, Name: f.name, Timeout: f.timeout, Insecure: f.insecure, HTTP2: f.http2, UserAgent: "fuka/" + version()}
	if f.rate != "" {
		r, err := load.ParseRate(f.rate, f.duration)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Rate, cfg.MaxClients, cfg.Resolution = &r, f.maxClients, f.resolution
		return cfg
	}
	cfg.Clients, cfg.RampUp, cfg.Requests, cfg.MaxRPS, cfg.Duration = f.clients, f.rampUp, f.requests, f.maxRPS, f.duration
	if f.requests > 0 && !durationSet {
		cfg.Duration = 0
	}
	return cfg
}

// TestPlanJobRoundTrip: a plan's job (source, files above and below it,
// environment, typed overrides) becomes on a worker the configuration the
// controller built: same load, same names, same share of the data rows.
func TestPlanJobRoundTrip(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plans")
	os.MkdirAll(filepath.Join(root, "data"), 0o755)
	os.MkdirAll(filepath.Join(dir, "bodies"), 0o755)
	os.WriteFile(filepath.Join(root, "data", "users.csv"), []byte("name\na\nb\nc\nd\ne\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bodies", "b.json"), []byte(`{"x":1}`), 0o644)
	t.Setenv("FUKA_JOBTEST_TOKEN", "from-the-controller")
	t.Setenv("FUKA_JOBTEST_UNUSED", "secret")
	shared := writePlanFile(t, dir, "shared.yaml", "http://127.0.0.1:9", `name: shared
base_url: BASE
env: { FUKA_JOBTEST_TOKEN: unset, FUKA_JOBTEST_NOT_SET: dflt }
data:
  users: { csv: ../data/users.csv, pick: unique, on_exhausted: end_run }
scenarios:
  s:
    steps:
      - post: /u?user={{ users.name }}
        name: post user
        body_file: bodies/b.json
        headers: { X-Token: "{{ FUKA_JOBTEST_TOKEN }}", X-Host: '{{ env "FUKA_JOBTEST_HOST" "h" }}' }
        check: { status: 200 }
  t:
    weight: 2
    steps:
      - get: /t
load: { clients: 4, duration: 10s, ramp_up: 2s }
`)
	parts := writePlanFile(t, dir, "parts.yaml", "http://127.0.0.1:9", `name: parts
base_url: BASE
scenarios:
  a:
    load: { clients: 3, duration: 5s }
    steps:
      - get: /a
  b:
    start_after: a
    load: { rate: [ { target: 20, over: 2s } ], max_clients: 9 }
    steps:
      - get: /b
`)
	for _, tc := range []struct {
		name    string
		plan    string
		f       runFlags
		changed []string
	}{
		{"as written", shared, runFlags{}, nil},
		{"clients and duration", shared, runFlags{clients: 6, duration: 4 * time.Second, http2: true}, []string{"clients", "duration"}},
		{"rate", shared, runFlags{rate: "5:1s,30:2s", maxClients: 11, insecure: true}, []string{"max-clients"}},
		{"base url", shared, runFlags{baseURL: "http://127.0.0.1:10"}, nil},
		{"parts", parts, runFlags{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := func(flag string) bool { return slices.Contains(tc.changed, flag) }
			c, err := compilePlan(tc.plan, tc.f.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			ov, err := tc.f.overrides(changed)
			if err != nil {
				t.Fatal(err)
			}
			local, _, closeRunner, err := planConfig(c, ov, tc.f.insecure, tc.f.http2)
			if err != nil {
				t.Fatal(err)
			}
			defer closeRunner()
			j, err := newPlanJob(c, &tc.f, changed)
			if err != nil {
				t.Fatal(err)
			}
			if tc.plan == shared {
				// Only what the plan read, and only what was set.
				want := map[string]string{"FUKA_JOBTEST_TOKEN": "from-the-controller"}
				if !reflect.DeepEqual(j.GetEnv(), want) {
					t.Errorf("job's environment %v, want %v", j.GetEnv(), want)
				}
				if len(j.GetFiles()) != 2 {
					t.Errorf("job's files %v, want the CSV and the body", slices.Collect(mapKeys(j.GetFiles())))
				}
			}
			names, checks := cluster.Names(local)
			for _, share := range shares {
				got := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: j}}, share)
				if n, ch := cluster.Names(got); !slices.Equal(n, names) || !slices.Equal(ch, checks) {
					t.Errorf("share %v: names %q checks %q, want %q %q", share, n, ch, names, checks)
				}
				if !reflect.DeepEqual(withoutRunners(got), withoutRunners(local)) {
					t.Errorf("share %v: worker's load\n%+v\nwant the controller's\n%+v", share, withoutRunners(got), withoutRunners(local))
				}
				if g, w := share.Rows(&got), share.Rows(&local); g != w {
					t.Errorf("share %v: rows %+v, want %+v", share, g, w)
				}
			}
		})
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// withoutRunners is cfg without its scenario runners, which hold the
// compiled program (its file paths differ on a worker): the load alone.
func withoutRunners(cfg engine.Config) engine.Config {
	cfg.Scenario = nil
	cfg.Parts = slices.Clone(cfg.Parts)
	for i := range cfg.Parts {
		cfg.Parts[i].Scenario = nil
	}
	return cfg
}

// TestPlanCompiledOnce: the job carries the plan as the controller
// compiled it: a plan file or an environment variable changed after the
// compile does not reach the workers (they would run another plan than
// the one validated).
func TestPlanCompiledOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FUKA_JOBTEST_V", "compiled")
	src := `name: once
base_url: http://127.0.0.1:9
scenarios:
  s:
    steps:
      - get: '/{{ env "FUKA_JOBTEST_V" }}'
load: { clients: 1, duration: 1s }
`
	path := writePlanFile(t, dir, "p.yaml", "", src)
	c, err := compilePlan(path, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("not: [a plan"), 0o644)
	t.Setenv("FUKA_JOBTEST_V", "changed")
	j, err := newPlanJob(c, &runFlags{}, func(string) bool { return false })
	if err != nil {
		t.Fatalf("the job compiled the plan again: %v", err)
	}
	if string(j.GetSource()) != src || j.GetEnv()["FUKA_JOBTEST_V"] != "compiled" {
		t.Errorf("job source %q env %v; want the compiled plan and environment", j.GetSource(), j.GetEnv())
	}
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
