package testkube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestStartRestart starts the cluster, stores an object, restarts the API
// server on the same port and etcd, and reads the object back through the
// same client.
func TestStartRestart(t *testing.T) {
	c := Start(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != KubeVersion {
		t.Errorf("server version %s, want %s", v.GitVersion, KubeVersion)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	stop := time.Now()
	c.StopAPIServer()
	t.Logf("stopped in %v", time.Since(stop).Round(time.Millisecond))
	if err := readyz(ctx, c.Config); err == nil {
		t.Fatal("the API server still answers after StopAPIServer")
	}
	start := time.Now()
	c.StartAPIServer()
	t.Logf("ready again in %v", time.Since(start).Round(time.Millisecond))

	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("after the restart: %v, %v", got, err)
	}
}
