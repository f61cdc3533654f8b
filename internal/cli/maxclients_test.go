package cli

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/run"
)

// TestOneMaxClientsDefault: the open model's cap on clients, when nobody
// set it, is the same number everywhere: fuka attack --rate, a plan's open
// load without max_clients, fuka run --rate on a closed plan, and fuka
// capacity with a URL or a plan. Each case goes through the code its
// command runs, from the command's own flag defaults.
func TestOneMaxClientsDefault(t *testing.T) {
	withHostLimits(t, run.HostLimits{Files: 1 << 20, FilesHard: 1 << 20, Mem: 1 << 40}) // nothing is lowered
	stdio := Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}
	dir := t.TempDir()
	open := writePlanFile(t, dir, "open.yaml", "http://127.0.0.1:9", "scenarios:\n  s: { steps: [ { get: /x } ] }\nload: { rate: 5, duration: 2s }\nbase_url: BASE\n")
	closed := writePlanFile(t, dir, "closed.yaml", "http://127.0.0.1:9", "scenarios:\n  s: { steps: [ { get: /x } ] }\nload: { clients: 2, duration: 2s }\nbase_url: BASE\n")
	attack := func(cmd *cobra.Command) (int, int) {
		f := run.AttackFlags{Rate: "50", Duration: time.Second, Resolution: time.Millisecond, MaxClients: flagInt(t, cmd, "max-clients"),
			RequestFlags: run.RequestFlags{Method: "GET", Timeout: time.Second}}
		cfg, meta, _, err := f.Config("http://127.0.0.1:9/", true, version())
		if err != nil {
			t.Fatal(err)
		}
		return openMax(cfg), meta.MaxClients
	}
	runPlan := func(path string, rate string) (int, int) {
		f := runFlags{load: run.LoadFlags{Rate: rate, Duration: 2 * time.Second, MaxClients: flagInt(t, newRun(stdio), "max-clients")}}
		c, err := run.CompileFile(path, "")
		if err != nil {
			t.Fatal(err)
		}
		cfg, meta, closeRunner, err := preflight(stdio, c, &f, func(string) bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		closeRunner()
		return openMax(cfg), meta.MaxClients
	}
	capacityPlan := func(path string) (int, int) {
		c, err := run.CompileFile(path, "")
		if err != nil {
			t.Fatal(err)
		}
		cfg, closeRunner, err := run.CapacityConfig(c, 0, time.Millisecond, run.Options{Version: version()}) // --max-clients not given
		if err != nil {
			t.Fatal(err)
		}
		closeRunner()
		return openMax(cfg), openMax(cfg)
	}
	for _, tc := range []struct {
		name string
		max  func() (cfg, meta int)
	}{
		{"attack --rate", func() (int, int) { return attack(newAttack(stdio)) }},
		{"run: open plan without max_clients", func() (int, int) { return runPlan(open, "") }},
		{"run --rate on a closed plan", func() (int, int) { return runPlan(closed, "8") }},
		{"capacity URL", func() (int, int) { return attack(newCapacity(stdio)) }},
		{"capacity: open plan without max_clients", func() (int, int) { return capacityPlan(open) }},
		{"capacity: closed plan", func() (int, int) { return capacityPlan(closed) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if cfg, meta := tc.max(); cfg != plan.DefaultMaxClients || meta != plan.DefaultMaxClients {
				t.Errorf("max clients %d (report %d), want the one default %d", cfg, meta, plan.DefaultMaxClients)
			}
		})
	}
}

// flagInt is the default of cmd's int flag name, as its help shows it;
// run's --max-clients shows none (0: not given).
func flagInt(t *testing.T, cmd *cobra.Command, name string) int {
	t.Helper()
	n, err := strconv.Atoi(cmd.Flags().Lookup(name).DefValue)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openMax is cfg's open-model cap on clients; 0 in the closed model.
func openMax(cfg engine.Config) int {
	open, _ := cfg.Load.(engine.Open)
	return open.MaxClients
}
