package kube

import (
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fuka-load/fuka/monitor"
)

// workloadValues are a Deployment's or StatefulSet's replica counts:
// desired (spec.replicas), current (status.replicas: pods that exist, ready
// or not) and ready (status.readyReplicas).
func workloadValues(w Workload, desired *int32, current, ready int32) []monitor.Value {
	return []monitor.Value{
		{Name: w.Series("replicas_desired"), V: float64(replicasOr1(desired))},
		{Name: w.Series("replicas_current"), V: float64(current)},
		{Name: w.Series("replicas_ready"), V: float64(ready)},
	}
}

// replicasOr1 is spec.replicas with the API server's default.
func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// hpaValues are an HPA's replica counts and bounds, whether it is limited
// by them, and each metric's current and target value:
//
//	kube.hpa.NAME.replicas_current   .replicas_desired   .replicas_min   .replicas_max
//	kube.hpa.NAME.scaling_limited    1 while the bounds cap the desired count
//	kube.hpa.NAME.METRIC.current_pct .target_pct         resource utilization, % of requests
//	kube.hpa.NAME.METRIC.current     .target             a value or an average value
//
// METRIC is the resource (cpu, memory), container.CONTAINER.RESOURCE, or
// pods.NAME, object.NAME, external.NAME for custom and external metrics;
// memory values end in _bytes.
func hpaValues(h *autoscalingv2.HorizontalPodAutoscaler) []monitor.Value {
	w := Workload{KindHPA, h.Name}
	out := []monitor.Value{
		{Name: w.Series("replicas_current"), V: float64(h.Status.CurrentReplicas)},
		{Name: w.Series("replicas_desired"), V: float64(h.Status.DesiredReplicas)},
		{Name: w.Series("replicas_min"), V: float64(replicasOr1(h.Spec.MinReplicas))},
		{Name: w.Series("replicas_max"), V: float64(h.Spec.MaxReplicas)},
	}
	limited := 0.0
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue {
			limited = 1
		}
	}
	out = append(out, monitor.Value{Name: w.Series("scaling_limited"), V: limited})
	for _, m := range h.Spec.Metrics {
		key, t := specMetric(m)
		if key == "" {
			continue
		}
		switch {
		case t.Type == autoscalingv2.UtilizationMetricType && t.AverageUtilization != nil:
			out = append(out, monitor.Value{Name: w.Series(key + ".target_pct"), V: float64(*t.AverageUtilization)})
		case t.Type == autoscalingv2.AverageValueMetricType && t.AverageValue != nil:
			out = append(out, monitor.Value{Name: w.Series(key + ".target" + unit(key)), V: qfloat(t.AverageValue)})
		case t.Type == autoscalingv2.ValueMetricType && t.Value != nil:
			out = append(out, monitor.Value{Name: w.Series(key + ".target" + unit(key)), V: qfloat(t.Value)})
		}
	}
	for _, m := range h.Status.CurrentMetrics {
		key, cur := statusMetric(m)
		if key == "" {
			continue
		}
		if cur.AverageUtilization != nil {
			out = append(out, monitor.Value{Name: w.Series(key + ".current_pct"), V: float64(*cur.AverageUtilization)})
		}
		if q := firstQuantity(cur.AverageValue, cur.Value); q != nil {
			out = append(out, monitor.Value{Name: w.Series(key + ".current" + unit(key)), V: qfloat(q)})
		}
	}
	return out
}

// specMetric returns a metric's key in series names and its target.
func specMetric(m autoscalingv2.MetricSpec) (string, autoscalingv2.MetricTarget) {
	switch {
	case m.Resource != nil:
		return metricKey(string(m.Resource.Name)), m.Resource.Target
	case m.ContainerResource != nil:
		return "container." + metricKey(m.ContainerResource.Container) + "." + metricKey(string(m.ContainerResource.Name)), m.ContainerResource.Target
	case m.Pods != nil:
		return "pods." + metricKey(m.Pods.Metric.Name), m.Pods.Target
	case m.Object != nil:
		return "object." + metricKey(m.Object.Metric.Name), m.Object.Target
	case m.External != nil:
		return "external." + metricKey(m.External.Metric.Name), m.External.Target
	}
	return "", autoscalingv2.MetricTarget{}
}

