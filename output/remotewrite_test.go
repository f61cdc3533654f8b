package output

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fuka-load/fuka/metrics"
)

// rwPoint is one decoded sample.
type rwPoint struct {
	v float64
	t int64
}

// rwReceiver is a remote-write receiver: it checks each push the way
// Prometheus does (headers, snappy, protobuf, sorted labels) and keeps the
// samples.
type rwReceiver struct {
	*httptest.Server
	// answer, if set, answers push n (from 0) instead of 204.
	answer func(n int, w http.ResponseWriter) bool

	mu       sync.Mutex
	pushes   int
	sizes    []int                // samples per accepted push
	auth     []string             // Authorization of each push
	series   map[string][]rwPoint // key -> samples in arrival order
	problems []string
}

func newRWReceiver(t *testing.T, tlsServer bool, answer func(n int, w http.ResponseWriter) bool) *rwReceiver {
	r := &rwReceiver{answer: answer, series: map[string][]rwPoint{}}
	if tlsServer {
		r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	} else {
		r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	}
	t.Cleanup(func() {
		r.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range r.problems {
			t.Errorf("receiver: %s", p)
		}
	})
	return r
}

func (r *rwReceiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	n := r.pushes
	r.pushes++
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	if r.answer != nil && r.answer(n, w) {
		return
	}
	problem := func(format string, args ...any) {
		r.mu.Lock()
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
		r.mu.Unlock()
		http.Error(w, "bad request", http.StatusBadRequest)
	}
	for h, want := range map[string]string{
		"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
	} {
		if got := req.Header.Get(h); got != want {
			problem("%s %q, want %q", h, got, want)
			return
		}
	}
	if req.Method != http.MethodPost || req.URL.Path != "/api/v1/write" {
		problem("%s %s, want POST /api/v1/write", req.Method, req.URL.Path)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 32<<20))
	if err != nil {
		problem("read: %v", err)
		return
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		problem("snappy: %v", err)
		return
	}
	got, err := decodeWriteRequest(raw)
	if err != nil {
		problem("decode: %v", err)
		return
	}
	r.mu.Lock()
	r.sizes = append(r.sizes, len(got))
	for _, s := range got {
		r.series[s.key] = append(r.series[s.key], s.p)
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

type decoded struct {
	key string
	p   rwPoint
}

// decodeWriteRequest reads prometheus.WriteRequest with one sample a
// series, as fuka sends it, checking that labels are sorted, unique,
// non-empty and start with __name__.
func decodeWriteRequest(b []byte) ([]decoded, error) {
	var out []decoded
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return nil, fmt.Errorf("WriteRequest: field %d type %d", num, typ)
		}
		b = b[n:]
		ts, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errors.New("TimeSeries: truncated")
		}
		b = b[n:]
		var labels []string // name, value, ...
		var samples []rwPoint
		for len(ts) > 0 {
			num, typ, n := protowire.ConsumeTag(ts)
			if n < 0 || typ != protowire.BytesType {
				return nil, fmt.Errorf("TimeSeries: field %d type %d", num, typ)
			}
			ts = ts[n:]
			item, n := protowire.ConsumeBytes(ts)
			if n < 0 {
				return nil, errors.New("TimeSeries: truncated item")
			}
			ts = ts[n:]
			fields := map[protowire.Number][]byte{}
			for len(item) > 0 {
				f, ft, n := protowire.ConsumeTag(item)
				if n < 0 {
					return nil, errors.New("bad tag")
				}
				item = item[n:]
				n = protowire.ConsumeFieldValue(f, ft, item)
				if n < 0 {
					return nil, errors.New("bad field")
				}
				fields[f] = item[:n]
				item = item[n:]
			}
			switch num {
			case 1:
				name, _ := protowire.ConsumeString(fields[1])
				value, _ := protowire.ConsumeString(fields[2])
				labels = append(labels, name, value)
			case 2:
				v, _ := protowire.ConsumeFixed64(fields[1])
				t, _ := protowire.ConsumeVarint(fields[2])
				samples = append(samples, rwPoint{math.Float64frombits(v), int64(t)})
			default:
				return nil, fmt.Errorf("TimeSeries: field %d", num)
			}
		}
		if len(labels) < 2 || labels[0] != "__name__" {
			return nil, fmt.Errorf("labels %q: want __name__ first", labels)
		}
		for i := 2; i < len(labels); i += 2 {
			if labels[i] <= labels[i-2] {
				return nil, fmt.Errorf("labels %q: not sorted or repeated", labels)
			}
			if labels[i+1] == "" {
				return nil, fmt.Errorf("labels %q: empty value", labels)
			}
		}
		if len(samples) != 1 {
			return nil, fmt.Errorf("%s: %d samples, want 1", labels[1], len(samples))
		}
		out = append(out, decoded{key(labels[1], labels[2:]...), samples[0]})
	}
	return out, nil
}

