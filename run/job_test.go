package run

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
)

const testVersion = "v9.9.9-test"

// writePlanFile writes src, with BASE replaced by base, to dir/name.
func writePlanFile(t *testing.T, dir, name, base, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(src, "BASE", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

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
	cfg, cleanup, err := PrepareJob(cluster.Assignment{Job: &got, Share: share}, testVersion)
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	if cleanup != nil {
		t.Cleanup(cleanup)
	}
	return cfg
}

var shares = []engine.Share{{Index: 0, Count: 1}, {Index: 1, Count: 3}, {Index: 2, Count: 3}}

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
		f       LoadFlags
		o       Options
		changed []string
	}{
		{"as written", shared, LoadFlags{}, Options{}, nil},
		{"clients and duration", shared, LoadFlags{Clients: 6, Duration: 4 * time.Second}, Options{HTTP2: true}, []string{"clients", "duration"}},
		{"rate", shared, LoadFlags{Rate: "5:1s,30:2s", MaxClients: 11}, Options{Insecure: true}, []string{"max-clients"}},
		{"rate, default max clients", shared, LoadFlags{Rate: "5:1s,30:2s"}, Options{}, nil},
		{"base url", shared, LoadFlags{BaseURL: "http://127.0.0.1:10"}, Options{}, nil},
		{"parts", parts, LoadFlags{}, Options{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Changed = func(flag string) bool { return slices.Contains(tc.changed, flag) }
			tc.o.Version = testVersion
			c, err := CompileFile(tc.plan, tc.f.BaseURL)
			if err != nil {
				t.Fatal(err)
			}
			ov, err := tc.f.Overrides()
			if err != nil {
				t.Fatal(err)
			}
			local, _, closeRunner, err := PlanConfig(c, ov, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer closeRunner()
			j, err := NewPlanJob(c, tc.f, tc.o)
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
	switch w := cfg.Work.(type) {
	case engine.Plan:
		w.Scenario = nil
		cfg.Work = w
	case engine.Parts:
		w.Parts = slices.Clone(w.Parts)
		for i := range w.Parts {
			w.Parts[i].Scenario = nil
		}
		cfg.Work = w
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
	c, err := CompileFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("not: [a plan"), 0o644)
	t.Setenv("FUKA_JOBTEST_V", "changed")
	j, err := NewPlanJob(c, LoadFlags{}, Options{Version: testVersion})
	if err != nil {
		t.Fatalf("the job compiled the plan again: %v", err)
	}
	if string(j.GetSource()) != src || j.GetEnv()["FUKA_JOBTEST_V"] != "compiled" {
		t.Errorf("job source %q env %v; want the compiled plan and environment", j.GetSource(), j.GetEnv())
	}
}
