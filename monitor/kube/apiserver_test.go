package kube_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/fuka-load/fuka/internal/testkube"
	"github.com/fuka-load/fuka/monitor"
	"github.com/fuka-load/fuka/monitor/kube"
)

const (
	ns       = "shop"
	app      = "api"
	interval = 500 * time.Millisecond // of the monitor's ticks
	// rampStep is how long each new replica takes to be ready.
	rampStep = time.Second
)

// cluster is a real API server with the objects an autoscaled service has,
// and the clients the test plays the controllers with: there is no
// controller-manager, HPA controller or KEDA, so the test writes the
// replica counts and statuses they would.
type cluster struct {
	*testkube.Cluster
	cs kubernetes.Interface
	dc dynamic.Interface
}

// TestWatcherAgainstAPIServer follows a Deployment, its HPA and a KEDA
// ScaledObject on a real kube-apiserver while they scale out 1→4 and, after
// the API server restarts, back in 4→2: the replicas land on the monitor's
// timeline, TimeToScale measures the scale-out from it, the events carry
// the autoscalers' reasons, and the watches come back by themselves.
func TestWatcherAgainstAPIServer(t *testing.T) {
	c := newCluster(t)
	errs := catchErrors(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c.setup(ctx, t)

	// The clients fuka builds, from the kubeconfig file (client
	// certificate, CA) as kubectl would read it.
	clients, err := kube.FromKubeconfig(c.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := kube.New(kube.Config{Namespace: ns, Deployment: app, HPA: app, ScaledObject: app, SyncTimeout: 30 * time.Second}, clients)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mon := monitor.New([]monitor.Sampler{w}, interval, nil)
	start := time.Now()
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan struct{})
	go func() { defer close(monDone); mon.Run(monCtx, start) }()
	defer func() { stopMon(); <-monDone }()
	waitPoint(ctx, t, mon, deploy.Series("replicas_ready"), 1)
	time.Sleep(2 * interval) // a baseline before the step

	// The load steps up; KEDA turns active, the HPA asks for 4 and scales
	// the Deployment through its scale subresource, as the HPA controller
	// does; the new pods are ready one per rampStep.
	step := time.Since(start)
	c.setScaledObjectActive(ctx, t, true, "ScalerActive", "Scaling is performed because triggers are active")
	c.setHPA(ctx, t, 1, 4, "SucceededRescale", "the HPA controller was able to update the target scale to 4")
	c.scale(ctx, t, 4)
	c.setDeploymentStatus(ctx, t, 4, 1)
	for ready := int32(2); ready <= 4; ready++ {
		time.Sleep(rampStep)
		c.setDeploymentStatus(ctx, t, 4, ready)
	}
	readySet := time.Since(start)
	c.setHPA(ctx, t, 4, 4, "ReadyForNewScale", "recommended size matches current size")
	waitPoint(ctx, t, mon, deploy.Series("replicas_ready"), 4)

	points := mon.Points()
	reps := kube.Replicas(points, deploy)
	t.Logf("replicas on the timeline: %v", reps)
	checkRamp(t, reps)
	var load []kube.LoadPoint
	for _, p := range points {
		rps := 100.0
		if p.At >= step {
			rps = 400
		}
		load = append(load, kube.LoadPoint{At: p.At, Value: rps, P99: 50 * time.Millisecond})
	}
	eps := kube.TimeToScale(load, reps, kube.Options{})
	if len(eps) != 1 {
		t.Fatalf("TimeToScale: %+v, want one episode", eps)
	}
	e := eps[0]
	t.Logf("scale-out: %+v (step at %v, 4 ready set at %v)", e, step, readySet)
	// The step is the first tick at or after the load stepped; 4 ready is
	// seen at the first tick after the watch delivered it (well within 3s
	// on a busy machine, one tick on an idle one).
	switch {
	case e.From != 1 || e.To != 4 || !e.Ready:
		t.Errorf("episode %d→%d ready=%v, want 1→4 ready", e.From, e.To, e.Ready)
	case e.Step < step || e.Step >= step+interval:
		t.Errorf("step at %v, want the first tick after %v", e.Step, step)
	case e.ScaleOut < e.Step || e.ScaleOut > e.Step+3*time.Second:
		t.Errorf("scale-out seen at %v, want within 3s of the step at %v", e.ScaleOut, e.Step)
	case e.ReadyAt < readySet-interval || e.ReadyAt > readySet+3*time.Second:
		t.Errorf("ready at %v, want within [%v, %v]", e.ReadyAt, readySet-interval, readySet+3*time.Second)
	case e.TimeToScale < 3*rampStep-interval:
		t.Errorf("time to scale %v, shorter than the %v the replicas took", e.TimeToScale, 3*rampStep)
	}

	checkEvents(t, w.Events(), []string{
		"deployment/api replicas_desired 1→4",
		"deployment/api replicas_ready 1→2",
		"deployment/api replicas_ready 2→3",
		"deployment/api replicas_ready 3→4",
		"hpa/api replicas_desired 1→4 SucceededRescale: the HPA controller was able to update the target scale to 4",
		"scaledobject/api active 0→1 ScalerActive: Scaling is performed because triggers are active",
	})

	// The API server goes away: the watcher keeps serving its cache.
	c.StopAPIServer()
	vals, err := w.Sample(ctx)
	if err != nil || value(vals, deploy.Series("replicas_ready")) != 4 {
		t.Fatalf("with the API server down: %v, %v; want the cached replicas", vals, err)
	}
	time.Sleep(2 * time.Second) // let the watches fail and back off
	c.StartAPIServer()
	restarted := time.Now()

	// After the restart, a scale-in must still reach the timeline.
	c.setScaledObjectActive(ctx, t, false, "ScalerNotActive", "Scaling is not performed because triggers are not active")
	c.setHPA(ctx, t, 4, 2, "SucceededRescale", "the HPA controller was able to update the target scale to 2")
	c.scale(ctx, t, 2)
	c.setDeploymentStatus(ctx, t, 2, 2)
	waitPoint(ctx, t, mon, deploy.Series("replicas_desired"), 2)
	waitPoint(ctx, t, mon, scaled.Series("active"), 0)
	waitPoint(ctx, t, mon, hpaW.Series("replicas_desired"), 2)
	// client-go's reflectors retry a lost watch with a backoff that grows
	// to 30s, jittered by up to as much again.
	if d := time.Since(restarted); d > 65*time.Second {
		t.Errorf("scale-in seen %v after the API server was ready again, want within 65s", d)
	} else {
		t.Logf("scale-in seen %v after the API server was ready again", d.Round(time.Millisecond))
	}
	checkEvents(t, w.Events(), []string{
		"deployment/api replicas_desired 4→2",
		"deployment/api replicas_ready 4→2",
		"hpa/api replicas_desired 4→2 SucceededRescale: the HPA controller was able to update the target scale to 2",
		"scaledobject/api active 1→0 ScalerNotActive: Scaling is not performed because triggers are not active",
	})
	if f := mon.Failures(); len(f) != 0 {
		t.Errorf("sampler failures: %+v", f)
	}

	// Closing a watcher is quiet: no "Failed to watch" on stderr. Whether
	// the watches see their context cancelled depends on where Close finds
	// them, so try it at several moments.
	stopMon()
	<-monDone
	errs.reset()
	w.Close()
	for i := range 20 {
		w, err := kube.New(kube.Config{Namespace: ns, Deployment: app, HPA: app, ScaledObject: app, SyncTimeout: 30 * time.Second}, clients)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%5) * 50 * time.Millisecond)
		w.Close()
	}
	if got := errs.all(); len(got) != 0 {
		t.Errorf("closing watchers logged errors: %v", got)
	}
}

