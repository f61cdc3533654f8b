package monitor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNginxParseStubStatus(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    stubStatus
		wantErr string
	}{
		{
			name: "nginx",
			text: "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n",
			want: stubStatus{active: 291, reading: 6, writing: 179, waiting: 106, accepts: 16630948, handled: 16630948, requests: 31070465},
		},
		{
			name: "fresh server, CRLF",
			text: "Active connections: 1\r\nserver accepts handled requests\r\n 1 1 1\r\nReading: 0 Writing: 1 Waiting: 0\r\n",
			want: stubStatus{active: 1, writing: 1, accepts: 1, handled: 1, requests: 1},
		},
		{
			name: "fork with a fourth counter",
			text: "Active connections: 2\nserver accepts handled requests request_time\n 10 9 40 1234\nReading: 0 Writing: 1 Waiting: 1\n",
			want: stubStatus{active: 2, writing: 1, waiting: 1, accepts: 10, handled: 9, requests: 40},
		},
		{name: "empty", text: "", wantErr: "no \"Active connections:\" line"},
		{name: "html", text: "<html><body>404 Not Found</body></html>", wantErr: "not a stub_status page"},
		{
			name:    "no counters",
			text:    "Active connections: 1\nReading: 0 Writing: 1 Waiting: 0\n",
			wantErr: "no \"server accepts handled requests\" counters",
		},
		{
			name:    "counters line cut",
			text:    "Active connections: 1\nserver accepts handled requests\n",
			wantErr: "counters line missing",
		},
		{
			name:    "two counters",
			text:    "Active connections: 1\nserver accepts handled requests\n 1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			wantErr: "want 3 numbers",
		},
		{
			name:    "negative active",
			text:    "Active connections: -1\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			wantErr: "\"-1\" is not a count",
		},
		{
			name:    "no reading line",
			text:    "Active connections: 1\nserver accepts handled requests\n 1 1 1\n",
			wantErr: "no \"Reading: Writing: Waiting:\" line",
		},
		{
			name:    "garbled reading line",
			text:    "Active connections: 1\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1\n",
			wantErr: "want \"Reading: R Writing: W Waiting: K\"",
		},
		{
			name:    "word for a number",
			text:    "Active connections: 1\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: x Waiting: 0\n",
			wantErr: "Writing: \"x\" is not a count",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStubStatus([]byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzNginxStubStatus(f *testing.F) {
	f.Add([]byte("Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n"))
	f.Add([]byte("Active connections: 1\nserver accepts handled requests\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		st, err := parseStubStatus(text)
		if err == nil && (st.active < 0 || st.requests < 0) {
			t.Fatalf("negative count from %q: %+v", text, st)
		}
	})
}

func TestNewNginxRejects(t *testing.T) {
	for _, url := range []string{"", "127.0.0.1/status", "ftp://127.0.0.1/status", "http:///status", "http://[::1/status"} {
		t.Run(url, func(t *testing.T) {
			if _, err := NewNginx(url); err == nil || !strings.HasPrefix(err.Error(), "nginx: ") {
				t.Errorf("NewNginx(%q) err = %v, want an nginx: error", url, err)
			}
		})
	}
}

func TestNginxConnectionsOfARealServer(t *testing.T) {
	base := startNginx(t)
	s, err := NewNginx(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	s.(*nginxSampler).now = fakeClock(time.Second)

	before := mustSample(t, s)
	for _, name := range []string{"nginx.active", "nginx.reading", "nginx.writing", "nginx.waiting"} {
		if _, ok := before[name]; !ok {
			t.Errorf("first sample has no %s: %v", name, before)
		}
	}
	if _, ok := before["nginx.requests_per_s"]; ok {
		t.Errorf("first sample has a rate, want none: %v", before)
	}
	if before["nginx.writing"] < 1 {
		t.Errorf("nginx.writing = %v, want >= 1 (the scrape itself)", before["nginx.writing"])
	}

	// Five clients, each with one request answered and its keep-alive
	// connection left open and idle.
	const clients = 5
	for range clients {
		c := keepAliveClient(t, base)
		t.Cleanup(func() { c.Close() })
	}

	after := mustSample(t, s)
	if d := after["nginx.active"] - before["nginx.active"]; d < clients {
		t.Errorf("nginx.active rose by %v (%v -> %v), want >= %d", d, before["nginx.active"], after["nginx.active"], clients)
	}
	if d := after["nginx.waiting"] - before["nginx.waiting"]; d < clients {
		t.Errorf("nginx.waiting rose by %v, want >= %d (idle keep-alive connections)", d, clients)
	}
	// One second passed on the sampler's clock: 5 client requests plus
	// the second scrape; 5 new connections (the scrape reuses its own).
	if got := after["nginx.requests_per_s"]; got != clients+1 {
		t.Errorf("nginx.requests_per_s = %v, want %d", got, clients+1)
	}
	if got := after["nginx.accepts_per_s"]; got < clients || got > clients+1 {
		t.Errorf("nginx.accepts_per_s = %v, want %d (or one more if the scrape reconnected)", got, clients)
	}
}

// keepAliveClient opens a connection to base, has one request answered on
// it and leaves it open.
func keepAliveClient(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		c.Close()
		t.Fatalf("GET /: %s, close %v; want 200 and keep-alive", resp.Status, resp.Close)
	}
	c.SetDeadline(time.Time{})
	return c
}

func TestNginxScrapeErrors(t *testing.T) {
	base := startNginx(t)
	for _, tt := range []struct{ url, wantErr string }{
		{base + "/", "not a stub_status page"}, // 200 "ok\n"
		{base + "/gone", "404 Not Found"},
		{"http://127.0.0.1:" + fmt.Sprint(freePort(t)) + "/status", "connection refused"},
	} {
		s, err := NewNginx(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := contextFor(t)
		_, err = s.Sample(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want one containing %q", tt.url, err, tt.wantErr)
		}
	}
}

func TestNginxTargetOptions(t *testing.T) {
	for _, tt := range []struct {
		name, target, url string
		limit             float64
		wantErr           string
	}{
		{"url only", "http://127.0.0.1/status", "http://127.0.0.1/status", 0, ""},
		{"worker_connections", "http://127.0.0.1/status,worker_connections=1024", "http://127.0.0.1/status", 1024, ""},
		{"times workers", "http://127.0.0.1/status,worker_connections=512,workers=4", "http://127.0.0.1/status", 2048, ""},
		{"either order", "http://127.0.0.1/status,workers=2,worker_connections=100", "http://127.0.0.1/status", 200, ""},
		{"a comma of the URL stays", "http://127.0.0.1/status?a=1,b=2,worker_connections=8", "http://127.0.0.1/status?a=1,b=2", 8, ""},
		{"zero", "http://127.0.0.1/status,worker_connections=0", "", 0, "want a positive whole number"},
		{"not a number", "http://127.0.0.1/status,worker_connections=many", "", 0, "want a positive whole number"},
		{"twice", "http://127.0.0.1/status,workers=1,workers=2,worker_connections=8", "", 0, "given twice"},
		{"workers alone", "http://127.0.0.1/status,workers=2", "", 0, "workers without worker_connections"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, limit, err := parseNginxTarget(tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, err := NewNginx(tt.target); err == nil || !strings.HasPrefix(err.Error(), "nginx: ") {
					t.Errorf("NewNginx err = %v, want an nginx: error", err)
				}
				return
			}
			if err != nil || url != tt.url || limit != tt.limit {
				t.Errorf("= %q, %v, %v; want %q, %v", url, limit, err, tt.url, tt.limit)
			}
		})
	}
}

func TestNginxConnectionLimitSeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "Active connections: 7\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1 Waiting: 6\n")
	}))
	defer srv.Close()
	for _, tt := range []struct {
		opts  string
		limit float64 // 0: no series
	}{{"", 0}, {",worker_connections=1024,workers=2", 2048}} {
		t.Run("opts="+tt.opts, func(t *testing.T) {
			s, err := NewNginx(srv.URL + "/status" + tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := contextFor(t)
			defer cancel()
			vs, err := s.Sample(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, v := range vs {
				got[v.Name] = v.V
			}
			lim, ok := got["nginx.connection_limit"]
			if ok != (tt.limit > 0) || lim != tt.limit || got["nginx.active"] != 7 {
				t.Errorf("nginx.connection_limit = %v (present %v), nginx.active = %v; want %v, 7", lim, ok, got["nginx.active"], tt.limit)
			}
		})
	}
}
