package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// demoAddr is the address the hints tell a newcomer to serve the demo
// target on, and the base_url of the plans they point at.
const demoAddr = "127.0.0.1:8080"

// hintCommands returns the fuka commands a hint text shows: the lines
// that start, after any "#" and spaces, with "fuka ", each cut at its
// remark (two spaces outside quotes, then a note) and split into
// arguments as a shell would split them: '...' and "..." keep their
// spaces (no escapes or variables, which hints do not use).
func hintCommands(text string) [][]string {
	var cmds [][]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimLeft(line, "# ")
		if !strings.HasPrefix(line, "fuka ") {
			continue
		}
		var args []string
		var word strings.Builder
		inWord := false
		var quote rune
		prevSpace := false
		for _, c := range line {
			switch {
			case quote != 0 && c == quote:
				quote = 0
			case quote != 0:
				word.WriteRune(c)
			case c == '\'' || c == '"':
				quote, inWord = c, true
			case c == ' ':
				if inWord {
					args = append(args, word.String())
					word.Reset()
					inWord = false
				}
			default:
				word.WriteRune(c)
				inWord = true
			}
			if quote == 0 && c == ' ' && prevSpace {
				break
			}
			prevSpace = quote == 0 && c == ' '
		}
		if inWord {
			args = append(args, word.String())
		}
		cmds = append(cmds, args[1:])
	}
	return cmds
}

func TestHintCommands(t *testing.T) {
	for _, tt := range []struct {
		text string
		want [][]string
	}{
		{"next:\n  fuka attack http://h/ -c 64 -d 30s\nthen", [][]string{{"attack", "http://h/", "-c", "64", "-d", "30s"}}},
		{"#   fuka validate x.yaml      (a remark)", [][]string{{"validate", "x.yaml"}}},
		{"  fuka attack ws://h/ --ws-send '{\"ping\":{{ seq }}}' -c 1   # WebSocket", [][]string{{"attack", "ws://h/", "--ws-send", `{"ping":{{ seq }}}`, "-c", "1"}}},
		{`  fuka attack grpc://h -b "{ 'a' }" -H 'x:  y'`, [][]string{{"attack", "grpc://h", "-b", "{ 'a' }", "-H", "x:  y"}}},
		{"  fuka attack h -b ''", [][]string{{"attack", "h", "-b", ""}}},
		{"no command here\nfukafoo", nil},
	} {
		if got := hintCommands(tt.text); !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("hintCommands(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// tryHints runs the hinted commands in order, as a newcomer would, on
// 127.0.0.1 and bounded in time. `fuka demo --serve 127.0.0.1:8080` is
// started and left serving for the commands after it; since port 8080
// may be taken on the test machine, the demo serves on a free port, and
// every argument, and every plan file a command names (copied, with its
// folder, to a temporary one), has 127.0.0.1:8080 replaced by that port.
// A load command runs for at most 2 seconds and must get responses from
// the demo target; any other command must exit 0.
func tryHints(t *testing.T, cmds [][]string) {
	t.Helper()
	if len(cmds) < 2 || strings.Join(cmds[0], " ") != "demo --serve "+demoAddr {
		t.Fatalf("the hints do not start with fuka demo --serve %s, then use it: %q", demoAddr, cmds)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	served := make(chan result, 1)
	go func() {
		var out, errb strings.Builder
		code := Main(ctx, []string{"fuka", "demo", "--serve", addr}, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		served <- result{code, out.String(), errb.String()}
	}()
	waitFor(t, "the demo target on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	plans := map[string]string{} // hinted plan file: its copy on addr
	for _, hinted := range cmds[1:] {
		args := make([]string, len(hinted))
		for i, a := range hinted {
			a = strings.ReplaceAll(a, demoAddr, addr)
			if strings.HasSuffix(a, ".yaml") {
				if plans[a] == "" {
					plans[a] = relocate(t, a, addr)
				}
				a = plans[a]
			}
			args[i] = a
		}
		t.Logf("fuka %s   (hinted: fuka %s)", strings.Join(args, " "), strings.Join(hinted, " "))
		switch args[0] {
		case "attack", "run":
			runCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			r := runCLI(t, runCtx, append(args, "-q", "-o", "json", "--no-report", "--no-history")...)
			cancel()
			if r.code != ExitOK && r.code != ExitThresholds && r.code != ExitInterrupted {
				t.Fatalf("fuka %s: exit %d, stderr %q", strings.Join(hinted, " "), r.code, r.err)
			}
			s := lastJSON(t, r.out)
			var ok int64
			for code, n := range s.Status {
				if strings.HasPrefix(code, "2") {
					ok += n
				}
			}
			if ok == 0 {
				t.Errorf("fuka %s: no successful response from the demo target: %d requests, status %v", strings.Join(hinted, " "), s.Requests, s.Status)
			}
		default:
			if r := runCLI(t, nil, args...); r.code != ExitOK {
				t.Errorf("fuka %s: exit %d, stderr %q", strings.Join(hinted, " "), r.code, r.err)
			}
		}
	}
	stop()
	select {
	case r := <-served:
		if r.code != ExitOK {
			t.Errorf("fuka demo --serve: exit %d, stderr %q", r.code, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fuka demo --serve did not stop")
	}
}

// relocate copies the folder of the plan at path (a repository path such
// as examples/shop.yaml is found from the module root) to a temporary
// one, with 127.0.0.1:8080 replaced by addr in its YAML files, and
// returns the copy of the plan.
func relocate(t *testing.T, path, addr string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil && !filepath.IsAbs(path) {
		path = filepath.Join("..", "..", path) // the hint is run from the repository's root
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the hinted plan: %v", err)
	}
	// A gRPC-only plan has no base_url: its grpc: target names the demo.
	if !strings.Contains(string(b), "base_url: http://"+demoAddr) && !strings.Contains(string(b), "target: grpc://"+demoAddr) {
		t.Fatalf("%s: neither its base_url nor a grpc: target is the demo target the hint starts (%s)", path, demoAddr)
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".yaml") {
			b = []byte(strings.ReplaceAll(string(b), demoAddr, addr))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(path))
}

// TestExampleHints: each example plan's header says how to run it, and
// that works as printed.
func TestExampleHints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each example's load for 2 seconds")
	}
	for _, name := range []string{"quick.yaml", "shop.yaml", "websocket.yaml", "grpc.yaml", "mixed.yaml"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
			if err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(string(b), "\nbase_url:")
			cmds := hintCommands(head)
			if len(cmds) != 3 {
				t.Errorf("want serve, validate and run in the header, got %q", cmds)
			}
			tryHints(t, cmds)
		})
	}
}

// TestInitHints: the plan fuka init writes says how to try it, and that
// works as printed.
func TestInitHints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the starter plan's load for 2 seconds")
	}
	path := filepath.Join(t.TempDir(), "fuka.yaml")
	r := runCLI(t, nil, "init", path)
	if r.code != ExitOK {
		t.Fatalf("init: exit %d, stderr %q", r.code, r.err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(b), "\nname:")
	cmds := hintCommands(head)
	if len(cmds) != 3 {
		t.Errorf("want serve, validate and run in the header, got %q", cmds)
	}
	// What init prints next is a command too.
	_, said, _ := strings.Cut(r.out, "next: ")
	if next := hintCommands(said); len(next) != 1 || strings.Join(next[0], " ") != "validate "+path {
		t.Errorf("init says %q; want next: fuka validate %s", r.out, path)
	}
	tryHints(t, cmds)
}
