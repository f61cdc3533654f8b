// Package kube watches autoscaled Kubernetes workloads while a load runs:
// the replicas of a Deployment or StatefulSet (desired, current, ready), the
// HorizontalPodAutoscaler that drives them (replicas, bounds, and each
// metric's current and target values), and a KEDA ScaledObject (active,
// paused, ready). A [Watcher] is a [monitor.Sampler], so these series land
// on the run's timeline next to throughput and latency; it also records
// scaling events as they happen, and [TimeToScale] measures, from that
// timeline, how long the new replicas took to be ready after a load step
// and what latency was meanwhile.
//
// The Watcher reads nothing per sample from the API server: client-go
// informers, each restricted to the namespace and to one object by name,
// keep a cache that Sample reads. ScaledObjects are read through the
// dynamic client (keda.sh/v1alpha1), so KEDA's Go module is not needed.
package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fuka-load/fuka/monitor"
)

// The kinds of object a Watcher watches, as they appear in series names
// (kube.KIND.NAME.…) and in events.
const (
	KindDeployment   = "deployment"
	KindStatefulSet  = "statefulset"
	KindHPA          = "hpa"
	KindScaledObject = "scaledobject"
)

// ScaledObjects is the resource of KEDA's ScaledObjects.
var ScaledObjects = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// Config names what to watch: objects in one namespace, by name. Leave a
// name empty not to watch that kind; at least one must be set.
type Config struct {
	Namespace    string
	Deployment   string
	StatefulSet  string
	HPA          string // autoscaling/v2 HorizontalPodAutoscaler (KEDA's is keda-hpa-NAME)
	ScaledObject string // keda.sh/v1alpha1 ScaledObject

	// SyncTimeout bounds New's first read of every object; 0 means 10s.
	SyncTimeout time.Duration
	// Now stamps events; nil means time.Now.
	Now func() time.Time
}

// Clients are the API clients a Watcher reads through. Tests pass
// client-go's fakes.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface // needed only to watch a ScaledObject
}

// FromKubeconfig builds clients the way kubectl does: from the kubeconfig
// file at path (empty: $KUBECONFIG, then ~/.kube/config), its context
// (empty: the current one), and, when there is no kubeconfig, the
// in-cluster service account of the pod fuka runs in.
func FromKubeconfig(path, context string) (Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return Clients{}, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "fuka"
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Clients{}, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, err
	}
	return Clients{Kube: kc, Dynamic: dc}, nil
}

// Workload is one watched object.
type Workload struct {
	Kind, Name string
}

// Series returns the name of one of w's series, e.g. Series("replicas_ready")
// is "kube.deployment.api.replicas_ready".
func (w Workload) Series(s string) string { return "kube." + w.Kind + "." + w.Name + "." + s }

// String is KIND/NAME, e.g. "deployment/api".
func (w Workload) String() string { return w.Kind + "/" + w.Name }

// Event is a change seen on a watched object, stamped when the watch
// delivered it (within about a second of the change on a healthy cluster).
type Event struct {
	At     time.Time
	Kind   string // KindDeployment, KindStatefulSet, KindHPA or KindScaledObject
	Name   string
	Series string // what changed: replicas_desired or replicas_ready (workloads), replicas_desired (hpa), active (scaledobject)
	From   int
	To     int
	// Reason is the autoscaler's own account where it gives one: the HPA's
	// AbleToScale condition ("SucceededRescale: the HPA controller was able
	// to update the target scale to 4"), the ScaledObject's Active condition.
	Reason string
}

// Watcher samples the watched objects from informer caches and records
// their scaling events. It is a [monitor.Sampler]; Close stops it.
type Watcher struct {
	cfg       Config
	now       func() time.Time
	cancel    context.CancelFunc
	factories []factory
	workloads []Workload

	// Readers of the informer caches, one per watched object (nil: not watched).
	getDep func() (*appsv1.Deployment, error)
	getSts func() (*appsv1.StatefulSet, error)
	getHPA func() (*autoscalingv2.HorizontalPodAutoscaler, error)
	getSO  func() (*unstructured.Unstructured, error)

	mu     sync.Mutex
	last   map[eventKey]int // last value seen per series, to tell a change
	events []Event
}

type eventKey struct{ kind, name, series string }

// factory is what the typed and the dynamic informer factories share.
type factory interface {
	Start(stopCh <-chan struct{})
	Shutdown()
}

var _ monitor.Sampler = (*Watcher)(nil)

