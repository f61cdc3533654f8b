package helm

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// want is what one values file must produce, written out by hand so the
// test does not just read the values back.
type want struct {
	workers            int
	port               int
	planFile           string // under /plan
	configMaps         int    // the chart's own: 0 with an existing ConfigMap and no data
	secret             string
	image              string
	workerNodeSelector map[string]string
	ctlNodeSelector    map[string]string
	workerTolerations  int
	antiAffinity       string // "", soft, hard
	workerNodeAffinity bool
	ctlAffinity        bool
	keeper             bool
	pvc                string // results PVC; "" = emptyDir
	serviceAccount     string // "" = the namespace's default
	prefix             string // of every object's name
	ttl                *int32
	deadline           int64
}

func TestChart(t *testing.T) {
	day, zero := int32(86400), int32(0)
	tests := []struct {
		name, values, release string
		set                   map[string]any // as --set gives them: int64, over the file
		want                  want
	}{
		{"defaults", "defaults.yaml", "load", nil, want{
			workers: 2, port: 7000, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image: "fuka-load/fuka:0.1.0", keeper: true, prefix: "load-fuka-", ttl: &day, deadline: 3600,
		}},
		{"ten workers with a node selector", "ten-workers-node-selector.yaml", "load", nil, want{
			workers: 10, port: 7000, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image:              "fuka-load/fuka:0.1.0",
			workerNodeSelector: map[string]string{"fuka.example/pool": "load"},
			ctlNodeSelector:    map[string]string{"fuka.example/pool": "system"},
			workerTolerations:  1, keeper: true, prefix: "load-fuka-", ttl: &day, deadline: 3600,
		}},
		{"existing ConfigMap", "existing-configmap.yaml", "fuka-shop", nil, want{
			workers: 2, port: 7000, planFile: "shop.yaml", configMaps: 0, secret: "shop-certs",
			image: "registry.example/team/fuka:v0.3.1", keeper: true, prefix: "fuka-shop-", ttl: &day, deadline: 3600,
		}},
		{"anti-affinity", "anti-affinity.yaml", "spread", nil, want{
			workers: 4, port: 7443, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image: "fuka-load/fuka:0.1.0", antiAffinity: "hard", workerNodeAffinity: true, ctlAffinity: true,
			keeper: true, prefix: "spread-fuka-", ttl: &day, deadline: 3600,
		}},
		{"results on a PVC", "results-pvc.yaml", "nightly", nil, want{
			workers: 3, port: 7000, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image: "fuka-load/fuka:0.1.0", antiAffinity: "soft", pvc: "fuka-results",
			serviceAccount: "nightly", prefix: "nightly", deadline: 7200,
		}},
		{"longest release name", "defaults.yaml", strings.Repeat("r", 53), nil, want{
			workers: 2, port: 7000, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image: "fuka-load/fuka:0.1.0", keeper: true, prefix: strings.Repeat("r", 52), ttl: &day, deadline: 3600,
		}},
		{"--set values", "defaults.yaml", "load", map[string]any{
			"workers":                 map[string]any{"count": int64(7)},
			"controller":              map[string]any{"listenPort": int64(9000)},
			"ttlSecondsAfterFinished": int64(0),
			"image":                   map[string]any{"tag": "v1"},
		}, want{
			workers: 7, port: 9000, planFile: "plan.yaml", configMaps: 1, secret: "fuka-certs",
			image: "fuka-load/fuka:v1", keeper: true, prefix: "load-fuka-", ttl: &zero, deadline: 3600,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := readValues(t, tt.values)
			if tt.set != nil {
				vals = chartutil.CoalesceTables(tt.set, vals)
			}
			r := render(t, tt.release, vals)
			checkObjects(t, r, tt.want)
			checkWorkers(t, r, tt.want)
			checkController(t, r, tt.want)
			checkService(t, r, tt.want)
			checkPlan(t, r, tt.want)
			for _, j := range r.jobs {
				checkPod(t, r, j, tt.want)
			}
			checkNotes(t, r, tt.want)
		})
	}
}

