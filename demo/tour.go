package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
)

// Tour is `fuka demo`: the demo target on 127.0.0.1 and four short loads
// against it (HTTP in the closed and the open model, a WebSocket chat, gRPC
// calls), each with its results folder under Results.
type Tour struct {
	Results string // the folder the tour's demo-TIME folder goes in
	Short   bool   // a 1-second version of each load (for tests)
	// Fuka runs fuka with args: "attack URL ..." or "run PLAN.yaml ...",
	// with --results and --monitor local, printing its summary.
	Fuka func(ctx context.Context, args []string) error
}

// A tourStep is one load of the tour: what it shows, in a line printed
// before it, and fuka's arguments without --results and --monitor.
type tourStep struct {
	name, says string
	args       []string
}

// Run starts the target, runs the loads one after the other and says
// where the results are and what to try next. It stops early, without an
// error, when ctx ends.
func (t Tour) Run(ctx context.Context, stdout, stderr io.Writer) error {
	srv, err := Start(ctx, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	defer srv.Close()
	dir := filepath.Join(t.Results, "demo-"+time.Now().Format("20060102-150405"))
	fmt.Fprintf(stderr, "demo target listening on %s\n%s\n", srv.URL(), srv.protocols())
	steps, err := t.steps(srv, dir)
	if err != nil {
		return err
	}
	for i, st := range steps {
		if ctx.Err() != nil {
			break
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%d/%d %s\n\n", i+1, len(steps), st.says)
		if err := t.Fuka(ctx, append(st.args, "--results", filepath.Join(dir, st.name), "--monitor", "local")); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nthe demo target served %s; results are in %s\n", srv.tally(), dir)
	// The tour's own target is gone when it returns: the hint starts one
	// that stays, so the attack it suggests has something to reach.
	fmt.Fprint(stdout, Next)
	return nil
}

// steps are the tour's loads. The WebSocket chat is a plan (a round trip
// ends at the client's own message, which quick mode's fixed --ws-expect
// cannot tell from the others'), written into dir for the user to read
// and run again.
func (t Tour) steps(srv *Server, dir string) ([]tourStep, error) {
	closedDur, ramp, rateTo, rateOver, dur, chatters := "10s", "3s", "2000", "8s", "8s", "20"
	if t.Short {
		closedDur, ramp, rateTo, rateOver, dur, chatters = "1s", "500ms", "400", "1s", "1s", "4"
	}
	rate := "200:0s," + rateTo + ":" + rateOver
	chat := filepath.Join(dir, "chat.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	plan := strings.NewReplacer("BASE", srv.URL(), "CLIENTS", chatters, "DURATION", dur).Replace(chatPlan)
	if err := os.WriteFile(chat, []byte(plan), 0o644); err != nil {
		return nil, err
	}
	grpcURL := "grpc://" + srv.Addr()
	return []tourStep{
		{"closed", "closed model: 32 clients (started over " + ramp + ") each send GET /api/products and the next as soon as the answer is back, for " + closedDur + ": the throughput is what the server gives them.",
			[]string{"attack", "-c", "32", "--ramp-up", ramp, "-d", closedDur, srv.URL() + "/api/products?page=2"}},
		{"open", "open model: new requests arrive at a rate climbing from 200/s to " + rateTo + "/s over " + rateOver + " on GET /flaky, however slow the answers (latency counts from when each was due); about 5% fail with 503.",
			[]string{"attack", "--rate", rate, "--max-clients", "500", srv.URL() + "/flaky"}},
		{"websocket", "WebSocket chat: " + chatters + " clients in one room (/ws/chat) where every message goes to every client. Each joins (\"join\": the handshake), says hello 20 times, timing how long its own message takes each time to come back through the room (\"say\": that round trip), then leaves and joins again. Each client hears everyone, so messages in are about " + chatters + " times messages out. The plan is " + chat + ".",
			[]string{"run", chat}},
		{"grpc", "gRPC: 16 clients call fuka.demo.Cart/Flaky, on the same port as the HTTP API, for " + dur + " (fuka learns the method's schema from the server's reflection); every 10th call answers UNAVAILABLE, which fuka counts as a failed request with status 503, as it maps every gRPC code to an HTTP status.",
			[]string{"attack", grpcURL, "--call", GRPCService + "/Flaky", "-b", `{"item":"tea"}`, "-c", "16", "-d", dur}},
	}, nil
}

// chatPlan is the tour's WebSocket step, with BASE, CLIENTS and DURATION
// to fill in.
const chatPlan = `# fuka demo's WebSocket step: a chat room where every message goes to
# every client. Each client joins, says hello 20 times, waiting each time
# for its own message to come back through the room, and leaves.
# Schema: docs/plan.md, section "WebSocket"; more: examples/websocket.yaml.
base_url: BASE
scenarios:
  chat:
    steps:
      - ws: /ws/chat
        name: join
        timeout: 5s
      - loop: { count: 20 }
        steps:
          - send: '{"from":{{ client_id }},"text":"hello"}'
            name: say
            expect: { contains: '"from":{{ client_id }},' }
            timeout: 2s
          - think: 100ms
      - close: 1000
load: { clients: CLIENTS, duration: DURATION }
`

// protocols says, one line each, what the target serves besides HTTP.
func (s *Server) protocols() string {
	ws := "ws://" + s.Addr()
	return fmt.Sprintf("  WebSocket: %s/ws/echo, %s/ws/chat\n  gRPC:      grpc://%s %s (server reflection)\n", ws, ws, s.Addr(), GRPCService)
}

// tally is what the target answered, for the tour's and Serve's last line.
func (s *Server) tally() string {
	conns, msgs := s.WebSocket()
	g := s.GRPC()
	return fmt.Sprintf("%s HTTP requests, %s WebSocket messages received on %s connections and %s gRPC calls (%s UNAVAILABLE)",
		thousands(s.Served()), thousands(msgs), thousands(conns), thousands(g.Total()), thousands(g.Calls(codes.Unavailable)))
}

// thousands writes n with commas, as fuka's summaries write counts.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Next is what the demo suggests next. Each "  fuka ..." line is a command
// that works as printed, in that order (internal/cli's TestDemo runs them).
const Next = `next: keep the demo target up, and load it yourself from another terminal:
  fuka demo --serve 127.0.0.1:8080
  fuka attack http://127.0.0.1:8080/api/products -c 64 -d 30s
  fuka attack ws://127.0.0.1:8080/ws/echo --ws-send '{"ping":{{ seq }}}' --ws-expect ping -c 100 -d 30s   # WebSocket: send, wait for the echo
  fuka attack grpc://127.0.0.1:8080 --call fuka.demo.Cart/Add -b '{"item":"tea"}' -c 50 -d 30s   # gRPC: schema from server reflection
then point fuka attack at your own service's URL.
`

// Serve serves the demo target on addr until ctx ends (Ctrl-C).
func Serve(ctx context.Context, addr string, stderr io.Writer) error {
	srv, err := Start(ctx, addr)
	if err != nil {
		return fmt.Errorf("demo target: %w", err)
	}
	fmt.Fprintf(stderr, "demo target listening on %s (Ctrl-C to stop)\n%s", srv.URL(), srv.protocols())
	<-ctx.Done()
	srv.Close()
	fmt.Fprintf(stderr, "demo target served %s\n", srv.tally())
	return nil
}
