package kube

import (
	"reflect"
	"testing"
	"time"

	"github.com/fuka-load/fuka/monitor"
)

// timeline builds one-second load and replica timelines (points at 1s, 2s,
// …) from per-second values; desired and ready are strings of digits.
func timeline(rps []float64, p99ms []int, desired, ready string) ([]LoadPoint, []ReplicaPoint) {
	var load []LoadPoint
	for i, v := range rps {
		p := LoadPoint{At: sec(i + 1), Value: v}
		if i < len(p99ms) {
			p.P99 = time.Duration(p99ms[i]) * time.Millisecond
		}
		load = append(load, p)
	}
	var reps []ReplicaPoint
	for i := range desired {
		reps = append(reps, ReplicaPoint{At: sec(i + 1), Desired: int(desired[i] - '0'), Ready: int(ready[i] - '0')})
	}
	return load, reps
}

func sec(n int) time.Duration { return time.Duration(n) * time.Second }
func ms(n int) time.Duration  { return time.Duration(n) * time.Millisecond }

// repeat returns n copies of v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func cat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestTimeToScale(t *testing.T) {
	// The load steps from 100/s to 400/s at 6s; p99 climbs while the
	// new replicas start.
	stepRPS := cat(repeat(100.0, 5), repeat(400.0, 10))
	stepP99 := cat(repeat(50, 5), []int{120, 180, 170, 150, 60}, repeat(55, 5))

	tests := []struct {
		name           string
		rps            []float64
		p99            []int
		desired, ready string
		opts           Options
		want           []ScaleEpisode
	}{
		{
			name: "no scale-out", rps: stepRPS, p99: stepP99,
			desired: "111111111111111",
			ready:   "111111111111111",
		},
		{
			name: "one scale-out", rps: stepRPS, p99: stepP99,
			desired: "111111444444444",
			ready:   "111111123444444",
			want: []ScaleEpisode{{
				Step: sec(6), ScaleOut: sec(7), From: 1, To: 4,
				Ready: true, ReadyAt: sec(10), TimeToScale: sec(4),
				P99Max: ms(180), P99Mean: ms(120+180+170+150+60) / 5,
			}},
		},
		{
			name: "scale-down after the scale-out is ignored", rps: stepRPS, p99: stepP99,
			desired: "111111444444221",
			ready:   "111111123444221",
			want: []ScaleEpisode{{
				Step: sec(6), ScaleOut: sec(7), From: 1, To: 4,
				Ready: true, ReadyAt: sec(10), TimeToScale: sec(4),
				P99Max: ms(180), P99Mean: ms(136),
			}},
		},
		{
			name:    "scale-down alone is ignored",
			rps:     cat(repeat(400.0, 5), repeat(100.0, 10)),
			desired: "444444222221111",
			ready:   "444444222221111",
		},
		{
			name: "two episodes",
			rps:  cat(repeat(100.0, 5), repeat(200.0, 10), repeat(400.0, 10)),
			p99:  cat(repeat(50, 5), []int{90, 95, 99, 80, 70}, repeat(50, 5), []int{150, 200, 250, 240, 230, 100, 60}, repeat(50, 3)),
			//         1234567890123456789012345
			desired: "1111111222222222222444444",
			ready:   "1111111111222222222223444",
			want: []ScaleEpisode{
				{
					Step: sec(6), ScaleOut: sec(8), From: 1, To: 2,
					Ready: true, ReadyAt: sec(11), TimeToScale: sec(5),
					P99Max: ms(99), P99Mean: ms(90+95+99+80+70+50) / 6,
				},
				{
					Step: sec(16), ScaleOut: sec(20), From: 2, To: 4,
					Ready: true, ReadyAt: sec(23), TimeToScale: sec(7),
					P99Max: ms(250), P99Mean: ms(150+200+250+240+230+100+60+50) / 8,
				},
			},
		},
		{
			name: "replicas never ready within the run", rps: stepRPS, p99: stepP99,
			desired: "111111444444444",
			ready:   "111111112333333",
			want: []ScaleEpisode{{
				Step: sec(6), ScaleOut: sec(7), From: 1, To: 4,
				P99Max: ms(180), P99Mean: ms(120+180+170+150+60+5*55) / 10,
			}},
		},
		{
			name: "a staged scale-out with no new step is one episode", rps: stepRPS, p99: stepP99,
			//         123456789012345
			desired: "111111222224444",
			ready:   "111111112222234",
			want: []ScaleEpisode{{
				Step: sec(6), ScaleOut: sec(7), From: 1, To: 4,
				Ready: true, ReadyAt: sec(15), TimeToScale: sec(9),
				P99Max: ms(180), P99Mean: ms(120+180+170+150+60+5*55) / 10,
			}},
		},
		{
			name:    "a step no scale-out followed is skipped",
			rps:     cat(repeat(100.0, 5), repeat(200.0, 5), repeat(400.0, 10)),
			desired: "11111111111113333333",
			ready:   "11111111111111133333",
			want: []ScaleEpisode{{
				Step: sec(11), ScaleOut: sec(14), From: 1, To: 3,
				Ready: true, ReadyAt: sec(16), TimeToScale: sec(5),
			}},
		},
		{
			name:    "a ramp is one step, from its start",
			rps:     cat([]float64{50, 100, 200, 400}, repeat(400.0, 8)),
			desired: "111111133333",
			ready:   "111111111333",
			want: []ScaleEpisode{{
				Step: sec(1), ScaleOut: sec(8), From: 1, To: 3,
				Ready: true, ReadyAt: sec(10), TimeToScale: sec(9),
			}},
		},
		{
			name:    "a scale-out before the load began is not measured",
			rps:     cat(repeat(0.0, 5), repeat(100.0, 5)),
			desired: "1222222222",
			ready:   "1122222222",
		},
		{
			name:    "a smaller rise counts with a lower threshold",
			rps:     cat(repeat(100.0, 5), repeat(130.0, 5)),
			desired: "1111112222",
			ready:   "1111111222",
			opts:    Options{Rise: 0.2, Window: 3},
			want: []ScaleEpisode{{
				Step: sec(6), ScaleOut: sec(7), From: 1, To: 2,
				Ready: true, ReadyAt: sec(8), TimeToScale: sec(2),
			}},
		},
		{
			name:    "the default threshold ignores a 30% rise",
			rps:     cat(repeat(100.0, 5), repeat(130.0, 5)),
			desired: "1111112222",
			ready:   "1111111222",
			// Still measured, from the run's first busy second.
			want: []ScaleEpisode{{
				Step: sec(1), ScaleOut: sec(7), From: 1, To: 2,
				Ready: true, ReadyAt: sec(8), TimeToScale: sec(7),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load, reps := timeline(tt.rps, tt.p99, tt.desired, tt.ready)
			got := TimeToScale(load, reps, tt.opts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TimeToScale:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReplicas(t *testing.T) {
	w := Workload{KindDeployment, "api"}
	pts := []monitor.Point{
		{At: sec(1), Values: map[string]float64{"kube.deployment.api.replicas_desired": 1, "kube.deployment.api.replicas_ready": 1}},
		{At: sec(2), Values: map[string]float64{"cpu.user_pct": 3}}, // a gap
		{At: sec(3), Values: map[string]float64{"kube.deployment.api.replicas_desired": 4, "kube.deployment.api.replicas_ready": 2}},
	}
	want := []ReplicaPoint{{At: sec(1), Desired: 1, Ready: 1}, {At: sec(3), Desired: 4, Ready: 2}}
	if got := Replicas(pts, w); !reflect.DeepEqual(got, want) {
		t.Errorf("Replicas = %+v, want %+v", got, want)
	}
	hpa := []monitor.Point{{At: sec(1), Values: map[string]float64{"kube.hpa.api.replicas_desired": 4, "kube.hpa.api.replicas_current": 3}}}
	if got := Replicas(hpa, Workload{KindHPA, "api"}); !reflect.DeepEqual(got, []ReplicaPoint{{At: sec(1), Desired: 4, Ready: 3}}) {
		t.Errorf("Replicas(hpa) = %+v", got)
	}
}
