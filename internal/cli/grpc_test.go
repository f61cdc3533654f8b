package cli

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/fuka-load/fuka/demo"
)

// TestAttackGRPC runs quick mode against the demo's gRPC service: the
// summary counts what the server answered, by status (OK 200, Unavailable
// 503), under the method's name, and a call's errors exit as HTTP's do.
func TestAttackGRPC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := demo.StartGRPC(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "grpc://" + s.Addr()
	r := runCLI(t, nil, "attack", url, "--call", "fuka.demo.Cart/Flaky", "-b", `{"item":"tea"}`, "-H", "x-tenant: t1",
		"-n", "200", "-c", "4", "-q", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	sum := lastJSON(t, r.out)
	if sum.Requests != 200 || sum.Status["200"] != s.Calls(codes.OK) || sum.Status["503"] != s.Calls(codes.Unavailable) ||
		sum.Status["503"] != 20 || sum.Failed != 20 || sum.Target != url || s.Tenanted() != 200 {
		t.Fatalf("fuka: %+v; server: %d OK, %d Unavailable, %d with x-tenant", sum, s.Calls(codes.OK), s.Calls(codes.Unavailable), s.Tenanted())
	}

	// Open model: each start is one call, latency from the intended start.
	before := s.Calls(codes.OK) + s.Calls(codes.Unavailable)
	r = runCLI(t, nil, "attack", url, "--call", "fuka.demo.Cart/Add", "-b", `{"item":"tea"}`, "--rate", "100", "-d", "1s", "-q", "-o", "json")
	open := lastJSON(t, r.out)
	if r.code != ExitOK || open.Model != "open" || open.LatencyFrom != "intended" || open.Requests < 90 ||
		open.Requests != s.Calls(codes.OK)+s.Calls(codes.Unavailable)-before || open.Status["200"] != open.Requests {
		t.Fatalf("exit %d (%s): %+v; server answered %d", r.code, r.err, open, s.Calls(codes.OK)+s.Calls(codes.Unavailable)-before)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --call", []string{url}, ExitUsage, "--call pkg.Service/Method"},
		{"--call on http", []string{"http://127.0.0.1:1/", "--call", "a.B/C"}, ExitUsage, "needs a grpc:// or grpcs:// URL"},
		{"unknown method", []string{url, "--call", "fuka.demo.Cart/Remove"}, ExitUsage, "it has Add, Flaky"},
		{"bad message", []string{url, "--call", "fuka.demo.Cart/Add", "-b", `{"itme":"x"}`}, ExitUsage, `unknown field "itme"`},
		{"reserved metadata", []string{url, "--call", "fuka.demo.Cart/Add", "-H", "grpc-timeout: 1S"}, ExitUsage, "gRPC's own"},
		{"every call fails", []string{url, "--call", "fuka.demo.Cart/Add", "-n", "5", "-c", "1", "-q"}, ExitAllFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"attack"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, tc.code, tc.want)
			}
		})
	}
}
