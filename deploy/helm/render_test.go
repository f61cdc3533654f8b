package helm

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "fuka"
	namespace = "perf"
	// kubeVersion is the cluster the chart is rendered for: the oldest one
	// where every field it sets (backoffLimitPerIndex) is on by default.
	kubeVersion = "v1.29.0"
)

// rendered is one rendering of the chart, every object decoded into its
// Kubernetes API type.
type rendered struct {
	values          chartutil.Values // the coalesced values the templates saw
	release         string
	configMaps      []*corev1.ConfigMap
	services        []*corev1.Service
	serviceAccounts []*corev1.ServiceAccount
	jobs            []*batchv1.Job
	notes           string
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

// readValues reads a values file from testdata.
func readValues(t testing.TB, name string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("values %s: %v", name, err)
	}
	return v.AsMap()
}

// renderFiles renders the chart as `helm install` does: the values are
// checked against values.schema.json and coalesced with values.yaml. The
// engine is strict, so a template that reads a value the chart does not
// define fails too.
func renderFiles(t testing.TB, release string, vals map[string]any) (map[string]string, chartutil.Values, error) {
	t.Helper()
	ch := loadChart(t)
	caps := chartutil.DefaultCapabilities.Copy()
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	caps.KubeVersion = *kv
	if !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, kv.String()) {
		t.Fatalf("chart kubeVersion %q excludes %s", ch.Metadata.KubeVersion, kv)
	}
	if err := chartutil.ValidateReleaseName(release); err != nil {
		t.Fatalf("release %q: %v", release, err)
	}
	opts := chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValues(ch, vals, opts, caps)
	if err != nil {
		return nil, nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, top)
	if err != nil {
		return nil, nil, err
	}
	v, err := top.Table("Values")
	if err != nil {
		t.Fatal(err)
	}
	return files, v, nil
}

// render renders the chart and decodes every object strictly; anything that
// does not decode fails the test.
func render(t testing.TB, release string, vals map[string]any) *rendered {
	t.Helper()
	files, v, err := renderFiles(t, release, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := &rendered{values: v, release: release}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		base := filepath.Base(name)
		switch {
		case strings.HasPrefix(base, "_"):
			continue
		case base == "NOTES.txt":
			r.notes = files[name]
			continue
		}
		docs := releaseutil.SplitManifests(files[name])
		for i := range len(docs) {
			doc := docs[fmt.Sprintf("manifest-%d", i)]
			if onlyComments(doc) {
				continue
			}
			if err := r.add([]byte(doc)); err != nil {
				t.Fatalf("%s, document %d: %v\n%s", name, i, err, doc)
			}
		}
	}
	return r
}

// add decodes one YAML document into the API type its apiVersion and kind
// name. yaml.UnmarshalStrict refuses duplicate keys and, through
// encoding/json's DisallowUnknownFields, any field the type does not have.
func (r *rendered) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch gvk := tm.GroupVersionKind(); gvk {
	case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
		o := new(corev1.ConfigMap)
		r.configMaps = append(r.configMaps, o)
		return yaml.UnmarshalStrict(doc, o)
	case corev1.SchemeGroupVersion.WithKind("Service"):
		o := new(corev1.Service)
		r.services = append(r.services, o)
		return yaml.UnmarshalStrict(doc, o)
	case corev1.SchemeGroupVersion.WithKind("ServiceAccount"):
		o := new(corev1.ServiceAccount)
		r.serviceAccounts = append(r.serviceAccounts, o)
		return yaml.UnmarshalStrict(doc, o)
	case batchv1.SchemeGroupVersion.WithKind("Job"):
		o := new(batchv1.Job)
		r.jobs = append(r.jobs, o)
		return yaml.UnmarshalStrict(doc, o)
	default:
		return fmt.Errorf("unexpected object %v", gvk)
	}
}

func onlyComments(doc string) bool {
	for line := range strings.SplitSeq(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// metas lists every object's metadata with its kind, for checks that apply to all.
func (r *rendered) metas() []kindMeta {
	var out []kindMeta
	for _, o := range r.configMaps {
		out = append(out, kindMeta{"ConfigMap", &o.ObjectMeta})
	}
	for _, o := range r.services {
		out = append(out, kindMeta{"Service", &o.ObjectMeta})
	}
	for _, o := range r.serviceAccounts {
		out = append(out, kindMeta{"ServiceAccount", &o.ObjectMeta})
	}
	for _, o := range r.jobs {
		out = append(out, kindMeta{"Job", &o.ObjectMeta})
	}
	return out
}

type kindMeta struct {
	kind string
	meta *metav1.ObjectMeta
}

// job returns the Job of a component (controller or worker).
func (r *rendered) job(t testing.TB, component string) *batchv1.Job {
	t.Helper()
	var found *batchv1.Job
	for _, j := range r.jobs {
		if j.Labels["app.kubernetes.io/component"] == component {
			if found != nil {
				t.Fatalf("two %s Jobs: %s and %s", component, found.Name, j.Name)
			}
			found = j
		}
	}
	if found == nil {
		t.Fatalf("no %s Job", component)
	}
	return found
}

func container(t testing.TB, pod *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range pod.Containers {
		if pod.Containers[i].Name == name {
			return &pod.Containers[i]
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func volume(t testing.TB, pod *corev1.PodSpec, name string) *corev1.Volume {
	t.Helper()
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	t.Fatalf("no volume %q", name)
	return nil
}

func mount(t testing.TB, c *corev1.Container, name string) *corev1.VolumeMount {
	t.Helper()
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	t.Fatalf("container %s: no mount of volume %q", c.Name, name)
	return nil
}

// flag returns the argument after name in args, and whether name is there once.
func flag(args []string, name string) (string, bool) {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) || slices.Index(args[i+1:], name) >= 0 {
		return "", false
	}
	return args[i+1], true
}

// value reads a dotted path from the coalesced values.
func (r *rendered) value(t testing.TB, path string) any {
	t.Helper()
	v, err := r.values.PathValue(path)
	if err != nil {
		t.Fatalf("values %s: %v", path, err)
	}
	return v
}

func (r *rendered) str(t testing.TB, path string) string {
	t.Helper()
	s, ok := r.value(t, path).(string)
	if !ok {
		t.Fatalf("values %s: not a string: %#v", path, r.value(t, path))
	}
	return s
}

// num reads a number: a float64 from a values file, an int64 from --set.
func (r *rendered) num(t testing.TB, path string) int {
	t.Helper()
	switch n := r.value(t, path).(type) {
	case float64:
		return int(n)
	case int64:
		return int(n)
	case int:
		return n
	default:
		t.Fatalf("values %s: not a number: %#v", path, n)
		return 0
	}
}

// table reads a map of strings (nodeSelector, data) from the coalesced values.
func (r *rendered) table(t testing.TB, path string) map[string]string {
	t.Helper()
	m, err := r.values.Table(path)
	if err != nil {
		return nil // absent or empty
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("values %s.%s: not a string", path, k)
		}
		out[k] = s
	}
	return out
}

// shNoExec checks shell syntax without running anything, when sh exists.
func shNoExec(t testing.TB, script string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Log("no sh: keeper script syntax not checked")
		return
	}
	if out, err := exec.Command(sh, "-n", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("keeper script: sh -n: %v\n%s", err, out)
	}
}
