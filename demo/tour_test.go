package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/demo"
	"github.com/fuka-load/fuka/internal/cli"
	"github.com/fuka-load/fuka/plan"
)

func TestTour(t *testing.T) {
	dir := t.TempDir()
	var calls [][]string
	tour := demo.Tour{Results: dir, Short: true, Fuka: func(_ context.Context, args []string) error {
		calls = append(calls, args)
		if args[0] == "run" {
			// The chat plan is written before it runs, and valid.
			if _, err := plan.ParseFile(args[1]); err != nil {
				return err
			}
			return nil
		}
		// The target is up while the loads run.
		url := args[slices.Index(args, "--results")-1]
		if strings.HasPrefix(args[1], "grpc://") {
			url = "http://" + strings.TrimPrefix(args[1], "grpc://") + "/health"
		}
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}}
	var out, errb bytes.Buffer
	if err := tour.Run(context.Background(), &out, &errb); err != nil {
		t.Fatal(err)
	}
	names := []string{"closed", "open", "websocket", "grpc"}
	if len(calls) != len(names) {
		t.Fatalf("%d loads, want %d: %q", len(calls), len(names), calls)
	}
	for i, name := range names {
		args := calls[i]
		results := args[slices.Index(args, "--results")+1]
		if filepath.Base(results) != name || !strings.HasPrefix(filepath.Base(filepath.Dir(results)), "demo-") ||
			filepath.Dir(filepath.Dir(results)) != dir || !slices.Contains(args, "local") {
			t.Errorf("load %d: %q", i, args)
		}
		// Each load is announced by a line saying what it shows.
		if !strings.Contains(out.String(), strconv.Itoa(i+1)+"/4 "+map[string]string{
			"closed": "closed model: ", "open": "open model: ", "websocket": "WebSocket chat: ", "grpc": "gRPC: ",
		}[name]) {
			t.Errorf("no line for %s in %q", name, out.String())
		}
	}
	if calls[2][0] != "run" || calls[3][0] != "attack" || !slices.Contains(calls[3], "fuka.demo.Cart/Flaky") {
		t.Errorf("ws and grpc loads: %q, %q", calls[2], calls[3])
	}
	if !strings.Contains(out.String(), "the demo target served 3 HTTP requests, 0 WebSocket messages received on 0 connections and 0 gRPC calls (0 UNAVAILABLE); results are in "+filepath.Join(dir, "demo-")) ||
		!strings.HasSuffix(out.String(), demo.Next) || !strings.HasPrefix(errb.String(), "demo target listening on http://127.0.0.1:") ||
		!strings.Contains(errb.String(), "/ws/chat") || !strings.Contains(errb.String(), "gRPC:      grpc://127.0.0.1:") {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}

	// A load's error ends the tour; an ended context ends it quietly.
	boom := errors.New("boom")
	tour.Fuka = func(context.Context, []string) error { return boom }
	if err := tour.Run(context.Background(), &out, &errb); !errors.Is(err, boom) {
		t.Errorf("err %v, want the load's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tour.Fuka = func(context.Context, []string) error { t.Error("load after the context ended"); return nil }
	if err := tour.Run(ctx, &out, &errb); err != nil {
		t.Errorf("cancelled: %v", err)
	}
}

// TestTourCounts runs the short tour with fuka's own command line: what
// each summary counted is what the demo target says it answered (its
// counters, in the tour's last line): HTTP requests, WebSocket messages
// and connections, gRPC calls and their UNAVAILABLE answers.
func TestTourCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four loads of about a second each")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	stdio := cli.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb}
	tour := demo.Tour{Results: dir, Short: true, Fuka: func(ctx context.Context, args []string) error {
		if code := cli.Main(ctx, append([]string{"fuka"}, append(args, "-q")...), stdio); code != cli.ExitOK {
			return errors.New("exit " + strconv.Itoa(code))
		}
		return nil
	}}
	if err := tour.Run(t.Context(), &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	m := regexp.MustCompile(`the demo target served ([\d,]+) HTTP requests, ([\d,]+) WebSocket messages received on ([\d,]+) connections and ([\d,]+) gRPC calls \(([\d,]+) UNAVAILABLE\); results are in (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no tally in %q", out.String())
	}
	server := func(i int) int64 {
		n, err := strconv.ParseInt(strings.ReplaceAll(m[i], ",", ""), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	type byName struct {
		Name     string
		Requests int64
		Status   map[string]int64
	}
	read := func(name string) (s struct {
		Requests int64
		Status   map[string]int64
		ByName   []byName `json:"requests_by_name"`
	}) {
		b, err := os.ReadFile(filepath.Join(m[6], name, "summary.json"))
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	closed, open, ws, grpc := read("closed"), read("open"), read("websocket"), read("grpc")
	wsBy := map[string]byName{}
	for _, n := range ws.ByName {
		wsBy[n.Name] = n
	}
	say, join := wsBy["say"], wsBy["join"]
	for _, c := range []struct {
		what         string
		fuka, server int64
	}{
		// A WebSocket handshake is an HTTP request to the server.
		{"HTTP requests (and handshakes)", closed.Requests + open.Requests + join.Requests, server(1)},
		{"WebSocket messages sent", say.Requests, server(2)},
		{"WebSocket connections", join.Status["101"], server(3)},
		{"gRPC calls", grpc.Requests, server(4)},
		{"gRPC UNAVAILABLE (503)", grpc.Status["503"], server(5)},
	} {
		if c.fuka != c.server || c.fuka == 0 {
			t.Errorf("%s: fuka counted %d, the demo target %d", c.what, c.fuka, c.server)
		}
	}
	// Every round trip found its message; every 10th gRPC call failed.
	if say.Status["200"] != say.Requests || grpc.Status["200"]+grpc.Status["503"] != grpc.Requests || grpc.Status["503"] != grpc.Requests/10 {
		t.Errorf("say %v of %d; grpc %v of %d", say.Status, say.Requests, grpc.Status, grpc.Requests)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errb bytes.Buffer
	if err := demo.Serve(ctx, "127.0.0.1:0", &errb); err != nil || !strings.Contains(errb.String(), "demo target served 0 HTTP requests") {
		t.Errorf("%v, stderr %q", err, errb.String())
	}
	if err := demo.Serve(context.Background(), "127.0.0.1:99999", &errb); err == nil || !strings.HasPrefix(err.Error(), "demo target: ") {
		t.Errorf("bad address: %v", err)
	}
}
