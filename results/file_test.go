package results

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func copyFixture(t *testing.T, name, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("locust stats with its history beside it", func(t *testing.T) {
		stats := filepath.Join(dir, "run_stats.csv")
		copyFixture(t, "locust_stats.csv", stats)
		copyFixture(t, "locust-history.csv", filepath.Join(dir, "run_stats_history.csv"))
		sum, err := ImportFile(stats, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Timeline) != 3 || !sum.Started.Equal(time.Unix(1764892800, 0)) || sum.Clients != 4 {
			t.Fatalf("timeline %d points, started %v, clients %d", len(sum.Timeline), sum.Started, sum.Clients)
		}
		if sum.Requests != 198 || sum.Imported.Missing("timeline") || sum.Imported.Missing("started") {
			t.Errorf("requests %d (the stats file's), not measured %v", sum.Requests, sum.Imported.NotMeasured)
		}
	})
	t.Run("a report without a start is dated by the file", func(t *testing.T) {
		file := filepath.Join(dir, "wrk.txt")
		copyFixture(t, "wrk-latency.txt", file)
		mtime := time.Date(2026, 5, 1, 10, 0, 3, 0, time.UTC)
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		sum, err := ImportFile(file, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// 17261 requests at 5749.11/s: a 3.002 s run.
		if want := mtime.Add(-3002 * time.Millisecond); !sum.Started.Equal(want) || sum.Imported.Missing("started") {
			t.Errorf("started %v, want %v (3.002 s run)", sum.Started, want)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		data, _ := os.ReadFile(filepath.Join("testdata", "hey.txt"))
		sum, err := ImportFile("-", strings.NewReader(string(data)), Options{Name: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Name != "h" || sum.Requests != 400 || !sum.Started.IsZero() || !sum.Imported.Missing("started") {
			t.Errorf("name %q requests %d started %v", sum.Name, sum.Requests, sum.Started)
		}
	})
	t.Run("stdin error names stdin", func(t *testing.T) {
		_, err := ImportFile("-", strings.NewReader("nothing"), Options{Format: Wrk})
		if err == nil || !strings.HasPrefix(err.Error(), "stdin (wrk): ") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := ImportFile(dir, nil, Options{}); err == nil || !strings.Contains(err.Error(), "a directory") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestImportGzip: a gzipped file (k6 --out json=FILE.gz) is read through.
func TestImportGzip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "k6.json"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	sum, err := Import(&z, Options{})
	if err != nil || sum.Imported.Format != K6JSON || sum.Requests != 5 {
		t.Fatalf("%+v, %v", sum, err)
	}
	if _, err := Import(strings.NewReader("\x1f\x8bxx"), Options{}); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("err = %v", err)
	}
}
