package profile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/fuka-load/fuka/report"
)

// newPprofServer serves net/http/pprof on 127.0.0.1 from its own mux, never
// the default one, so tests share no global handlers.
func newPprofServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// testCtx bounds a test's network work.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// burnFukaTestCPU spins until stop is closed, partly in its own loop (so it
// has flat time of its own) and partly in sha256.
//
//go:noinline
func burnFukaTestCPU(stop <-chan struct{}) uint64 {
	var buf [4096]byte
	x := uint64(1)
	for {
		select {
		case <-stop:
			return x
		default:
		}
		for i := range buf {
			x = x*6364136223846793005 + 1442695040888963407
			buf[i] = byte(x >> 56)
		}
		sum := sha256.Sum256(buf[:])
		x ^= binary.LittleEndian.Uint64(sum[:])
	}
}

func TestCaptureCPU(t *testing.T) {
	srv := newPprofServer(t)
	ctx := testCtx(t)
	stop := make(chan struct{})
	sink := make(chan uint64, 1)
	go func() { sink <- burnFukaTestCPU(stop) }()
	timer := time.AfterFunc(6*time.Second, func() { close(stop) }) // bound even if the test dies
	defer func() {
		if timer.Stop() {
			close(stop)
		}
		<-sink
	}()

	dir := t.TempDir()
	p := Capture(ctx, srv.Client(), Spec{URL: srv.URL, Seconds: 2}, "cpu", dir, 10)
	if p.Err != "" {
		t.Fatalf("capture: %s", p.Err)
	}
	if p.SampleType != "cpu" || p.Unit != "seconds" {
		t.Errorf("sample type %q unit %q, want cpu seconds", p.SampleType, p.Unit)
	}
	// One busy goroutine gets up to 2s of CPU; on a machine shared with
	// other test packages it may get far less, but never none.
	if p.Total < 0.1 || p.Total > 10 {
		t.Errorf("total %.2fs of CPU in a 2s profile of one busy goroutine", p.Total)
	}
	checkFile(t, p, dir, "cpu")
	t.Log("\n" + TopText([]Profile{p}, 5))

	byCum := slices.Clone(p.Top)
	slices.SortStableFunc(byCum, func(a, b Func) int { return -cmpFloat(a.Cum, b.Cum) })
	i := slices.IndexFunc(byCum, func(f Func) bool { return strings.Contains(f.Name, "burnFukaTestCPU") })
	if i < 0 || i >= 3 {
		t.Fatalf("burnFukaTestCPU is not in the top 3 by cum:\n%s", TopText([]Profile{p}, 0))
	}
	// A share, not seconds: on a loaded machine the goroutine may get
	// 0.3 s of the 2 s, but it is still nearly all of the profile.
	if f := byCum[i]; f.CumPct < 50 {
		t.Errorf("burnFukaTestCPU cum %.2fs (%.1f%%), want most of the profile", f.Cum, f.CumPct)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fukaTestHeap holds holdFukaTestHeap's allocation, so the heap profile
// sees it in use.
var fukaTestHeap []byte

//go:noinline
func holdFukaTestHeap() {
	fukaTestHeap = make([]byte, 64<<20)
}

func TestCaptureHeap(t *testing.T) {
	srv := newPprofServer(t)
	holdFukaTestHeap()
	t.Cleanup(func() { fukaTestHeap = nil })
	// The heap profile is as of the last completed GC.
	runtime.GC()

	dir := t.TempDir()
	p := Capture(testCtx(t), srv.Client(), Spec{URL: srv.URL + "/debug/pprof/"}, "heap", dir, 5)
	if p.Err != "" {
		t.Fatalf("capture: %s", p.Err)
	}
	if p.SampleType != "inuse_space" || p.Unit != "bytes" {
		t.Errorf("sample type %q unit %q, want inuse_space bytes", p.SampleType, p.Unit)
	}
	if len(p.Top) == 0 || !strings.Contains(p.Top[0].Name, "holdFukaTestHeap") {
		t.Fatalf("holdFukaTestHeap is not at the top:\n%s", TopText([]Profile{p}, 0))
	}
	if f := p.Top[0]; f.Flat < 60<<20 || f.Flat > 70<<20 {
		t.Errorf("holdFukaTestHeap flat %s, want about 64 MiB", report.FormatBytes(f.Flat))
	}
	checkFile(t, p, dir, "heap")
	t.Log("\n" + TopText([]Profile{p}, 3))
}

//go:noinline
func parkFukaTestGoroutine(ready *sync.WaitGroup, release <-chan struct{}) {
	ready.Done()
	<-release
}

func TestCaptureGoroutine(t *testing.T) {
	srv := newPprofServer(t)
	const parked = 25
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(parked)
	for range parked {
		done.Go(func() { parkFukaTestGoroutine(&ready, release) })
	}
	defer func() { close(release); done.Wait() }()
	ready.Wait()

	dir := t.TempDir()
	p := Capture(testCtx(t), srv.Client(), Spec{URL: srv.URL}, "goroutine", dir, 0)
	if p.Err != "" {
		t.Fatalf("capture: %s", p.Err)
	}
	if p.SampleType != "goroutine" || p.Unit != "count" {
		t.Errorf("sample type %q unit %q, want goroutine count", p.SampleType, p.Unit)
	}
	i := slices.IndexFunc(p.Top, func(f Func) bool { return strings.Contains(f.Name, "parkFukaTestGoroutine") })
	if i < 0 {
		t.Fatalf("parkFukaTestGoroutine missing:\n%s", TopText([]Profile{p}, 0))
	}
	if got := p.Top[i].Cum; got != parked {
		t.Errorf("parkFukaTestGoroutine holds %v goroutines, want %d", got, parked)
	}
	if p.Total < parked {
		t.Errorf("total %v goroutines, want at least %d", p.Total, parked)
	}
	checkFile(t, p, dir, "goroutine")
}

// checkFile checks the profile was written where the name scheme says and
// reads back as a pprof profile.
func checkFile(t *testing.T, p Profile, dir, kind string) {
	t.Helper()
	u := strings.TrimPrefix(p.URL, "http://")
	host := strings.ReplaceAll(strings.TrimSuffix(strings.SplitN(u, "/", 2)[0], "/"), ":", "_")
	want := filepath.Join(dir, kind+"-"+host+"-1.pb.gz")
	if p.File != want {
		t.Fatalf("file %q, want %q", p.File, want)
	}
	b, err := os.ReadFile(p.File)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("%s is not gzipped", p.File)
	}
	if _, err := profile.ParseData(b); err != nil {
		t.Errorf("%s does not parse: %v", p.File, err)
	}
}

func TestCaptureErrors(t *testing.T) {
	// A port that was just free: connecting is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	empty := httptest.NewServer(http.NewServeMux())
	t.Cleanup(empty.Close)

	junk := http.NewServeMux()
	junk.HandleFunc("/debug/pprof/heap", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html>this is not a profile</html>\n"))
	})
	junk.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "profiling disabled\nsecond line", http.StatusServiceUnavailable)
	})
	junkSrv := httptest.NewServer(junk)
	t.Cleanup(junkSrv.Close)

	cases := []struct {
		name, url, kind string
		want            []string // substrings of Err
	}{
		{"unreachable", closed, "heap", []string{closed + "/debug/pprof/heap", "connection refused"}},
		{"404", empty.URL, "goroutine", []string{"GET " + empty.URL + "/debug/pprof/goroutine: 404 Not Found: 404 page not found"}},
		{"not a profile", junkSrv.URL, "heap", []string{"heap from " + junkSrv.URL + ": not a pprof profile: "}},
		{"refused with a reason", junkSrv.URL, "goroutine", []string{"503 Service Unavailable: profiling disabled"}},
		{"unknown kind", junkSrv.URL, "trace", []string{`unknown kind "trace"`}},
		{"bad url", "127.0.0.1:6060", "heap", []string{`url "127.0.0.1:6060": want http://`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := Capture(testCtx(t), nil, Spec{URL: c.url}, c.kind, dir, 10)
			for _, w := range c.want {
				if !strings.Contains(p.Err, w) {
					t.Errorf("Err = %q, want it to contain %q", p.Err, w)
				}
			}
			if strings.Contains(p.Err, "second line") {
				t.Errorf("Err = %q keeps more than the first line of the body", p.Err)
			}
			if p.File != "" || p.Top != nil || p.Kind != c.kind || p.URL != c.url {
				t.Errorf("failed capture = %+v", p)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("failed capture left %d files in dir", len(ents))
			}
		})
	}
}