// New checks that every object named in cfg exists and can be read, starts
// an informer for each, and waits (at most cfg.SyncTimeout) until their
// caches hold them. Close the Watcher to stop the informers.
func New(cfg Config, clients Clients) (*Watcher, error) {
	switch {
	case cfg.Namespace == "":
		return nil, errors.New("kubernetes: no namespace")
	case cfg.Deployment == "" && cfg.StatefulSet == "" && cfg.HPA == "" && cfg.ScaledObject == "":
		return nil, errors.New("kubernetes: nothing to watch; name a deployment, statefulset, hpa or scaledobject")
	case clients.Kube == nil && (cfg.Deployment != "" || cfg.StatefulSet != "" || cfg.HPA != ""):
		return nil, errors.New("kubernetes: no client")
	case clients.Dynamic == nil && cfg.ScaledObject != "":
		return nil, errors.New("kubernetes: a scaledobject needs a dynamic client")
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = 10 * time.Second
	}
	w := &Watcher{cfg: cfg, now: cfg.Now, last: map[eventKey]int{}}
	if w.now == nil {
		w.now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	if err := w.start(ctx, clients); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// start checks each object with a Get (so a typo, a missing CRD or missing
// RBAC is a clear error now rather than a sync timeout), then starts its
// informer and waits for the caches.
func (w *Watcher) start(ctx context.Context, c Clients) error {
	ns := w.cfg.Namespace
	getCtx, cancel := context.WithTimeout(ctx, w.cfg.SyncTimeout)
	defer cancel()
	var syncs []func(<-chan struct{}) bool
	// byName restricts a factory's informers to the namespace and one name.
	byName := func(name string) informers.SharedInformerFactory {
		f := informers.NewSharedInformerFactoryWithOptions(c.Kube, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		w.factories = append(w.factories, f)
		syncs = append(syncs, func(stop <-chan struct{}) bool { return allSynced(f.WaitForCacheSync(stop)) })
		return f
	}
	check := func(kind, name string, err error) error {
		if err != nil {
			return fmt.Errorf("kubernetes: %s %s/%s: %w", kind, ns, name, err)
		}
		w.workloads = append(w.workloads, Workload{kind, name})
		return nil
	}

	if name := w.cfg.Deployment; name != "" {
		_, err := c.Kube.AppsV1().Deployments(ns).Get(getCtx, name, metav1.GetOptions{})
		if err := check(KindDeployment, name, err); err != nil {
			return err
		}
		inf := byName(name).Apps().V1().Deployments()
		if err := w.handle(inf.Informer(), func(obj any) {
			if d, ok := obj.(*appsv1.Deployment); ok {
				w.note(KindDeployment, d.Name, "replicas_desired", int(replicasOr1(d.Spec.Replicas)), "")
				w.note(KindDeployment, d.Name, "replicas_ready", int(d.Status.ReadyReplicas), "")
			}
		}); err != nil {
			return err
		}
		w.getDep = func() (*appsv1.Deployment, error) { return inf.Lister().Deployments(ns).Get(name) }
	}
	if name := w.cfg.StatefulSet; name != "" {
		_, err := c.Kube.AppsV1().StatefulSets(ns).Get(getCtx, name, metav1.GetOptions{})
		if err := check(KindStatefulSet, name, err); err != nil {
			return err
		}
		inf := byName(name).Apps().V1().StatefulSets()
		if err := w.handle(inf.Informer(), func(obj any) {
			if s, ok := obj.(*appsv1.StatefulSet); ok {
				w.note(KindStatefulSet, s.Name, "replicas_desired", int(replicasOr1(s.Spec.Replicas)), "")
				w.note(KindStatefulSet, s.Name, "replicas_ready", int(s.Status.ReadyReplicas), "")
			}
		}); err != nil {
			return err
		}
		w.getSts = func() (*appsv1.StatefulSet, error) { return inf.Lister().StatefulSets(ns).Get(name) }
	}
	if name := w.cfg.HPA; name != "" {
		_, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(getCtx, name, metav1.GetOptions{})
		if err := check(KindHPA, name, err); err != nil {
			return err
		}
		inf := byName(name).Autoscaling().V2().HorizontalPodAutoscalers()
		if err := w.handle(inf.Informer(), func(obj any) {
			if h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler); ok {
				w.note(KindHPA, h.Name, "replicas_desired", int(h.Status.DesiredReplicas), hpaReason(h))
			}
		}); err != nil {
			return err
		}
		w.getHPA = func() (*autoscalingv2.HorizontalPodAutoscaler, error) {
			return inf.Lister().HorizontalPodAutoscalers(ns).Get(name)
		}
	}
	if name := w.cfg.ScaledObject; name != "" {
		_, err := c.Dynamic.Resource(ScaledObjects).Namespace(ns).Get(getCtx, name, metav1.GetOptions{})
		if err := check(KindScaledObject, name, err); err != nil {
			return err
		}
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.Dynamic, 0, ns, func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		})
		w.factories = append(w.factories, f)
		syncs = append(syncs, func(stop <-chan struct{}) bool {
			for _, ok := range f.WaitForCacheSync(stop) {
				if !ok {
					return false
				}
			}
			return true
		})
		inf := f.ForResource(ScaledObjects)
		if err := w.handle(inf.Informer(), func(obj any) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				active, reason := condition(u, "Active")
				w.note(KindScaledObject, u.GetName(), "active", b2i(active), reason)
			}
		}); err != nil {
			return err
		}
		w.getSO = func() (*unstructured.Unstructured, error) {
			obj, err := inf.Lister().ByNamespace(ns).Get(name)
			if err != nil {
				return nil, err
			}
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return nil, fmt.Errorf("unexpected %T", obj)
			}
			return u, nil
		}
	}

	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	for _, synced := range syncs {
		if !synced(getCtx.Done()) {
			return fmt.Errorf("kubernetes: namespace %s: watches did not sync within %v", ns, w.cfg.SyncTimeout)
		}
	}
	return nil
}

