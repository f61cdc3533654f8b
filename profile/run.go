package profile

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// TopN is how many top functions Run keeps per profile; the summary shows
// fewer (TopText's n), the report may show them all.
const TopN = 20

// captureFunc is Capture with the client, dir and n bound; tests replace it.
type captureFunc func(ctx context.Context, spec Spec, kind string) Profile

// Run runs the profile specs of one run: call it in a goroutine when the
// load starts. It waits for each spec's start offset from start (see
// Spec.StartOffset), captures all its kinds concurrently, writes them under
// dir, and returns the profiles in spec order, then kind order. When ctx is
// cancelled it returns whatever was captured: captures not yet started are
// dropped, those in flight end with Err set.
//
// Within a spec, the CPU profile starts at the offset and the snapshot kinds
// (heap, goroutine, …) are taken in the middle of its window, which is the
// point At names unless the window was clamped to the run, so they show the
// target at the same moment the CPU profile is centred on. A CPU profile
// that cannot fit in a short run (planned < Seconds) is shortened to fit.
func Run(ctx context.Context, specs []Spec, start time.Time, planned, peak time.Duration, dir string) []Profile {
	client := &http.Client{} // deadlines are per request, from Capture
	return run(ctx, specs, start, planned, peak, func(ctx context.Context, spec Spec, kind string) Profile {
		return Capture(ctx, client, spec, kind, dir, TopN)
	})
}

// job is one kind of one spec, at its offset from the run's start.
type job struct {
	spec   Spec
	kind   string
	offset time.Duration
}

// jobs expands specs into one job per kind, in spec then kind order.
func jobs(specs []Spec, planned, peak time.Duration) []job {
	var js []job
	for _, s := range specs {
		off := s.StartOffset(planned, peak)
		w := s.window()
		if planned > 0 && off+w > planned {
			// Only when planned < Seconds: StartOffset already keeps a
			// window that fits from running past the end.
			w = max(planned-off, time.Second).Truncate(time.Second)
		}
		for _, k := range s.kinds() {
			j := job{spec: s, kind: k, offset: off}
			if k == "cpu" {
				j.spec.Seconds = int(w / time.Second)
			} else {
				j.offset = off + w/2
			}
			js = append(js, j)
		}
	}
	return js
}

func run(ctx context.Context, specs []Spec, start time.Time, planned, peak time.Duration, capture captureFunc) []Profile {
	js := jobs(specs, planned, peak)
	out := make([]Profile, len(js))
	done := make([]bool, len(js))
	var wg sync.WaitGroup
	for i, j := range js {
		wg.Go(func() {
			t := time.NewTimer(time.Until(start.Add(j.offset)))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			began := time.Since(start)
			p := capture(ctx, j.spec, j.kind)
			p.Started = began
			out[i], done[i] = p, true
		})
	}
	wg.Wait()
	var ps []Profile
	for i, p := range out {
		if done[i] {
			ps = append(ps, p)
		}
	}
	return slices.Clip(ps)
}
