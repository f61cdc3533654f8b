package report

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

func point(at time.Duration, clients int, requests, failed, dropped int64, p95 time.Duration) metrics.Point {
	return metrics.Point{
		At: at, Span: time.Second, Clients: clients,
		Requests: requests, Failed: failed, Dropped: dropped, P95: p95,
	}
}

func TestProgress(t *testing.T) {
	type update struct {
		elapsed time.Duration
		pt      metrics.Point
		total   *metrics.Stats
	}
	total := metrics.NewStats()
	total.Failed = 7
	tests := []struct {
		name    string
		tty     bool
		planned time.Duration
		updates []update
		done    bool
		want    string
	}{
		{
			name: "plain with plan", planned: 10 * time.Second,
			updates: []update{
				{time.Second, point(time.Second, 64, 123456, 0, 0, 950*time.Microsecond), nil},
				{3 * time.Second, point(3*time.Second, 64, 120000, 2, 0, 1200*time.Microsecond), nil},
			},
			done: true,
			want: "  1s/10s  clients 64  rps 123,456  p95 950µs  failed 0\n" +
				"  3s/10s  clients 64  rps 120,000  p95 1.20ms  failed 2\n",
		},
		{
			name: "plain, request-count bound, drops and a total",
			updates: []update{
				{1500 * time.Millisecond, point(time.Second, 3, 10, 1, 4, 2*time.Millisecond), total},
			},
			want: "  2s  clients 3  rps 10  p95 2.00ms  failed 7  dropped 4\n",
		},
		{
			name: "tty with bar and eta", tty: true, planned: 10 * time.Second,
			updates: []update{
				{3 * time.Second, point(3*time.Second, 64, 123456, 0, 0, 950*time.Microsecond), nil},
				{10 * time.Second, point(10*time.Second, 64, 1000, 1, 2, 12300*time.Microsecond), nil},
			},
			done: true,
			want: "\r  3s/10s [===>      ]  30%  eta 7s  clients 64  rps 123,456  p95 950µs  failed 0\x1b[K" +
				"\r  10s/10s [==========] 100%  eta 0s  clients 64  rps 1,000  p95 12.3ms  failed 1  dropped 2\x1b[K" +
				"\n",
		},
		{
			name: "tty past the plan", tty: true, planned: 2 * time.Second,
			updates: []update{{2500 * time.Millisecond, point(0, 1, 0, 0, 0, 0), nil}},
			want:    "\r  3s/2s  finishing in flight  clients 1  rps 0  p95 -  failed 0\x1b[K",
		},
		{
			name: "plain past the plan", planned: 2 * time.Second,
			updates: []update{
				{2 * time.Second, point(0, 1, 3, 0, 0, time.Millisecond), nil},
				{3 * time.Second, point(0, 1, 0, 0, 0, 0), nil},
			},
			want: "  2s/2s  clients 1  rps 3  p95 1.00ms  failed 0\n" +
				"  3s/2s  finishing in flight  clients 1  rps 0  p95 -  failed 0\n",
		},
		{
			name: "tty without plan", tty: true,
			updates: []update{{time.Minute + 5*time.Second, point(0, 2, 5, 0, 0, time.Second), nil}},
			done:    true,
			want:    "\r  1m5s  clients 2  rps 5  p95 1.00s  failed 0\x1b[K\n",
		},
		{
			name: "zero values", tty: true, planned: time.Second,
			updates: []update{{0, metrics.Point{}, nil}},
			want:    "\r  0s/1s [>         ]   0%  eta 1s  clients 0  rps 0  p95 -  failed 0\x1b[K",
		},
		{
			name: "done without updates", tty: true, done: true,
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewProgress(&buf, tt.tty, tt.planned)
			for _, u := range tt.updates {
				p.Update(u.elapsed, u.pt, u.total)
			}
			if tt.done {
				p.Done()
				p.Done() // a second Done adds nothing
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestProgressNilWriter(t *testing.T) {
	p := NewProgress(nil, true, -time.Second)
	p.Update(-time.Second, metrics.Point{Span: -1}, nil)
	p.Done()
}

// TestProgressLineFits keeps the TTY line short enough not to wrap (a
// wrapped line cannot be redrawn with \r): a typical line within 80
// columns, a line with every number at its widest within 120.
func TestProgressLineFits(t *testing.T) {
	tests := []struct {
		name    string
		planned time.Duration
		elapsed time.Duration
		pt      metrics.Point
		cols    int
	}{
		{"typical", 10 * time.Second, 3 * time.Second, point(0, 64, 123456, 0, 0, 950*time.Microsecond), 80},
		{"finishing in flight", 10 * time.Second, 20 * time.Second, point(0, 64, 123456, 0, 0, 950*time.Microsecond), 80},
		{"widest", 59 * time.Minute, 30*time.Minute + 7*time.Second, point(0, 10000, 1234567, 123456, 999999, 999*time.Millisecond), 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewProgress(&buf, true, tt.planned)
			p.Update(tt.elapsed, tt.pt, nil)
			line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r"), "\x1b[K")
			if n := len([]rune(line)); n > tt.cols {
				t.Errorf("line is %d columns, want <= %d: %q", n, tt.cols, line)
			}
		})
	}
}

func TestProgressUpdateAllocs(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		planned time.Duration
	}{
		{"tty", true, time.Minute},
		{"plain", false, time.Minute},
		{"unknown length", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgress(io.Discard, tt.tty, tt.planned)
			pt := point(time.Second, 64, 123456, 3, 2, 950*time.Microsecond)
			total := metrics.NewStats()
			p.Update(time.Second, pt, total) // grow the buffer once
			if n := testing.AllocsPerRun(100, func() { p.Update(12*time.Second, pt, total) }); n != 0 {
				t.Errorf("Update allocates %v times per call, want 0", n)
			}
		})
	}
}

func ExampleProgress() {
	p := NewProgress(os.Stdout, false, 10*time.Second)
	for s := 1; s <= 3; s++ {
		at := time.Duration(s) * time.Second
		p.Update(at, metrics.Point{
			At: at, Span: time.Second, Clients: 64,
			Requests: 12000, P95: 950 * time.Microsecond,
		}, nil)
	}
	p.Done()
	// Output:
	//   1s/10s  clients 64  rps 12,000  p95 950µs  failed 0
	//   2s/10s  clients 64  rps 12,000  p95 950µs  failed 0
	//   3s/10s  clients 64  rps 12,000  p95 950µs  failed 0
}

// TestProgressBusiestTable: on a terminal, a run with several request names
// gets a live table of the busiest ones under the status line, redrawn in
// place (cursor up over the previous table).
func TestProgressBusiestTable(t *testing.T) {
	names := []string{"login", "list products", "checkout"}
	rec := metrics.NewRecorder(len(names))
	col := metrics.NewCollector(names, []*metrics.Recorder{rec})
	var out bytes.Buffer
	p := NewProgress(&out, true, 10*time.Second)
	for sec := 1; sec <= 2; sec++ {
		for i := range 30 {
			rec.Record(1, metrics.Outcome{Latency: time.Millisecond, Status: 200}) // busiest
			if i%3 == 0 {
				rec.Record(0, metrics.Outcome{Latency: 2 * time.Millisecond, Status: 200})
			}
		}
		rec.Record(2, metrics.Outcome{Latency: 5 * time.Millisecond, Status: 500})
		pt := col.Tick(time.Duration(sec)*time.Second, 3)
		p.UpdateRun(time.Duration(sec)*time.Second, pt, col.Run())
	}
	p.Done()
	s := out.String()
	first := strings.Index(s, "list products")
	if first < 0 || first > strings.Index(s, "login") || strings.Index(s, "login") > strings.Index(s, "checkout") {
		t.Fatalf("want rows busiest first (list products, login, checkout):\n%q", s)
	}
	if !strings.Contains(s, "rps 30") || !strings.Contains(s, "failed 2/2") {
		t.Errorf("row values missing:\n%q", s)
	}
	if !strings.Contains(s, "\x1b[3A\r") {
		t.Errorf("second update does not move up over the 3-line table:\n%q", s)
	}
	// Plain output (a pipe, CI) has no table.
	out.Reset()
	p = NewProgress(&out, false, 10*time.Second)
	p.UpdateRun(3*time.Second, metrics.Point{}, col.Run())
	if strings.Contains(out.String(), "list products") {
		t.Errorf("plain progress drew the table: %q", out.String())
	}
}