// errorLog records what client-go hands apimachinery's error handlers
// (which log through klog to stderr).
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) reset() { l.mu.Lock(); defer l.mu.Unlock(); l.errs = nil }
func (l *errorLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// catchErrors adds an errorLog to apimachinery's error handlers until the
// test ends. Call it before anything that may report an error starts.
func catchErrors(t *testing.T) *errorLog {
	l := &errorLog{}
	old := utilruntime.ErrorHandlers
	utilruntime.ErrorHandlers = append(slices.Clone(old), func(_ context.Context, err error, msg string, _ ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.errs = append(l.errs, msg+": "+err.Error())
	})
	t.Cleanup(func() { utilruntime.ErrorHandlers = old })
	return l
}

var (
	deploy = kube.Workload{Kind: kube.KindDeployment, Name: app}
	hpaW   = kube.Workload{Kind: kube.KindHPA, Name: app}
	scaled = kube.Workload{Kind: kube.KindScaledObject, Name: app}
)

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := testkube.Start(t)
	return &cluster{Cluster: c, cs: kubernetes.NewForConfigOrDie(c.Config), dc: dynamic.NewForConfigOrDie(c.Config)}
}

// setup creates the namespace, a Deployment of 1 ready replica, its HPA
// (1 to 4 on CPU), KEDA's ScaledObject CRD and an inactive ScaledObject.
func (c *cluster) setup(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": app}
	one := int32(1)
	_, err := c.cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: "registry.example/api:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.setDeploymentStatus(ctx, t, 1, 1)

	minR, cpu := int32(1), int32(60)
	_, err = c.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: app},
			MinReplicas:    &minR,
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &cpu}},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.setHPA(ctx, t, 1, 1, "ReadyForNewScale", "recommended size matches current size")

	c.createScaledObjectCRD(ctx, t)
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": app, "namespace": ns},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": app},
			"minReplicaCount": int64(1),
			"maxReplicaCount": int64(4),
			"triggers": []any{map[string]any{"type": "prometheus", "metadata": map[string]any{
				"serverAddress": "http://prometheus.monitoring:9090", "query": "sum(rate(http_requests_total[1m]))", "threshold": "100",
			}}},
		},
	}}
	if _, err := c.dc.Resource(kube.ScaledObjects).Namespace(ns).Create(ctx, so, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.setScaledObjectActive(ctx, t, false, "ScalerNotActive", "Scaling is not performed because triggers are not active")
}

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// createScaledObjectCRD installs a CRD for keda.sh/v1alpha1 ScaledObjects
// (schema left open: the watcher reads only metadata, spec and status
// conditions) with a status subresource, as KEDA's has, and waits until the
// API server serves it.
func (c *cluster) createScaledObjectCRD(ctx context.Context, t *testing.T) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "scaledobjects.keda.sh"},
		"spec": map[string]any{
			"group": "keda.sh",
			"scope": "Namespaced",
			"names": map[string]any{"kind": "ScaledObject", "listKind": "ScaledObjectList", "plural": "scaledobjects", "singular": "scaledobject", "shortNames": []any{"so"}},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
	if _, err := c.dc.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the ScaledObject CRD to be served", func() (bool, error) {
		if _, err := c.dc.Resource(kube.ScaledObjects).Namespace(ns).List(ctx, metav1.ListOptions{}); err != nil {
			return false, nil
		}
		return true, nil
	})
}

