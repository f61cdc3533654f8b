package profile

import (
	"context"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

// fakeCapture records when each kind was captured; a CPU profile takes its
// Seconds, or ends early with the context's error.
func fakeCapture(ctx context.Context, spec Spec, kind string) Profile {
	p := Profile{Kind: kind, URL: spec.URL, File: kind}
	if kind == "cpu" {
		p.Total = float64(spec.Seconds)
		select {
		case <-time.After(time.Duration(spec.Seconds) * time.Second):
		case <-ctx.Done():
			p.Err = ctx.Err().Error()
		}
	}
	return p
}

func TestRunSchedule(t *testing.T) {
	type got struct {
		kind    string
		started time.Duration
		seconds float64 // CPU profile length the capture was asked for
		err     string
	}
	const s = time.Second
	cases := []struct {
		name          string
		specs         []Spec
		planned, peak time.Duration
		cancelAt      time.Duration // 0: never
		want          []got
	}{
		{
			name: "peak: snapshots in the middle of the cpu window",
			specs: []Spec{
				{URL: "a", At: At{Peak: true}, Seconds: 4, Kinds: []string{"cpu", "heap"}},
				{URL: "b", At: At{Offset: 30 * s}, Kinds: []string{"goroutine"}},
			},
			planned: 20 * s, peak: 10 * s,
			want: []got{{"cpu", 8 * s, 4, ""}, {"heap", 10 * s, 0, ""}, {"goroutine", 20 * s, 0, ""}},
		},
		{
			name:    "defaults: cpu heap goroutine, 10s",
			specs:   []Spec{{URL: "a", At: At{Fraction: 0.5}}},
			planned: 60 * s,
			want:    []got{{"cpu", 25 * s, 10, ""}, {"heap", 30 * s, 0, ""}, {"goroutine", 30 * s, 0, ""}},
		},
		{
			name:    "run shorter than the cpu profile",
			specs:   []Spec{{URL: "a", At: At{Peak: true}, Kinds: []string{"heap", "cpu"}}},
			planned: 3500 * time.Millisecond, peak: 3 * s,
			want: []got{{"heap", 1500 * time.Millisecond, 0, ""}, {"cpu", 0, 3, ""}},
		},
		{
			name: "cancelled: in flight ends with an error, the rest is dropped",
			specs: []Spec{
				{URL: "a", At: At{Peak: true}, Seconds: 4, Kinds: []string{"cpu", "heap"}},
				{URL: "b", At: At{Offset: 15 * s}, Kinds: []string{"goroutine"}},
			},
			planned: 20 * s, peak: 10 * s, cancelAt: 9 * s,
			want: []got{{"cpu", 8 * s, 4, "context canceled"}},
		},
		{
			name:  "no specs",
			specs: nil, planned: 20 * s,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if c.cancelAt > 0 {
					time.AfterFunc(c.cancelAt, cancel)
				}
				ps := run(ctx, c.specs, time.Now(), c.planned, c.peak, fakeCapture)
				if len(ps) != len(c.want) {
					t.Fatalf("%d profiles, want %d: %+v", len(ps), len(c.want), ps)
				}
				for i, w := range c.want {
					p := ps[i]
					if p.Kind != w.kind || p.Started != w.started || p.Total != w.seconds || p.Err != w.err {
						t.Errorf("#%d = %s at %v (%vs) err %q; want %s at %v (%vs) err %q",
							i, p.Kind, p.Started, p.Total, p.Err, w.kind, w.started, w.seconds, w.err)
					}
				}
			})
		})
	}
}

// TestRun runs real captures against a real server, snapshots only so it
// takes well under a second.
func TestRun(t *testing.T) {
	srv := newPprofServer(t)
	dir := t.TempDir()
	specs := []Spec{
		{URL: srv.URL, At: At{Offset: 0}, Kinds: []string{"heap", "goroutine"}},
		{URL: srv.URL, At: At{Peak: true}, Kinds: []string{"goroutine"}},
	}
	start := time.Now()
	ps := Run(testCtx(t), specs, start, 2*time.Second, 300*time.Millisecond, dir)
	if len(ps) != 3 {
		t.Fatalf("%d profiles, want 3: %+v", len(ps), ps)
	}
	for i, want := range []struct {
		kind string
		at   time.Duration
	}{{"heap", 0}, {"goroutine", 0}, {"goroutine", 300 * time.Millisecond}} {
		p := ps[i]
		if p.Err != "" || p.Kind != want.kind || p.Started < want.at || p.Started > want.at+time.Second {
			t.Errorf("#%d = %s at %v err %q, want %s at %v", i, p.Kind, p.Started, p.Err, want.kind, want.at)
		}
		if _, err := os.Stat(p.File); err != nil || len(p.Top) == 0 {
			t.Errorf("#%d: file %q (%v), %d functions", i, p.File, err, len(p.Top))
		}
	}
	if ps[1].File == ps[2].File {
		t.Errorf("two goroutine profiles share %s", ps[1].File)
	}
}
