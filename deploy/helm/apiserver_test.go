package helm

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/fuka-load/fuka/internal/testkube"
)

// restricted labels a namespace so that Pod Security admission enforces,
// and warns about, the "restricted" profile of the API server's own version.
var restricted = map[string]string{
	"pod-security.kubernetes.io/enforce":         "restricted",
	"pod-security.kubernetes.io/enforce-version": "latest",
	"pod-security.kubernetes.io/warn":            "restricted",
	"pod-security.kubernetes.io/warn-version":    "latest",
}

// TestAPIServerInstall installs the chart with the real helm into a real
// kube-apiserver (testkube), for every values file: first with
// --dry-run=server, which must store nothing and whose manifest the API
// server must accept in a dry run of its own, then for real, which must
// store every object the chart renders. The namespace enforces Pod Security
// "restricted"; no controller runs to make Pods of the Jobs, so the test
// makes one of each Job's stored pod template, as the Job controller would,
// and the API server must admit it.
//
// A last subtest checks that the admission relied on is there: with the
// chart's security context weakened, helm relays the API server's warning
// and the Jobs' pods are refused.
func TestAPIServerInstall(t *testing.T) {
	testkube.Binary(t, "helm") // skip before starting anything
	c := testkube.Start(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)

	for i, values := range []string{"defaults.yaml", "ten-workers-node-selector.yaml", "existing-configmap.yaml", "anti-affinity.yaml", "results-pvc.yaml"} {
		t.Run(strings.TrimSuffix(values, ".yaml"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			ns := fmt.Sprintf("load-%d", i)
			release := "run"
			createNamespace(ctx, t, cs, ns, restricted)
			want := render(t, release, readValues(t, values)).metas()
			install := []string{"install", release, chartDir, "--namespace", ns, "-f", filepath.Join("testdata", values)}

			out, err := c.Helm(ctx, append(install, "--dry-run=server")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			noPodSecurityWarnings(t, out)
			var wantNames []string
			for _, m := range want {
				wantNames = append(wantNames, m.kind+"/"+m.meta.Name)
			}
			slices.Sort(wantNames)
			objs := manifestObjects(t, out)
			if got := kindNames(objs); !slices.Equal(got, wantNames) {
				t.Errorf("dry run: helm's manifest holds %v, the chart renders %v", got, wantNames)
			}
			// helm's server dry run only lets the templates read the
			// cluster; submitting the manifest with dryRun=All has it
			// validated and admitted as an install would be.
			serverDryRun(ctx, t, c, ns, objs)
			if got := stored(ctx, t, cs, ns, release); len(got) != 0 {
				t.Fatalf("dry run stored %v", got)
			}

			out, err = c.Helm(ctx, install...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			noPodSecurityWarnings(t, out)
			if got := stored(ctx, t, cs, ns, release); !slices.Equal(got, wantNames) {
				t.Fatalf("stored %v, the chart renders %v", got, wantNames)
			}
			status, err := c.Helm(ctx, "status", release, "--namespace", ns)
			if err != nil || !strings.Contains(status, "STATUS: deployed") {
				t.Fatalf("helm status: %v\n%s", err, status)
			}

			jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs.Items) != 2 {
				t.Fatalf("%d Jobs stored, want the controller and the workers", len(jobs.Items))
			}
			for _, job := range jobs.Items {
				createPodOf(ctx, t, cs, &job)
			}

			out, err = c.Helm(ctx, "uninstall", release, "--namespace", ns)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := stored(ctx, t, cs, ns, release); len(got) != 0 {
				t.Fatalf("left after uninstall: %v", got)
			}
		})
	}
	t.Run("privilege escalation refused", func(t *testing.T) { rejectsUnrestricted(t, c, cs) })
}

func rejectsUnrestricted(t *testing.T, c *testkube.Cluster, cs kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := "loose"
	createNamespace(ctx, t, cs, ns, restricted)
	out, err := c.Helm(ctx, "install", "run", chartDir, "--namespace", ns, "-f", filepath.Join("testdata", "defaults.yaml"),
		"--set", "securityContext.allowPrivilegeEscalation=true")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// helm logs the API server's warnings through klog, which quotes them.
	if !strings.Contains(out, `would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation`) {
		t.Errorf("helm printed no Pod Security warning for allowPrivilegeEscalation=true:\n%s", out)
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) == 0 {
		t.Fatalf("no Jobs stored (%v)", err)
	}
	for _, job := range jobs.Items {
		ensureServiceAccount(ctx, t, cs, ns, job.Spec.Template.Spec.ServiceAccountName)
		_, err := cs.CoreV1().Pods(ns).Create(ctx, podOf(&job), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "allowPrivilegeEscalation") {
			t.Errorf("Job %s: creating its pod: %v, want Forbidden for allowPrivilegeEscalation", job.Name, err)
		}
	}
}

func createNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// noPodSecurityWarnings fails the test if helm relayed the API server's
// warning that a pod template would be refused.
func noPodSecurityWarnings(t *testing.T, helmOut string) {
	t.Helper()
	if strings.Contains(helmOut, "PodSecurity") {
		t.Errorf("Pod Security warning:\n%s", helmOut)
	}
}

// manifestObjects decodes the objects in the MANIFEST section of helm's
// output.
func manifestObjects(t *testing.T, helmOut string) []*unstructured.Unstructured {
	t.Helper()
	_, manifest, ok := strings.Cut(helmOut, "\nMANIFEST:\n")
	if !ok {
		t.Fatalf("no MANIFEST in helm's output:\n%s", helmOut)
	}
	manifest, _, _ = strings.Cut(manifest, "\nNOTES:\n")
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(manifest, "\n---") {
		if onlyComments(doc) {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
			t.Fatalf("helm's manifest: %v\n%s", err, doc)
		}
		out = append(out, o)
	}
	return out
}

// kindNames lists objects as sorted KIND/NAME.
func kindNames(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	slices.Sort(out)
	return out
}

// serverDryRun creates each object in ns with dryRun=All: the API server
// validates, defaults and admits it (Pod Security warns about a Job's pod
// template) and stores nothing. A refusal or a warning fails the test.
func serverDryRun(ctx context.Context, t *testing.T, c *testkube.Cluster, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	warnings := &warningLog{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandlerWithContext = warnings
	dc := dynamic.NewForConfigOrDie(cfg)
	resources := map[string]schema.GroupVersionResource{
		"ConfigMap":      corev1.SchemeGroupVersion.WithResource("configmaps"),
		"Service":        corev1.SchemeGroupVersion.WithResource("services"),
		"ServiceAccount": corev1.SchemeGroupVersion.WithResource("serviceaccounts"),
		"Job":            batchv1.SchemeGroupVersion.WithResource("jobs"),
	}
	for _, o := range objs {
		res, ok := resources[o.GetKind()]
		if !ok {
			t.Fatalf("no resource known for kind %s", o.GetKind())
		}
		if _, err := dc.Resource(res).Namespace(ns).Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("server dry run of %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	if w := warnings.all(); len(w) > 0 {
		t.Errorf("server dry run: API server warnings:\n%s", strings.Join(w, "\n"))
	}
}

// warningLog keeps the API server's warnings.
type warningLog struct {
	mu sync.Mutex
	w  []string
}

func (l *warningLog) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w = append(l.w, text)
}

func (l *warningLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.w)
}

// stored lists, as sorted KIND/NAME, the objects of a release the chart
// makes (ConfigMaps, Services, ServiceAccounts, Jobs) found in ns, by the
// release's instance label.
func stored(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, release string) []string {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release}
	var out []string
	add := func(kind string, err error, names ...string) {
		if err != nil {
			t.Fatalf("list %s: %v", kind, err)
		}
		for _, n := range names {
			out = append(out, kind+"/"+n)
		}
	}
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, sel)
	add("ConfigMap", err, namesOf(cms.Items, func(o corev1.ConfigMap) string { return o.Name })...)
	svcs, err := cs.CoreV1().Services(ns).List(ctx, sel)
	add("Service", err, namesOf(svcs.Items, func(o corev1.Service) string { return o.Name })...)
	sas, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, sel)
	add("ServiceAccount", err, namesOf(sas.Items, func(o corev1.ServiceAccount) string { return o.Name })...)
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, sel)
	add("Job", err, namesOf(jobs.Items, func(o batchv1.Job) string { return o.Name })...)
	slices.Sort(out)
	return out
}

