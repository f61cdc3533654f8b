package kube

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/fuka-load/fuka/monitor"
)

// clock is a settable clock for event stamps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClient is client-go's dynamic fake holding objs, set up to list every
// resource a Watcher watches.
func fakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		gvr(KindDeployment):  "DeploymentList",
		gvr(KindStatefulSet): "StatefulSetList",
		gvr(KindHPA):         "HorizontalPodAutoscalerList",
		ScaledObjects:        "ScaledObjectList",
	}, objs...)
}

// toUnstructured converts a typed object (with its TypeMeta set) to the
// unstructured form the dynamic client reads, as the API server's JSON
// would decode.
func toUnstructured(obj runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func deployment(ns, name string, desired, current, ready int32) *unstructured.Unstructured {
	return toUnstructured(&appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       appsv1.DeploymentSpec{Replicas: &desired},
		Status:     appsv1.DeploymentStatus{Replicas: current, ReadyReplicas: ready},
	})
}

func hpa(current, desired, cpuPct int32, reason string) *unstructured.Unstructured {
	minR, target := int32(1), int32(60)
	h := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "api", APIVersion: "apps/v1"},
			MinReplicas:    &minR,
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target,
				}},
			}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: current,
			DesiredReplicas: desired,
			CurrentMetrics: []autoscalingv2.MetricStatus{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{
					AverageUtilization: &cpuPct,
				}},
			}},
		},
	}
	if reason != "" {
		r, msg, _ := strings.Cut(reason, ": ")
		h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{
			Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: r, Message: msg,
		}}
	}
	return toUnstructured(h)
}

