package load

import (
	"math"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		d      time.Duration
		str    string // String() of the result
		total  int64
		dur    time.Duration
		offset map[int64]time.Duration // a few offsets to check
	}{
		{"constant", "5000", time.Minute, "5000:0s,5000:1m0s", 300000, time.Minute, map[int64]time.Duration{1: 200 * time.Microsecond}},
		{"constant per second", "5000/s", time.Second, "5000:0s,5000:1s", 5000, time.Second, nil},
		{"constant per minute", "300/m", time.Minute, "5:0s,5:1m0s", 300, time.Minute, map[int64]time.Duration{1: 200 * ms}},
		{"constant fraction", "0.5", 10 * time.Second, "0.5:0s,0.5:10s", 5, 10 * time.Second, map[int64]time.Duration{4: 8 * time.Second}},
		{"spaces", "  10 / s ", time.Second, "10:0s,10:1s", 10, time.Second, nil},
		{"stages", "100:1m,5000:2m", 0, "100:1m0s,5000:2m0s", 3000 + 306000, 3 * time.Minute, map[int64]time.Duration{0: 0, 3000: time.Minute}},
		{"stages ignore d", "100:1m,5000:2m", time.Hour, "100:1m0s,5000:2m0s", 309000, 3 * time.Minute, nil},
		{"jump first", "100:0s,100:30s", 0, "100:0s,100:30s", 3000, 30 * time.Second, map[int64]time.Duration{0: 0, 1: 10 * ms}},
		{"units on stages", "60/m:1s, 120/m:1s", 0, "1:1s,2:1s", 2, 2 * time.Second, nil},
		{"per minute ramp", "300/m:0s,600/m:1m", 0, "5:0s,10:1m0s", 450, time.Minute, nil},
		{"spaces in stages", " 10 : 1s , 0:1s ", 0, "10:1s,0:1s", 10, 2 * time.Second, nil},
		{"compound duration", "10:1m30s", 0, "10:1m30s", 450, 90 * time.Second, nil},
		{"zero duration written 0", "10:0,10:1s", 0, "10:0s,10:1s", 10, time.Second, nil},
		{"exponent", "1e3:1s", 0, "1000:1s", 500, time.Second, nil},
		{"zero rate", "0:1s", 0, "0:1s", 0, time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRate(tt.in, tt.d)
			if err != nil {
				t.Fatalf("ParseRate(%q, %v): %v", tt.in, tt.d, err)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := r.Total(); got != tt.total {
				t.Errorf("Total() = %d, want %d", got, tt.total)
			}
			if got := r.Duration(); got != tt.dur {
				t.Errorf("Duration() = %v, want %v", got, tt.dur)
			}
			for i, want := range tt.offset {
				if got, ok := r.Offset(i); !ok || got != want {
					t.Errorf("Offset(%d) = %v, %v; want %v, true", i, got, ok, want)
				}
			}
			again, err := ParseRate(r.String(), 0)
			if err != nil {
				t.Fatalf("ParseRate(String() = %q): %v", r, err)
			}
			if again.String() != r.String() || again.Total() != r.Total() || again.Duration() != r.Duration() {
				t.Errorf("round trip through %q changed the profile: %q, %d, %v", r, again, again.Total(), again.Duration())
			}
		})
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		d    time.Duration
		want string
	}{
		{"empty", "", time.Second, `rate "": empty`},
		{"blank", "  ", time.Second, `rate "  ": empty`},
		{"bad duration", "100:xx", 0, `rate "100:xx": bad duration "xx"`},
		{"missing duration", "100:", 0, `rate "100:": bad duration ""`},
		{"bad duration in stage 2", "100:1m,5:xx", 0, `rate "100:1m,5:xx": stage 2: bad duration "xx"`},
		{"duration without unit", "100:5", 0, `rate "100:5": bad duration "5"`},
		{"negative duration", "100:-1s", 0, `rate "100:-1s": negative duration "-1s"`},
		{"bad target", "abc:1m", 0, `rate "abc:1m": bad target "abc"`},
		{"missing target", ":1m", 0, `rate ":1m": bad target ""`},
		{"bad constant", "fast", time.Second, `rate "fast": bad target "fast"`},
		{"negative target", "-5:1m", 0, `rate "-5:1m": negative target "-5"`},
		{"negative constant", "-5", time.Second, `rate "-5": negative target "-5"`},
		{"infinite target", "inf:1s", 0, `rate "inf:1s": target "inf" is not finite`},
		{"NaN target", "NaN", time.Second, `rate "NaN": target "NaN" is not finite`},
		{"overflowing target", "1e999:1s", 0, `rate "1e999:1s": target "1e999" is not finite`},
		{"unit ms", "10/ms", time.Second, `rate "10/ms": bad unit "/ms" in target "10/ms": want /s or /m`},
		{"unit h on stage", "10/h:1m", 0, `rate "10/h:1m": bad unit "/h" in target "10/h": want /s or /m`},
		{"empty unit", "10/", time.Second, `rate "10/": bad unit "/" in target "10/": want /s or /m`},
		{"constant without d", "5000", 0, `rate "5000": a constant rate needs a duration > 0, got 0s`},
		{"constant with negative d", "5000", -time.Second, `rate "5000": a constant rate needs a duration > 0, got -1s`},
		{"constant in stages", "5000,100:1m", 0, `rate "5000,100:1m": stage 1: bad stage "5000": want target:duration`},
		{"trailing comma", "100:1m,", 0, `rate "100:1m,": stage 2: bad stage "": want target:duration`},
		{"extra colon", "100:1m:2m", 0, `rate "100:1m:2m": bad duration "1m:2m"`},
		{"zero total duration", "100:0s,200:0s", 0, `rate "100:0s,200:0s": total duration is 0`},
		{"too many arrivals", "1e12:0s,1e12:24h", 0, `rate "1e12:0s,1e12:24h": 8.64e+16 expected arrivals is too many (at most 2^53)`},
		{"duration overflow", "1:2562047h,1:1h", 0, `rate "1:2562047h,1:1h": stage 2: total duration is too long`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRate(tt.in, tt.d)
			if err == nil {
				t.Fatalf("ParseRate(%q, %v) = %q, want error %q", tt.in, tt.d, r, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseRate(%q, %v) error\n got %s\nwant %s", tt.in, tt.d, err, tt.want)
			}
		})
	}
}