func namesOf[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, o := range items {
		out[i] = name(o)
	}
	return out
}

// podOf is the Pod the Job controller would make of job's stored (and so
// defaulted) pod template.
func podOf(job *batchv1.Job) *corev1.Pod {
	tmpl := job.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: job.Name + "-",
			Labels:       tmpl.Labels,
			Annotations:  tmpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job,
				schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"})},
		},
		Spec: tmpl.Spec,
	}
}

// createPodOf makes the Pod of job's template in its namespace, which
// Pod Security admission must accept.
func createPodOf(ctx context.Context, t *testing.T, cs kubernetes.Interface, job *batchv1.Job) {
	t.Helper()
	ensureServiceAccount(ctx, t, cs, job.Namespace, job.Spec.Template.Spec.ServiceAccountName)
	pod, err := cs.CoreV1().Pods(job.Namespace).Create(ctx, podOf(job), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("Job %s: its pod is refused: %v", job.Name, err)
	}
	if pod.Spec.SecurityContext == nil || pod.Spec.SecurityContext.RunAsNonRoot == nil || !*pod.Spec.SecurityContext.RunAsNonRoot {
		t.Errorf("Job %s: stored pod runs as root: %+v", job.Name, pod.Spec.SecurityContext)
	}
}

// ensureServiceAccount creates the pod's service account when nothing else
// has: the ServiceAccount admission plugin refuses a pod whose account does
// not exist, and with no controller-manager no namespace has its "default".
func ensureServiceAccount(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	if name == "" {
		name = "default"
	}
	_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
