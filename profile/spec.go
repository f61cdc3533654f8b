// Package profile looks inside the application under test while it is
// loaded: it captures Go pprof profiles (CPU, heap, goroutines, …) from the
// target's net/http/pprof endpoint at a chosen moment of the run, keeps them
// as .pb.gz files beside the run's results, and lists their top functions
// for the summary.
//
// A Spec says where and when to capture; Run schedules the specs of one run
// against its start time; Capture fetches and parses one profile. A failed
// capture is recorded in Profile.Err and never stops the run.
package profile

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultSeconds is the CPU profile duration when a Spec leaves it at 0.
const DefaultSeconds = 10

// maxSeconds bounds a CPU profile: longer ones are almost always a typo, and
// they hold an HTTP request open on the target for all that time.
const maxSeconds = 600

// knownKinds lists the profiles Capture knows.
var knownKinds = []string{"cpu", "heap", "goroutine", "allocs", "block", "mutex"}

// DefaultKinds are captured when a Spec lists none.
func DefaultKinds() []string { return []string{"cpu", "heap", "goroutine"} }

// Spec is one profile capture, from the plan's `profile:` list or --profile
// flags. The zero values of Seconds and Kinds mean their defaults; the zero
// At means "at the start", so ParseSpec and the plan default At to peak.
type Spec struct {
	URL     string   // base of net/http/pprof, e.g. http://127.0.0.1:6060 (the /debug/pprof/ path is added)
	At      At       // when to capture
	Seconds int      // CPU profile duration (default 10)
	Kinds   []string // cpu, heap, goroutine, allocs, block, mutex (default cpu, heap, goroutine)
}

// At is when to capture: at the peak of the load, at a fraction of the
// planned duration, or at an offset from the run's start. Exactly one
// applies: Peak wins over Fraction, Fraction over Offset.
type At struct {
	Peak     bool
	Fraction float64       // 0..1 of the planned duration
	Offset   time.Duration // from the run's start
}

const atWant = "want peak, a percentage like 60% or an offset like 30s"

// ParseAt parses "peak", a percentage of the planned duration ("60%",
// "12.5%", 0% to 100%) or a non-negative offset in time.ParseDuration syntax
// ("30s", "1m30s", "0s").
func ParseAt(s string) (At, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return At{}, fmt.Errorf("profile at %q: empty; %s", s, atWant)
	case strings.EqualFold(t, "peak"):
		return At{Peak: true}, nil
	case strings.HasSuffix(t, "%"):
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
		if err != nil || math.IsNaN(f) {
			return At{}, fmt.Errorf("profile at %q: bad percentage; %s", s, atWant)
		}
		if f < 0 || f > 100 {
			return At{}, fmt.Errorf("profile at %q: percentage must be between 0%% and 100%%", s)
		}
		return At{Fraction: f / 100}, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return At{}, fmt.Errorf("profile at %q: %s", s, atWant)
	}
	if d < 0 {
		return At{}, fmt.Errorf("profile at %q: offset must not be negative", s)
	}
	return At{Offset: d}, nil
}

// String returns the form ParseAt reads back: "peak", "60%" or "30s".
func (a At) String() string {
	switch {
	case a.Peak:
		return "peak"
	case a.Fraction != 0:
		return strconv.FormatFloat(a.Fraction*100, 'g', -1, 64) + "%"
	}
	return a.Offset.String()
}

// UnmarshalText lets plan decoders read an At from a scalar.
func (a *At) UnmarshalText(b []byte) error {
	v, err := ParseAt(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalText writes At in the form ParseAt reads.
func (a At) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// ParseSpec parses the CLI form of --profile: a URL, optionally followed by
// comma-separated options, e.g.
//
//	http://127.0.0.1:6060
//	http://127.0.0.1:6060,at=peak,seconds=10,kinds=cpu+heap
//
// At defaults to peak; Seconds and Kinds to their defaults (left zero).
func ParseSpec(s string) (Spec, error) {
	parts := strings.Split(s, ",")
	sp := Spec{URL: strings.TrimSpace(parts[0]), At: At{Peak: true}}
	seen := map[string]bool{}
	for _, opt := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return Spec{}, fmt.Errorf("profile %q: option %q: want key=value", s, opt)
		}
		if seen[k] {
			return Spec{}, fmt.Errorf("profile %q: option %q given twice", s, k)
		}
		seen[k] = true
		switch k {
		case "at":
			at, err := ParseAt(v)
			if err != nil {
				return Spec{}, fmt.Errorf("profile %q: %w", s, err)
			}
			sp.At = at
		case "seconds":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return Spec{}, fmt.Errorf("profile %q: seconds %q: want a whole number > 0", s, v)
			}
			sp.Seconds = n
		case "kinds":
			sp.Kinds = strings.Split(v, "+")
			for i := range sp.Kinds {
				sp.Kinds[i] = strings.TrimSpace(sp.Kinds[i])
			}
		default:
			return Spec{}, fmt.Errorf("profile %q: unknown option %q (want at, seconds or kinds)", s, k)
		}
	}
	if err := sp.Validate(); err != nil {
		return Spec{}, fmt.Errorf("profile %q: %w", s, err)
	}
	return sp, nil
}

