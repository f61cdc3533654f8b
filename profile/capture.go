package profile

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/fuka-load/fuka/report"
)

// Profile is one captured profile.
type Profile struct {
	Kind       string
	URL        string
	File       string        // where it was written (dir/<kind>-<host_port>-<n>.pb.gz); empty on failure
	Started    time.Duration // offset from run start (set by Run)
	SampleType string        // the sample type Top ranks, e.g. "cpu", "inuse_space", "goroutine"
	Unit       string        // of Flat, Cum and Total: "seconds", "bytes", "count", …
	Total      float64       // sum of that sample type over the whole profile
	Top        []Func        // top functions, by flat value
	Err        string        // capture failure (the run goes on)
}

// Func is one function's share of a profile. Values are in the profile's
// Unit: for cpu, seconds; for heap, bytes in use (inuse_space); for
// goroutine, a count. Flat is what the function itself holds (it is the leaf
// of the stack); Cum includes what it calls.
type Func struct {
	Name            string
	Flat, Cum       float64
	FlatPct, CumPct float64 // of the profile's Total
}

// maxBody bounds a profile download; real heap profiles are a few MB.
const maxBody = 256 << 20

// endpoint returns the path and query under /debug/pprof/ for a kind.
func endpoint(kind string, seconds int) (string, error) {
	switch kind {
	case "cpu":
		return "profile?seconds=" + strconv.Itoa(seconds), nil
	case "heap", "goroutine", "allocs", "block", "mutex":
		return kind, nil
	}
	return "", fmt.Errorf("unknown kind %q (want %s)", kind, strings.Join(knownKinds, ", "))
}

// pprofURL joins the base URL and an endpoint. A base that already ends in
// /debug/pprof (what people copy from a browser) works too.
func pprofURL(base, ep string) string {
	base = strings.TrimRight(base, "/")
	base = strings.TrimSuffix(base, "/debug/pprof")
	return base + "/debug/pprof/" + ep
}

// Capture fetches one kind of profile (cpu: /debug/pprof/profile?seconds=N;
// heap: /debug/pprof/heap; goroutine: /debug/pprof/goroutine; …), writes it
// under dir, parses it, and computes the top n functions (all when n ≤ 0).
// A nil client means http.DefaultClient. Any failure lands in Profile.Err:
// Capture never panics on what a target sends.
//
// Each request carries its own deadline (a CPU profile's duration plus
// slack), so a target that stops answering cannot hold a run's profiles
// hostage.
func Capture(ctx context.Context, client *http.Client, spec Spec, kind, dir string, n int) Profile {
	p := Profile{Kind: kind, URL: spec.URL}
	if err := capture(ctx, client, spec, kind, dir, n, &p); err != nil {
		p.Err = err.Error()
	}
	return p
}

func capture(ctx context.Context, client *http.Client, spec Spec, kind, dir string, n int, p *Profile) error {
	if err := checkURL(spec.URL); err != nil {
		return err
	}
	ep, err := endpoint(kind, spec.seconds())
	if err != nil {
		return err
	}
	timeout := time.Minute
	if kind == "cpu" {
		timeout = time.Duration(spec.seconds())*time.Second + 30*time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := fetch(ctx, client, pprofURL(spec.URL, ep))
	if err != nil {
		return err
	}
	prof, err := profile.ParseData(body)
	if err != nil {
		return fmt.Errorf("%s from %s: not a pprof profile: %w", kind, spec.URL, err)
	}
	p.SampleType, p.Unit, p.Total, p.Top = top(prof, n)
	p.File, err = save(dir, kind, spec.URL, body, prof)
	return err
}

func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		// net/http/pprof explains refusals in the body, e.g. "profile
		// duration exceeds server's WriteTimeout"; keep its first line.
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		if len(line) > 200 {
			line = line[:200] + "…"
		}
		if line != "" {
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, line)
		}
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: profile larger than %d MiB", u, maxBody>>20)
	}
	return body, nil
}

// save writes the profile as dir/<kind>-<host_port>-<n>.pb.gz with the first
// free n from 1, so repeated and concurrent captures never overwrite each
// other. Go serves gzipped protobuf, kept byte for byte; anything else that
// parsed (an uncompressed or legacy text profile) is re-encoded.
func save(dir, kind, base string, body []byte, prof *profile.Profile) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		var b bytes.Buffer
		if err := prof.Write(&b); err != nil {
			return "", fmt.Errorf("encoding %s profile: %w", kind, err)
		}
		body = b.Bytes()
	}
	host := "unknown"
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Host
	}
	host = strings.NewReplacer(":", "_", "[", "", "]", "", "/", "_").Replace(host)
	for i := 1; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.pb.gz", kind, host, i))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("writing %s: %w", name, err)
		}
		return name, nil
	}
}

