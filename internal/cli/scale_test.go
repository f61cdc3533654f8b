package cli

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/fuka-load/fuka/monitor/kube"
	"github.com/fuka-load/fuka/run"
)

// scaledDeployment is deployment shop/api as the API server would return it.
func scaledDeployment(t *testing.T, desired, ready int32) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"},
		Spec:       appsv1.DeploymentSpec{Replicas: &desired},
		Status:     appsv1.DeploymentStatus{Replicas: desired, ReadyReplicas: ready},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// TestDistributedTimeToScale: the same scripted HPA scale-out (the
// autoscaler asks for 4 replicas instead of 1 2.5 s after the first
// request, all 4 are ready 3 s later) reads the same time to scale in a
// local run and in one on 3 workers, whose load starts only after its
// workers joined and the start delay passed: the monitors' t=0 is the
// load's, not the controller's, so every series of the distributed run
// (the resource samples, the scale-out's moments) is on the load's time
// axis.
func TestDistributedTimeToScale(t *testing.T) {
	if testing.Short() {
		t.Skip("two 7 s runs, one on 3 workers")
	}
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	timeToScale := func(t *testing.T, onWorkers bool) float64 {
		dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
			deployments: "DeploymentList",
		}, scaledDeployment(t, 1, 1))
		old := run.KubeClients
		run.KubeClients = func(string, string) (kube.Clients, error) { return kube.Clients{Dynamic: dc}, nil }
		t.Cleanup(func() { run.KubeClients = old })

		var first sync.Once
		var script sync.WaitGroup
		tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			first.Do(func() {
				script.Add(1)
				go func() {
					defer script.Done()
					update := func(desired, ready int32) {
						if _, err := dc.Resource(deployments).Namespace("shop").Update(context.Background(), scaledDeployment(t, desired, ready), metav1.UpdateOptions{}); err != nil {
							t.Error(err)
						}
					}
					time.Sleep(2500 * time.Millisecond)
					update(4, 1)
					time.Sleep(3 * time.Second)
					update(4, 4)
				}()
			})
			w.Write([]byte("ok"))
		}))
		defer tg.Close()
		defer script.Wait()

		args := []string{"attack", tg.URL, "--rate", "40", "-d", "7s", "--monitor", "kubernetes=shop/deployment=api",
			"-o", "json", "-q", "--no-history", "--no-report"}
		var res result
		if onWorkers {
			addr := freeAddr(t)
			var codes []int
			res, codes = distributed(t, 3, append(args, "--workers", "3", "--listen", addr, "--insecure-no-tls", "--start-delay", "2s"),
				[]string{"--controller", addr, "--insecure-no-tls"})
			for i, c := range codes {
				if c != 0 {
					t.Errorf("worker %d exit %d", i+1, c)
				}
			}
		} else {
			res = fuka(t, args...)
		}
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.err)
		}
		var s struct {
			DurationS float64 `json:"duration_s"`
			Timeline  []struct {
				TS float64 `json:"t_s"`
			} `json:"timeline"`
			Scaling []struct {
				Workload     string   `json:"workload"`
				ToReplicas   int      `json:"to_replicas"`
				LoadStepS    float64  `json:"load_step_s"`
				ScaleOutS    float64  `json:"scale_out_s"`
				ReadyS       *float64 `json:"ready_s"`
				TimeToScaleS *float64 `json:"time_to_scale_s"`
			} `json:"scaling"`
			Resources *struct {
				Timeline []struct {
					TS     float64            `json:"t_s"`
					Values map[string]float64 `json:"values"`
				} `json:"timeline"`
			} `json:"resources"`
		}
		if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
			t.Fatalf("%v: %q", err, res.out)
		}
		if len(s.Scaling) != 1 || s.Scaling[0].TimeToScaleS == nil || s.Scaling[0].ToReplicas != 4 {
			t.Fatalf("scaling %+v, want one completed scale-out to 4 replicas\n%s", s.Scaling, res.err)
		}
		if s.Resources == nil || len(s.Resources.Timeline) == 0 || len(s.Timeline) == 0 {
			t.Fatalf("no resource or load timeline: %+v", s)
		}
		// Every series is on the load's axis: t=0 is the load's start, the
		// first sample comes within a second of it (the monitors sample at
		// t=0, the load's first interval ends at 1 s), and none is before
		// it or after the load's end (with the last, partial second).
		onAxis := func(what string, ts float64) {
			if ts < 0 || ts > s.DurationS+1 {
				t.Errorf("distributed %v: %s at %.2f s, off the load's axis [0, %.2f s]", onWorkers, what, ts, s.DurationS+1)
			}
		}
		for _, first := range []struct {
			what string
			ts   float64
		}{{"the first load interval", s.Timeline[0].TS}, {"the first resource sample", s.Resources.Timeline[0].TS}} {
			if first.ts < 0 || first.ts > 1.5 {
				t.Errorf("distributed %v: %s at %.2f s, want within a second of the load's start", onWorkers, first.what, first.ts)
			}
		}
		for _, p := range s.Timeline {
			onAxis("a load interval", p.TS)
		}
		for _, p := range s.Resources.Timeline {
			onAxis("a resource sample", p.TS)
		}
		sc := s.Scaling[0]
		onAxis("the load step", sc.LoadStepS)
		onAxis("the scale-out", sc.ScaleOutS)
		onAxis("ready", *sc.ReadyS)
		t.Logf("distributed %v: %d resource samples at %.2f..%.2f s, load %.2f s, scale-out at %.2f s, ready at %.2f s",
			onWorkers, len(s.Resources.Timeline), s.Resources.Timeline[0].TS, s.Resources.Timeline[len(s.Resources.Timeline)-1].TS, s.DurationS, sc.ScaleOutS, *sc.ReadyS)
		t.Logf("distributed %v: %s step at %v s, time to scale %v s", onWorkers, s.Scaling[0].Workload, s.Scaling[0].LoadStepS, *s.Scaling[0].TimeToScaleS)
		return *s.Scaling[0].TimeToScaleS
	}
	local := timeToScale(t, false)
	dist := timeToScale(t, true)
	// Both read about 5 s (ready at the 6 s sample, load step at 1 s); the
	// samples' 1 s resolution is the tolerance.
	if math.Abs(local-dist) > 1 || local < 3.5 || local > 7 {
		t.Errorf("time to scale %v s locally, %v s distributed: want the same, about 5 s", local, dist)
	}
}
