package profile

import (
	"math"
	"slices"
	"testing"

	"github.com/google/pprof/profile"
)

// testProfile is a block profile by hand, shaped to exercise top:
//
//	[leaf, mid, main]            3s   plain stack
//	[rec, rec, main]             1s   recursion: rec's cum counts once
//	[inl+caller, main]           0.5s inl inlined into caller: one location, two lines
//	[0x1234, main]               0.25s no symbols
//	[mid, main]                  0s   (5 contentions) skipped when ranking delay
func testProfile() *profile.Profile {
	fn := func(id uint64, name string) *profile.Function { return &profile.Function{ID: id, Name: name} }
	leaf, mid, main, rec, inl, caller := fn(1, "main.leaf"), fn(2, "main.mid"), fn(3, "main.main"), fn(4, "main.rec"), fn(5, "main.inl"), fn(6, "main.caller")
	loc := func(id uint64, fs ...*profile.Function) *profile.Location {
		l := &profile.Location{ID: id, Address: 0x1000 + id}
		for _, f := range fs {
			l.Line = append(l.Line, profile.Line{Function: f, Line: 1})
		}
		return l
	}
	lLeaf, lMid, lMain, lRec, lInl := loc(1, leaf), loc(2, mid), loc(3, main), loc(4, rec), loc(5, inl, caller)
	lRaw := &profile.Location{ID: 6, Address: 0x1234}
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lLeaf, lMid, lMain}, Value: []int64{1, 3e9}},
			{Location: []*profile.Location{lRec, lRec, lMain}, Value: []int64{1, 1e9}},
			{Location: []*profile.Location{lInl, lMain}, Value: []int64{1, 5e8}},
			{Location: []*profile.Location{lRaw, lMain}, Value: []int64{1, 25e7}},
			{Location: []*profile.Location{lMid, lMain}, Value: []int64{5, 0}},
		},
		Location: []*profile.Location{lLeaf, lMid, lMain, lRec, lInl, lRaw},
		Function: []*profile.Function{leaf, mid, main, rec, inl, caller},
	}
}

func TestTop(t *testing.T) {
	cases := []struct {
		name       string
		def        string
		n          int
		sampleType string
		unit       string
		total      float64
		want       []Func
	}{
		{
			name: "last sample type, in seconds", sampleType: "delay", unit: "seconds", total: 4.75,
			want: []Func{
				{"main.leaf", 3, 3, 0, 0},
				{"main.rec", 1, 1, 0, 0},
				{"main.inl", 0.5, 0.5, 0, 0},
				{"0x1234", 0.25, 0.25, 0, 0},
				{"main.main", 0, 4.75, 0, 0},
				{"main.mid", 0, 3, 0, 0},
				{"main.caller", 0, 0.5, 0, 0},
			},
		},
		{
			// Cut at 2 by flat, then the program's own functions the cut
			// left out, by cum (at most UserExtra): not 0x1234, which has
			// no symbols.
			name: "top 2", n: 2, sampleType: "delay", unit: "seconds", total: 4.75,
			want: []Func{{"main.leaf", 3, 3, 0, 0}, {"main.rec", 1, 1, 0, 0},
				{"main.main", 0, 4.75, 0, 0}, {"main.mid", 0, 3, 0, 0}, {"main.caller", 0, 0.5, 0, 0}, {"main.inl", 0.5, 0.5, 0, 0}},
		},
		{
			name: "default sample type", def: "contentions", sampleType: "contentions", unit: "count", total: 9,
			want: []Func{
				{"main.mid", 5, 6, 0, 0},
				{"0x1234", 1, 1, 0, 0},
				{"main.inl", 1, 1, 0, 0},
				{"main.leaf", 1, 1, 0, 0},
				{"main.rec", 1, 1, 0, 0},
				{"main.main", 0, 9, 0, 0},
				{"main.caller", 0, 1, 0, 0},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testProfile()
			p.DefaultSampleType = c.def
			st, unit, total, fs := top(p, c.n)
			if st != c.sampleType || unit != c.unit || !near(total, c.total) {
				t.Fatalf("top = %q %q %v, want %q %q %v", st, unit, total, c.sampleType, c.unit, c.total)
			}
			if len(fs) != len(c.want) {
				t.Fatalf("%d functions, want %d: %+v", len(fs), len(c.want), fs)
			}
			for i, w := range c.want {
				f := fs[i]
				if f.Name != w.Name || !near(f.Flat, w.Flat) || !near(f.Cum, w.Cum) ||
					!near(f.FlatPct, w.Flat/c.total*100) || !near(f.CumPct, w.Cum/c.total*100) {
					t.Errorf("#%d = %+v, want %s flat %v cum %v", i, f, w.Name, w.Flat, w.Cum)
				}
			}
		})
	}
}

func TestTopEmpty(t *testing.T) {
	if st, _, total, fs := top(&profile.Profile{}, 10); st != "" || total != 0 || fs != nil {
		t.Errorf("no sample types: %q %v %v", st, total, fs)
	}
	p := testProfile()
	p.Sample = nil
	if _, _, total, fs := top(p, 10); total != 0 || len(fs) != 0 {
		t.Errorf("no samples: %v %v", total, fs)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestTextOrder(t *testing.T) {
	f := func(name string, flat, cum float64) Func { return Func{Name: name, Flat: flat, Cum: cum} }
	top := []Func{ // as top returns them: by flat, then the user code it added
		f("runtime.memmove", 5, 5), f("syscall.Syscall", 4, 4), f("runtime.mallocgc", 3, 3),
		f("main.a", 0.1, 8.6), f("github.com/x/y.B", 0.2, 2), f("main.c", 0, 9), f("main.d", 0, 1),
	}
	for _, tt := range []struct {
		name string
		top  []Func
		n    int
		want []string
	}{
		{"5", top, 5, []string{"main.c", "main.a", "github.com/x/y.B", "runtime.memmove", "syscall.Syscall"}},
		{"2", top, 2, []string{"main.c", "main.a"}},
		{"all", top, 0, []string{"main.c", "main.a", "github.com/x/y.B", "runtime.memmove", "syscall.Syscall", "runtime.mallocgc", "main.d"}},
		{"no user code", top[:3], 2, []string{"runtime.memmove", "syscall.Syscall"}},
		{"only user code", top[3:], 4, []string{"main.c", "main.a", "github.com/x/y.B", "main.d"}},
		{"none", nil, 5, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range textOrder(tt.top, tt.n) {
				got = append(got, f.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("textOrder(n=%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