// checkObjects: the set of objects, their names and their labels.
func checkObjects(t *testing.T, r *rendered, w want) {
	t.Helper()
	if len(r.jobs) != 2 || len(r.services) != 1 || len(r.configMaps) != w.configMaps {
		t.Errorf("objects: %d Jobs, %d Services, %d ConfigMaps; want 2, 1, %d",
			len(r.jobs), len(r.services), len(r.configMaps), w.configMaps)
	}
	wantSA := 0
	if r.value(t, "serviceAccount.create") == true {
		wantSA = 1
	}
	if len(r.serviceAccounts) != wantSA {
		t.Errorf("%d ServiceAccounts, want %d", len(r.serviceAccounts), wantSA)
	}
	for _, o := range r.metas() {
		name := o.meta.Name
		if !strings.HasPrefix(name, w.prefix) {
			t.Errorf("%s %q: want the prefix %q", o.kind, name, w.prefix)
		}
		if o.meta.Namespace != "" {
			t.Errorf("%s %s: namespace %q set in the template; helm sets it", o.kind, name, o.meta.Namespace)
		}
		var errs []string
		switch o.kind {
		case "Service":
			errs = validation.IsDNS1035Label(name)
		case "Job": // the name is also the value of its pods' job-name label
			errs = validation.IsDNS1123Label(name)
		default:
			errs = validation.IsDNS1123Subdomain(name)
		}
		for _, e := range errs {
			t.Errorf("%s name %q: %s", o.kind, name, e)
		}
		checkLabels(t, o.kind+" "+name, o.meta.Labels)
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
			"app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"} {
			if o.meta.Labels[k] == "" {
				t.Errorf("%s %s: no label %s", o.kind, name, k)
			}
		}
		if got := o.meta.Labels["app.kubernetes.io/instance"]; got != r.release {
			t.Errorf("%s %s: instance label %q, want the release %q", o.kind, name, got, r.release)
		}
	}
}

func checkLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, e := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %q: %s", what, k, e)
		}
		for _, e := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s=%q: %s", what, k, v, e)
		}
	}
}

func checkWorkers(t *testing.T, r *rendered, w want) {
	t.Helper()
	j := r.job(t, "worker")
	s := j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("worker Job: completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || int(*s.Completions) != w.workers || int(*s.Parallelism) != w.workers {
		t.Errorf("worker Job: completions %v, parallelism %v; want both %d", deref(s.Completions), deref(s.Parallelism), w.workers)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
		t.Errorf("worker Job: backoffLimitPerIndex %v, want 0: a lost worker is reported, not replaced", deref(s.BackoffLimitPerIndex))
	}
	pod := &s.Template.Spec
	c := container(t, pod, "worker")
	if len(c.Args) == 0 || c.Args[0] != "worker" {
		t.Fatalf("worker args %q: want the worker subcommand first", c.Args)
	}
	ctl := r.job(t, "controller").Name
	wantAddr := ctl + "." + namespace + ".svc:" + strconv.Itoa(w.port)
	for flagName, want := range map[string]string{
		"--controller":      wantAddr,
		"--certs-dir":       "/certs",
		"--name":            "worker-$(JOB_COMPLETION_INDEX)",
		"--connect-timeout": r.str(t, "workers.connectTimeout"),
	} {
		if got, ok := flag(c.Args, flagName); !ok || got != want {
			t.Errorf("worker args %q: %s %q, want %q once", c.Args, flagName, got, want)
		}
	}
	// $(JOB_COMPLETION_INDEX) is expanded only from a variable the
	// container declares, before its use.
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" })
	if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil ||
		c.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("worker env %+v: want JOB_COMPLETION_INDEX from the completion-index annotation", c.Env)
	}
	if extra := r.value(t, "workers.extraArgs").([]any); len(extra) > 0 {
		tail := c.Args[len(c.Args)-len(extra):]
		for k, e := range extra {
			if tail[k] != e {
				t.Errorf("worker args %q: want workers.extraArgs %q at the end", c.Args, extra)
				break
			}
		}
	}
	if !maps.Equal(pod.NodeSelector, w.workerNodeSelector) {
		t.Errorf("worker nodeSelector %v, want %v", pod.NodeSelector, w.workerNodeSelector)
	}
	if len(pod.Tolerations) != w.workerTolerations {
		t.Errorf("worker tolerations %v, want %d", pod.Tolerations, w.workerTolerations)
	}
	checkAntiAffinity(t, r, pod.Affinity, w)
	if got := pod.Affinity != nil && pod.Affinity.NodeAffinity != nil; got != w.workerNodeAffinity {
		t.Errorf("worker nodeAffinity present %v, want %v", got, w.workerNodeAffinity)
	}
	if w.workerNodeAffinity {
		want := r.value(t, "workers.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").([]any)
		got := pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		if got == nil || len(got.NodeSelectorTerms) != len(want) ||
			got.NodeSelectorTerms[0].MatchExpressions[0].Key != "topology.kubernetes.io/zone" {
			t.Errorf("worker nodeAffinity %+v: want the values' terms %v", got, want)
		}
	}
	checkCerts(t, pod, c, "worker", w.secret)
	for _, v := range pod.Volumes {
		if v.Name == "plan" {
			t.Errorf("worker pod mounts the plan: the controller hands out the plan")
		}
	}
}

