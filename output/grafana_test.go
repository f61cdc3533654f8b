package output

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardQueries returns every PromQL query of a Grafana dashboard: the
// panels' targets and the templating variables' queries.
func dashboardQueries(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	var walk func(v any, parent string)
	walk = func(v any, parent string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || (k == "query" && parent == "query")) {
					out = append(out, s)
				}
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, parent)
			}
		}
	}
	walk(doc, "")
	slices.Sort(out)
	return out
}

// grafanaVars replaces Grafana's variables with values PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h",
	"$run_id", "r", "$name", ".*", "$source", ".*")

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promSelector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}`)
	promBy       = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promDuration = regexp.MustCompile(`\[[^\]]*\]`)
	labelValues  = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
)

// promWords are the PromQL functions, aggregations and keywords the
// dashboard may use; any other bare identifier is a metric name.
var promWords = map[string]bool{
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "by": true, "without": true,
	"rate": true, "irate": true, "increase": true, "histogram_quantile": true, "max_over_time": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "and": true, "or": true, "unless": true,
	"clamp_min": true, "label_values": true, "topk": true, "bottomk": true, "e": true,
}

// familyOf returns the family a Prometheus series name belongs to and
// the labels its series have (run_id, and le for a histogram's buckets).
func familyOf(name string) (Family, []string, bool) {
	for _, f := range Families {
		labels := append(slices.Clone(f.Labels), RunIDLabel)
		switch {
		case name == f.Name:
			return f, labels, true
		case f.Kind == Histogram && name == f.Name+"_bucket":
			return f, append(labels, "le"), true
		case f.Kind == Histogram && (name == f.Name+"_sum" || name == f.Name+"_count"):
			return f, labels, true
		}
	}
	return Family{}, nil, false
}

// checkQuery reports what in one query fuka does not write: metric names,
// label names in selectors, by() clauses and label_values.
func checkQuery(q string) []string {
	var problems []string
	q = grafanaVars.Replace(q)
	if m := labelValues.FindStringSubmatch(q); m != nil {
		_, labels, ok := familyOf(m[1])
		if !ok {
			return []string{"label_values of " + m[1] + ", which fuka does not write"}
		}
		if !slices.Contains(labels, m[2]) {
			problems = append(problems, "label_values: "+m[1]+" has no label "+m[2])
		}
		return problems
	}
	noStrings := promString.ReplaceAllString(q, `""`)
	var used []string // labels of the metrics the query reads
	metrics := 0
	for _, m := range promSelector.FindAllStringSubmatch(noStrings, -1) {
		_, labels, ok := familyOf(m[1])
		if !ok {
			problems = append(problems, "selector of "+m[0]+": not a series fuka writes")
			continue
		}
		for _, matcher := range strings.Split(m[2], ",") {
			name := strings.TrimSpace(promIdent.FindString(matcher))
			if name != "" && !slices.Contains(labels, name) {
				problems = append(problems, m[1]+" has no label "+name)
			}
		}
	}
	rest := promSelector.ReplaceAllStringFunc(noStrings, func(s string) string {
		return promSelector.FindStringSubmatch(s)[1] + " "
	})
	for _, id := range promIdent.FindAllString(promBy.ReplaceAllString(promDuration.ReplaceAllString(rest, ""), " by "), -1) {
		if promWords[id] {
			continue
		}
		_, labels, ok := familyOf(id)
		if !ok {
			problems = append(problems, "metric "+id+": fuka writes no such series")
			continue
		}
		metrics++
		used = append(used, labels...)
	}
	if metrics == 0 {
		problems = append(problems, "reads no fuka metric")
	}
	for _, m := range promBy.FindAllStringSubmatch(rest, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(used, l) {
				problems = append(problems, "by ("+l+"): no metric of the query has that label")
			}
		}
	}
	return problems
}

func TestGrafanaDashboardReadsOnlyFukaSeries(t *testing.T) {
	paths, err := filepath.Glob("../deploy/grafana/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in deploy/grafana: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			qs := dashboardQueries(t, path)
			if len(qs) < 10 {
				t.Fatalf("%d queries, want the whole dashboard's", len(qs))
			}
			read := map[string]bool{}
			for _, q := range qs {
				for _, p := range checkQuery(q) {
					t.Errorf("%s\n  %s", q, p)
				}
				for _, id := range promIdent.FindAllString(q, -1) {
					if f, _, ok := familyOf(id); ok {
						read[f.Name] = true
					}
				}
			}
			// The dashboard shows throughput, latency, errors, checks,
			// load and resources: each family but the progress line's.
			for _, f := range Families {
				if !read[f.Name] && f.Name != "fuka_interval_latency_seconds" && f.Name != "fuka_rps" &&
					f.Name != "fuka_retried_total" && f.Name != "fuka_bytes_in_total" && f.Name != "fuka_bytes_out_total" {
					t.Errorf("no panel reads %s", f.Name)
				}
			}
		})
	}
}

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		q    string
		want string // "" = no problem
	}{
		{`sum by (name) (rate(fuka_requests_total{run_id="$run_id", name=~"$name"}[$__rate_interval]))`, ""},
		{`histogram_quantile(0.99, sum by (le) (rate(fuka_latency_seconds_bucket{run_id="x"}[1m])))`, ""},
		{`label_values(fuka_requests_total, run_id)`, ""},
		{`fuka_monitor_value{series=~"cpu\\.user_pct|a{b}"}`, ""},
		{`sum(rate(http_requests_total[1m]))`, "fuka writes no such series"},
		{`sum(rate(fuka_request_total[1m]))`, "fuka writes no such series"},
		{`rate(fuka_latency_seconds_bucket{quantile="0.99"}[1m])`, "has no label quantile"},
		{`sum by (le) (rate(fuka_requests_total[1m]))`, "by (le)"},
		{`label_values(fuka_requests_total, instance)`, "has no label instance"},
		{`label_values(node_cpu_seconds_total, cpu)`, "does not write"},
		{`vector(1)`, "fuka writes no such series"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got := strings.Join(checkQuery(tt.q), "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("checkQuery = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGrafanaDashboardLayout: the panels have unique ids, fit the 24
// columns without overlapping, and query the dashboard's data source
// variable; the run selector is a run_id variable.
func TestGrafanaDashboardLayout(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/fuka-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name, Type string
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int                      `json:"id"`
			Title      string                   `json:"title"`
			Datasource struct{ UID string }     `json:"datasource"`
			GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
			Targets    []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["run_id"] != "query" || vars["datasource"] != "datasource" {
		t.Errorf("variables %v: want a run_id query and a datasource variable", vars)
	}
	ids := map[int]bool{}
	cells := map[[2]int]string{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: data source %q, want ${datasource}", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.RefID == "" || tg.Expr == "" {
				t.Errorf("%s: a target without refId or expr", p.Title)
			}
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v does not fit 24 columns", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Errorf("%s overlaps %s at %d,%d", p.Title, other, x, y)
					return
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
	}
}