// statusMetric returns a metric's key in series names (as specMetric) and
// its current value.
func statusMetric(m autoscalingv2.MetricStatus) (string, autoscalingv2.MetricValueStatus) {
	switch {
	case m.Resource != nil:
		return metricKey(string(m.Resource.Name)), m.Resource.Current
	case m.ContainerResource != nil:
		return "container." + metricKey(m.ContainerResource.Container) + "." + metricKey(string(m.ContainerResource.Name)), m.ContainerResource.Current
	case m.Pods != nil:
		return "pods." + metricKey(m.Pods.Metric.Name), m.Pods.Current
	case m.Object != nil:
		return "object." + metricKey(m.Object.Metric.Name), m.Object.Current
	case m.External != nil:
		return "external." + metricKey(m.External.Metric.Name), m.External.Current
	}
	return "", autoscalingv2.MetricValueStatus{}
}

// metricKey makes a metric name fit in a series name: lower case, and
// anything but letters, digits, '_' and '-' (dots above all) becomes '_'.
func metricKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, s)
}

// unit is the suffix of a metric's value series: _bytes for memory.
func unit(key string) string {
	if key == "memory" || strings.HasSuffix(key, ".memory") {
		return "_bytes"
	}
	return ""
}

// qfloat is q as a float64, parsed from its exact decimal form so that
// 950m is 0.95 and not 0.9500000000000001.
func qfloat(q *resource.Quantity) float64 {
	if f, err := strconv.ParseFloat(q.AsDec().String(), 64); err == nil {
		return f
	}
	return q.AsApproximateFloat64()
}

func firstQuantity(qs ...*resource.Quantity) *resource.Quantity {
	for _, q := range qs {
		if q != nil {
			return q
		}
	}
	return nil
}

// hpaReason is the HPA's AbleToScale condition as "Reason: message", which
// says why desiredReplicas last changed ("SucceededRescale: the HPA
// controller was able to update the target scale to 4").
func hpaReason(h *autoscalingv2.HorizontalPodAutoscaler) string {
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.AbleToScale {
			return joinReason(c.Reason, c.Message)
		}
	}
	return ""
}

func joinReason(reason, msg string) string {
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

// scaledObjectValues are a KEDA ScaledObject's state, each 1 or 0:
//
//	kube.scaledobject.NAME.active   a trigger is active (KEDA scales from zero or hands over to the HPA)
//	kube.scaledobject.NAME.paused   paused by the autoscaling.keda.sh/paused or paused-replicas annotation
//	kube.scaledobject.NAME.ready    KEDA could read the triggers and set up the HPA
func scaledObjectValues(u *unstructured.Unstructured) []monitor.Value {
	w := Workload{KindScaledObject, u.GetName()}
	active, _ := condition(u, "Active")
	ready, _ := condition(u, "Ready")
	paused, _ := condition(u, "Paused")
	ann := u.GetAnnotations()
	if ann["autoscaling.keda.sh/paused"] == "true" {
		paused = true
	}
	if _, ok := ann["autoscaling.keda.sh/paused-replicas"]; ok {
		paused = true
	}
	return []monitor.Value{
		{Name: w.Series("active"), V: float64(b2i(active))},
		{Name: w.Series("paused"), V: float64(b2i(paused))},
		{Name: w.Series("ready"), V: float64(b2i(ready))},
	}
}

// condition reports whether status.conditions has typ with status "True",
// and that condition's "Reason: message".
func condition(u *unstructured.Unstructured, typ string) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		reason, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return m["status"] == "True", joinReason(reason, msg)
	}
	return false, ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