// scale sets the Deployment's replicas through its scale subresource.
func (c *cluster) scale(ctx context.Context, t *testing.T, replicas int32) {
	t.Helper()
	_, err := c.cs.AppsV1().Deployments(ns).UpdateScale(ctx, app, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// setDeploymentStatus writes what the Deployment controller and kubelets
// would: how many pods exist and how many are ready.
func (c *cluster) setDeploymentStatus(ctx context.Context, t *testing.T, replicas, ready int32) {
	t.Helper()
	d, err := c.cs.AppsV1().Deployments(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: replicas,
		ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: replicas - ready}
	if _, err := c.cs.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setHPA writes what the HPA controller would: current and desired
// replicas, and its AbleToScale condition.
func (c *cluster) setHPA(ctx context.Context, t *testing.T, current, desired int32, reason, message string) {
	t.Helper()
	h, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: current, DesiredReplicas: desired, LastScaleTime: &now,
		Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{
			Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, LastTransitionTime: now, Reason: reason, Message: message,
		}},
	}
	if _, err := c.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).UpdateStatus(ctx, h, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setScaledObjectActive writes KEDA's Active condition (and Ready) through
// the status subresource.
func (c *cluster) setScaledObjectActive(ctx context.Context, t *testing.T, active bool, reason, message string) {
	t.Helper()
	res := c.dc.Resource(kube.ScaledObjects).Namespace(ns)
	so, err := res.Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := "False"
	if active {
		status = "True"
	}
	conds := []any{
		map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady", "message": "ScaledObject is defined correctly and is ready for scaling"},
		map[string]any{"type": "Active", "status": status, "reason": reason, "message": message},
	}
	if err := unstructured.SetNestedSlice(so.Object, conds, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if _, err := res.UpdateStatus(ctx, so, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPoint waits until the monitor's latest point has series at v, for
// at most 70s: the longest a reflector may take to watch again after the
// API server restarts (see below), and a few ticks.
func waitPoint(ctx context.Context, t *testing.T, mon *monitor.Monitor, series string, v float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 70*time.Second)
	defer cancel()
	poll(ctx, t, fmt.Sprintf("%s = %v on the timeline", series, v), func() (bool, error) {
		got, ok := mon.Latest().Values[series]
		return ok && got == v, nil
	})
}

// poll calls cond every 100ms until it is true, failing the test when ctx
// ends first.
func poll(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func value(vals []monitor.Value, name string) float64 {
	for _, v := range vals {
		if v.Name == name {
			return v.V
		}
	}
	return -1
}

// checkRamp checks the replica timeline: desired goes 1→4 once, ready
// never goes down and passes through 2 and 3 (each lasts two ticks).
func checkRamp(t *testing.T, reps []kube.ReplicaPoint) {
	t.Helper()
	seen := map[int]bool{}
	for i, r := range reps {
		seen[r.Ready] = true
		if i > 0 && (r.Ready < reps[i-1].Ready || r.Desired < reps[i-1].Desired) {
			t.Errorf("replicas went down at %v: %+v after %+v", r.At, r, reps[i-1])
		}
	}
	if len(reps) == 0 || reps[0].Desired != 1 || reps[len(reps)-1].Desired != 4 {
		t.Errorf("desired replicas: %v, want 1 to 4", reps)
	}
	for _, n := range []int{1, 2, 3, 4} {
		if !seen[n] {
			t.Errorf("no tick with %d ready replicas: %v", n, reps)
		}
	}
}

// checkEvents checks that every wanted event ("KIND/NAME SERIES FROM→TO
// [REASON]") is among the watcher's events.
func checkEvents(t *testing.T, events []kube.Event, want []string) {
	t.Helper()
	var got []string
	for _, e := range events {
		s := fmt.Sprintf("%s/%s %s %d→%d", e.Kind, e.Name, e.Series, e.From, e.To)
		if e.Reason != "" {
			s += " " + e.Reason
		}
		got = append(got, s)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no event %q among:\n%s", w, strings.Join(got, "\n"))
		}
	}
}
