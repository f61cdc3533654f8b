package run

import (
	"context"
	"testing"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
	"github.com/fuka-load/fuka/ws"
)

// TestPoolAttackResolution: quick mode's --resolution reaches the load of
// the attacks that run on the goroutine pool (gRPC and WebSocket),
// controller and worker alike: the pool batches the open model's starts
// and the closed model's capped ones by it.
func TestPoolAttackResolution(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	targets := []struct {
		name, url string
		set       func(*AttackFlags)
		isWork    func(engine.Scenario) bool
	}{
		{"grpc", "grpc://" + s.Addr(), func(f *AttackFlags) {
			f.Call, f.Body = "fuka.demo.Cart/Add", `{"item":"tea"}`
		}, func(sc engine.Scenario) bool { _, ok := sc.(*grpccall.Quick); return ok }},
		{"ws", "ws://127.0.0.1:1/echo", func(f *AttackFlags) {
			f.WS = &fukapb.WebSocket{Send: "ping"}
		}, func(sc engine.Scenario) bool { _, ok := sc.(*ws.Quick); return ok }},
	}
	loads := []struct {
		name string
		f    AttackFlags
	}{
		{"open", AttackFlags{Rate: "100", MaxClients: 10, Duration: time.Second, Resolution: 5 * time.Millisecond}},
		{"closed max rps", AttackFlags{Clients: 2, MaxRPS: 100, Duration: time.Second, Resolution: 5 * time.Millisecond}},
		{"open unbatched", AttackFlags{Rate: "100", MaxClients: 10, Duration: time.Second}},
	}
	for _, tg := range targets {
		for _, tc := range loads {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				f := tc.f
				f.Timeout = 5 * time.Second
				tg.set(&f)
				cfg, _, j, err := f.Config(tg.url, true, testVersion)
				if err != nil {
					t.Fatal(err)
				}
				worker := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: j}}, engine.Share{Count: 1})
				for who, c := range map[string]engine.Config{"controller": cfg, "worker": worker} {
					if p, ok := c.Work.(engine.Plan); !ok || !tg.isWork(p.Scenario) {
						t.Fatalf("%s: work %#v, want a %s quick attack", who, c.Work, tg.name)
					}
					var got time.Duration
					switch l := c.Load.(type) {
					case engine.Open:
						got = l.Resolution
					case engine.Closed:
						got = l.Resolution
					}
					if got != f.Resolution {
						t.Errorf("%s: load %#v has Resolution %v, want --resolution %v", who, c.Load, got, f.Resolution)
					}
				}
			})
		}
	}
}