func TestCaptureCancelled(t *testing.T) {
	srv := newPprofServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	p := Capture(ctx, srv.Client(), Spec{URL: srv.URL, Seconds: 5}, "cpu", t.TempDir(), 10)
	if p.Err == "" || !strings.Contains(p.Err, "deadline exceeded") {
		t.Errorf("Err = %q, want a deadline error", p.Err)
	}
	if el := time.Since(began); el > 3*time.Second {
		t.Errorf("cancelled capture took %v", el)
	}
}

// TestCaptureUncompressed serves a hand-made, uncompressed profile: Capture
// parses it and stores it gzipped, numbering files so none is overwritten.
func TestCaptureUncompressed(t *testing.T) {
	var raw bytes.Buffer
	if err := testProfile().WriteUncompressed(&raw); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/block", func(w http.ResponseWriter, _ *http.Request) { w.Write(raw.Bytes()) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	for n := 1; n <= 2; n++ {
		p := Capture(testCtx(t), srv.Client(), Spec{URL: srv.URL}, "block", dir, 10)
		if p.Err != "" {
			t.Fatal(p.Err)
		}
		if !strings.HasSuffix(p.File, "-"+string(rune('0'+n))+".pb.gz") {
			t.Errorf("capture %d written to %s", n, p.File)
		}
		if p.SampleType != "delay" || p.Unit != "seconds" || len(p.Top) == 0 || p.Top[0].Name != "main.leaf" {
			t.Errorf("capture %d = %+v", n, p)
		}
	}
	checkFile(t, Profile{URL: srv.URL, File: filepath.Join(dir, "block-"+strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_")+"-1.pb.gz")}, dir, "block")
}