// String returns the CLI form ParseSpec reads back.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(s.URL)
	b.WriteString(",at=")
	b.WriteString(s.At.String())
	if s.Seconds != 0 {
		fmt.Fprintf(&b, ",seconds=%d", s.Seconds)
	}
	if len(s.Kinds) > 0 {
		b.WriteString(",kinds=")
		b.WriteString(strings.Join(s.Kinds, "+"))
	}
	return b.String()
}

// Validate reports every problem of a Spec built by hand or by a plan
// decoder: the URL must be http(s) with a host, Seconds 0 (default) to 600,
// Kinds known and not repeated, At within range.
func (s Spec) Validate() error {
	var errs []error
	if err := checkURL(s.URL); err != nil {
		errs = append(errs, err)
	}
	if s.Seconds < 0 || s.Seconds > maxSeconds {
		errs = append(errs, fmt.Errorf("seconds %d: want 1 to %d", s.Seconds, maxSeconds))
	}
	for i, k := range s.Kinds {
		switch {
		case !slices.Contains(knownKinds, k):
			errs = append(errs, fmt.Errorf("unknown kind %q (want %s)", k, strings.Join(knownKinds, ", ")))
		case slices.Index(s.Kinds, k) < i:
			errs = append(errs, fmt.Errorf("kind %q given twice", k))
		}
	}
	if !s.At.Peak {
		if s.At.Fraction < 0 || s.At.Fraction > 1 || math.IsNaN(s.At.Fraction) {
			errs = append(errs, fmt.Errorf("at %v: percentage must be between 0%% and 100%%", s.At))
		}
		if s.At.Offset < 0 {
			errs = append(errs, fmt.Errorf("at %v: offset must not be negative", s.At))
		}
	}
	return errors.Join(errs...)
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New("url: empty; want the base of net/http/pprof, e.g. http://127.0.0.1:6060")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: want http:// or https:// and a host, e.g. http://127.0.0.1:6060", raw)
	}
	return nil
}

// seconds is the CPU profile duration with the default applied.
func (s Spec) seconds() int {
	if s.Seconds <= 0 {
		return DefaultSeconds
	}
	return s.Seconds
}

// kinds is the list of kinds with the default applied.
func (s Spec) kinds() []string {
	if len(s.Kinds) == 0 {
		return DefaultKinds()
	}
	return s.Kinds
}

// window is how long the spec's captures last: a CPU profile's duration, or
// nothing when the spec takes only snapshots (heap, goroutine, …).
func (s Spec) window() time.Duration {
	if slices.Contains(s.kinds(), "cpu") {
		return time.Duration(s.seconds()) * time.Second
	}
	return 0
}

// point is the moment At names for a run of planned duration whose load
// peaks at peak. With no planned duration (planned ≤ 0, a run bounded by
// iterations) a fraction has nothing to be a fraction of and means the start.
func (a At) point(planned, peak time.Duration) time.Duration {
	switch {
	case a.Peak:
		return peak
	case a.Fraction != 0:
		if planned <= 0 {
			return 0
		}
		return time.Duration(float64(planned) * a.Fraction)
	}
	return a.Offset
}

// StartOffset returns when the capture should start for a run of planned
// duration, given the load profile's peak time (the engine knows it: for a
// rate ramp, the time of the max rate; for a closed ramp, when all clients
// are running).
//
// A CPU profile samples a window of Seconds; it is centred on the point At
// names where possible, pushed later when the point is too near the start,
// and earlier so it never runs past planned:
//
//	0          point-w/2   point   point+w/2        planned
//	|--------------[=========|=========]----------------|
//	                \_________ w ______/
//
// A spec with no CPU kind only takes snapshots, at the point itself (at most
// planned). Snapshot kinds of a spec that has a CPU kind are taken in the
// middle of the CPU window (see Run). planned ≤ 0 means unknown: no end
// clamp.
func (s Spec) StartOffset(planned, peak time.Duration) time.Duration {
	p := s.At.point(planned, peak)
	w := s.window()
	start := p - w/2
	if planned > 0 && start > planned-w {
		start = planned - w
	}
	return max(start, 0)
}