// checkAntiAffinity: the preset spreads this release's workers (and only
// them) over nodes.
func checkAntiAffinity(t *testing.T, r *rendered, aff *corev1.Affinity, w want) {
	t.Helper()
	var anti *corev1.PodAntiAffinity
	if aff != nil {
		anti = aff.PodAntiAffinity
	}
	var term *corev1.PodAffinityTerm
	switch w.antiAffinity {
	case "":
		if anti != nil {
			t.Errorf("worker podAntiAffinity %+v, want none", anti)
		}
		return
	case "hard":
		if anti == nil || len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 0 {
			t.Fatalf("worker podAntiAffinity %+v, want one required term", anti)
		}
		term = &anti.RequiredDuringSchedulingIgnoredDuringExecution[0]
	case "soft":
		if anti == nil || len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
			t.Fatalf("worker podAntiAffinity %+v, want one preferred term", anti)
		}
		term = &anti.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	}
	if term.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("anti-affinity topologyKey %q, want kubernetes.io/hostname", term.TopologyKey)
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		t.Fatalf("anti-affinity selector: %v", err)
	}
	if !sel.Matches(labels.Set(r.job(t, "worker").Spec.Template.Labels)) {
		t.Errorf("anti-affinity selector %v does not match the worker pods", sel)
	}
	if sel.Matches(labels.Set(r.job(t, "controller").Spec.Template.Labels)) {
		t.Errorf("anti-affinity selector %v matches the controller pod", sel)
	}
}

