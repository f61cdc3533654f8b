package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/plan"
)

// runIn runs the CLI in process with stdin.
func runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, append([]string{"fuka"}, args...), Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

// validates runs `fuka validate` on a plan file and fails the test unless
// it passes.
func validates(t *testing.T, path string) {
	t.Helper()
	if r := runCLI(t, nil, "validate", path); r.code != ExitOK {
		src, _ := os.ReadFile(path)
		t.Fatalf("fuka validate %s: exit %d\n%s%s\n--- plan:\n%s", path, r.code, r.out, r.err, src)
	}
}

func TestImportCurl(t *testing.T) {
	const cmdline = `curl 'https://shop.example.com/api/login' \
  -H 'content-type: application/json' \
  -H 'accept-encoding: gzip' \
  --data-raw '{"user":"alice","pass":"s3cret"}' -k`
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"one quoted argument", "", []string{"import", "curl", cmdline}},
		{"quoted argument then -o", "", []string{"import", "curl", cmdline, "-o", "OUT"}},
		{"-o then quoted argument", "", []string{"import", "curl", "-o", "OUT", cmdline}},
		{"argv", "", []string{"import", "curl", "-o", "OUT", "curl", "https://shop.example.com/api/login",
			"-H", "content-type: application/json", "-H", "accept-encoding: gzip", "--data-raw", `{"user":"alice","pass":"s3cret"}`, "-k"}},
		{"argv without curl", "", []string{"import", "curl", "-X", "POST", "https://shop.example.com/api/login",
			"-H", "content-type: application/json", "-H", "accept-encoding: gzip", "--data-raw", `{"user":"alice","pass":"s3cret"}`, "-k"}},
		{"stdin", cmdline, []string{"import", "curl", "--output=OUT", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "plan.yaml")
			args := make([]string, len(tt.args))
			toFile := false
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "OUT", out)
				toFile = toFile || strings.Contains(a, "OUT")
			}
			r := runIn(t, tt.stdin, args...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			for _, want := range []string{"skipped: header Accept-Encoding dropped", "skipped: -k: run with `fuka run --insecure`"} {
				if !strings.Contains(r.err, want) {
					t.Errorf("stderr %q does not say %q", r.err, want)
				}
			}
			if !toFile {
				if err := os.WriteFile(out, []byte(r.out), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if r.out != "wrote "+out+"; next: fuka validate "+out+"\n" {
				t.Errorf("stdout %q", r.out)
			}
			src, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"base_url: https://shop.example.com", "- post: /api/login", "user: alice"} {
				if !strings.Contains(string(src), want) {
					t.Errorf("the plan does not say %q:\n%s", want, src)
				}
			}
			validates(t, out)
		})
	}
}

