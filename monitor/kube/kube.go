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
// keep a cache that Sample reads. Every kind is read through the dynamic
// client as unstructured objects, so neither KEDA's Go module nor client-go's
// typed clientset, typed informers or k8s.io/api reach the binary: those
// register every API group at start-up and cost fuka about 18 MB of
// resident memory before it opens a single connection.
package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
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

// gvr is the API resource each kind is read from.
func gvr(kind string) schema.GroupVersionResource {
	switch kind {
	case KindDeployment:
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	case KindStatefulSet:
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	case KindHPA:
		return schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	}
	return ScaledObjects
}

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

// Clients are the API clients a Watcher reads through: only the dynamic
// client (see the package doc for why not the typed one). Tests pass
// client-go's fake.
type Clients struct {
	Dynamic dynamic.Interface
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
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, err
	}
	return Clients{Dynamic: dc}, nil
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
	cfg     Config
	now     func() time.Time
	cancel  context.CancelFunc
	running sync.WaitGroup // the informers
	objects []object       // in the order deployment, statefulset, hpa, scaledobject

	mu     sync.Mutex
	last   map[eventKey]int // last value seen per series, to tell a change
	events []Event
}

// object is one watched object and the informer cache that holds it.
type object struct {
	Workload
	store cache.Store
}

type eventKey struct{ kind, name, series string }

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
	case clients.Dynamic == nil:
		return nil, errors.New("kubernetes: no client")
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
	if err := w.start(ctx, clients.Dynamic); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// start checks each object with a Get (so a typo, a missing CRD or missing
// RBAC is a clear error now rather than a sync timeout), then starts its
// informer and waits until the informer has handed the object to note.
func (w *Watcher) start(ctx context.Context, dc dynamic.Interface) error {
	ns := w.cfg.Namespace
	getCtx, cancel := context.WithTimeout(ctx, w.cfg.SyncTimeout)
	defer cancel()
	var synced []cache.DoneChecker
	for _, o := range []Workload{
		{KindDeployment, w.cfg.Deployment},
		{KindStatefulSet, w.cfg.StatefulSet},
		{KindHPA, w.cfg.HPA},
		{KindScaledObject, w.cfg.ScaledObject},
	} {
		if o.Name == "" {
			continue
		}
		if _, err := dc.Resource(gvr(o.Kind)).Namespace(ns).Get(getCtx, o.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("kubernetes: %s %s/%s: %w", o.Kind, ns, o.Name, err)
		}
		inf := informer(dc, o.Kind, ns, o.Name)
		// Close ends the watches with context.Canceled, which the default
		// handler would print to stderr through klog after fuka's summary.
		// Other watch errors (the API server restarting) are still logged,
		// and the reflector retries them.
		if err := inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				cache.DefaultWatchErrorHandler(ctx, r, err)
			}
		}); err != nil {
			return err
		}
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.noteObject(o, obj) },
			UpdateFunc: func(_, obj any) { w.noteObject(o, obj) },
		})
		if err != nil {
			return err
		}
		w.objects = append(w.objects, object{o, inf.GetStore()})
		synced = append(synced, reg.HasSyncedChecker())
		w.running.Go(func() { inf.RunWithContext(ctx) })
	}
	if !cache.WaitFor(getCtx, "", synced...) {
		return fmt.Errorf("kubernetes: namespace %s: watches did not sync within %v", ns, w.cfg.SyncTimeout)
	}
	return nil
}

// informer lists and watches one object, by namespace and name, through
// the dynamic client.
func informer(dc dynamic.Interface, kind, ns, name string) cache.SharedIndexInformer {
	res := dc.Resource(gvr(kind)).Namespace(ns)
	byName := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = byName
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = byName
			return res.Watch(ctx, o)
		},
	}
	// The wrapper tells the reflector when dc is a fake without streaming
	// lists (WatchList), so that it lists instead of waiting for them.
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, dc),
		&unstructured.Unstructured{}, cache.SharedIndexInformerOptions{ObjectDescription: gvr(kind).String()})
}

// noteObject notes the series of o that make events, from a version of o
// the informer delivered.
func (w *Watcher) noteObject(o Workload, obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.GetName() != o.Name { // a server that ignores the field selector
		return
	}
	switch o.Kind {
	case KindDeployment, KindStatefulSet:
		w.note(o, "replicas_desired", int(specReplicas(u)), "")
		w.note(o, "replicas_ready", int(integer(u, "status", "readyReplicas")), "")
	case KindHPA:
		w.note(o, "replicas_desired", int(integer(u, "status", "desiredReplicas")), hpaReason(u))
	case KindScaledObject:
		active, reason := condition(u, "Active")
		w.note(o, "active", b2i(active), reason)
	}
}

// note records v as the latest value of a series, and an Event when it
// differs from the value before. The first value seen is a baseline, not
// an event.
func (w *Watcher) note(o Workload, series string, v int, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := eventKey{o.Kind, o.Name, series}
	from, seen := w.last[k]
	w.last[k] = v
	if seen && from != v {
		w.events = append(w.events, Event{At: w.now(), Kind: o.Kind, Name: o.Name, Series: series, From: from, To: v, Reason: reason})
	}
}

// Name identifies the source in failures: "kubernetes NAMESPACE".
func (w *Watcher) Name() string { return "kubernetes " + w.cfg.Namespace }

// Workloads returns the watched objects, in the order deployment,
// statefulset, hpa, scaledobject.
func (w *Watcher) Workloads() []Workload {
	out := make([]Workload, len(w.objects))
	for i, o := range w.objects {
		out[i] = o.Workload
	}
	return out
}

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
	for _, o := range w.objects {
		u, err := w.get(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", o.Kind, o.Name, err))
			continue
		}
		switch o.Kind {
		case KindDeployment, KindStatefulSet:
			out = append(out, workloadValues(o.Workload, u)...)
		case KindHPA:
			out = append(out, hpaValues(u)...)
		case KindScaledObject:
			out = append(out, scaledObjectValues(u)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// get reads o from its informer's cache.
func (w *Watcher) get(o object) (*unstructured.Unstructured, error) {
	obj, ok, err := o.store.GetByKey(w.cfg.Namespace + "/" + o.Name)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, apierrors.NewNotFound(gvr(o.Kind).GroupResource(), o.Name)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", obj)
	}
	return u, nil
}

// Close stops the informers and waits for them.
func (w *Watcher) Close() error {
	w.cancel()
	w.running.Wait()
	return nil
}
