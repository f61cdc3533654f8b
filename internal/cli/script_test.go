package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptPlanCLI: `fuka validate` reports a script's mistakes at
// script:line:col with exit 2 and sends nothing (run neither); a good
// script plan validates and runs, and a script error shows in the summary.
func TestScriptPlanCLI(t *testing.T) {
	tg := newPlanTarget(t, always(200))
	dir := t.TempDir()
	plan := writePlanFile(t, dir, "p.yaml", tg.URL, `base_url: BASE
scenarios:
  s:
    script: s.star
load: { clients: 2, iterations: 3 }
thresholds: ["s.checks > 90%"]
`)
	for _, tc := range []struct {
		name, script string
		code         int
		out, err     string
	}{
		{"syntax error", "def s(ctx):\n    http.get(\"/\"\n", 2, "", "s.star:3:1: script: got outdent, want ','"},
		{"unknown name", "def s(ctx):\n    r = http.get(\"/\")\n    chek(r, status=200)\n", 2, "", "s.star:3:5: script: undefined: chek"},
		{"reads a file", "def s(ctx):\n    open(\"/etc/passwd\")\n", 2, "", "s.star:2:5: script: undefined: open"},
		{"good", "def s(ctx):\n    r = http.get(\"/\")\n    check(r, status=200)\n", 0, "ok: 1 scenario(s), 1 request name(s), 2 check(s)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "s.star"), []byte(tc.script), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"validate", "run"} {
				if cmd == "run" && tc.code == 0 {
					continue
				}
				r := fuka(t, cmd, plan)
				if r.code != tc.code || !strings.Contains(r.out, tc.out) || !strings.Contains(r.err, tc.err) {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", cmd, r.code, r.out, r.err, tc.code, tc.out, tc.err)
				}
			}
			if n := tg.n.Load(); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
	os.WriteFile(filepath.Join(dir, "s.star"), []byte("def s(ctx):\n    r = http.get(\"/\")\n    check(r, status=200)\n    r.json()[\"missing\"]\n"), 0o644)
	r := fuka(t, "run", plan, "--no-report", "--no-history")
	if n := tg.n.Load(); n != 6 {
		t.Errorf("run sent %d requests, want 6", n)
	}
	if !strings.Contains(r.out+r.err, `script error: `) || !strings.Contains(r.out+r.err, `s.star:4:13: in s: key "missing" not in dict (×6)`) {
		t.Errorf("exit %d, output %s%s; want the script error with its position and count", r.code, r.out, r.err)
	}
	// The scenario's checks include its script errors: 6 passed status
	// checks and 6 failed iterations.
	if r.code != 1 || !strings.Contains(r.out, "s.checks > 90% (actual 50.00%)") {
		t.Errorf("exit %d, output %s; want exit 1 with s.checks at 50%%", r.code, r.out)
	}
}