func TestImportFiles(t *testing.T) {
	dir := t.TempDir()
	har := filepath.Join(dir, "plan-har.yaml")
	r := runCLI(t, nil, "import", "har", filepath.Join("..", "..", "importer", "testdata", "shop.har"), "-o", har)
	if r.code != ExitOK || !strings.Contains(r.err, "skipped: 5 static asset(s)") {
		t.Fatalf("import har: exit %d, stderr %q", r.code, r.err)
	}
	validates(t, har)

	// The JMX's CSV file has no header row (JMeter's variableNames name the
	// columns): with -o, fuka writes a copy with one next to the plan; on
	// stdout, it says to add one. Do that next to the plan.
	jmxDir := filepath.Join("..", "..", "importer", "testdata", "jmx")
	jmxOut := filepath.Join(t.TempDir(), "plan.yaml")
	r = runCLI(t, nil, "import", "jmx", filepath.Join(jmxDir, "shop.jmx"), "-o", jmxOut)
	if r.code != ExitOK || !strings.Contains(r.out, "users.header.csv (") {
		t.Fatalf("import jmx -o: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	validates(t, jmxOut)
	r = runCLI(t, nil, "import", "jmx", filepath.Join(jmxDir, "shop.jmx"))
	if r.code != ExitOK || !strings.Contains(r.err, `skipped: JSR223PostProcessor "Log cart": scripts are not imported`) || !strings.Contains(r.err, `add the line "email,password"`) {
		t.Fatalf("import jmx: exit %d, stderr %q", r.code, r.err)
	}
	rows, err := os.ReadFile(filepath.Join(jmxDir, "users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.header.csv"), append([]byte("email,password\n"), rows...), 0o644); err != nil {
		t.Fatal(err)
	}
	jmx := filepath.Join(dir, "plan-jmx.yaml")
	if err := os.WriteFile(jmx, []byte(r.out), 0o644); err != nil {
		t.Fatal(err)
	}
	validates(t, jmx)

	// HAR on stdin.
	src, err := os.ReadFile(filepath.Join("..", "..", "importer", "testdata", "shop.har"))
	if err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, string(src), "import", "har", "-"); r.code != ExitOK || !strings.HasPrefix(r.out, "# Imported by `fuka import har`") {
		t.Errorf("import har -: exit %d, stdout %.80q, stderr %q", r.code, r.out, r.err)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exists := write("exists.yaml", "x")
	badHAR := write("bad.har", `{"log": {"entries": [`)
	emptyHAR := write("empty.har", `{"log": {"entries": []}}`)
	badJMX := write("bad.jmx", `<jmeterTestPlan><hashTree>`)
	noTG := write("notg.jmx", `<jmeterTestPlan><hashTree><TestPlan testname="t"/><hashTree/></hashTree></jmeterTestPlan>`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"import alone", []string{"import"}, "import what? curl, har or jmx"},
		{"unknown kind", []string{"import", "postman", "x.json"}, `unknown command "postman" for "fuka import"`},
		{"curl without command", []string{"import", "curl"}, "import curl needs a curl command line"},
		{"curl without URL", []string{"import", "curl", "curl -s -H 'a: b'"}, "no URL in the curl command line"},
		{"curl bad quote", []string{"import", "curl", "curl 'http://x"}, "unterminated ' quote"},
		{"curl not curl", []string{"import", "curl", "wget http://x"}, `not a curl command line: it starts with "wget"`},
		{"curl -o without file", []string{"import", "curl", "-o"}, "-o needs a file name"},
		{"curl junk after quoted", []string{"import", "curl", "curl http://x -s", "-H", "a: b"}, `unexpected argument "-H"`},
		{"curl output exists", []string{"import", "curl", "-o", exists, "curl http://x"}, "exists; use --force to overwrite"},
		{"har missing", []string{"import", "har", filepath.Join(dir, "missing.har")}, "missing.har: no such file"},
		{"har two files", []string{"import", "har", badHAR, badHAR}, "import har takes one file (got 2 arguments)"},
		{"har bad JSON", []string{"import", "har", badHAR}, "bad.har: HAR: unexpected EOF"},
		{"har empty", []string{"import", "har", emptyHAR}, "HAR: no entries"},
		{"jmx bad XML", []string{"import", "jmx", badJMX}, "bad.jmx: JMX: XML syntax error"},
		{"jmx no thread group", []string{"import", "jmx", noTG}, "no enabled Thread Group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, ExitUsage, r.err)
			}
			if !strings.HasPrefix(r.err, "fuka: ") || strings.Count(r.err, "\n") != 1 {
				t.Errorf("stderr is not one line starting with \"fuka: \": %q", r.err)
			}
			if !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q does not say %q", r.err, tt.want)
			}
		})
	}
	if src, _ := os.ReadFile(exists); string(src) != "x" {
		t.Errorf("the existing file was overwritten without --force: %q", src)
	}
}

func TestImportCurlHelp(t *testing.T) {
	r := runCLI(t, nil, "import", "curl", "--help")
	if r.code != ExitOK || !strings.Contains(r.out, "Copy as") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
}

// TestShellQuote: arguments split by the shell come through the quoting
// the curl command gives them unchanged.
func TestShellQuote(t *testing.T) {
	for _, w := range []string{"plain", "it's", "a b", `"q"`, "$HOME", `a\b`, "-H", "{}", "x'\"$(y)"} {
		r := runCLI(t, nil, "import", "curl", "curl", "http://127.0.0.1/", "-H", "X-A: "+w)
		if r.code != ExitOK {
			t.Fatalf("%q: exit %d, stderr %q", w, r.code, r.err)
		}
		p, err := plan.Parse("plan.yaml", []byte(r.out))
		if err != nil {
			t.Fatalf("%q: %v\n%s", w, err, r.out)
		}
		if got := p.Scenarios[0].Steps[0].Headers["X-A"].Value; got != w {
			t.Errorf("header X-A is %q, want %q", got, w)
		}
	}
}
