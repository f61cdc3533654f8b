package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fuka-load/fuka/cluster"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/grpccall"
)

// TestGRPCAttackJobSchema: a gRPC attack job carries its method's schema,
// resolved on the controller; a worker builds the call from it, and
// refuses a job whose schema is missing, malformed or lacks the method,
// saying so.
func TestGRPCAttackJobSchema(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := AttackFlags{Clients: 1, Duration: time.Second, Call: "fuka.demo.Cart/Add",
		RequestFlags: RequestFlags{Body: `{"item":"tea"}`, Timeout: 5 * time.Second}}
	j, err := f.Job("grpc://"+s.Addr(), true, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.GetGrpcSchema()) == 0 || s.Reflections() != 1 {
		t.Fatalf("job schema %d bytes; server saw %d reflection streams", len(j.GetGrpcSchema()), s.Reflections())
	}
	cfg := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Attack{Attack: j}}, engine.Share{Count: 1})
	q, ok := cfg.Work.(engine.Plan).Scenario.(*grpccall.Quick)
	if !ok || q.Method.Path != "/fuka.demo.Cart/Add" || s.Reflections() != 1 {
		t.Fatalf("worker's work %#v; server saw %d reflection streams", cfg.Work, s.Reflections())
	}

	for _, tc := range []struct {
		name   string
		schema []byte
		want   string
	}{
		{"none", nil, "--call fuka.demo.Cart/Add: the job has no gRPC schema"},
		{"malformed", []byte{0xff, 0x01, 0x02}, "--call fuka.demo.Cart/Add: the job's gRPC schema: not a FileDescriptorSet"},
		{"method missing", schemaOf(t, `syntax = "proto3"; package fuka.demo; message M {} service Cart { rpc Flaky(M) returns (M); }`),
			"--call fuka.demo.Cart/Add: not in the job's gRPC schema: service fuka.demo.Cart has no method Add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := proto.Clone(j).(*fukapb.AttackJob)
			bad.GrpcSchema = tc.schema
			_, _, err := PrepareJob(cluster.Assignment{Job: &fukapb.Job{Work: &fukapb.Job_Attack{Attack: bad}}, Share: engine.Share{Count: 1}}, testVersion)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("worker error %v; want %q", err, tc.want)
			}
		})
	}
	if s.Reflections() != 1 {
		t.Fatalf("the workers asked the server %d times", s.Reflections()-1)
	}
}

// schemaOf is the schema of one .proto file's text.
func schemaOf(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writePlanFile(t, dir, "p.yaml", "", "protos: [x.proto]\nscenarios: { s: { steps: [ { get: 'http://127.0.0.1:1/' } ] } }\nload: { clients: 1, iterations: 1 }\n")
	c, err := CompileFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := planSchema(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGRPCPlanJobSchema: a plan's protos: with an import travel compiled
// in the job, not as files; a worker in another folder runs it from the
// schema alone, and refuses a job whose schema is missing or malformed.
func TestGRPCPlanJobSchema(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"types.proto":    "syntax = \"proto3\";\npackage fuka.demo;\nmessage AddRequest { string item = 1; int32 quantity = 2; }\nmessage AddReply { string item = 1; int32 quantity = 2; int64 total = 3; }\n",
		"api/cart.proto": "syntax = \"proto3\";\npackage fuka.demo;\nimport \"types.proto\";\nservice Cart { rpc Add(AddRequest) returns (AddReply); }\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const steps = `
scenarios:
  s:
    steps:
      - grpc: { target: "grpc://127.0.0.1:1", service: fuka.demo.Cart, method: Add, message: { item: "x{{ client_id }}" } }
load: { clients: 1, iterations: 1 }
`
	c, err := CompileFile(writePlanFile(t, dir, "p.yaml", "", "protos: [api/cart.proto]"+steps), "")
	if err != nil {
		t.Fatal(err)
	}
	pj, err := NewPlanJob(c, LoadFlags{Changed: func(string) bool { return false }}, Options{Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	if len(pj.GetFiles()) != 0 || len(pj.GetGrpcSchema()) == 0 {
		t.Fatalf("job files %v, schema %d bytes; want the protos compiled in the schema only", pj.GetFiles(), len(pj.GetGrpcSchema()))
	}
	reg, err := grpccall.LoadSchema(pj.GetGrpcSchema())
	if err != nil || reg.NumFiles() != 2 {
		t.Fatalf("schema: %v, %d files", err, reg.NumFiles())
	}
	roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: pj}}, engine.Share{Count: 1}) // the worker's folder has no .proto

	// A plan resolved through reflection: its steps' files travel.
	rc, err := CompileFile(writePlanFile(t, dir, "r.yaml", "", steps), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlanJob(rc, LoadFlags{Changed: func(string) bool { return false }}, Options{}); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Fatalf("a job of unresolved steps: %v", err)
	}

	for _, tc := range []struct {
		name   string
		job    *fukapb.PlanJob
		schema []byte
		want   string
	}{
		{"protos, no schema", pj, nil, `p.yaml:1:10: protos "api/cart.proto": not in the schema the controller sent`},
		{"protos, malformed", pj, []byte{0xff}, "the job's gRPC schema: not a FileDescriptorSet"},
		{"protos, another schema", pj, schemaOf(t, `syntax = "proto3"; package x; message M {}`), `protos "api/cart.proto": not in the schema the controller sent`},
		{"reflection, no schema", &fukapb.PlanJob{FileName: "r.yaml", Source: rc.Source}, nil, "it has grpc: steps but the job has no gRPC schema"},
		{"reflection, method missing", &fukapb.PlanJob{FileName: "r.yaml", Source: rc.Source}, schemaOf(t, `syntax = "proto3"; package fuka.demo; message M {} service Cart { rpc Flaky(M) returns (M); }`),
			"r.yaml:5:15: grpc fuka.demo.Cart/Add: not in the schema the controller sent: service fuka.demo.Cart has no method Add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := proto.Clone(tc.job).(*fukapb.PlanJob)
			bad.GrpcSchema = tc.schema
			_, cleanup, err := PrepareJob(cluster.Assignment{Job: &fukapb.Job{Work: &fukapb.Job_Plan{Plan: bad}}, Share: engine.Share{Count: 1}}, testVersion)
			if cleanup != nil {
				cleanup()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("worker error %v; want %q", err, tc.want)
			}
		})
	}
}
