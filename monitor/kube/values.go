package kube

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fuka-load/fuka/monitor"
)

// workloadValues are a Deployment's or StatefulSet's replica counts:
// desired (spec.replicas), current (status.replicas: pods that exist, ready
// or not) and ready (status.readyReplicas).
func workloadValues(w Workload, u *unstructured.Unstructured) []monitor.Value {
	return []monitor.Value{
		{Name: w.Series("replicas_desired"), V: float64(specReplicas(u))},
		{Name: w.Series("replicas_current"), V: float64(integer(u, "status", "replicas"))},
		{Name: w.Series("replicas_ready"), V: float64(integer(u, "status", "readyReplicas"))},
	}
}

// specReplicas is spec.replicas with the API server's default, 1.
func specReplicas(u *unstructured.Unstructured) int64 {
	if r, ok, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); ok {
		return r
	}
	return 1
}

// integer is the integer field at path, 0 when it is absent (the API server
// omits zero counts) or not an integer.
func integer(u *unstructured.Unstructured, path ...string) int64 {
	v, _, _ := unstructured.NestedInt64(u.Object, path...)
	return v
}

// hpaValues are an autoscaling/v2 HPA's replica counts and bounds, whether
// it is limited by them, and each metric's current and target value:
//
//	kube.hpa.NAME.replicas_current   .replicas_desired   .replicas_min   .replicas_max
//	kube.hpa.NAME.scaling_limited    1 while the bounds cap the desired count
//	kube.hpa.NAME.METRIC.current_pct .target_pct         resource utilization, % of requests
//	kube.hpa.NAME.METRIC.current     .target             a value or an average value
//
// METRIC is the resource (cpu, memory), container.CONTAINER.RESOURCE, or
// pods.NAME, object.NAME, external.NAME for custom and external metrics;
// memory values end in _bytes.
func hpaValues(u *unstructured.Unstructured) []monitor.Value {
	w := Workload{KindHPA, u.GetName()}
	minReplicas, ok, _ := unstructured.NestedInt64(u.Object, "spec", "minReplicas")
	if !ok {
		minReplicas = 1 // the API server's default
	}
	limited, _ := condition(u, "ScalingLimited")
	out := []monitor.Value{
		{Name: w.Series("replicas_current"), V: float64(integer(u, "status", "currentReplicas"))},
		{Name: w.Series("replicas_desired"), V: float64(integer(u, "status", "desiredReplicas"))},
		{Name: w.Series("replicas_min"), V: float64(minReplicas)},
		{Name: w.Series("replicas_max"), V: float64(integer(u, "spec", "maxReplicas"))},
		{Name: w.Series("scaling_limited"), V: float64(b2i(limited))},
	}
	specs, _, _ := unstructured.NestedSlice(u.Object, "spec", "metrics")
	for _, m := range specs {
		key, t := metric(m, "target")
		if key == "" {
			continue
		}
		// A target is one of three types, each with its own field.
		switch t["type"] {
		case "Utilization":
			if pct, ok := t["averageUtilization"].(int64); ok {
				out = append(out, monitor.Value{Name: w.Series(key + ".target_pct"), V: float64(pct)})
			}
		case "AverageValue":
			if v, ok := quantity(t["averageValue"]); ok {
				out = append(out, monitor.Value{Name: w.Series(key + ".target" + unit(key)), V: v})
			}
		case "Value":
			if v, ok := quantity(t["value"]); ok {
				out = append(out, monitor.Value{Name: w.Series(key + ".target" + unit(key)), V: v})
			}
		}
	}
	current, _, _ := unstructured.NestedSlice(u.Object, "status", "currentMetrics")
	for _, m := range current {
		key, cur := metric(m, "current")
		if key == "" {
			continue
		}
		if pct, ok := cur["averageUtilization"].(int64); ok {
			out = append(out, monitor.Value{Name: w.Series(key + ".current_pct"), V: float64(pct)})
		}
		v, ok := quantity(cur["averageValue"])
		if !ok {
			v, ok = quantity(cur["value"])
		}
		if ok {
			out = append(out, monitor.Value{Name: w.Series(key + ".current" + unit(key)), V: v})
		}
	}
	return out
}

// metric returns the key in series names of one of an HPA's spec.metrics or
// status.currentMetrics, and its field (target or current). The key is ""
// for a metric source this code does not know.
func metric(m any, field string) (string, map[string]any) {
	mm, _ := m.(map[string]any)
	for _, src := range []string{"resource", "containerResource", "pods", "object", "external"} {
		s, ok := mm[src].(map[string]any)
		if !ok {
			continue
		}
		v, _ := s[field].(map[string]any)
		name, _ := s["name"].(string) // resource and containerResource
		switch src {
		case "resource":
			return metricKey(name), v
		case "containerResource":
			container, _ := s["container"].(string)
			return "container." + metricKey(container) + "." + metricKey(name), v
		}
		name, _, _ = unstructured.NestedString(s, "metric", "name")
		return src + "." + metricKey(name), v
	}
	return "", nil
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

// quantity is a quantity field ("950m", "512Mi") as a float64, parsed from
// its exact decimal form so that 950m is 0.95 and not 0.9500000000000001.
// The API writes quantities as strings; a bare JSON number is taken too.
func quantity(v any) (float64, bool) {
	switch v := v.(type) {
	case string:
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, false
		}
		if f, err := strconv.ParseFloat(q.AsDec().String(), 64); err == nil {
			return f, true
		}
		return q.AsApproximateFloat64(), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// hpaReason is the HPA's AbleToScale condition as "Reason: message", which
// says why desiredReplicas last changed ("SucceededRescale: the HPA
// controller was able to update the target scale to 4").
func hpaReason(u *unstructured.Unstructured) string {
	_, reason := condition(u, "AbleToScale")
	return reason
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
