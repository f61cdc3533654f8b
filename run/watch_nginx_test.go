package run

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fuka-load/fuka/plan"
)

// TestNginxConnectionLimitOption: worker_connections and workers reach the
// nginx sampler from --monitor and from a plan's monitor: entry alike, and
// a bad value fails before any load.
func TestNginxConnectionLimitOption(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "Active connections: 3\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1 Waiting: 2\n")
	}))
	defer srv.Close()
	target := srv.URL + "/status,worker_connections=256,workers=2"
	p, err := plan.Parse("p.yaml", []byte("base_url: "+srv.URL+"\nscenarios:\n  s:\n    steps:\n      - get: /\nload: { clients: 1, duration: 1s }\nmonitor:\n  - { nginx: \""+target+"\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		w    func() (*Watch, error)
	}{
		{"flag", func() (*Watch, error) {
			w := &Watch{MonitorFlags: []string{"nginx=" + target}}
			return w, w.parseFlags()
		}},
		{"plan", func() (*Watch, error) {
			w := &Watch{}
			return w, w.FromPlan(p)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.w()
			if err != nil {
				t.Fatal(err)
			}
			ss, err := w.samplers()
			if err != nil || len(ss) != 1 {
				t.Fatalf("samplers = %v, %v", ss, err)
			}
			vs, err := ss[0].Sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var lim float64
			for _, v := range vs {
				if v.Name == "nginx.connection_limit" {
					lim = v.V
				}
			}
			if lim != 512 {
				t.Errorf("nginx.connection_limit = %v, want 512 (256 × 2) in %v", lim, vs)
			}
		})
	}
	w := &Watch{MonitorFlags: []string{"nginx=" + srv.URL + "/status,worker_connections=0"}}
	if err := w.parseFlags(); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(); err == nil || !strings.Contains(err.Error(), "worker_connections") {
		t.Errorf("Check with worker_connections=0: err = %v, want one naming worker_connections", err)
	}
}
