package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCurlArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want CurlArgs
		err  string
	}{
		{"quoted line", []string{"curl http://127.0.0.1/ -H 'a: b'"}, CurlArgs{Line: []string{"curl http://127.0.0.1/ -H 'a: b'"}}, ""},
		{"own flags first", []string{"-o", "p.yaml", "--force", "curl", "http://127.0.0.1/", "-o", "x"},
			CurlArgs{Out: Output{Path: "p.yaml", Force: true}, Line: []string{"curl", "http://127.0.0.1/", "-o", "x"}}, ""},
		{"joined -o and --output=", []string{"-op.yaml", "--output=q.yaml", "-"}, CurlArgs{Out: Output{Path: "q.yaml"}, Line: []string{"-"}}, ""},
		{"own flags after a quoted line", []string{"curl http://127.0.0.1/", "-o", "p.yaml"},
			CurlArgs{Out: Output{Path: "p.yaml"}, Line: []string{"curl http://127.0.0.1/"}}, ""},
		{"help", []string{"--help"}, CurlArgs{Help: true}, ""},
		{"help after a quoted line", []string{"curl http://127.0.0.1/", "-h"}, CurlArgs{Help: true, Line: []string{"curl http://127.0.0.1/"}}, ""},
		{"nothing", nil, CurlArgs{}, "needs a curl command line"},
		{"-o without a file", []string{"-o"}, CurlArgs{}, "-o needs a file name"},
		{"curl option after a quoted line", []string{"curl http://127.0.0.1/", "-H", "a: b"}, CurlArgs{}, `unexpected argument "-H"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCurlArgs(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestCurlArgsImport: the words of a command line, as the shell split
// them, come through the quoting given back to them unchanged; "-" reads
// the line from stdin.
func TestCurlArgsImport(t *testing.T) {
	for _, w := range []string{"plain", "it's", "a b", `"q"`, "$HOME", `a\b`, "{}", "x'\"$(y)"} {
		if got := shellQuote(w); w != "plain" && got == w {
			t.Errorf("shellQuote(%q) left it unquoted", w)
		}
		words, _, _, err := shellWords("curl " + shellQuote(w))
		if err != nil || len(words) != 2 || words[1] != w {
			t.Errorf("%q reads back as %q, %v", w, words, err)
		}
	}
	a := CurlArgs{Line: []string{"-"}}
	res, err := a.Import(strings.NewReader("curl http://127.0.0.1:9/x"))
	if err != nil || !bytes.Contains(res.YAML, []byte("base_url: http://127.0.0.1:9\n")) || !bytes.Contains(res.YAML, []byte("get: /x")) {
		t.Errorf("from stdin: %v\n%s", err, res.YAML)
	}
}

func TestOutputWrite(t *testing.T) {
	res := &Result{YAML: []byte("name: x\n"), Skipped: []string{"--compressed: not needed"}}
	var out, notes bytes.Buffer
	if err := (Output{}).Write(res, &out, &notes); err != nil || out.String() != "name: x\n" || notes.String() != "skipped: --compressed: not needed\n" {
		t.Errorf("stdout: %v, %q, %q", err, out.String(), notes.String())
	}

	path := filepath.Join(t.TempDir(), "plan.yaml")
	out.Reset()
	if err := (Output{Path: path}).Write(res, &out, &notes); err != nil || out.String() != "wrote "+path+"; next: fuka validate "+path+"\n" {
		t.Errorf("file: %v, %q", err, out.String())
	}
	if b, _ := os.ReadFile(path); string(b) != "name: x\n" {
		t.Errorf("file holds %q", b)
	}
	// An existing file is kept unless forced.
	other := &Result{YAML: []byte("name: y\n")}
	if err := (Output{Path: path}).Write(other, &out, &notes); err == nil || !strings.Contains(err.Error(), "exists; use --force") {
		t.Errorf("existing file: %v", err)
	}
	if err := (Output{Path: path, Force: true}).Write(other, &out, &notes); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "name: y\n" {
		t.Errorf("forced file holds %q", b)
	}
}

func TestFile(t *testing.T) {
	if _, err := File("har", filepath.Join(t.TempDir(), "none.har"), nil); err == nil {
		t.Error("a missing file imported")
	}
	if _, err := File("har", "-", strings.NewReader("not json")); err == nil || !strings.HasPrefix(err.Error(), "-: ") {
		t.Errorf("bad stdin: %v", err)
	}
	if _, err := File("zip", "-", strings.NewReader("")); err == nil {
		t.Error("an unknown kind imported")
	}
}
