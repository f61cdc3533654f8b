package run

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
)

// TestRunScopes: the live outputs label each request name with the
// plan's scenario(s) and group(s) it is in.
func TestRunScopes(t *testing.T) {
	src := `base_url: http://127.0.0.1:1
load: { clients: 1, duration: 1s }
scenarios:
  browse:
    steps:
      - get: /a
        name: list
      - group: cart
        steps:
          - get: /c
            name: add
  buy:
    steps:
      - get: /b
        name: list
      - get: /d
        name: pay
`
	c, err := Compile("p.yaml", []byte(src), "", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{spec: Spec{Judges: []Judge{NewPlanJudge(c)}}}
	sc := r.scopes()
	want := map[string][2]string{"list": {"browse,buy", ""}, "add": {"browse", "cart"}, "pay": {"buy", ""}}
	if len(sc.Scenario) != len(c.Prog.Requests) || len(sc.Group) != len(c.Prog.Requests) {
		t.Fatalf("scopes %+v for requests %q", sc, c.Prog.Requests)
	}
	for i, name := range c.Prog.Requests {
		if got := [2]string{sc.Scenario[i], sc.Group[i]}; got != want[name] {
			t.Errorf("%s: scenario, group %q, want %q", name, got, want[name])
		}
	}
	if sc := (&runner{}).scopes(); sc.Scenario != nil || sc.Group != nil {
		t.Errorf("quick mode scopes %+v, want none", sc)
	}
}

// TestRunRemoteWrite: --out prometheus-rw pushes the run with its run_id,
// and a receiver that refuses every push leaves the run's outcome alone
// but is warned about in the summary and on stderr.
func TestRunRemoteWrite(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"accepted", http.StatusNoContent},
		{"refused", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies [][]byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				raw, err := snappy.Decode(nil, b)
				if err != nil {
					t.Errorf("snappy: %v", err)
				}
				mu.Lock()
				bodies = append(bodies, raw)
				mu.Unlock()
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			var stdout, stderr bytes.Buffer
			o, err := Run(context.Background(), Spec{
				Source: &fakeSource{length: 2 * time.Second, n: 10}, Stdout: &stdout, Stderr: &stderr,
				Out: Outputs{Format: "json", Quiet: true, NoReport: true, NoHistory: true, RunID: "run-42",
					Out: []string{"prometheus-rw=" + srv.URL + "/api/v1/write|retries=0"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if o.Code != CodeOK {
				t.Errorf("code %d, want %d: an output never fails the run", o.Code, CodeOK)
			}
			mu.Lock()
			n := len(bodies)
			last := bodies[len(bodies)-1]
			mu.Unlock()
			// The second tick and the final push may go out together.
			if n < 2 || !bytes.Contains(last, []byte("run-42")) || !bytes.Contains(last, []byte("fuka_requests_total")) {
				t.Errorf("%d pushes, the last of %d bytes: want the ticks and the final push, labelled run_id=run-42", n, len(last))
			}
			warned := false
			for _, w := range o.Summary.Warnings {
				warned = warned || strings.HasPrefix(w, "prometheus-rw ")
			}
			if refused := tt.status == http.StatusBadRequest; warned != refused ||
				strings.Contains(stderr.String(), "fuka: warning: prometheus-rw") != refused {
				t.Errorf("warnings %q, stderr %q: want the undelivered samples said only when refused", o.Summary.Warnings, stderr.String())
			}
		})
	}
}

// TestRunRemoteWriteLoss: samples a receiver did not take are in the JSON
// summary's warnings (the run waits for the pushes still retrying before
// it builds the summary), and a receiver that never answers keeps fuka
// no longer than a moment after the load.
func TestRunRemoteWriteLoss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/api/v1/write" // refused once closed
	ln.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	tests := []struct {
		name     string
		target   string
		length   time.Duration
		gaveUp   bool          // the warning says fuka stopped pushing
		maxAfter time.Duration // longest wait after the load
	}{
		{"never answers", down, 2 * time.Second, true, 1500 * time.Millisecond},
		{"answers 503", busy.URL + "/api/v1/write|retries=1", time.Second, false, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			start := time.Now()
			o, err := Run(context.Background(), Spec{
				Source: &fakeSource{length: tt.length, n: 10}, Stdout: &stdout,
				Out: Outputs{Format: "json", Quiet: true, NoReport: true, NoHistory: true,
					Out: []string{"prometheus-rw=" + tt.target}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if after := time.Since(start) - tt.length; after > tt.maxAfter {
				t.Errorf("Run returned %v after the load, want at most %v", after, tt.maxAfter)
			}
			if o.Code != CodeOK {
				t.Errorf("code %d, want %d", o.Code, CodeOK)
			}
			var sum struct{ Warnings []string }
			if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
				t.Fatalf("summary %q: %v", stdout.String(), err)
			}
			var lost string
			for _, w := range sum.Warnings {
				if strings.HasPrefix(w, "prometheus-rw ") && strings.Contains(w, "samples were not delivered") {
					lost = w
				}
			}
			if lost == "" {
				t.Fatalf("JSON warnings %q: want the undelivered samples", sum.Warnings)
			}
			if strings.Contains(lost, "context canceled") {
				t.Errorf("warning %q: want the receiver's error, not fuka's giving up", lost)
			}
			if got := strings.Contains(lost, "never answered"); got != tt.gaveUp {
				t.Errorf("warning %q: want gave up said %v", lost, tt.gaveUp)
			}
		})
	}
}
