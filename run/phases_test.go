package run

import (
	"os"
	"path/filepath"
	"testing"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
)

// TestPhasesJob: --phases travels in the job, so a distributed run's
// workers time phases as the controller would (attack and plan).
func TestPhasesJob(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte("base_url: http://127.0.0.1:1\nscenarios:\n  s:\n    steps:\n      - get: /\nload: { clients: 1, duration: 1s }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := CompileFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		f := AttackFlags{Clients: 1, Duration: 1, RequestFlags: RequestFlags{Method: "GET", Timeout: 1e9, Phases: on}}
		aj, err := f.Job("http://127.0.0.1:1/", true, testVersion)
		if err != nil {
			t.Fatal(err)
		}
		pj, err := NewPlanJob(c, LoadFlags{}, Options{Version: testVersion, Phases: on})
		if err != nil {
			t.Fatal(err)
		}
		for name, job := range map[string]*fukapb.Job{
			"attack": {Work: &fukapb.Job_Attack{Attack: aj}},
			"plan":   {Work: &fukapb.Job_Plan{Plan: pj}},
		} {
			if got := roundTrip(t, job, engine.Share{Index: 0, Count: 1}).Phases; got != on {
				t.Errorf("%s job, --phases %v: the worker's config has Phases %v", name, on, got)
			}
		}
	}
}