// handle calls f for every object the informer adds or updates.
func (w *Watcher) handle(inf cache.SharedIndexInformer, f func(obj any)) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    f,
		UpdateFunc: func(_, obj any) { f(obj) },
	})
	return err
}

func allSynced[K comparable](m map[K]bool) bool {
	for _, ok := range m {
		if !ok {
			return false
		}
	}
	return true
}

// note records v as the latest value of a series, and an Event when it
// differs from the value before. The first value seen is a baseline, not
// an event.
func (w *Watcher) note(kind, name, series string, v int, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := eventKey{kind, name, series}
	from, seen := w.last[k]
	w.last[k] = v
	if seen && from != v {
		w.events = append(w.events, Event{At: w.now(), Kind: kind, Name: name, Series: series, From: from, To: v, Reason: reason})
	}
}

// Name identifies the source in failures: "kubernetes NAMESPACE".
func (w *Watcher) Name() string { return "kubernetes " + w.cfg.Namespace }

// Workloads returns the watched objects, in the order deployment,
// statefulset, hpa, scaledobject.
func (w *Watcher) Workloads() []Workload { return slices.Clone(w.workloads) }

// Events returns the scaling events seen so far, oldest first.
func (w *Watcher) Events() []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev := slices.Clone(w.events)
	slices.SortStableFunc(ev, func(a, b Event) int { return a.At.Compare(b.At) })
	return ev
}

// Sample returns every watched object's series from the informer caches.
// An object that has disappeared (deleted during the run) is an error, so
// the gap in its series has a reason.
func (w *Watcher) Sample(context.Context) ([]monitor.Value, error) {
	var out []monitor.Value
	var errs []error
	if w.getDep != nil {
		if d, err := w.getDep(); err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %w", w.cfg.Deployment, err))
		} else {
			out = append(out, workloadValues(Workload{KindDeployment, d.Name}, d.Spec.Replicas, d.Status.Replicas, d.Status.ReadyReplicas)...)
		}
	}
	if w.getSts != nil {
		if s, err := w.getSts(); err != nil {
			errs = append(errs, fmt.Errorf("statefulset %s: %w", w.cfg.StatefulSet, err))
		} else {
			out = append(out, workloadValues(Workload{KindStatefulSet, s.Name}, s.Spec.Replicas, s.Status.Replicas, s.Status.ReadyReplicas)...)
		}
	}
	if w.getHPA != nil {
		if h, err := w.getHPA(); err != nil {
			errs = append(errs, fmt.Errorf("hpa %s: %w", w.cfg.HPA, err))
		} else {
			out = append(out, hpaValues(h)...)
		}
	}
	if w.getSO != nil {
		if u, err := w.getSO(); err != nil {
			errs = append(errs, fmt.Errorf("scaledobject %s: %w", w.cfg.ScaledObject, err))
		} else {
			out = append(out, scaledObjectValues(u)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Close stops the informers and waits for them.
func (w *Watcher) Close() error {
	w.cancel()
	for _, f := range w.factories {
		f.Shutdown()
	}
	return nil
}