// latest returns each series' last value; it fails the test when a
// series' timestamps go backwards.
func (r *rwReceiver) latest(t *testing.T) map[string]float64 {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]float64{}
	for k, ps := range r.series {
		for i := 1; i < len(ps); i++ {
			if ps[i].t < ps[i-1].t {
				t.Errorf("%s: timestamp %d after %d", k, ps[i].t, ps[i-1].t)
			}
		}
		out[k] = ps[len(ps)-1].v
	}
	return out
}

func (r *rwReceiver) stats() (pushes int, sizes []int, auth []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pushes, slices.Clone(r.sizes), slices.Clone(r.auth)
}

func newTestRW(t *testing.T, c RemoteWriteConfig) *RemoteWrite {
	t.Helper()
	w, err := NewRemoteWrite(c, RunID(testRunID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background(), nil) })
	return w
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRemoteWritePushesEverySeries(t *testing.T) {
	rcv := newRWReceiver(t, false, nil)
	w := newTestRW(t, RemoteWriteConfig{URL: rcv.URL + "/api/v1/write"})
	var lastP metrics.Point
	var lastRun *metrics.Run
	run := feed(shopNames, shopTicks, func(p metrics.Point, run *metrics.Run) {
		w.Tick(p.At, p, run)
		lastP, lastRun = p, run
		// Each tick is pushed on its own, with every series.
		want := wantSeries(p, run)
		waitFor(t, fmt.Sprintf("the tick at %v", p.At), func() bool {
			got := rcv.latest(t)
			for k, v := range want {
				if got[k] != v {
					return false
				}
			}
			return true
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx, shopSummary(run)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	diffSeries(t, rcv.latest(t), wantSeries(lastP, lastRun))
	if ws := w.Warnings(); ws != nil {
		t.Errorf("Warnings = %q, want none", ws)
	}
}

func TestRemoteWriteAuthAndTLS(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("pw", "s3cret\n")
	tok := write("tok", "tok-123\n")
	tests := []struct {
		name     string
		tls      bool
		opts     string // after the URL's '|'
		wantAuth string
		wantErr  string // in Close's error; "" = delivered
	}{
		{"no auth", false, "", "", ""},
		{"basic", false, "user=fuka,password_file=" + pw, "Basic ZnVrYTpzM2NyZXQ=", ""},
		{"bearer", false, "bearer_token_file=" + tok, "Bearer tok-123", ""},
		{"tls with ca_file", true, "bearer_token_file=" + tok + ",ca_file=CA", "Bearer tok-123", ""},
		{"tls unverified", true, "", "", "certificate"},
		{"tls insecure_skip_verify", true, "insecure_skip_verify=true", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newRWReceiver(t, tt.tls, nil)
			opts := tt.opts
			if tt.tls {
				ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rcv.Certificate().Raw})
				opts = strings.ReplaceAll(opts, "ca_file=CA", "ca_file="+write("ca.pem", string(ca)))
				rcv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
				rcv.TLS.MinVersion = tls.VersionTLS12
			}
			target := rcv.URL + "/api/v1/write"
			if opts != "" {
				target += "|" + opts + ",retries=0"
			} else {
				target += "|retries=0"
			}
			c, err := ParseRemoteWrite(target)
			if err != nil {
				t.Fatal(err)
			}
			w := newTestRW(t, c)
			run := feed(shopNames, shopTicks[:1], func(p metrics.Point, run *metrics.Run) { w.Tick(p.At, p, run) })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = w.Close(ctx, shopSummary(run))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Close = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			_, _, auth := rcv.stats()
			if len(auth) == 0 {
				t.Fatal("nothing pushed")
			}
			for _, a := range auth {
				if a != tt.wantAuth {
					t.Errorf("Authorization %q, want %q", a, tt.wantAuth)
				}
			}
		})
	}
}

func TestRemoteWriteBatches(t *testing.T) {
	// The receiver holds the first push until three more ticks are
	// queued: those go out together, each push at most batch samples.
	release := make(chan struct{})
	rcv := newRWReceiver(t, false, func(n int, w http.ResponseWriter) bool {
		if n == 0 {
			<-release
		}
		return false
	})
	const batch = 700
	w := newTestRW(t, RemoteWriteConfig{URL: rcv.URL + "/api/v1/write", Batch: batch})
	var lastP metrics.Point
	var lastRun *metrics.Run
	run := feed(shopNames, shopTicks, func(p metrics.Point, run *metrics.Run) {
		w.Tick(p.At, p, run)
		lastP, lastRun = p, run
		// Wait until the encoder has queued the tick.
		waitFor(t, "the tick queued", func() bool { return len(w.kick) == 0 && w.unencoded.Load() == 0 })
	})
	// Every tick encoded and queued (a sleep is not enough on a busy machine).
	waitFor(t, "every tick queued", func() bool { return w.samples.Load() == int64(len(w.series())*len(shopTicks)) })
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx, shopSummary(run)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	pushes, sizes, _ := rcv.stats()
	perTick := len(w.series())
	total := 0
	for _, n := range sizes {
		total += n
		if n > batch {
			t.Errorf("a push of %d samples, want at most %d", n, batch)
		}
	}
	// Ticks 2, 3 and the final one waited together: full batches.
	if total != perTick*(len(shopTicks)+1) {
		t.Errorf("%d samples pushed, want %d (%d ticks + the final of %d)", total, perTick*(len(shopTicks)+1), len(shopTicks), perTick)
	}
	full := 0
	for _, n := range sizes {
		if n == batch {
			full++
		}
	}
	if perTick >= batch || full < 2 || pushes > (total+batch-1)/batch+1 {
		t.Errorf("pushes %v: want the waiting ticks combined into full batches of %d", sizes, batch)
	}
	diffSeries(t, rcv.latest(t), wantSeries(lastP, lastRun))
}

func TestRemoteWriteRetries(t *testing.T) {
	tests := []struct {
		name       string
		fail       int // pushes answered with status before the receiver accepts
		status     int
		wantPushes int
		wantLost   bool
	}{
		{"503 then accepted", 2, http.StatusServiceUnavailable, 3, false},
		{"429 then accepted", 1, http.StatusTooManyRequests, 2, false},
		{"400 is not retried", 1, http.StatusBadRequest, 1, true},
		{"503 beyond the retries", 10, http.StatusServiceUnavailable, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newRWReceiver(t, false, func(n int, w http.ResponseWriter) bool {
				if n < tt.fail {
					http.Error(w, "try later", tt.status)
					return true
				}
				return false
			})
			w := newTestRW(t, RemoteWriteConfig{URL: rcv.URL + "/api/v1/write", Retries: 3})
			run := feed(shopNames, shopTicks[:1], nil)
			w.Tick(time.Second, run.Timeline[0], run)
			waitFor(t, "the push and its retries", func() bool {
				return w.sent.Load()+w.failed.Load() > 0
			})
			pushes, _, _ := rcv.stats()
			if pushes != tt.wantPushes {
				t.Errorf("%d pushes, want %d", pushes, tt.wantPushes)
			}
			lost := w.Warnings()
			if (lost != nil) != tt.wantLost {
				t.Errorf("Warnings = %q, want lost %v", lost, tt.wantLost)
			}
			if tt.wantLost && !strings.Contains(lost[0], "after failed pushes") {
				t.Errorf("Warnings = %q, want the failed pushes said", lost)
			}
		})
	}
}