// sampleUntil samples w until its values include want (the informers
// deliver updates asynchronously), and returns them all.
func sampleUntil(t *testing.T, w *Watcher, want map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		vals, err := w.Sample(t.Context())
		got := map[string]float64{}
		for _, v := range vals {
			got[v.Name] = v.V
		}
		missing := ""
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				missing += fmt.Sprintf(" %s=%v (got %v)", k, v, g)
			}
		}
		if err == nil && missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("values not seen within 2s:%s (err %v)", missing, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestWatcherScaleOut plays an HPA scaling a Deployment from 1 to 4
// replicas while the load steps up, one scripted second at a time, and
// checks the sampled series, the events, and the time to scale.
func TestWatcherScaleOut(t *testing.T) {
	ctx := t.Context()
	dc := fakeClient(
		deployment("shop", "api", 1, 1, 1),
		deployment("shop", "web", 2, 2, 2),  // not watched
		deployment("other", "api", 9, 9, 9), // another namespace
		hpa(1, 1, 40, ""),
	)
	clk := &clock{t: t0}
	w, err := New(Config{Namespace: "shop", Deployment: "api", HPA: "api", Now: clk.Now}, Clients{Dynamic: dc})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got, want := w.Workloads(), []Workload{{KindDeployment, "api"}, {KindHPA, "api"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Workloads = %v, want %v", got, want)
	}

	const rescale = "SucceededRescale: the HPA controller was able to update the target scale to 4"
	script := []struct {
		rps                     float64
		p99                     int   // ms
		desired, current, ready int32 // the Deployment
		hpaCur, hpaDesired, cpu int32
		reason                  string
	}{
		{100, 50, 1, 1, 1, 1, 1, 40, ""},
		{100, 50, 1, 1, 1, 1, 1, 42, ""},
		{100, 50, 1, 1, 1, 1, 1, 41, ""},
		{100, 50, 1, 1, 1, 1, 1, 40, ""},
		{100, 50, 1, 1, 1, 1, 1, 40, ""},
		{400, 120, 1, 1, 1, 1, 1, 150, ""},      // 6s: the load steps up
		{400, 180, 4, 4, 1, 1, 4, 160, rescale}, // 7s: the HPA asks for 4
		{400, 170, 4, 4, 2, 4, 4, 120, rescale}, // 8s
		{400, 150, 4, 4, 3, 4, 4, 80, rescale},  // 9s
		{400, 60, 4, 4, 4, 4, 4, 55, rescale},   // 10s: all 4 ready
		{400, 55, 4, 4, 4, 4, 4, 54, rescale},   // 11s
		{400, 55, 4, 4, 4, 4, 4, 55, rescale},   // 12s
	}
	var points []monitor.Point
	var load []LoadPoint
	for i, s := range script {
		at := time.Duration(i+1) * time.Second
		clk.Set(t0.Add(at))
		if i > 0 {
			if _, err := dc.Resource(gvr(KindDeployment)).Namespace("shop").Update(ctx, deployment("shop", "api", s.desired, s.current, s.ready), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := dc.Resource(gvr(KindHPA)).Namespace("shop").Update(ctx, hpa(s.hpaCur, s.hpaDesired, s.cpu, s.reason), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]float64{
			"kube.deployment.api.replicas_desired": float64(s.desired),
			"kube.deployment.api.replicas_current": float64(s.current),
			"kube.deployment.api.replicas_ready":   float64(s.ready),
			"kube.hpa.api.replicas_current":        float64(s.hpaCur),
			"kube.hpa.api.replicas_desired":        float64(s.hpaDesired),
			"kube.hpa.api.replicas_min":            1,
			"kube.hpa.api.replicas_max":            4,
			"kube.hpa.api.scaling_limited":         0,
			"kube.hpa.api.cpu.current_pct":         float64(s.cpu),
			"kube.hpa.api.cpu.target_pct":          60,
		}
		got := sampleUntil(t, w, want)
		if len(got) != len(want) {
			t.Errorf("%v: sampled %d series, want %d: %v", at, len(got), len(want), got)
		}
		points = append(points, monitor.Point{At: at, Values: got})
		load = append(load, LoadPoint{At: at, Value: s.rps, P99: time.Duration(s.p99) * time.Millisecond})
	}

	ev := w.Events()
	// Two informers deliver the 7s changes; their order between them is
	// not defined.
	slices.SortStableFunc(ev, func(a, b Event) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Series, b.Series))
	})
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	wantEv := []Event{
		{At: at(7), Kind: KindDeployment, Name: "api", Series: "replicas_desired", From: 1, To: 4},
		{At: at(7), Kind: KindHPA, Name: "api", Series: "replicas_desired", From: 1, To: 4, Reason: rescale},
		{At: at(8), Kind: KindDeployment, Name: "api", Series: "replicas_ready", From: 1, To: 2},
		{At: at(9), Kind: KindDeployment, Name: "api", Series: "replicas_ready", From: 2, To: 3},
		{At: at(10), Kind: KindDeployment, Name: "api", Series: "replicas_ready", From: 3, To: 4},
	}
	if !reflect.DeepEqual(ev, wantEv) {
		t.Errorf("Events:\n got %+v\nwant %+v", ev, wantEv)
	}

	got := TimeToScale(load, Replicas(points, Workload{KindDeployment, "api"}), Options{})
	want := []ScaleEpisode{{
		Step: 6 * time.Second, ScaleOut: 7 * time.Second, From: 1, To: 4,
		Ready: true, ReadyAt: 10 * time.Second, TimeToScale: 4 * time.Second,
		P99Max: 180 * time.Millisecond, P99Mean: (120 + 180 + 170 + 150 + 60) * time.Millisecond / 5,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TimeToScale:\n got %+v\nwant %+v", got, want)
	}

	// A deleted workload is a sampler error (a gap with a reason).
	if err := dc.Resource(gvr(KindDeployment)).Namespace("shop").Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := w.Sample(ctx)
		if err != nil {
			if !strings.Contains(err.Error(), "deployment api") || !strings.Contains(err.Error(), "not found") {
				t.Errorf("Sample after delete: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Sample after delete: no error within 2s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func scaledObject(active string, annotations map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": "api", "namespace": "shop"},
		"spec":       map[string]any{"scaleTargetRef": map[string]any{"name": "api"}},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady"},
			map[string]any{"type": "Active", "status": active, "reason": map[string]string{"True": "ScalerActive", "False": "ScalerNotActive"}[active],
				"message": map[string]string{"True": "Scaling is performed because triggers are active", "False": "Scaling is not performed because triggers are not active"}[active]},
			map[string]any{"type": "Fallback", "status": "False"},
		}},
	}}
	u.SetAnnotations(annotations)
	return u
}

