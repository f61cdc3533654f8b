package output

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll() // also checks every row has the header's width
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func withResources(sum *report.Summary) *report.Summary {
	sum.Resources = &report.Resources{
		Series: []report.ResourceStat{
			{Name: "cpu.user_pct", Peak: 80, Mean: 55, Samples: 3},
			{Name: hostile, Peak: 3, Mean: 2, Samples: 2},
		},
		Timeline: []report.ResourcePoint{
			{TS: 1, Values: map[string]float64{"cpu.user_pct": 30, hostile: 1, "tcp.established": 12}},
			{TS: 2, Values: map[string]float64{"cpu.user_pct": 80, "mem.used_bytes": 1 << 30}}, // hostile: a gap
			{TS: 2.5, Values: map[string]float64{"cpu.user_pct": 55.25, hostile: 3}},
		},
	}
	return sum
}

func TestWriteCSV(t *testing.T) {
	run := feed(shopNames, shopTicks, nil)
	tests := []struct {
		name  string
		sum   *report.Summary
		files []string
	}{
		{"shop", shopSummary(run), []string{TimelineCSV, SummaryCSV}},
		{"shop-resources", withResources(shopSummary(run)), []string{TimelineCSV, SummaryCSV, ResourcesCSV}},
		{"empty", report.NewSummary(report.Meta{}, nil), []string{TimelineCSV, SummaryCSV}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "results") // WriteCSV creates it
			if err := WriteCSV(dir, tt.sum); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			slices.Sort(names)
			want := slices.Sorted(slices.Values(tt.files))
			if !slices.Equal(names, want) {
				t.Fatalf("files %q, want %q (no temporary files left)", names, want)
			}
			for _, f := range tt.files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, tt.name+"."+f, b)
				readCSV(t, filepath.Join(dir, f))
			}
		})
	}
}

// TestWriteCSVReadsBack checks the tables cell by cell against the summary,
// so the golden files are not the only witness.
func TestWriteCSVReadsBack(t *testing.T) {
	sum := withResources(shopSummary(feed(shopNames, shopTicks, nil)))
	dir := t.TempDir()
	if err := WriteCSV(dir, sum); err != nil {
		t.Fatal(err)
	}

	summary := readCSV(t, filepath.Join(dir, SummaryCSV))
	if len(summary) != 1+len(sum.ByName)+1 {
		t.Fatalf("summary.csv has %d rows, want header + %d names + total", len(summary), len(sum.ByName))
	}
	for i, n := range sum.ByName {
		row := summary[1+i]
		if row[0] != n.Name || row[1] != strconv.FormatInt(n.Requests, 10) || row[10] != num(n.Latency.P99MS) {
			t.Errorf("row %d = %q, want name %q requests %d p99 %v", i, row, n.Name, n.Requests, n.Latency.P99MS)
		}
	}
	total := summary[len(summary)-1]
	if total[0] != "" || total[1] != strconv.FormatInt(sum.Requests, 10) || total[3] != num(sum.ErrorRate) {
		t.Errorf("total row = %q, want requests %d error_rate %v", total, sum.Requests, sum.ErrorRate)
	}

	timeline := readCSV(t, filepath.Join(dir, TimelineCSV))
	head := timeline[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("timeline.csv has no column %q: %q", name, head)
		}
		return i
	}
	for i, p := range sum.Timeline {
		row := timeline[1+i]
		for name, want := range map[string]string{
			"t_s": num(p.TS), "requests": fmt.Sprint(p.Requests), "dropped": fmt.Sprint(p.Dropped),
			"p95_ms": optNum(p.P95MS), "errors_timeout": fmt.Sprint(p.Errors[metrics.ErrTimeout]), "errors_refused": fmt.Sprint(p.Errors[metrics.ErrRefused]),
		} {
			if got := row[col(name)]; got != want {
				t.Errorf("timeline row %d %s = %q, want %q", i, name, got, want)
			}
		}
	}

	res := readCSV(t, filepath.Join(dir, ResourcesCSV))
	wantHead := []string{"t_s", "cpu.user_pct", hostile, "mem.used_bytes", "tcp.established"}
	if !slices.Equal(res[0], wantHead) {
		t.Errorf("resources.csv header %q, want %q", res[0], wantHead)
	}
	if got := res[2]; got[2] != "" || got[1] != "80" || got[3] != "1073741824" {
		t.Errorf("resources.csv t=2 row %q, want a gap for the failed series", got)
	}
}

func TestWriteCSVErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		sum  *report.Summary
	}{
		{"no summary", t.TempDir(), nil},
		{"dir is a file", file, report.NewSummary(report.Meta{}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteCSV(tt.dir, tt.sum); err == nil {
				t.Error("WriteCSV succeeded, want an error")
			}
		})
	}
}

func TestCSVSink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s, err := ParseOut("csv=" + dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("ParseOut did not create the directory: %v", err)
	}
	run := feed(shopNames, shopTicks, nil)
	if err := s.Close(context.Background(), shopSummary(run)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{TimelineCSV, SummaryCSV} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func ExampleWriteCSV() {
	sum := report.NewSummary(report.Meta{Name: "shop"}, nil)
	dir, err := os.MkdirTemp("", "fuka-csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := WriteCSV(dir, sum); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(filepath.Join(dir, SummaryCSV))
	fmt.Print(string(b))
	// Output:
	// name,requests,failed,error_rate,rps,min_ms,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms
	// ,0,0,0,0,0,0,0,0,0,0,0,0
}