func TestRemoteWriteNeverSlowsTheLoad(t *testing.T) {
	// A receiver that never answers: each Tick must still return at once,
	// the queue must stay bounded (the oldest ticks dropped and counted),
	// and Close must give up when its context ends.
	hang := make(chan struct{})
	rcv := newRWReceiver(t, false, func(_ int, w http.ResponseWriter) bool {
		<-hang
		return true
	})
	t.Cleanup(func() { close(hang) })
	const queue = 3
	w := newTestRW(t, RemoteWriteConfig{URL: rcv.URL + "/api/v1/write", Queue: queue, Timeout: 2 * time.Second})
	run := feed(shopNames, shopTicks, nil)
	p := run.Timeline[len(run.Timeline)-1]
	const ticks = 40
	var ticking time.Duration
	for range ticks {
		start := time.Now()
		w.Tick(p.At, p, run)
		ticking += time.Since(start)
		time.Sleep(2 * time.Millisecond) // let the encoder take the kick
	}
	t.Logf("%d Ticks took %v", ticks, ticking)
	// A Tick that waited for the receiver would wait at least a push's
	// Timeout (2s) once the queue is full: over a minute for the ticks
	// after it. The bound leaves room for a loaded machine and -race.
	if ticking > 30*time.Second {
		t.Errorf("%d Ticks took %v with the receiver hanging, want them not to wait for it", ticks, ticking)
	}
	waitFor(t, "drops", func() bool { return w.dropped.Load() > 0 })
	if n := len(w.queue); n > queue {
		t.Errorf("queue holds %d ticks, want at most %d", n, queue)
	}
	ws := w.Warnings()
	if len(ws) != 1 || !strings.Contains(ws[0], "dropped with the queue full") || !strings.Contains(ws[0], "not affected") {
		t.Errorf("Warnings = %q, want the drops counted", ws)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := w.Close(ctx, shopSummary(run))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v with its context ending after 300ms", took)
	}
	if err == nil || !strings.Contains(err.Error(), "not delivered") {
		t.Errorf("Close = %v, want the lost samples reported", err)
	}
	if w.sent.Load() != 0 || w.dropped.Load()+w.failed.Load() != w.samples.Load() {
		t.Errorf("sent %d, dropped %d, failed %d of %d: every sample must be counted", w.sent.Load(), w.dropped.Load(), w.failed.Load(), w.samples.Load())
	}
}
