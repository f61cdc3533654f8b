package kube_test

import (
	"fmt"
	"time"

	"github.com/fuka-load/fuka/monitor/kube"
)

// The load steps from 100/s to 400/s at 6s; the HPA asks for 4 replicas at
// 7s, and the fourth is ready at 10s.
func ExampleTimeToScale() {
	rps := []float64{100, 100, 100, 100, 100, 400, 400, 400, 400, 400, 400}
	p99 := []int{50, 50, 50, 50, 50, 120, 180, 170, 150, 60, 55}
	desired := []int{1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4}
	ready := []int{1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4}
	var load []kube.LoadPoint
	var reps []kube.ReplicaPoint
	for i := range rps {
		at := time.Duration(i+1) * time.Second
		load = append(load, kube.LoadPoint{At: at, Value: rps[i], P99: time.Duration(p99[i]) * time.Millisecond})
		reps = append(reps, kube.ReplicaPoint{At: at, Desired: desired[i], Ready: ready[i]})
	}
	for _, e := range kube.TimeToScale(load, reps, kube.Options{}) {
		fmt.Printf("%d→%d replicas, ready %v after the load step at %v (p99 during: max %v, mean %v)\n",
			e.From, e.To, e.TimeToScale, e.Step, e.P99Max, e.P99Mean)
	}
	// Output:
	// 1→4 replicas, ready 4s after the load step at 6s (p99 during: max 180ms, mean 136ms)
}
