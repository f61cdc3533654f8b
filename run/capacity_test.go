package run

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/load"
	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/monitor/kube"
)

func TestCapacityStepRate(t *testing.T) {
	cases := []struct {
		name       string
		rate       float64
		lead, hold time.Duration
		first      time.Duration
		total      int64
	}{
		{"no lead", 400, 0, 1500 * time.Millisecond, 0, 600},
		{"lead", 400, 700 * time.Millisecond, 1500 * time.Millisecond, 700 * time.Millisecond, 600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := StepRate(tc.rate, tc.lead, tc.hold)
			if err != nil {
				t.Fatal(err)
			}
			if at, _ := r.Offset(0); at != tc.first || r.Total() != tc.total || r.Duration() != tc.lead+tc.hold {
				t.Errorf("first start %v, total %d, duration %v", at, r.Total(), r.Duration())
			}
		})
	}
}

func TestCapacityTargetCPU(t *testing.T) {
	cases := []struct {
		name   string
		vals   map[string]float64
		v      float64
		series string
	}{
		{"process first", map[string]float64{"cpu.idle_pct": 70, "process.api.cpu_pct": 150}, 150, "process.api.cpu_pct"},
		{"agent host", map[string]float64{"cpu.idle_pct": 70, "agent.h:1.cpu.idle_pct": 40}, 60, "agent.h:1.cpu.busy_pct"},
		{"local host", map[string]float64{"cpu.idle_pct": 70}, 30, "cpu.busy_pct"},
		{"local host waiting for I/O", map[string]float64{"cpu.idle_pct": 50, "cpu.iowait_pct": 40}, 10, "cpu.busy_pct"},
		{"agent host waiting for I/O", map[string]float64{"agent.h:1.cpu.idle_pct": 50, "agent.h:1.cpu.iowait_pct": 30}, 20, "agent.h:1.cpu.busy_pct"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, series, ok := TargetCPU(tc.vals)
			if !ok || v != tc.v || series != tc.series {
				t.Errorf("%v %q %v, want %v %q", v, series, ok, tc.v, tc.series)
			}
		})
	}
	if _, _, ok := TargetCPU(map[string]float64{"mem.used_bytes": 1}); ok {
		t.Error("a target CPU from no CPU series")
	}
}

// watchCounter counts the watches a fake cluster's informers open and stop.
type watchCounter struct{ started, stopped atomic.Int32 }

type countedWatch struct {
	watch.Interface
	c    *watchCounter
	once sync.Once
}

func (w *countedWatch) Stop() {
	w.once.Do(func() { w.c.stopped.Add(1) })
	w.Interface.Stop()
}

// slowTarget answers after d, counting requests.
func slowTarget(t *testing.T, d time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(d)
		n.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// quickSearch is a search of srv's URL, steps of hold, no cool-down.
func quickSearch(t *testing.T, url string, o CapacityOptions) *Capacity {
	t.Helper()
	if o.SLO == nil {
		o.SLO = []string{"p99 < 5s"}
	}
	o.Precision, o.Step = "5%", cmp.Or(o.Step, time.Second)
	o.WarmUp = cmp.Or(o.WarmUp, "0%")
	job := &fukapb.AttackJob{Url: url, Method: "GET", TimeoutNanos: int64(5 * time.Second), UserAgent: "fuka/test",
		Load: &fukapb.Load{Rate: RateMsg(mustRate(t, 1)), MaxClients: 100, ResolutionNanos: int64(time.Millisecond)}}
	c, _, err := newCapacity(o, job, nil, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c.Out.NoHistory = true
	return c
}

func mustRate(t *testing.T, r float64) load.Rate {
	rate, err := load.NewRate(r, []load.Stage{{Target: r, Over: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return rate
}

// TestCapacityStepsCloseTheirWatch: every step's samplers are closed when
// the step ends: a kubernetes source's informers (and its watch) stop.
func TestCapacityStepsCloseTheirWatch(t *testing.T) {
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{deployments: "DeploymentList"}, &unstructured.Unstructured{Object: m})
	var wc watchCounter
	dc.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		wc.started.Add(1)
		return true, &countedWatch{Interface: watch.NewFake(), c: &wc}, nil
	})
	old := KubeClients
	KubeClients = func(string, string) (kube.Clients, error) { return kube.Clients{Dynamic: dc}, nil }
	t.Cleanup(func() { KubeClients = old })

	srv, _ := slowTarget(t, 0)
	c := quickSearch(t, srv.URL, CapacityOptions{Min: 10, Max: 40})
	mon, err := ParseMonitorFlag("kubernetes=shop/deployment=api", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Watch.Monitors = []Monitor{mon}
	doc, err := c.Run(t.Context())
	if err != nil || doc == nil || len(doc.Capacity.Steps) != 3 {
		t.Fatalf("search: %v, %d steps; want 3", err, len(doc.Capacity.Steps))
	}
	deadline := time.Now().Add(5 * time.Second)
	for wc.stopped.Load() < wc.started.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s, p := wc.started.Load(), wc.stopped.Load(); s < 3 || p != s {
		t.Errorf("%d watches started, %d stopped: a step left its kubernetes source open", s, p)
	}
}

// TestCapacityStepCountsEveryInterval: with no warm-up, a step measures
// every request the target served, those that completed after the load's
// last whole second included (the last, partial interval).
func TestCapacityStepCountsEveryInterval(t *testing.T) {
	srv, served := slowTarget(t, 300*time.Millisecond)
	c := quickSearch(t, srv.URL, CapacityOptions{Min: 20, Max: 20, Step: 1500 * time.Millisecond})
	doc, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Capacity.Steps[0].Requests, served.Load(); got != want || got == 0 {
		t.Errorf("the step measured %d requests, the target served %d", got, want)
	}
}

// TestCapacityGeneratorCPU: the generator's CPU is a share of the CPUs the
// process may use (the step's CPUs), not of the machine's.
func TestCapacityGeneratorCPU(t *testing.T) {
	self := []monitor.Point{
		{At: time.Second, Values: map[string]float64{"proc.1.cpu_pct": 400}},
		{At: 2 * time.Second, Values: map[string]float64{"proc.1.cpu_pct": 200}},
		{At: 3 * time.Second, Values: map[string]float64{"proc.1.cpu_pct": 100}},
	}
	for _, tc := range []struct {
		cpus int
		want float64
	}{{1, 150}, {4, 37.5}, {64, 2.3}} {
		got := GenCPU(self, time.Second, 3*time.Second, tc.cpus)
		if got == nil || *got != tc.want {
			t.Errorf("%d CPUs: %v, want %v", tc.cpus, got, tc.want)
		}
	}
	srv, _ := slowTarget(t, 0)
	c := quickSearch(t, srv.URL, CapacityOptions{Min: 10, Max: 10})
	c.CPUs = 3
	if spec := c.stepSpec(mustRate(t, 10)); spec.CPUs != 3 {
		t.Errorf("a step runs with %d CPUs, want the search's 3", spec.CPUs)
	}
}