// TestWatcherScaledObject flips a KEDA ScaledObject active and back through
// the dynamic client, then pauses it.
func TestWatcherScaledObject(t *testing.T) {
	ctx := t.Context()
	dc := fakeClient(scaledObject("False", nil))
	clk := &clock{t: t0}
	w, err := New(Config{Namespace: "shop", ScaledObject: "api", Now: clk.Now}, Clients{Dynamic: dc})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	so := dc.Resource(ScaledObjects).Namespace("shop")
	steps := []struct {
		active      string
		annotations map[string]string
		want        map[string]float64
	}{
		{"False", nil, map[string]float64{"active": 0, "paused": 0, "ready": 1}},
		{"True", nil, map[string]float64{"active": 1, "paused": 0, "ready": 1}},
		{"False", nil, map[string]float64{"active": 0, "paused": 0, "ready": 1}},
		{"False", map[string]string{"autoscaling.keda.sh/paused": "true"}, map[string]float64{"active": 0, "paused": 1, "ready": 1}},
	}
	for i, s := range steps {
		clk.Set(t0.Add(time.Duration(i) * time.Second))
		if i > 0 {
			if _, err := so.Update(ctx, scaledObject(s.active, s.annotations), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]float64{}
		for k, v := range s.want {
			want["kube.scaledobject.api."+k] = v
		}
		if got := sampleUntil(t, w, want); len(got) != 3 {
			t.Errorf("step %d: sampled %v, want 3 series", i, got)
		}
	}
	wantEv := []Event{
		{At: t0.Add(time.Second), Kind: KindScaledObject, Name: "api", Series: "active", From: 0, To: 1, Reason: "ScalerActive: Scaling is performed because triggers are active"},
		{At: t0.Add(2 * time.Second), Kind: KindScaledObject, Name: "api", Series: "active", From: 1, To: 0, Reason: "ScalerNotActive: Scaling is not performed because triggers are not active"},
	}
	if got := w.Events(); !reflect.DeepEqual(got, wantEv) {
		t.Errorf("Events:\n got %+v\nwant %+v", got, wantEv)
	}
}

func TestNewErrors(t *testing.T) {
	dc := fakeClient(deployment("shop", "api", 1, 1, 1))
	tests := []struct {
		name    string
		cfg     Config
		clients Clients
		want    string
	}{
		{"no namespace", Config{Deployment: "api"}, Clients{Dynamic: dc}, "no namespace"},
		{"nothing to watch", Config{Namespace: "shop"}, Clients{Dynamic: dc}, "nothing to watch"},
		{"no client", Config{Namespace: "shop", Deployment: "api"}, Clients{}, "no client"},
		{"missing deployment", Config{Namespace: "shop", Deployment: "apx"}, Clients{Dynamic: dc}, `deployment shop/apx: deployments.apps "apx" not found`},
		{"missing statefulset", Config{Namespace: "shop", StatefulSet: "api"}, Clients{Dynamic: dc}, `statefulset shop/api: statefulsets.apps "api" not found`},
		{"missing hpa", Config{Namespace: "shop", Deployment: "api", HPA: "api"}, Clients{Dynamic: dc}, `hpa shop/api: horizontalpodautoscalers.autoscaling "api" not found`},
		{"missing scaledobject", Config{Namespace: "shop", ScaledObject: "api"}, Clients{Dynamic: dc}, `scaledobject shop/api: scaledobjects.keda.sh "api" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.cfg, tt.clients)
			if err == nil {
				w.Close()
				t.Fatalf("New: no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHPAValues(t *testing.T) {
	q := resource.MustParse
	qp := func(s string) *resource.Quantity { v := q(s); return &v }
	i32 := func(v int32) *int32 { return &v }
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-api"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			MaxReplicas: 10, // MinReplicas defaults to 1
			Metrics: []autoscalingv2.MetricSpec{
				{Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: qp("512Mi")}}},
				{ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(70)}}},
				{Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: qp("100")}}},
				{External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "s0-prometheus.Queue"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: qp("50")}}},
			},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: 10, DesiredReplicas: 10,
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionTrue, Reason: "TooManyReplicas"}},
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceMemory, Current: autoscalingv2.MetricValueStatus{AverageValue: qp("256Mi")}}},
				{ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: corev1.ResourceCPU, Container: "app", Current: autoscalingv2.MetricValueStatus{AverageUtilization: i32(95), AverageValue: qp("950m")}}},
				{Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"}, Current: autoscalingv2.MetricValueStatus{AverageValue: qp("150")}}},
				{External: &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "s0-prometheus.Queue"}, Current: autoscalingv2.MetricValueStatus{Value: qp("75")}}},
				{}, // a status the API has no field for yet
			},
		},
	}
	got := map[string]float64{}
	for _, v := range hpaValues(toUnstructured(h)) {
		got[v.Name] = v.V
	}
	p := "kube.hpa.keda-hpa-api."
	want := map[string]float64{
		p + "replicas_current": 10, p + "replicas_desired": 10, p + "replicas_min": 1, p + "replicas_max": 10,
		p + "scaling_limited":                       1,
		p + "memory.target_bytes":                   512 << 20,
		p + "memory.current_bytes":                  256 << 20,
		p + "container.app.cpu.target_pct":          70,
		p + "container.app.cpu.current_pct":         95,
		p + "container.app.cpu.current":             0.95,
		p + "pods.http_requests_per_second.target":  100,
		p + "pods.http_requests_per_second.current": 150,
		p + "external.s0-prometheus_queue.target":   50,
		p + "external.s0-prometheus_queue.current":  75,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hpaValues:\n got %v\nwant %v", got, want)
	}
}

// Close must stop the informers' goroutines; a leak would show up as a
// Watcher that keeps delivering events after Close.
func TestCloseStops(t *testing.T) {
	dc := fakeClient(deployment("shop", "api", 1, 1, 1))
	w, err := New(Config{Namespace: "shop", Deployment: "api"}, Clients{Dynamic: dc})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := dc.Resource(gvr(KindDeployment)).Namespace("shop").Update(context.Background(), deployment("shop", "api", 3, 3, 3), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if ev := w.Events(); len(ev) != 0 {
		t.Errorf("events after Close: %v", ev)
	}
}

// The API server omits zero counts and a defaulted spec.replicas may be
// missing from an object written without it; both read as the API means.
func TestWorkloadValues(t *testing.T) {
	tests := []struct {
		name string
		obj  map[string]any
		want []float64 // desired, current, ready
	}{
		{"counts", map[string]any{
			"spec":   map[string]any{"replicas": int64(3)},
			"status": map[string]any{"replicas": int64(3), "readyReplicas": int64(2)},
		}, []float64{3, 3, 2}},
		{"scaled to zero", map[string]any{
			"spec":   map[string]any{"replicas": int64(0)},
			"status": map[string]any{},
		}, []float64{0, 0, 0}},
		{"no spec.replicas", map[string]any{}, []float64{1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := Workload{KindStatefulSet, "db"}
			var got []float64
			for i, v := range workloadValues(w, &unstructured.Unstructured{Object: tt.obj}) {
				if want := w.Series([]string{"replicas_desired", "replicas_current", "replicas_ready"}[i]); v.Name != want {
					t.Errorf("value %d is %s, want %s", i, v.Name, want)
				}
				got = append(got, v.V)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("workloadValues = %v, want %v", got, tt.want)
			}
		})
	}
}
