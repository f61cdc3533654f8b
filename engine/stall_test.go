//go:build linux

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The stall test freezes a real process: this test binary, run again as a
// child that sends an open-model load, is stopped with SIGSTOP and resumed
// with SIGCONT, as a paused container or a suspended host would be.

const stallChildEnv = "FUKA_ENGINE_STALL_CHILD" // the target's URL, in the child

// stallResult is what the child reports.
type stallResult struct {
	Requests, Scheduled, Dropped int64
}

// TestStallChild is the child's side of TestStalledRunDropsBacklog.
func TestStallChild(t *testing.T) {
	url := os.Getenv(stallChildEnv)
	if url == "" {
		t.Skip("the child process of TestStalledRunDropsBacklog")
	}
	cfg := Config{Load: Open{Rate: rate(t, "300", 5*time.Second), MaxClients: 2000}, Work: Request{Request: newReq(t, "GET", url, nil, nil), Timeout: 5 * time.Second}, Loops: 1, ForceStd: os.Getenv("FUKA_ENGINE_STALL_STD") != ""}
	if os.Getenv("FUKA_ENGINE_STALL_CLOSED") != "" {
		// The closed model's throughput cap: many clients, each free to
		// send whenever the cap allows.
		cfg.Load = Closed{Clients: 50, MaxRPS: 300, Duration: 5 * time.Second}
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(stallResult{res.Run.Total.Requests, res.Scheduled, res.Run.Dropped})
	fmt.Printf("RESULT %s\n", b)
}

// TestStalledRunDropsBacklog: a run frozen for 2.5 s and resumed does not
// fire the starts that fell due meanwhile in one burst. Those overdue by
// more than a second are dropped and counted (open model) or not made up
// (the closed model's cap); the target sees no more than about a second's
// worth at once, and exactly the requests the run reports.
func TestStalledRunDropsBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process for 5 s")
	}
	const (
		perSec = 300
		pause  = 2500 * time.Millisecond
	)
	for _, tc := range []struct {
		model string
		tr    transport
	}{{"open", transports[0]}, {"open", transports[1]}, {"closed", transports[0]}, {"closed", transports[1]}} {
		tr, closed := tc.tr, tc.model == "closed"
		t.Run(tc.model+"/"+tr.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, time.Now())
				mu.Unlock()
				w.Write([]byte("ok"))
			}))
			defer srv.Close()
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(seen)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestStallChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), stallChildEnv+"="+srv.URL+"/")
			if tr.std {
				cmd.Env = append(cmd.Env, "FUKA_ENGINE_STALL_STD=1")
			}
			if closed {
				cmd.Env = append(cmd.Env, "FUKA_ENGINE_STALL_CLOSED=1")
			}
			var out syncWriter
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			deadline := time.Now().Add(20 * time.Second)
			for count() < 50 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(pause)
			resumed := time.Now()
			if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("child: %v\n%s", err, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("child did not end\n%s", out.String())
			}
			var res stallResult
			if err := json.Unmarshal([]byte(resultLine(out.String())), &res); err != nil {
				t.Fatalf("no result from the child: %v\n%s", err, out.String())
			}
			mu.Lock()
			times := append([]time.Time(nil), seen...)
			mu.Unlock()
			sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
			// The most requests the target saw within 200 ms after the
			// resume: the burst.
			burst := 0
			for i, a := range times {
				if a.Before(resumed) {
					continue
				}
				n := sort.Search(len(times), func(j int) bool { return times[j].After(a.Add(200 * time.Millisecond)) }) - i
				burst = max(burst, n)
			}
			t.Logf("child: %+v; target %d; largest 200 ms burst after the resume %d", res, len(times), burst)
			if int64(len(times)) != res.Requests {
				t.Errorf("the target counted %d requests, the run reports %d", len(times), res.Requests)
			}
			// Starts due more than 1 s before the resume were not sent: at
			// least (pause - 1 s - the freeze's own lag) of them.
			least := int64(float64(perSec) * (pause - time.Second - 300*time.Millisecond).Seconds())
			switch {
			case closed && res.Requests > 5*perSec-least:
				t.Errorf("the capped run sent %d requests, want at most %d (the cap's backlog is not made up)", res.Requests, 5*perSec-least)
			case !closed && (res.Scheduled != 5*perSec || res.Requests+res.Dropped != res.Scheduled):
				t.Errorf("scheduled %d (want %d) = requests %d + dropped %d?", res.Scheduled, 5*perSec, res.Requests, res.Dropped)
			case !closed && res.Dropped < least:
				t.Errorf("dropped %d, want at least %d (the starts overdue by more than 1 s)", res.Dropped, least)
			}
			// At most a second's worth goes at once (plus 200 ms of the
			// ordinary load, and some slack); the whole 2.5 s backlog must
			// not.
			if max := perSec * 3 / 2; burst > max {
				t.Errorf("the target saw %d requests within 200 ms after the resume, want at most %d (one second's worth)", burst, max)
			}
		})
	}
}

// syncWriter is a bytes buffer two goroutines of exec may write.
type syncWriter struct {
	mu sync.Mutex
	b  []byte
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// resultLine returns what follows "RESULT " in the child's output.
func resultLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if r, ok := strings.CutPrefix(line, "RESULT "); ok {
			return r
		}
	}
	return ""
}
