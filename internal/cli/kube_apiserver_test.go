package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fuka-load/fuka/internal/testkube"
)

// TestAttackTimeToScaleAPIServer runs `fuka attack --monitor
// kubernetes=…,kubeconfig=…` against a real kube-apiserver (testkube):
// 2.5 s after the first request the test scales deployment shop/api to 4
// through its scale subresource, as an HPA would, and makes the 4 replicas
// ready 3 s later, as the Deployment controller and kubelets would. The
// JSON summary's scaling section must measure that scale-out.
func TestAttackTimeToScaleAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a 7 s run against a real API server")
	}
	c := testkube.Start(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	one, labels := int32(1), map[string]string{"app": "api"}
	_, err := cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "registry.example/api:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setStatus := func(replicas, ready int32) {
		d, err := cs.AppsV1().Deployments("shop").Get(ctx, "api", metav1.GetOptions{})
		if err == nil {
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: ready, AvailableReplicas: ready}
			_, err = cs.AppsV1().Deployments("shop").UpdateStatus(ctx, d, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Error(err)
		}
	}
	setStatus(1, 1)

	var first sync.Once
	var script sync.WaitGroup
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first.Do(func() {
			script.Go(func() {
				time.Sleep(2500 * time.Millisecond)
				_, err := cs.AppsV1().Deployments("shop").UpdateScale(ctx, "api", &autoscalingv1.Scale{
					ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"}, Spec: autoscalingv1.ScaleSpec{Replicas: 4},
				}, metav1.UpdateOptions{})
				if err != nil {
					t.Error(err)
				}
				setStatus(4, 1)
				time.Sleep(3 * time.Second)
				setStatus(4, 4)
			})
		})
		w.Write([]byte("ok"))
	}))
	defer tg.Close()
	defer script.Wait()

	res := fuka(t, "attack", tg.URL, "--rate", "40", "-d", "7s",
		"--monitor", "kubernetes=shop/deployment=api,kubeconfig="+c.Kubeconfig,
		"-o", "json", "-q", "--no-history", "--no-report")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.err)
	}
	var s struct {
		Scaling []struct {
			Workload     string   `json:"workload"`
			FromReplicas int      `json:"from_replicas"`
			ToReplicas   int      `json:"to_replicas"`
			LoadStepS    float64  `json:"load_step_s"`
			ScaleOutS    float64  `json:"scale_out_s"`
			TimeToScaleS *float64 `json:"time_to_scale_s"`
		} `json:"scaling"`
	}
	if err := json.Unmarshal([]byte(lastLine(res.out)), &s); err != nil {
		t.Fatalf("%v: %q", err, res.out)
	}
	if len(s.Scaling) != 1 || s.Scaling[0].TimeToScaleS == nil {
		t.Fatalf("scaling %+v, want one completed scale-out\n%s", s.Scaling, res.err)
	}
	e := s.Scaling[0]
	t.Logf("scaling: %s %d→%d, step %.0fs, scale-out %.0fs, time to scale %.1fs",
		e.Workload, e.FromReplicas, e.ToReplicas, e.LoadStepS, e.ScaleOutS, *e.TimeToScaleS)
	// The load's first second, ending at 1 s, is the step; the replicas
	// are asked for at about 2.5 s and all ready at about 5.5 s, seen at
	// the next whole second (6 s, 7 s on a busy machine) once the watch
	// delivered them.
	if e.Workload != "deployment/api" || e.FromReplicas != 1 || e.ToReplicas != 4 {
		t.Errorf("scale-out %+v, want deployment/api 1→4", e)
	}
	if e.ScaleOutS < 2 || e.ScaleOutS > 5 {
		t.Errorf("scale-out at %.1fs, want about 3s", e.ScaleOutS)
	}
	if tts := *e.TimeToScaleS; tts < 4 || tts > 7 {
		t.Errorf("time to scale %.1fs, want about 5s", tts)
	}
}
