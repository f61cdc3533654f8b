package results

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzFormat feeds a parser its fixtures and whatever the fuzzer makes of
// them: it must return a summary or an error, never panic.
func fuzzFormat(f *testing.F, format string, fixtures ...string) {
	for _, name := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, err := Import(bytes.NewReader(data), Options{Format: format})
		if err != nil {
			return
		}
		if sum.Imported == nil || sum.Imported.Format != format {
			t.Fatalf("imported %+v", sum.Imported)
		}
		if sum.Requests < 0 || sum.DurationS < 0 {
			t.Fatalf("requests %d duration %v", sum.Requests, sum.DurationS)
		}
		if _, err := Detect(data); err != nil && len(data) > 0 && data[0] == '{' {
			t.Fatalf("detect: %v", err) // JSON always detects as some JSON format
		}
	})
}

func FuzzJTLCSV(f *testing.F)        { fuzzFormat(f, JTLCSV, "jmeter.jtl") }
func FuzzJTLXML(f *testing.F)        { fuzzFormat(f, JTLXML, "jmeter.xml") }
func FuzzLocustStats(f *testing.F)   { fuzzFormat(f, LocustStats, "locust_stats.csv") }
func FuzzLocustHistory(f *testing.F) { fuzzFormat(f, LocustHistory, "locust-history.csv") }
func FuzzK6Summary(f *testing.F)     { fuzzFormat(f, K6Summary, "k6-summary.json") }
func FuzzK6JSON(f *testing.F)        { fuzzFormat(f, K6JSON, "k6.json") }
func FuzzVegetaGob(f *testing.F)     { fuzzFormat(f, VegetaGob, "vegeta.bin") }
func FuzzVegetaJSON(f *testing.F)    { fuzzFormat(f, VegetaJSON, "vegeta.json") }
func FuzzWrk(f *testing.F)           { fuzzFormat(f, Wrk, "wrk-latency.txt", "wrk-plain.txt") }
func FuzzHey(f *testing.F)           { fuzzFormat(f, Hey, "hey.txt") }
func FuzzBombardier(f *testing.F)    { fuzzFormat(f, Bombardier, "bombardier.json", "bombardier-ir.json") }

// FuzzDetect: any input is detected as a format or refused, and importing
// it as detected never panics.
func FuzzDetect(f *testing.F) {
	for _, name := range []string{"jmeter.jtl", "k6.json", "vegeta.bin", "hey.txt"} {
		data, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Import(bytes.NewReader(data), Options{}); err == nil && len(data) == 0 {
			t.Fatal("empty input imported")
		}
	})
}
