package run

import (
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunLastSecond: a run of N seconds has a resources point for each of
// the load timeline's seconds 1..N (and the baseline at 0): the sample
// taken at t = N, as the load ends, is recorded, not dropped by the end of
// the run.
func TestRunLastSecond(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(time.Duration(n*int(time.Second)).String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &fakeSource{length: time.Duration(n) * time.Second, n: 10}
				o, err := Run(t.Context(), Spec{
					Source: src,
					Watch:  Watch{MonitorFlags: []string{"local"}, ProcRoot: filepath.Join("..", "monitor", "testdata", "proc1")},
					Out:    Outputs{Format: "none", Quiet: true, NoReport: true, NoHistory: true},
				})
				if err != nil {
					t.Fatal(err)
				}
				var load, res []float64
				for _, iv := range o.Summary.Timeline {
					load = append(load, iv.TS)
				}
				if o.Summary.Resources == nil {
					t.Fatal("no resources")
				}
				for _, p := range o.Summary.Resources.Timeline {
					res = append(res, p.TS)
				}
				if len(load) != n || load[n-1] != float64(n) {
					t.Fatalf("load timeline at %v s, want 1..%d", load, n)
				}
				if want := append([]float64{0}, load...); !slices.Equal(res, want) {
					t.Errorf("resources at %v s, want %v: the baseline and each of the load's seconds", res, want)
				}
			})
		})
	}
}
