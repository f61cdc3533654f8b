package profile

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestParseAt(t *testing.T) {
	good := []struct {
		in   string
		want At
	}{
		{"peak", At{Peak: true}},
		{" PEAK ", At{Peak: true}},
		{"60%", At{Fraction: 0.6}},
		{"12.5%", At{Fraction: 0.125}},
		{"0%", At{}},
		{"100%", At{Fraction: 1}},
		{"30s", At{Offset: 30 * time.Second}},
		{"1m30s", At{Offset: 90 * time.Second}},
		{"0s", At{}},
	}
	for _, c := range good {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseAt(c.in)
			if err != nil || got != c.want {
				t.Fatalf("ParseAt(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
		})
	}
	bad := []struct{ in, want string }{
		{"", `profile at "": empty; want peak, a percentage like 60% or an offset like 30s`},
		{"soon", `profile at "soon": want peak, a percentage like 60% or an offset like 30s`},
		{"30", `profile at "30": want peak, a percentage like 60% or an offset like 30s`},
		{"x%", `profile at "x%": bad percentage; want peak, a percentage like 60% or an offset like 30s`},
		{"NaN%", `profile at "NaN%": bad percentage; want peak, a percentage like 60% or an offset like 30s`},
		{"150%", `profile at "150%": percentage must be between 0% and 100%`},
		{"-5%", `profile at "-5%": percentage must be between 0% and 100%`},
		{"-5s", `profile at "-5s": offset must not be negative`},
	}
	for _, c := range bad {
		t.Run("bad "+c.in, func(t *testing.T) {
			got, err := ParseAt(c.in)
			if err == nil || err.Error() != c.want {
				t.Fatalf("ParseAt(%q) = %+v, %v; want error %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestAtString(t *testing.T) {
	for _, c := range []struct {
		at   At
		want string
	}{
		{At{Peak: true}, "peak"},
		{At{Fraction: 0.6}, "60%"},
		{At{Offset: 90 * time.Second}, "1m30s"},
		{At{}, "0s"},
	} {
		if got := c.at.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.at, got, c.want)
		}
	}
	var a At
	if err := a.UnmarshalText([]byte("60%")); err != nil || a != (At{Fraction: 0.6}) {
		t.Errorf("UnmarshalText(60%%) = %+v, %v", a, err)
	}
	if err := a.UnmarshalText([]byte("later")); err == nil {
		t.Error("UnmarshalText(later): no error")
	}
}

func TestParseSpec(t *testing.T) {
	const u = "http://127.0.0.1:6060"
	good := []struct {
		in   string
		want Spec
	}{
		{u, Spec{URL: u, At: At{Peak: true}}},
		{u + ",at=peak,seconds=10,kinds=cpu+heap", Spec{URL: u, At: At{Peak: true}, Seconds: 10, Kinds: []string{"cpu", "heap"}}},
		{u + ", at = 60% , seconds=5", Spec{URL: u, At: At{Fraction: 0.6}, Seconds: 5}},
		{u + ",at=30s,kinds=goroutine", Spec{URL: u, At: At{Offset: 30 * time.Second}, Kinds: []string{"goroutine"}}},
		{"https://[::1]:6060/debug/pprof/,kinds=allocs+block+mutex", Spec{URL: "https://[::1]:6060/debug/pprof/", At: At{Peak: true}, Kinds: []string{"allocs", "block", "mutex"}}},
	}
	for _, c := range good {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSpec(c.in)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
		})
	}
	bad := []struct{ in, want string }{
		{"", `profile "": url: empty; want the base of net/http/pprof, e.g. http://127.0.0.1:6060`},
		{"127.0.0.1:6060", `profile "127.0.0.1:6060": url "127.0.0.1:6060": want http:// or https:// and a host, e.g. http://127.0.0.1:6060`},
		{"ftp://h:1", `profile "ftp://h:1": url "ftp://h:1": want http:// or https:// and a host, e.g. http://127.0.0.1:6060`},
		{u + ",at=soon", `profile "http://127.0.0.1:6060,at=soon": profile at "soon": want peak, a percentage like 60% or an offset like 30s`},
		{u + ",seconds=0", `profile "http://127.0.0.1:6060,seconds=0": seconds "0": want a whole number > 0`},
		{u + ",seconds=1.5", `profile "http://127.0.0.1:6060,seconds=1.5": seconds "1.5": want a whole number > 0`},
		{u + ",seconds=601", `profile "http://127.0.0.1:6060,seconds=601": seconds 601: want 1 to 600`},
		{u + ",kinds=cpu+trace", `profile "http://127.0.0.1:6060,kinds=cpu+trace": unknown kind "trace" (want cpu, heap, goroutine, allocs, block, mutex)`},
		{u + ",kinds=cpu+cpu", `profile "http://127.0.0.1:6060,kinds=cpu+cpu": kind "cpu" given twice`},
		{u + ",kinds=", `profile "http://127.0.0.1:6060,kinds=": unknown kind "" (want cpu, heap, goroutine, allocs, block, mutex)`},
		{u + ",every=1s", `profile "http://127.0.0.1:6060,every=1s": unknown option "every" (want at, seconds or kinds)`},
		{u + ",peak", `profile "http://127.0.0.1:6060,peak": option "peak": want key=value`},
		{u + ",", `profile "http://127.0.0.1:6060,": option "": want key=value`},
		{u + ",at=peak,at=30s", `profile "http://127.0.0.1:6060,at=peak,at=30s": option "at" given twice`},
	}
	for _, c := range bad {
		t.Run("bad "+c.in, func(t *testing.T) {
			got, err := ParseSpec(c.in)
			if err == nil || err.Error() != c.want {
				t.Fatalf("ParseSpec(%q) = %+v, %v;\nwant error %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	s := Spec{URL: "", Seconds: -1, Kinds: []string{"heap", "nope"}, At: At{Fraction: 2}}
	want := "url: empty; want the base of net/http/pprof, e.g. http://127.0.0.1:6060\n" +
		"seconds -1: want 1 to 600\n" +
		`unknown kind "nope" (want cpu, heap, goroutine, allocs, block, mutex)` + "\n" +
		"at 200%: percentage must be between 0% and 100%"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v;\nwant %s", err, want)
	}
	if err := (Spec{URL: "http://127.0.0.1:6060"}).Validate(); err != nil {
		t.Fatalf("minimal spec: %v", err)
	}
}

func TestStartOffset(t *testing.T) {
	const (
		s = time.Second
		m = time.Minute
	)
	heap := []string{"heap", "goroutine"}
	cases := []struct {
		name          string
		spec          Spec
		planned, peak time.Duration
		want          time.Duration
	}{
		{"peak centred", Spec{At: At{Peak: true}}, 5 * m, 2 * m, 2*m - 5*s},
		{"peak centred 30s window", Spec{At: At{Peak: true}, Seconds: 30}, 5 * m, 2 * m, 2*m - 15*s},
		{"peak near start", Spec{At: At{Peak: true}}, 5 * m, 2 * s, 0},
		{"peak at start", Spec{At: At{Peak: true}}, 5 * m, 0, 0},
		{"peak at end", Spec{At: At{Peak: true}}, 5 * m, 5 * m, 5*m - 10*s},
		{"60%", Spec{At: At{Fraction: 0.6}}, 5 * m, 0, 3*m - 5*s},
		{"100%", Spec{At: At{Fraction: 1}}, 5 * m, 0, 5*m - 10*s},
		{"0%", Spec{At: At{}}, 5 * m, 0, 0},
		{"offset", Spec{At: At{Offset: 30 * s}}, 5 * m, 0, 25 * s},
		{"offset past the end", Spec{At: At{Offset: 10 * m}}, 5 * m, 0, 5*m - 10*s},
		{"run shorter than the cpu profile", Spec{At: At{Peak: true}}, 4 * s, 2 * s, 0},
		{"snapshots at peak", Spec{At: At{Peak: true}, Kinds: heap}, 5 * m, 2 * m, 2 * m},
		{"snapshots at 60%", Spec{At: At{Fraction: 0.6}, Kinds: heap}, 5 * m, 0, 3 * m},
		{"snapshots past the end", Spec{At: At{Offset: 10 * m}, Kinds: heap}, 5 * m, 0, 5 * m},
		{"cpu kind alone", Spec{At: At{Offset: 1 * m}, Kinds: []string{"cpu"}, Seconds: 20}, 5 * m, 0, 50 * s},
		{"unknown planned: offset", Spec{At: At{Offset: 30 * s}}, 0, 0, 25 * s},
		{"unknown planned: fraction means start", Spec{At: At{Fraction: 0.5}}, 0, 0, 0},
		{"unknown planned: no end clamp", Spec{At: At{Peak: true}}, 0, 10 * m, 10*m - 5*s},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.spec.StartOffset(c.planned, c.peak)
			if got != c.want {
				t.Fatalf("StartOffset(%v, %v) = %v, want %v", c.planned, c.peak, got, c.want)
			}
			if got < 0 {
				t.Fatalf("negative start %v", got)
			}
			if w := c.spec.window(); c.planned >= w && c.planned > 0 && got+w > c.planned {
				t.Fatalf("window %v from %v runs past planned %v", w, got, c.planned)
			}
		})
	}
}

// FuzzParseSpec checks that ParseSpec never panics, that what it accepts is
// valid, and that String gives back an equivalent spec.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:6060",
		"http://127.0.0.1:6060,at=peak,seconds=10,kinds=cpu+heap",
		"http://[::1]:1/debug/pprof,at=7%",
		"http://h,at=1m30s,kinds=goroutine+mutex",
		"http://h,at=0.07%",
		",,=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpec(in)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSpec(%q) accepted an invalid spec: %v", in, err)
		}
		back, err := ParseSpec(s.String())
		if err != nil {
			t.Fatalf("ParseSpec(%q).String() = %q does not parse: %v", in, s.String(), err)
		}
		if math.Abs(back.At.Fraction-s.At.Fraction) > 1e-12 {
			t.Fatalf("fraction %v came back as %v", s.At.Fraction, back.At.Fraction)
		}
		back.At.Fraction = s.At.Fraction
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("ParseSpec(%q) = %+v; through String %q: %+v", in, s, s.String(), back)
		}
	})
}

func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"peak", "60%", "30s", "-1s", "1e400%", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAt(in)
		if err != nil {
			return
		}
		if a.Fraction < 0 || a.Fraction > 1 || a.Offset < 0 {
			t.Fatalf("ParseAt(%q) = %+v out of range", in, a)
		}
		if _, err := ParseAt(a.String()); err != nil {
			t.Fatalf("ParseAt(%q).String() = %q does not parse: %v", in, a.String(), err)
		}
	})
}
