package run

import (
	"testing"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/report"
)

// TestClusterDescribe: the summary names the workers, is degraded when
// one was lost or left, and says what is missing.
func TestClusterDescribe(t *testing.T) {
	n := int64(1234)
	tests := []struct {
		name     string
		workers  []report.WorkerStatus
		degraded bool
		want     []string
	}{
		{"all ok", []report.WorkerStatus{{Name: "w1", State: "ok", Share: 0.5}, {Name: "w2", State: "ok", Share: 0.5}}, false, nil},
		{"lost, counted", []report.WorkerStatus{{Name: "w1", State: "lost", Share: 1.0 / 3, LastInterval: 4, Reason: "stream broke", UnreportedMax: &n}}, true,
			[]string{"degraded: worker w1 (33.3% of the load) was lost after interval 4 (stream broke); its load after that is missing from these results: up to 1234 requests it sent are not reported"}},
		{"lost, estimated", []report.WorkerStatus{{Name: "w2", State: "lost", Share: 0.5, LastInterval: 2, Reason: "silent", UnreportedMax: &n, UnreportedEstimated: true}}, true,
			[]string{"degraded: worker w2 (50.0% of the load) was lost after interval 2 (silent); its load after that is missing from these results: up to about 1234 requests it sent are not reported"}},
		{"lost, unknown", []report.WorkerStatus{{Name: "w3", State: "lost", Share: 0.25, LastInterval: 0, Reason: "gone"}}, true,
			[]string{"degraded: worker w3 (25.0% of the load) was lost after interval 0 (gone); its load after that is missing from these results: up to an unknown number of requests it sent are not reported"}},
		{"left", []report.WorkerStatus{{Name: "w4", State: "left", Share: 0.5, LastInterval: 7, Reason: "stopped"}}, true,
			[]string{"degraded: worker w4 (50.0% of the load) left after interval 7 (stopped); every request it sent is reported, but its load after that is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cluster{workers: tt.workers, degraded: tt.degraded}
			sum := &report.Summary{}
			c.Describe(sum)
			if sum.Degraded != tt.degraded || len(sum.Workers) != len(tt.workers) {
				t.Errorf("degraded %v, %d workers", sum.Degraded, len(sum.Workers))
			}
			if len(sum.Warnings) != len(tt.want) {
				t.Fatalf("warnings %q, want %q", sum.Warnings, tt.want)
			}
			for i := range tt.want {
				if sum.Warnings[i] != tt.want[i] {
					t.Errorf("warning\n%s\nwant\n%s", sum.Warnings[i], tt.want[i])
				}
			}
		})
	}
}

// TestClusterSpec: bad flags are refused before anything is sent, and the
// controller listens only when some workers are not dialed.
func TestClusterSpec(t *testing.T) {
	cfg := &engine.Config{Load: engine.Closed{Clients: 4}}
	tests := []struct {
		name   string
		spec   ClusterSpec
		err    string
		addrs  []string
		listen string
	}{
		{"listen", ClusterSpec{Workers: 2, Listen: ":7700", OnLoss: "continue"}, "", []string{":7700"}, ":7700"},
		{"dial only", ClusterSpec{Dial: []string{"a:1", "b:1"}, Listen: ":7700", OnLoss: "stop"}, "", []string{"a:1", "b:1"}, ""},
		{"dial all of N", ClusterSpec{Workers: 2, Dial: []string{"a:1", "b:1"}, Listen: ":7700", OnLoss: "stop"}, "", []string{"a:1", "b:1"}, ""},
		{"dial and listen", ClusterSpec{Workers: 3, Dial: []string{"a:1"}, Listen: ":7700", OnLoss: "continue"}, "", []string{"a:1", ":7700"}, ":7700"},
		{"negative", ClusterSpec{Workers: -1, OnLoss: "continue"}, "--workers -1: must be > 0", nil, ""},
		{"bad policy", ClusterSpec{Workers: 1, OnLoss: "retry"}, `--on-worker-loss "retry": want continue or stop`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCluster(tt.spec, cfg, nil)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.spec.Addrs(); len(got) != len(tt.addrs) || (len(got) > 0 && got[len(got)-1] != tt.addrs[len(tt.addrs)-1]) {
				t.Errorf("addrs %q, want %q", got, tt.addrs)
			}
			if c.listen != tt.listen {
				t.Errorf("listen %q, want %q", c.listen, tt.listen)
			}
		})
	}
}
