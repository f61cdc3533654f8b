package report

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// staticSeries are facts about the host rather than load: the terminal
// leaves them out (the JSON and the HTML report keep them).
var staticSeries = map[string]bool{
	"cpu.count": true, "mem.total_bytes": true, "swap.total_bytes": true, "postgres.max_connections": true,
	"cpu.idle_pct": true, "load.5m": true, "load.15m": true,
}

// watchedText writes what was watched next to the load's results: the
// monitored series' peak and mean, each Kubernetes scale-out, and the
// profiles captured with their top functions.
//
//	resources    series          peak          mean
//	             cpu.user_pct   41.0%         22.5%
//	scaling      deployment/api 1→4 replicas, ready 6.0s after the load step at 10s (p99 during: 180ms)
//	profile      cpu http://127.0.0.1:6060/debug/pprof/profile at 5s → results/cpu.pb.gz
func (s *Summary) watchedText(t *textBuilder) {
	if s.Resources != nil && len(s.Resources.Series) > 0 {
		// The terminal gets the series that say something; the JSON (and
		// the HTML report) keep them all.
		var series []ResourceStat
		hidden, cores := 0, 0
		for _, st := range s.Resources.Series {
			if st.Peak == 0 || staticSeries[st.Name] {
				hidden++
				continue
			}
			// One row per CPU would bury the rest: the busiest CPU's
			// series (cpu.max_core_busy_pct) stands for them here.
			if perCore(st.Name) {
				hidden++
				cores++
				continue
			}
			series = append(series, st)
		}
		sort.Slice(series, func(i, j int) bool { return series[i].Name < series[j].Name })
		width := 0
		for _, st := range series {
			width = max(width, len(st.Name))
		}
		cells := func(name, peak, mean string) string {
			return name + strings.Repeat(" ", width-len(name)) + "  " + padLeft(peak, 12) + "  " + padLeft(mean, 12)
		}
		t.row("resources", cells("series", "peak", "mean"))
		for _, st := range series {
			t.row("", cells(st.Name, FormatResource(st.Name, st.Peak), FormatResource(st.Name, st.Mean)))
		}
		switch {
		case cores > 0:
			t.row("", "("+strconv.Itoa(hidden)+" more series, zero, static or per CPU, in the JSON summary)")
		case hidden > 0:
			t.row("", "("+strconv.Itoa(hidden)+" more series, zero or static, in the JSON summary)")
		}
		if n := len(s.Resources.Failures); n > 0 {
			f := s.Resources.Failures[0]
			t.row("", strconv.Itoa(n)+" failed samples (gaps), e.g. "+f.Source+" at "+strconv.FormatFloat(f.TS, 'f', 0, 64)+"s: "+f.Error)
		}
	}
	for _, e := range s.Scaling { // kubernetes sources: time to scale
		line := e.Workload + " " + strconv.Itoa(e.FromReplicas) + "→" + strconv.Itoa(e.ToReplicas) + " replicas, "
		if e.TimeToScaleS != nil {
			line += "ready " + strconv.FormatFloat(*e.TimeToScaleS, 'f', 1, 64) + "s after the load step at " +
				strconv.FormatFloat(e.LoadStepS, 'f', 0, 64) + "s (p99 during: " + FormatMS(e.P99DuringMS) + ")"
		} else {
			line += "not all ready by the end of the run (load step at " + strconv.FormatFloat(e.LoadStepS, 'f', 0, 64) +
				"s; p99 since: " + FormatMS(e.P99DuringMS) + ")"
		}
		t.row("scaling", line)
	}
	for _, p := range s.Profiles {
		if p.Error != "" {
			t.row("profile", p.Kind+" "+p.URL+": "+p.Error)
			continue
		}
		t.row("profile", p.Kind+" "+p.URL+" at "+strconv.FormatFloat(p.StartedS, 'f', 0, 64)+"s → "+p.File)
		top := profileTop(p.Top)
		if len(top) > 0 {
			t.row("", " flat    cum  function")
		}
		for _, f := range top {
			t.row("", padLeft(strconv.FormatFloat(f.FlatPct, 'f', 1, 64), 5)+"%  "+padLeft(strconv.FormatFloat(f.CumPct, 'f', 1, 64), 5)+"%  "+f.Name)
		}
	}
}

// Of a profile's top functions the text shows profileTopN: first the
// user's code by cumulative share (at most profileTopUser), then the rest
// by flat share. In a server the handler's flat share is small, its time
// spent in the runtime and syscalls it calls, so a list by flat alone shows
// only those; its cum share is the time spent on its behalf. top is in the
// JSON's order (by flat); the full list stays in the JSON and HTML report.
const profileTopN, profileTopUser = 5, 3

func profileTop(top []ProfileFunc) []ProfileFunc {
	var user, rest []ProfileFunc
	for _, f := range top {
		if UserCode(f.Name) {
			user = append(user, f)
		} else {
			rest = append(rest, f)
		}
	}
	sort.SliceStable(user, func(i, j int) bool { return user[i].CumPct > user[j].CumPct })
	user = user[:min(len(user), profileTopUser)]
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].FlatPct > rest[j].FlatPct })
	return append(user, rest[:min(len(rest), profileTopN-len(user))]...)
}

// UserCode reports whether a Go function name is the program's own code
// or a third-party module's: its package is main, or its import path starts
// with a domain (github.com/…), other than the Go project's golang.org/x.
// The runtime and standard library (runtime.mallocgc, net/http.(*conn).serve,
// syscall.Syscall) are not, nor are addresses without symbols (0x4a5f10).
func UserCode(name string) bool {
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return false
	}
	pkg := name[:slash+1+dot]
	if pkg == "main" {
		return true
	}
	first, _, _ := strings.Cut(pkg, "/")
	return strings.Contains(first, ".") && first != "golang.org"
}

// padLeft right-aligns s in n columns (as %*s does, counting runes).
func padLeft(s string, n int) string {
	return strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) + s
}

// perCore reports whether name is one CPU's series (cpu.core.N_busy_pct),
// of this host or through an agent (agent.HOST:PORT.cpu.core.N_busy_pct).
func perCore(name string) bool {
	i := strings.LastIndex(name, "cpu.core.")
	return i >= 0 && (i == 0 || name[i-1] == '.') && !strings.Contains(name[i+len("cpu.core."):], ".")
}
