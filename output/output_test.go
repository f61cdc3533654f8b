package output

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

func TestParseOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "csv")
	rcv := newReceiver(t, "/v1/metrics", http.StatusOK)
	tests := []struct {
		spec    string
		want    any    // type of the sink
		wantErr string // "" = success
	}{
		{"prometheus=127.0.0.1:0", (*Prometheus)(nil), ""},
		{"prometheus=[::1]:0", (*Prometheus)(nil), ""},
		{"otlp=" + rcv.URL, (*OTLP)(nil), ""},
		{"csv=" + dir, (*CSV)(nil), ""},
		{" csv = " + dir + " ", (*CSV)(nil), ""},
		{"", nil, "want KIND=TARGET"},
		{"prometheus", nil, "want KIND=TARGET"},
		{"=127.0.0.1:9464", nil, "want KIND=TARGET"},
		{"influxdb=http://127.0.0.1:8086", nil, `unknown kind "influxdb" (want prometheus, otlp, prometheus-rw, csv)`},
		{"prometheus-rw=" + rcv.URL + "/api/v1/write", (*RemoteWrite)(nil), ""},
		{"prometheus-rw=" + rcv.URL + "/api/v1/write|timeout=2s,batch=500,queue=10,retries=0", (*RemoteWrite)(nil), ""},
		{"prometheus-rw=127.0.0.1:9090", nil, "want an http:// or https:// URL"},
		{"prometheus-rw=http://u:secret@127.0.0.1:9090/api/v1/write", nil, "password_file"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|colour=red", nil, "unknown option"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|batch=0", nil, "want 1..1000000"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|user=u", nil, "needs both user= and password_file="},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|user=u,password_file=/nonexistent/pw", nil, "password_file"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|bearer_token_file=/nonexistent/tok", nil, "bearer_token_file"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|bearer_token_file=t,user=u,password_file=p", nil, "exclude each other"},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|cert_file=c", nil, "needs both cert_file= and key_file="},
		{"prometheus-rw=http://127.0.0.1:9090/api/v1/write|ca_file=/nonexistent/ca", nil, "ca_file"},
		{"Prometheus=127.0.0.1:9464", nil, "unknown kind"},
		{"prometheus=", nil, "needs a target"},
		{"prometheus=0.0.0.0:9464", nil, "refusing to serve metrics beyond this host"},
		{"prometheus=9464", nil, "want host:port"},
		{"otlp=127.0.0.1:4318", nil, "want an http:// or https:// URL"},
		{"csv=" + filepath.Join(dir, "x\x00y"), nil, "csv:"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseOut(tt.spec)
			if tt.wantErr != "" {
				if err == nil {
					s.Close(context.Background(), nil)
					t.Fatalf("ParseOut succeeded, want an error with %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want %q in it", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := s.Close(ctx, nil); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			switch tt.want.(type) {
			case *Prometheus:
				p, ok := s.(*Prometheus)
				if !ok {
					t.Fatalf("sink is %T, want *Prometheus", s)
				}
				if ip := p.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
					t.Errorf("listening on %v, want loopback", ip)
				}
			case *OTLP:
				if _, ok := s.(*OTLP); !ok {
					t.Errorf("sink is %T, want *OTLP", s)
				}
			case *CSV:
				if _, ok := s.(*CSV); !ok {
					t.Errorf("sink is %T, want *CSV", s)
				}
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"prometheus=127.0.0.1:9464", "otlp=http://127.0.0.1:4318", "csv=out", "=", "x=y=z", " csv = a "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		kind, target, err := parseSpec(spec)
		if err != nil {
			return
		}
		if !slices.Contains(kinds, kind) || target == "" {
			t.Errorf("parseSpec(%q) = %q, %q; want a known kind and a target", spec, kind, target)
		}
		if kind == "prometheus" {
			if addr, err := listenAddr(target, false); err == nil {
				host, _, _ := net.SplitHostPort(addr)
				if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
					t.Errorf("listenAddr(%q) = %q, which is not loopback", target, addr)
				}
			}
		}
		if kind == "otlp" {
			_, _ = otlpURL(target)
		}
	})
}

// fakeSink records what it was fed.
type fakeSink struct {
	ticks  []time.Duration
	closed int
	err    error
}

func (f *fakeSink) Tick(elapsed time.Duration, _ metrics.Point, _ *metrics.Run) {
	f.ticks = append(f.ticks, elapsed)
}

func (f *fakeSink) Close(context.Context, *report.Summary) error {
	f.closed++
	return f.err
}

func TestMulti(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	a, b, c := &fakeSink{err: errA}, &fakeSink{}, &fakeSink{err: errB}
	m := Multi{a, b, c}
	m.Tick(time.Second, metrics.Point{}, nil)
	m.Tick(2*time.Second, metrics.Point{}, nil)
	err := m.Close(context.Background(), nil)
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Close = %v, want both errors", err)
	}
	for i, s := range []*fakeSink{a, b, c} {
		if s.closed != 1 || len(s.ticks) != 2 {
			t.Errorf("sink %d: %d ticks, closed %d times; want 2 and 1", i, len(s.ticks), s.closed)
		}
	}
}

