package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// TestMultipartFiles: a multipart body's files are read once at parse
// time, with their defaults, and together may not pass MaxBodyFile.
func TestMultipartFiles(t *testing.T) {
	dir := t.TempDir()
	// Sparse files: 40 MiB each without writing them.
	for _, name := range []string{"a.bin", "b.bin"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(40 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	os.WriteFile(filepath.Join(dir, "me.png"), []byte("png"), 0o644)
	tests := []struct {
		name, parts string
		want        string // the error, "" for none
	}{
		{"one big file", `{ a: { path: a.bin } }`, ""},
		{"two add up past the limit", `{ a: { path: a.bin }, b: { path: b.bin } }`,
			`p.yaml:6:53: multipart: the files add up to more than 64 MiB, the limit (fuka keeps it in memory)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.yaml")
			src := "base_url: http://127.0.0.1:8080\nscenarios:\n  s:\n    steps:\n      - post: /up\n        multipart: " + tt.parts + "\nload: { clients: 1, duration: 1s }\n"
			os.WriteFile(path, []byte(src), 0o644)
			p, err := plan.ParseFile(path)
			if tt.want != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
					t.Fatalf("ParseFile error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := p.Scenarios[0].Steps[0].Multipart
			if len(m.Parts) != 1 || len(m.Parts[0].Data) != 40<<20 || m.Parts[0].FileName != "a.bin" || m.Parts[0].ContentType != "application/octet-stream" {
				t.Errorf("parts %+v", m.Parts)
			}
		})
	}
	t.Run("defaults by extension", func(t *testing.T) {
		path := filepath.Join(dir, "p2.yaml")
		os.WriteFile(path, []byte("base_url: http://127.0.0.1:8080\nscenarios:\n  s:\n    steps:\n      - post: /up\n        multipart: { f: { path: me.png }, v: \"{{ x }}\" }\nload: { clients: 1, duration: 1s }\n"), 0o644)
		p, err := plan.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ps := p.Scenarios[0].Steps[0].Multipart.Parts
		if len(ps) != 2 || ps[0].ContentType != "image/png" || string(ps[0].Data) != "png" || ps[1].Value == nil || ps[1].Value.Value != "{{ x }}" {
			t.Errorf("parts %+v", ps)
		}
	})
}
