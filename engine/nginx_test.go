package engine

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/client"
	"github.com/fuka-load/fuka/internal/testnginx"
	"github.com/fuka-load/fuka/load"
)

// startNginx runs a real nginx on 127.0.0.1 with an access log, so the fast
// path is checked against the server users point it at, not only httptest.
func startNginx(t *testing.T) (url, accessLog string) {
	return testnginx.Start(t, testnginx.Config{
		HTTP: "keepalive_requests 1000;",
		Locations: `location / { return 200 "hello from nginx\n"; }
    location /chunked { chunked_transfer_encoding on; return 200 "x"; }`,
	})
}

// countLines counts the access log's lines, waiting briefly for nginx to
// finish writing the last ones.
func countLines(t *testing.T, path string, want int64) int64 {
	t.Helper()
	var n int64
	for deadline := time.Now().Add(2 * time.Second); ; {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n = int64(bytes.Count(b, []byte("\n")))
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFastPathAgainstNginx(t *testing.T) {
	base, accessLog := startNginx(t)
	rate, err := load.ParseRate("2000", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		cfg  Config
	}{
		{"closed model request count", "/", Config{Load: Closed{Clients: 16, Requests: 20000}}},
		{"closed model with cap", "/", Config{Load: Closed{Clients: 8, Duration: time.Second, MaxRPS: 3000}}},
		{"open model", "/", Config{Load: Open{Rate: rate, MaxClients: 200}}},
		{"chunked", "/chunked", Config{Load: Closed{Clients: 4, Requests: 2000}}},
	}
	var served int64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := client.NewRequest("GET", base+tc.path, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := tc.cfg
			cfg.Work = Request{Request: req, Timeout: 5 * time.Second}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Interrupted {
				t.Fatal("the run hit the test's deadline instead of ending with its load")
			}
			if res.Transport != "fast" {
				t.Fatalf("transport %q, want fast", res.Transport)
			}
			tot := res.Run.Total
			if tot.Failed != 0 || tot.Status[200] != tot.Requests {
				t.Fatalf("requests %d, failed %d, 200s %d, errors %v", tot.Requests, tot.Failed, tot.Status[200], tot.Errors)
			}
			if l, ok := cfg.Load.(Closed); ok && l.Requests > 0 && tot.Requests != l.Requests {
				t.Errorf("requests %d, want %d", tot.Requests, l.Requests)
			}
			served += tot.Requests
			if got := countLines(t, accessLog, served); got != served {
				t.Errorf("nginx logged %d requests in all, fuka counted %d", got, served)
			}
			if strings.Contains(tc.name, "open") && res.Run.Dropped != 0 {
				t.Errorf("dropped %d starts against an idle nginx", res.Run.Dropped)
			}
		})
	}
}
