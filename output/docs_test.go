package output

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocsListEveryMetric: docs/outputs.md has a row for every family
// with its type and every label, and names no metric fuka does not write.
func TestDocsListEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../docs/outputs.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	rows := map[string]string{} // metric -> its table row
	for _, line := range strings.Split(doc, "\n") {
		if m := regexp.MustCompile("^\\| `(fuka_[a-z_]+)` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	for _, f := range Families {
		row, ok := rows[f.Name]
		if !ok {
			t.Errorf("docs/outputs.md has no row for %s", f.Name)
			continue
		}
		cells := strings.Split(row, "|")
		if len(cells) < 5 || strings.TrimSpace(cells[2]) != f.Kind.String() {
			t.Errorf("%s: row %q, want type %s", f.Name, row, f.Kind)
			continue
		}
		labels := regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cells[3], -1)
		var got []string
		for _, l := range labels {
			if l[1] != "le" && l[1] != "_bucket" {
				got = append(got, l[1])
			}
		}
		want := append(append([]string(nil), f.Labels...), RunIDLabel)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: documented labels %q, want %q", f.Name, got, want)
		}
	}
	for _, name := range regexp.MustCompile(`\bfuka_[a-z_]+`).FindAllString(doc, -1) {
		if name != "fuka_" && !Emits(name) && name != "fuka_version" {
			t.Errorf("docs/outputs.md names %s, which fuka does not write", name)
		}
	}
	// The documented OTLP scale is the real one.
	if !strings.Contains(doc, "The scale is fixed at **"+strconv.Itoa(ExpScale)+"**") {
		t.Errorf("docs/outputs.md does not give the OTLP exponential scale %d", ExpScale)
	}
	// The documented bucket bounds are the real ones.
	for _, b := range []float64{LatencyBounds[0], LatencyBounds[1], LatencyBounds[len(LatencyBounds)-1]} {
		s := strconv.FormatFloat(b, 'f', -1, 64)
		if !strings.Contains(doc, s) {
			t.Errorf("docs/outputs.md does not give the bound %s", s)
		}
	}
}
