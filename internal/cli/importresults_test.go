package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/history"
)

func TestImportResults(t *testing.T) {
	fixture := func(name string) string { return filepath.Join("..", "..", "results", "testdata", name) }
	t.Run("stored and compared", func(t *testing.T) {
		path := histWith(t, nil, nil)
		r := runCLI(t, nil, "import-results", "--history", path, fixture("jmeter.jtl"), "--name", "shop")
		if r.code != 0 || !strings.Contains(r.out, `stored run #1 "shop" from JMeter (jtl-csv): 10 requests, 2 failed`) ||
			!strings.Contains(r.out, "percentiles recomputed from raw samples") || !strings.Contains(r.out, "coordinated omission") {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.err)
		}
		r = runCLI(t, nil, "import-results", "--history", path, fixture("wrk-latency.txt"), "-o", "json")
		var sum struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
			Imported struct {
				Tool        string   `json:"tool"`
				NotMeasured []string `json:"not_measured"`
			} `json:"imported"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.out), &sum) != nil || sum.Name != "wrk" || sum.Requests != 17261 || sum.Imported.Tool != "wrk" {
			t.Fatalf("exit %d, %+v\n%s%s", r.code, sum, r.out, r.err)
		}
		r = runCLI(t, nil, "compare", "--history", path, "1", "2")
		for _, want := range []string{"A (JMeter)", "B (wrk)", "not measured by wrk", "differ in plan, target, method and tool"} {
			if r.code != 0 || !strings.Contains(r.out, want) {
				t.Errorf("compare: exit %d, output lacks %q:\n%s%s", r.code, want, r.out, r.err)
			}
		}
		runs, err := history.OpenExisting(path)
		if err != nil {
			t.Fatal(err)
		}
		defer runs.Close()
		list, err := runs.List(0, "")
		if err != nil || len(list) != 2 || list[0].Tool != "wrk" || !list[0].NoP95 || list[1].Tool != "JMeter" {
			t.Fatalf("runs %+v, %v", list, err)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"import-results"}, "import-results takes one result file"},
		{"missing file", []string{"import-results", "nonexistent.jtl"}, "no such file"},
		{"unknown content", []string{"import-results", "importresults_test.go"}, "name it with --format"},
		{"bad format name", []string{"import-results", "--format", "gatling", "x"}, `--format "gatling": want one of`},
		{"wrong format", []string{"import-results", "--format", "wrk", fixture("hey.txt")}, "not wrk's output"},
		{"bad output", []string{"import-results", "-o", "yaml", fixture("hey.txt")}, `-o "yaml"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--history", filepath.Join(t.TempDir(), "h.db")}, tc.args[1:]...)
			r := runCLI(t, nil, append([]string{tc.args[0]}, args...)...)
			oneLine(t, r, tc.want)
		})
	}
}