func checkController(t *testing.T, r *rendered, w want) {
	t.Helper()
	j := r.job(t, "controller")
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
		t.Errorf("controller Job: backoffLimit %v, want 0: a load test is never retried", deref(j.Spec.BackoffLimit))
	}
	if p := j.Spec.Parallelism; p != nil && *p != 1 || j.Spec.Completions != nil && *j.Spec.Completions != 1 {
		t.Errorf("controller Job: parallelism %v, completions %v; want one pod", deref(p), deref(j.Spec.Completions))
	}
	pod := &j.Spec.Template.Spec
	c := container(t, pod, "controller")
	if len(c.Args) < 2 || c.Args[0] != "run" || c.Args[1] != "/plan/"+w.planFile {
		t.Errorf("controller args %q: want run /plan/%s first", c.Args, w.planFile)
	}
	wantFlags := map[string]string{
		"--workers":   strconv.Itoa(w.workers),
		"--listen":    "0.0.0.0:" + strconv.Itoa(w.port),
		"--certs-dir": "/certs",
		"--output":    r.str(t, "controller.output"),
		// Worker pods may wait for a node or an image pull before they dial.
		"--wait-workers":   r.str(t, "controller.waitWorkers"),
		"--on-worker-loss": r.str(t, "controller.onWorkerLoss"),
	}
	for name, want := range wantFlags {
		if got, ok := flag(c.Args, name); !ok || got != want {
			t.Errorf("controller args %q: %s %q, want %q once", c.Args, name, got, want)
		}
	}
	// The brief's invariant, stated on its own: the controller waits for as
	// many workers as the worker Job runs.
	if n, _ := flag(c.Args, "--workers"); n != strconv.Itoa(int(deref(r.job(t, "worker").Spec.Completions))) {
		t.Errorf("controller --workers %s, worker Job completions %d", n, deref(r.job(t, "worker").Spec.Completions))
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "grpc" || int(c.Ports[0].ContainerPort) != w.port {
		t.Errorf("controller ports %+v, want grpc %d", c.Ports, w.port)
	}
	if !maps.Equal(pod.NodeSelector, w.ctlNodeSelector) {
		t.Errorf("controller nodeSelector %v, want %v", pod.NodeSelector, w.ctlNodeSelector)
	}
	if got := pod.Affinity != nil; got != w.ctlAffinity {
		t.Errorf("controller affinity %+v, want present %v", pod.Affinity, w.ctlAffinity)
	}
	if w.ctlAffinity && (pod.Affinity.NodeAffinity == nil || len(pod.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1) {
		t.Errorf("controller affinity %+v, want the values' preferred node affinity", pod.Affinity)
	}
	if pod.Affinity != nil && pod.Affinity.PodAntiAffinity != nil {
		t.Errorf("controller got the workers' anti-affinity")
	}
	if len(pod.Tolerations) != 0 && len(r.value(t, "controller.tolerations").([]any)) == 0 {
		t.Errorf("controller tolerations %v: the workers' leaked", pod.Tolerations)
	}
	checkCerts(t, pod, c, "controller", w.secret)

	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["FUKA_RESULTS"] != "/results" {
		t.Errorf("controller FUKA_RESULTS %q, want /results", env["FUKA_RESULTS"])
	}
	if m := mount(t, c, "results"); m.MountPath != "/results" || m.ReadOnly {
		t.Errorf("results mount %+v, want /results writable", m)
	}
	rv := volume(t, pod, "results")
	switch {
	case w.pvc != "":
		if rv.PersistentVolumeClaim == nil || rv.PersistentVolumeClaim.ClaimName != w.pvc {
			t.Errorf("results volume %+v, want PVC %s", rv.VolumeSource, w.pvc)
		}
	case rv.EmptyDir == nil || rv.EmptyDir.SizeLimit == nil || rv.EmptyDir.SizeLimit.IsZero():
		t.Errorf("results volume %+v, want an emptyDir with a size limit", rv.VolumeSource)
	}

	keeper := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == "results" }) >= 0
	if keeper != w.keeper {
		t.Fatalf("keeper container present %v, want %v", keeper, w.keeper)
	}
	share := pod.ShareProcessNamespace != nil && *pod.ShareProcessNamespace
	if share != w.keeper {
		t.Errorf("shareProcessNamespace %v: want it exactly when the keeper waits for the controller", share)
	}
	if w.keeper {
		k := container(t, pod, "results")
		if m := mount(t, k, "results"); m.MountPath != "/results" {
			t.Errorf("keeper mounts results at %s", m.MountPath)
		}
		if len(k.Command) != 3 {
			t.Fatalf("keeper command %q", k.Command)
		}
		shNoExec(t, k.Command[2])
		if hold := strconv.Itoa(r.num(t, "results.keeper.holdSeconds")); !strings.Contains(k.Command[2], hold) {
			t.Errorf("keeper script does not hold for %ss", hold)
		}
	}
}

// checkCerts: the Secret, read-only at /certs, and only the CA plus the
// role's own pair: a worker holds no controller key.
func checkCerts(t *testing.T, pod *corev1.PodSpec, c *corev1.Container, role, secret string) {
	t.Helper()
	m := mount(t, c, "certs")
	if m.MountPath != "/certs" || !m.ReadOnly {
		t.Errorf("%s certs mount %+v, want /certs read-only", role, m)
	}
	v := volume(t, pod, "certs")
	if v.Secret == nil || v.Secret.SecretName != secret {
		t.Fatalf("%s certs volume %+v, want Secret %s", role, v.VolumeSource, secret)
	}
	var keys []string
	for _, it := range v.Secret.Items {
		if it.Key != it.Path {
			t.Errorf("%s certs: key %s mounted as %s", role, it.Key, it.Path)
		}
		keys = append(keys, it.Key)
	}
	slices.Sort(keys)
	if want := []string{"ca.pem", role + "-key.pem", role + ".pem"}; !slices.Equal(keys, want) {
		t.Errorf("%s certs: keys %v, want %v", role, keys, want)
	}
	if mode := v.Secret.DefaultMode; mode == nil || *mode&0o007 != 0 {
		t.Errorf("%s certs: defaultMode %o, want no access for others", role, deref(mode))
	}
}

