package grpccall_test

import (
	"context"
	"testing"
	"time"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
)

// BenchmarkQuick is quick mode's hot path against the in-process demo
// service: 32 clients making unary calls on fuka's connection pool. The
// server's allocations count too; TestQuickAllocs bounds fuka's own.
func BenchmarkQuick(b *testing.B) {
	s := startDemo(b)
	m, err := resolve(b, s, "fuka.demo.Cart/Add")
	if err != nil {
		b.Fatal(err)
	}
	msg, err := m.Encode([]byte(`{"item":"tea"}`))
	if err != nil {
		b.Fatal(err)
	}
	target, _ := grpccall.ParseTarget("grpc://"+s.Addr(), nil)
	q := &grpccall.Quick{Target: target, Method: m, Request: msg, Timeout: 5 * time.Second, Name: "Add", Slots: 32}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := engine.Run(context.Background(), engine.Config{
		Load: engine.Closed{Clients: 32, Requests: int64(b.N)},
		Work: engine.Plan{Scenario: q},
	})
	if err != nil {
		b.Fatal(err)
	}
	if st := res.Run.Total; st.Requests != int64(b.N) || st.Failed != 0 {
		b.Fatalf("%d calls, %d failed, want %d", st.Requests, st.Failed, b.N)
	}
}