func TestStateNames(t *testing.T) {
	tests := []struct {
		name      string
		names     []string
		wantNames []string
		wantReqs  []int64
	}{
		{"distinct", []string{"a", "b"}, []string{"a", "b"}, []int64{1, 2}},
		{"duplicates merge", []string{"a", "b", "a"}, []string{"a", "b"}, []int64{4, 2}},
		{"invalid UTF-8 is repaired", []string{"a\xffb", "ok"}, []string{"a\uFFFDb", "ok"}, []int64{1, 2}},
		{"repair that collides merges", []string{"a\xffb", "a\uFFFDb"}, []string{"a\uFFFDb"}, []int64{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &metrics.Run{Names: tt.names, Total: metrics.NewStats()}
			for i := range tt.names {
				st := metrics.NewStats()
				for range i + 1 {
					st.Record(metrics.Outcome{Status: 200, Latency: time.Millisecond})
				}
				run.ByName = append(run.ByName, st)
			}
			var s state
			for range 2 { // the second tick reuses the slots and must not double count
				s.update(metrics.Point{}, run)
			}
			v, _ := s.snapshot()
			var names []string
			var reqs []int64
			for _, n := range v.names {
				names, reqs = append(names, n.name), append(reqs, n.requests)
			}
			if !slices.Equal(names, tt.wantNames) || !slices.Equal(reqs, tt.wantReqs) {
				t.Errorf("names %q requests %v, want %q %v", names, reqs, tt.wantNames, tt.wantReqs)
			}
		})
	}
}

func TestStateWithoutRun(t *testing.T) {
	var s state
	p := metrics.Point{Span: time.Second, Requests: 10, Failed: 2, Dropped: 1, BytesIn: 100, Clients: 3, P99: 2 * time.Millisecond}
	p.Errors[metrics.ErrTimeout] = 2
	s.update(p, nil)
	s.update(p, nil)
	v, _ := s.snapshot()
	if len(v.names) != 1 || v.names[0].name != "" || v.names[0].requests != 20 || v.names[0].failed != 4 ||
		v.names[0].errors[metrics.ErrTimeout] != 4 || v.dropped != 2 || v.names[0].bytesIn != 200 ||
		v.clients != 3 || v.rps != 10 || v.latencyS[3] != 0.002 {
		t.Errorf("values %+v, want the points summed under the name \"\"", v)
	}
}

func TestStateFinal(t *testing.T) {
	var s state
	var lastP metrics.Point
	run := feed(shopNames, shopTicks, func(p metrics.Point, run *metrics.Run) {
		s.update(p, run)
		lastP = p
	})
	before, _ := s.snapshot()
	s.final(shopSummary(run))
	after, _ := s.snapshot()
	if !reflect.DeepEqual(before.names, after.names) || before.dropped != after.dropped {
		t.Errorf("the summary's counters differ from the run's:\n before %+v\n after  %+v", before, after)
	}
	if after.clients != lastP.Clients || after.rps != lastP.RPS() {
		t.Errorf("final changed the gauges: %+v", after)
	}
}

func TestStateFinishTakesTheLastPartialInterval(t *testing.T) {
	rec := metrics.NewRecorder(1)
	col := metrics.NewCollector([]string{"a"}, []*metrics.Recorder{rec})
	for range 10 {
		rec.Record(0, metrics.Outcome{Status: 200, Latency: time.Millisecond})
	}
	var s state
	p := col.Tick(time.Second, 4)
	s.update(p, col.Run())
	// What finishes after the last whole second reaches no Tick.
	for range 5 {
		rec.Record(0, metrics.Outcome{Status: 200, Latency: 2 * time.Second})
	}
	col.Tick(1300*time.Millisecond, 0)
	s.finish(col.Run())
	v, _ := s.snapshot()
	if n := v.names[0]; n.requests != 15 || n.latency.count != 15 || n.latency.counts[len(n.latency.counts)-1] != 0 {
		t.Errorf("after finish: %d requests, %d latencies, want 15 of each", n.requests, n.latency.count)
	}
	if v.clients != 4 || v.rps != p.RPS() {
		t.Errorf("finish changed the gauges: clients %d rps %v, want the last tick's %d %v", v.clients, v.rps, p.Clients, p.RPS())
	}
}

// TestHistOfHoldsFukasPercentiles: the bucket where the cumulative count
// reaches a percentile's rank is the bucket fuka's percentile is in, so
// histogram_quantile() over the buckets is within a bucket of fuka.
func TestHistOfHoldsFukasPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{-10, 1, 7, 100, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			st := metrics.NewStats()
			for range n {
				// log-uniform from 20 µs to 5 s
				d := time.Duration(20e3 * math.Pow(250e3, rng.Float64()))
				st.Record(metrics.Outcome{Status: 200, Latency: d, Service: d})
			}
			if n < 0 {
				// 250 ms is a bound, but fuka reports it as 250.111 ms (the
				// HDR bucket's highest value): it belongs above the bound.
				n = -n
				for range n {
					st.Record(metrics.Outcome{Status: 200, Latency: 250 * time.Millisecond})
				}
			}
			h := histOf(st.Latency)
			cum := h.cumulative()
			if h.count != uint64(n) || cum[len(cum)-1] != uint64(n) {
				t.Fatalf("count %d, +Inf %d, want %d", h.count, cum[len(cum)-1], n)
			}
			for _, q := range []float64{1, 50, 90, 99, 99.9, 100} {
				rank := max(uint64(1), uint64(q/100*float64(n)+0.5))
				b := 0
				for cum[b] < rank {
					b++
				}
				lo, hi := 0.0, math.Inf(1)
				if b > 0 {
					lo = LatencyBounds[b-1]
				}
				if b < len(LatencyBounds) {
					hi = LatencyBounds[b]
				}
				p := metrics.Percentile(st.Latency, q).Seconds()
				if p <= lo || p > hi {
					t.Errorf("p%v = %v s, but the buckets put it in (%v, %v]", q, p, lo, hi)
				}
			}
		})
	}
}