func TestRateStringStartRate(t *testing.T) {
	r := mustRate(t, 2.5, Stage{0, time.Second})
	if got, want := r.String(), "2.5:0s,0:1s"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	again, err := ParseRate(r.String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Total() + 1 {
		a, aok := r.Offset(i)
		b, bok := again.Offset(i)
		if a != b || aok != bok {
			t.Errorf("Offset(%d) = %v, %v before the round trip, %v, %v after", i, a, aok, b, bok)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, seed := range []struct {
		s string
		d time.Duration
	}{
		{"5000", time.Minute},
		{"5000/s", time.Second},
		{"300/m", time.Minute},
		{"100:1m,5000:2m", 0},
		{"100:0s,100:30s", 0},
		{"10:1s,0:0s,0:1s,10:0s,10:1s", 0},
		{"10.5", time.Second},
		{"0:1s", 0},
		{"1e-300:1h", 0},
		{"1e15:0s,0:1ns", 0},
		{"100:xx", 0},
		{"10/ms", time.Second},
		{"-5:1m", 0},
		{"NaN:1s", 0},
		{" , : ", 0},
		{"1:2562047h47m16.854775807s", 0},
	} {
		f.Add(seed.s, int64(seed.d))
	}
	f.Fuzz(func(t *testing.T, s string, d int64) {
		r, err := ParseRate(s, time.Duration(d))
		if err != nil {
			if r.Total() != 0 || r.Duration() != 0 {
				t.Fatalf("ParseRate(%q) failed with a non-zero Rate", s)
			}
			return
		}
		n := r.Expected(r.Duration())
		total := r.Total()
		if math.IsNaN(n) || math.IsInf(n, 0) || total < 0 || !(float64(total) >= n && float64(total) < n+1) {
			t.Fatalf("ParseRate(%q): Total() = %d, N(end) = %v", s, total, n)
		}
		if r.Duration() <= 0 {
			t.Fatalf("ParseRate(%q): Duration() = %v", s, r.Duration())
		}
		prev := time.Duration(0)
		for i := range min(total, 1000) {
			off, ok := r.Offset(i)
			if !ok || off < prev || off > r.Duration() {
				t.Fatalf("ParseRate(%q): Offset(%d) = %v, %v after %v (duration %v)", s, i, off, ok, prev, r.Duration())
			}
			prev = off
		}
		if _, ok := r.Offset(total); ok {
			t.Fatalf("ParseRate(%q): Offset(Total()) is ok", s)
		}
		again, err := ParseRate(r.String(), 0)
		if err != nil {
			t.Fatalf("ParseRate(%q).String() = %q does not parse: %v", s, r, err)
		}
		if again.String() != r.String() || again.Total() != total || again.Duration() != r.Duration() {
			t.Fatalf("ParseRate(%q): round trip through %q changed the profile", s, r)
		}
	})
}

// TestStages: Stages gives back the profile from a start rate of 0, so
// NewRate(0, r.Stages()) is the same profile (the CLI turns --rate into a
// plan's stages this way).
func TestStages(t *testing.T) {
	for _, spec := range []string{"5000", "100:1m,5000:2m", "100:0s,100:30s", "300/m"} {
		t.Run(spec, func(t *testing.T) {
			r, err := ParseRate(spec, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			back, err := NewRate(0, r.Stages())
			if err != nil {
				t.Fatal(err)
			}
			if back.String() != r.String() || back.Total() != r.Total() || back.Duration() != r.Duration() {
				t.Errorf("NewRate(0, Stages()) = %q (%d starts over %v), want %q (%d over %v)",
					back.String(), back.Total(), back.Duration(), r.String(), r.Total(), r.Duration())
			}
		})
	}
}