// sampleIndex picks the sample type to rank by: the profile's default, or,
// when it names none, the last one. pprof itself takes the last: Go's CPU
// profile lists samples/count then cpu/nanoseconds with no default, and
// seconds of CPU is what the summary wants.
func sampleIndex(p *profile.Profile) int {
	if p.DefaultSampleType != "" {
		for i, st := range p.SampleType {
			if st.Type == p.DefaultSampleType {
				return i
			}
		}
	}
	return len(p.SampleType) - 1
}

// scale converts a sample unit to the one reported: time in seconds, the
// rest as it is.
func scale(unit string) (string, float64) {
	switch unit {
	case "nanoseconds":
		return "seconds", 1e-9
	case "microseconds":
		return "seconds", 1e-6
	case "milliseconds":
		return "seconds", 1e-3
	case "seconds":
		return "seconds", 1
	}
	return unit, 1
}

// top ranks a profile's functions as pprof's `top` does: by flat value, then
// cum, then name; cut at n, it adds the program's own functions with the
// highest cum value that the cut left out (see UserExtra). Flat goes to the innermost frame of each sample (the first
// line of its first location, inlined calls included); cum to every
// function on the stack, once per sample however often it recurs.
func top(p *profile.Profile, n int) (sampleType, unit string, total float64, fs []Func) {
	i := sampleIndex(p)
	if i < 0 {
		return "", "", 0, nil
	}
	unit, k := scale(p.SampleType[i].Unit)
	type acc struct{ flat, cum int64 }
	by := map[string]*acc{}
	get := func(name string) *acc {
		a := by[name]
		if a == nil {
			a = &acc{}
			by[name] = a
		}
		return a
	}
	var sum int64
	seen := map[string]bool{}
	for _, s := range p.Sample {
		if i >= len(s.Value) {
			continue
		}
		v := s.Value[i]
		if v == 0 {
			continue
		}
		sum += v
		clear(seen)
		for li, loc := range s.Location {
			names := funcNames(loc)
			for ni, name := range names {
				if li == 0 && ni == 0 {
					get(name).flat += v
				}
				if !seen[name] {
					seen[name] = true
					get(name).cum += v
				}
			}
		}
	}
	total = float64(sum) * k
	fs = make([]Func, 0, len(by))
	for name, a := range by {
		f := Func{Name: name, Flat: float64(a.flat) * k, Cum: float64(a.cum) * k}
		if sum != 0 {
			f.FlatPct = float64(a.flat) / float64(sum) * 100
			f.CumPct = float64(a.cum) / float64(sum) * 100
		}
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b Func) int {
		return cmp.Or(cmp.Compare(b.Flat, a.Flat), cmp.Compare(b.Cum, a.Cum), strings.Compare(a.Name, b.Name))
	})
	if n > 0 && len(fs) > n {
		fs = append(slices.Clip(fs[:n]), userTop(fs[n:], UserExtra)...)
	}
	return p.SampleType[i].Type, unit, total, fs
}

// UserExtra is how many of the program's own functions (report.UserCode)
// top keeps beyond its n by flat value, those with the highest cum value.
// A server's handler spends its time in the runtime and syscalls it calls:
// its flat value is small, so it is rarely among the top n by flat, yet its
// cum value is what the reader of a profile looks for.
const UserExtra = 5

// userTop returns up to k of fs's user-code functions, by cum value, then
// name.
func userTop(fs []Func, k int) []Func {
	var u []Func
	for _, f := range fs {
		if report.UserCode(f.Name) {
			u = append(u, f)
		}
	}
	slices.SortFunc(u, func(a, b Func) int { return cmp.Or(cmp.Compare(b.Cum, a.Cum), strings.Compare(a.Name, b.Name)) })
	return u[:min(len(u), k)]
}

// funcNames lists the functions of one location, innermost (inlined) first.
// A location without symbols is named by its address, as pprof does.
func funcNames(loc *profile.Location) []string {
	if len(loc.Line) == 0 {
		return []string{fmt.Sprintf("0x%x", loc.Address)}
	}
	names := make([]string, 0, len(loc.Line))
	for _, l := range loc.Line {
		if l.Function != nil && l.Function.Name != "" {
			names = append(names, l.Function.Name)
		} else {
			names = append(names, fmt.Sprintf("0x%x", loc.Address))
		}
	}
	return names
}