// checkService: headless, on the controller's port, selecting the
// controller pod and never a worker.
func checkService(t *testing.T, r *rendered, w want) {
	t.Helper()
	if len(r.services) != 1 {
		return
	}
	s := r.services[0]
	ctl := r.job(t, "controller")
	if s.Name != ctl.Name {
		t.Errorf("Service %s: workers dial %s", s.Name, ctl.Name)
	}
	if s.Spec.ClusterIP != corev1.ClusterIPNone || !s.Spec.PublishNotReadyAddresses {
		t.Errorf("Service: clusterIP %q, publishNotReadyAddresses %v; want headless, published", s.Spec.ClusterIP, s.Spec.PublishNotReadyAddresses)
	}
	if len(s.Spec.Ports) != 1 || int(s.Spec.Ports[0].Port) != w.port || s.Spec.Ports[0].TargetPort.StrVal != "grpc" {
		t.Errorf("Service ports %+v, want %d -> grpc", s.Spec.Ports, w.port)
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	if len(s.Spec.Selector) == 0 || !sel.Matches(labels.Set(ctl.Spec.Template.Labels)) {
		t.Errorf("Service selector %v does not match the controller pod %v", s.Spec.Selector, ctl.Spec.Template.Labels)
	}
	if sel.Matches(labels.Set(r.job(t, "worker").Spec.Template.Labels)) {
		t.Errorf("Service selector %v matches the worker pods", s.Spec.Selector)
	}
}

// checkPlan: the ConfigMap holds the plan and data exactly as given, and
// the controller's /plan holds them at their paths.
func checkPlan(t *testing.T, r *rendered, w want) {
	t.Helper()
	text := r.str(t, "plan.text")
	data := r.table(t, "data")
	pod := &r.job(t, "controller").Spec.Template.Spec
	m := mount(t, container(t, pod, "controller"), "plan")
	if m.MountPath != "/plan" || !m.ReadOnly {
		t.Errorf("plan mount %+v, want /plan read-only", m)
	}
	pv := volume(t, pod, "plan").Projected
	if pv == nil {
		t.Fatal("plan volume is not projected")
	}
	var sources []string
	paths := map[string]string{} // path in /plan -> key in the chart's ConfigMap
	for _, src := range pv.Sources {
		if src.ConfigMap == nil {
			t.Fatalf("plan volume source %+v: want ConfigMaps only", src)
		}
		sources = append(sources, src.ConfigMap.Name)
		for _, it := range src.ConfigMap.Items {
			paths[it.Path] = it.Key
		}
	}
	for _, extra := range r.value(t, "plan.extraConfigMaps").([]any) {
		if !slices.Contains(sources, extra.(string)) {
			t.Errorf("plan volume sources %v lack plan.extraConfigMaps %s", sources, extra)
		}
	}
	if ex := r.str(t, "plan.existingConfigMap"); ex != "" {
		if len(sources) == 0 || sources[0] != ex {
			t.Errorf("plan volume sources %v, want the existing ConfigMap %s", sources, ex)
		}
	}
	if len(r.configMaps) == 0 {
		if want := 1 + len(r.value(t, "plan.extraConfigMaps").([]any)); len(sources) != want {
			t.Errorf("plan volume sources %v, want the existing ConfigMaps only", sources)
		}
		return
	}
	cm := r.configMaps[0]
	if !slices.Contains(sources, cm.Name) {
		t.Errorf("plan volume sources %v lack the chart's ConfigMap %s", sources, cm.Name)
	}
	for k := range cm.Data {
		for _, e := range validation.IsConfigMapKey(k) {
			t.Errorf("ConfigMap key %q: %s", k, e)
		}
	}
	want := map[string]string{}
	if text != "" {
		want[paths[w.planFile]] = text
		if got := cm.Data[w.planFile]; got != text {
			t.Errorf("ConfigMap plan:\n%q\nwant exactly:\n%q", got, text)
		}
	}
	for name, content := range data {
		key, ok := paths[name]
		if !ok {
			t.Errorf("data file %s is not mounted at /plan/%s", name, name)
			continue
		}
		want[key] = content
	}
	if !maps.Equal(cm.Data, want) {
		t.Errorf("ConfigMap data:\n%q\nwant exactly:\n%q", cm.Data, want)
	}
	if len(paths) != len(cm.Data) {
		t.Errorf("plan volume paths %v, ConfigMap keys %v", paths, slices.Sorted(maps.Keys(cm.Data)))
	}
}

// checkPod: what both roles' pods share: restart policy, limits, security,
// resources, and mounts that name real volumes.
func checkPod(t *testing.T, r *rendered, j *batchv1.Job, w want) {
	t.Helper()
	pod := &j.Spec.Template.Spec
	role := j.Labels["app.kubernetes.io/component"]
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never: a restarted process would rejoin a run", role, pod.RestartPolicy)
	}
	if deref(j.Spec.ActiveDeadlineSeconds) != w.deadline {
		t.Errorf("%s: activeDeadlineSeconds %v, want %d", role, deref(j.Spec.ActiveDeadlineSeconds), w.deadline)
	}
	if !reflect.DeepEqual(j.Spec.TTLSecondsAfterFinished, w.ttl) {
		t.Errorf("%s: ttlSecondsAfterFinished %v, want %v", role, deref(j.Spec.TTLSecondsAfterFinished), deref(w.ttl))
	}
	checkLabels(t, role+" pod", j.Spec.Template.Labels)
	for k, v := range r.table(t, "podLabels") {
		if j.Spec.Template.Labels[k] != v {
			t.Errorf("%s pod: no podLabels %s=%s", role, k, v)
		}
	}
	if pod.ServiceAccountName != w.serviceAccount {
		t.Errorf("%s: serviceAccountName %q, want %q", role, pod.ServiceAccountName, w.serviceAccount)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken %v, want false: fuka needs no API access", role, pod.AutomountServiceAccountToken)
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks not false", role)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v, want non-root with the RuntimeDefault seccomp profile", role, psc)
	}
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		if vols[v.Name] {
			t.Errorf("%s: volume %s twice", role, v.Name)
		}
		vols[v.Name] = true
	}
	for _, c := range pod.Containers {
		what := role + " container " + c.Name
		for _, e := range validation.IsDNS1123Label(c.Name) {
			t.Errorf("%s: name: %s", what, e)
		}
		if c.Name == role {
			if c.Image != w.image {
				t.Errorf("%s: image %q, want %q", what, c.Image, w.image)
			}
			if want := r.str(t, "image.pullPolicy"); string(c.ImagePullPolicy) != want {
				t.Errorf("%s: imagePullPolicy %q, want %q", what, c.ImagePullPolicy, want)
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
			sc.Privileged != nil && *sc.Privileged ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) != 0 {
			t.Errorf("%s: securityContext %+v, want read-only root, no escalation, non-root, all capabilities dropped", what, sc)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := c.Resources.Requests[res]; !ok || q.IsZero() {
				t.Errorf("%s: no %s request", what, res)
			}
		}
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
			t.Errorf("%s: no memory limit", what)
		}
		paths := map[string]bool{}
		for _, m := range c.VolumeMounts {
			if !vols[m.Name] {
				t.Errorf("%s: mount of undefined volume %s", what, m.Name)
			}
			if paths[m.MountPath] {
				t.Errorf("%s: two mounts at %s", what, m.MountPath)
			}
			paths[m.MountPath] = true
		}
	}
}

func checkNotes(t *testing.T, r *rendered, w want) {
	t.Helper()
	ctl := r.job(t, "controller").Name
	for _, s := range []string{"kubectl logs -n " + namespace + " -f job/" + ctl + " -c controller", "helm uninstall -n " + namespace + " " + r.release} {
		if !strings.Contains(r.notes, s) {
			t.Errorf("NOTES.txt lacks %q:\n%s", s, r.notes)
		}
	}
	if got := strings.Contains(r.notes, "kubectl cp"); got != w.keeper {
		t.Errorf("NOTES.txt tells kubectl cp: %v, want %v (keeper)", got, w.keeper)
	}
	if strings.Contains(r.notes, "<no value>") {
		t.Errorf("NOTES.txt has <no value>:\n%s", r.notes)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
