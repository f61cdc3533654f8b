package run

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
)

// TestPlanJobShipsScript: a script scenario's file travels with the job,
// and a worker compiles the same request and check names from it.
func TestPlanJobShipsScript(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "scripts", "s.star"), []byte(`
def s(ctx):
    r = http.get("/x/%d" % ctx.iteration, name="x")
    check(r, status=200)
`), 0o644)
	path := writePlanFile(t, dir, "plan.yaml", "http://127.0.0.1:9", `name: scripted
base_url: BASE
scenarios:
  s:
    script: scripts/s.star
load: { clients: 2, duration: 1s }
`)
	c, err := CompileFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	ov, _ := LoadFlags{}.Overrides()
	local, _, closeRunner, err := PlanConfig(c, ov, Options{Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer closeRunner()
	j, err := NewPlanJob(c, LoadFlags{}, Options{Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.GetFiles()["scripts/s.star"]; !ok || len(j.GetFiles()) != 1 {
		t.Fatalf("job's files %v, want the script", slices.Collect(mapKeys(j.GetFiles())))
	}
	names, checks := cluster.Names(local)
	got := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: j}}, shares[1])
	if n, ch := cluster.Names(got); !slices.Equal(n, names) || !slices.Equal(ch, checks) || len(ch) != 2 {
		t.Errorf("worker's names %q checks %q, want %q %q", n, ch, names, checks)
	}
}
