package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// watchedSummary is a closed-model summary with everything a run can watch
// and say after its numbers.
func watchedSummary() *Summary {
	meta := closedMeta()
	meta.RampUp = 1500e6 // 1.5s
	s := NewSummary(meta, simpleRun())
	ready, tts := 16.0, 6.0
	s.Resources = &Resources{
		Series: []ResourceStat{
			{Name: "mem.used_bytes", Peak: 5 << 30, Mean: 4 << 30, Samples: 10},
			{Name: "cpu.user_pct", Peak: 41, Mean: 22.5, Samples: 10},
			{Name: "cpu.count", Peak: 8, Mean: 8, Samples: 10},     // static: left out
			{Name: "net.rx_errors", Peak: 0, Mean: 0, Samples: 10}, // zero: left out
			{Name: "cpu.max_core_busy_pct", Peak: 100, Mean: 90, Samples: 10},
			{Name: "cpu.core.0_busy_pct", Peak: 100, Mean: 90, Samples: 10},          // one CPU's: left out
			{Name: "agent.10.0.0.5:9810.cpu.core.12_busy_pct", Peak: 7, Samples: 10}, // one CPU's: left out
		},
		Failures: []ResourceFailure{{TS: 3, Source: "nginx", Error: "connection refused"}, {TS: 4, Source: "nginx", Error: "connection refused"}},
	}
	s.Scaling = []ScaleEpisode{
		{Workload: "deployment/api", FromReplicas: 1, ToReplicas: 4, LoadStepS: 10, ReadyS: &ready, TimeToScaleS: &tts, P99DuringMS: 180},
		{Workload: "statefulset/db", FromReplicas: 2, ToReplicas: 3, LoadStepS: 20, P99DuringMS: 1250},
	}
	s.Profiles = []ProfileSummary{
		{Kind: "cpu", URL: "http://127.0.0.1:6060", File: "results/cpu.pb.gz", StartedS: 5, Top: []ProfileFunc{
			{Name: "runtime.a", FlatPct: 40.25, CumPct: 41}, {Name: "syscall.b", FlatPct: 20, CumPct: 20}, {Name: "net/http.c", FlatPct: 10, CumPct: 95},
			{Name: "github.com/shop/api.(*Cart).Total", FlatPct: 1, CumPct: 12}, {Name: "main.handleCheckout", FlatPct: 0.5, CumPct: 86.9},
			{Name: "d", FlatPct: 5}, {Name: "golang.org/x/net/http2.e", FlatPct: 2, CumPct: 30}, {Name: "0x4a5f10", FlatPct: 1.5, CumPct: 1.5},
		}},
		{Kind: "heap", URL: "http://127.0.0.1:6060", Error: "404 Not Found"},
	}
	s.Warnings = []string{"data ran out: coupons"}
	s.ReportFile = "results/report.html"
	s.Transport = "net/http"
	return s
}

// TestWatchedText pins the lines after the numbers, in their order.
func TestWatchedText(t *testing.T) {
	var buf bytes.Buffer
	if err := watchedSummary().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	want := `  resources    series                         peak          mean
               cpu.max_core_busy_pct        100.0%         90.0%
               cpu.user_pct                  41.0%         22.5%
               mem.used_bytes              5.0 GiB       4.0 GiB
               (4 more series, zero, static or per CPU, in the JSON summary)
               2 failed samples (gaps), e.g. nginx at 3s: connection refused
  scaling      deployment/api 1→4 replicas, ready 6.0s after the load step at 10s (p99 during: 180ms)
  scaling      statefulset/db 2→3 replicas, not all ready by the end of the run (load step at 20s; p99 since: 1.25s)
  profile      cpu http://127.0.0.1:6060 at 5s → results/cpu.pb.gz
                flat    cum  function
                 0.5%   86.9%  main.handleCheckout
                 1.0%   12.0%  github.com/shop/api.(*Cart).Total
                40.2%   41.0%  runtime.a
                20.0%   20.0%  syscall.b
                10.0%   95.0%  net/http.c
  profile      heap http://127.0.0.1:6060: 404 Not Found
  WARNING      data ran out: coupons
  report       results/report.html
  transport    net/http
`
	i := strings.Index(text, "  resources")
	if i < 0 || text[i:] != want {
		t.Errorf("text after the numbers:\n%s\nwant:\n%s", text[max(i, 0):], want)
	}
	if !strings.Contains(text, ", ramp-up 1.5s, ") {
		t.Errorf("the header lacks the ramp-up:\n%s", text)
	}
}

// TestTextSurvivesJSON: the text of a summary decoded from its JSON (as
// history and fuka report keep it) is the text of the summary itself.
func TestTextSurvivesJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		sum  *Summary
	}{
		{"watched closed", watchedSummary()},
		{"open", NewSummary(shopMeta(), shopRun())},
		{"capped", func() *Summary { m := closedMeta(); m.MaxRPS = 250; return NewSummary(m, simpleRun()) }()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var live, js, stored bytes.Buffer
			if err := tt.sum.WriteText(&live); err != nil {
				t.Fatal(err)
			}
			if err := tt.sum.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var back Summary
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if err := back.WriteText(&stored); err != nil {
				t.Fatal(err)
			}
			if live.String() != stored.String() {
				t.Errorf("text after a JSON round trip:\n%s\nwant:\n%s", stored.String(), live.String())
			}
		})
	}
}

func TestUserCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"main.handleCheckout", true},
		{"main.(*server).ServeHTTP.func1", true},
		{"github.com/shop/api.(*Cart).Total", true},
		{"gopkg.in/yaml%2ev3.unmarshal", true},
		{"runtime.mallocgc", false},
		{"net/http.(*conn).serve", false},
		{"internal/poll.(*FD).Write", false},
		{"golang.org/x/net/http2.(*Framer).ReadFrame", false},
		{"0x4a5f10", false},
		{"type:.eq.main.T", false},
		{"", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := UserCode(tt.name); got != tt.want {
				t.Errorf("UserCode(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestProfileTop(t *testing.T) {
	f := func(name string, flat, cum float64) ProfileFunc {
		return ProfileFunc{Name: name, FlatPct: flat, CumPct: cum}
	}
	names := func(fs []ProfileFunc) []string {
		var n []string
		for _, x := range fs {
			n = append(n, x.Name)
		}
		return n
	}
	for _, tt := range []struct {
		name string
		top  []ProfileFunc
		want []string
	}{
		{"no user code: by flat", []ProfileFunc{f("runtime.b", 10, 10), f("runtime.a", 30, 30), f("syscall.c", 20, 90)},
			[]string{"runtime.a", "syscall.c", "runtime.b"}},
		{"user code by cum first, at most 3", []ProfileFunc{
			f("runtime.a", 50, 50), f("main.a", 1, 10), f("main.b", 0, 90), f("main.c", 2, 40), f("main.d", 5, 5), f("syscall.x", 20, 20)},
			[]string{"main.b", "main.c", "main.a", "runtime.a", "syscall.x"}},
		{"at most 5", []ProfileFunc{f("a.a", 6, 6), f("b.b", 5, 5), f("c.c", 4, 4), f("d.d", 3, 3), f("e.e", 2, 2), f("f.f", 1, 1)},
			[]string{"a.a", "b.b", "c.c", "d.d", "e.e"}},
		{"empty", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(profileTop(tt.top)); !slices.Equal(got, tt.want) {
				t.Errorf("profileTop = %q, want %q", got, tt.want)
			}
		})
	}
}
