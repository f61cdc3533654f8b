package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/demo"
)

// TestValidateGRPCWithoutProtos: fuka validate never says a bare "ok" for a
// grpc: step it could not check: without protos: it names the step as not
// checked, and with --reflect it asks the target and refuses what run
// would refuse, at the step.
func TestValidateGRPCWithoutProtos(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, step string
		args       []string
		code       int
		want       string
	}{
		{"wrong method, offline", "{ target: BASE, service: fuka.demo.Cart, method: Remove }", nil, ExitOK,
			"not checked: grpc: fuka.demo.Cart/Remove at grpc://"},
		{"wrong method, --reflect", "{ target: BASE, service: fuka.demo.Cart, method: Remove }", []string{"--reflect"}, ExitUsage,
			"p.yaml:5:15: grpc fuka.demo.Cart/Remove"},
		{"wrong field, --reflect", "{ target: BASE, service: fuka.demo.Cart, method: Add, message: { itme: tea } }", []string{"--reflect"}, ExitUsage,
			`unknown field "itme"`},
		{"good, --reflect", "{ target: BASE, service: fuka.demo.Cart, method: Add, message: { item: tea } }", []string{"--reflect"}, ExitOK,
			"p.yaml: ok: 1 scenario(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePlanFile(t, dir, "p.yaml", "grpc://"+s.Addr(), `
scenarios:
  cart:
    steps:
      - grpc: `+tc.step+`
load: { clients: 1, iterations: 1 }
`)
			r := fuka(t, append([]string{"validate", path}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.out+r.err, tc.want) {
				t.Fatalf("exit %d; want %d and %q in\n%s\n%s", r.code, tc.code, tc.want, r.out, r.err)
			}
			if tc.code == ExitOK && len(tc.args) > 0 && strings.Contains(r.out, "not checked") {
				t.Errorf("checked with --reflect, yet it says not checked:\n%s", r.out)
			}
		})
	}
}
