package html

import (
	"math"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// resourceGroup is the series of one source (the host, its processes,
// nginx, PostgreSQL, Redis, Kubernetes, …): those that moved during the run
// are drawn, those that did not are one line of text.
type resourceGroup struct {
	ID        string // for id attributes: "res-" and a fixed word or a number
	Source    string // host, process, nginx, postgres, redis, kube, prometheus, agent, other
	Title     string
	Total     int      // series in the group
	Moved     []string // in the summary's order
	Unchanged []unchangedSeries
}

// unchangedSeries is a series that kept one value through the run (or had
// no value at all), with that value formatted.
type unchangedSeries struct {
	Name, Value string
}

// sources are the known series name prefixes, in the order their groups
// appear on the page: the machine first, then what runs on it.
var sources = []struct{ source, title string }{
	{"host", "Host"},
	{"process", "Processes"},
	{"nginx", "nginx"},
	{"postgres", "PostgreSQL"},
	{"redis", "Redis"},
	{"kube", "Kubernetes"},
	{"prometheus", "Prometheus"},
}

// hostPrefixes are the first parts of the local samplers' series (see
// monitor.Local).
var hostPrefixes = map[string]bool{
	"cpu": true, "load": true, "procs": true, "mem": true, "swap": true, "vmstat": true,
	"tcp": true, "disk": true, "net": true,
}

// sourceOf tells a series' source by its name: "host" for cpu.user_pct,
// "process" for proc.nginx.cpu_pct, "kube" for kube.deployment.api.…, and
// for a series from an agent ("agent.10.0.0.5:9810.cpu.user_pct") "agent"
// and the agent's address.
func sourceOf(name string) (source, agent string) {
	first, rest, _ := strings.Cut(name, ".")
	switch {
	case hostPrefixes[first]:
		return "host", ""
	case first == "proc":
		return "process", ""
	case first == "nginx", first == "postgres", first == "redis", first == "kube":
		return first, ""
	case first == "prom":
		return "prometheus", ""
	case first == "agent":
		// HOST:PORT holds dots (an IPv4 address); the series follows the
		// first dot after the port.
		if colon := strings.IndexByte(rest, ':'); colon >= 0 {
			if dot := strings.IndexByte(rest[colon:], '.'); dot > 0 {
				return "agent", rest[:colon+dot]
			}
		}
		return "agent", "?"
	}
	return "other", ""
}

// span is a series' lowest and highest value over the run's samples.
type span struct {
	min, max float64
	n        int
}

// moved reports whether a series changed during the run: its values are
// not all the same (to a relative 1e-9, so that a rate computed from two
// equal counters is not "moved" by rounding).
func (s span) moved() bool {
	if s.n == 0 {
		return false
	}
	scale := math.Max(math.Abs(s.min), math.Abs(s.max))
	return s.max-s.min > 1e-9*scale
}

// peggedPct is the share from which a constant percentage is drawn, not
// folded: a CPU busy 100 % all along did not move, but it is the first
// thing a reader must see.
const peggedPct = 90

// pegged reports whether a series that kept one value is a busy share
// stuck at or near its limit (cpu.core.0_busy_pct at 100); an idle share
// at 100 is not.
func pegged(name string, s span) bool {
	return s.n > 0 && strings.HasSuffix(name, "_pct") && !strings.HasSuffix(name, "idle_pct") && s.min >= peggedPct
}

// groupResources sorts a run's series into groups by source, in the order
// of sources (agents after, one group each, then "other"), and within a
// group into those that moved (drawn) and those that did not (listed); a
// percentage pegged at its limit is drawn (see pegged).
// A group whose every series is unchanged is still listed: that nginx's
// connections never moved is worth knowing.
//
// The series in keep (those a finding rests on) are drawn whatever their
// values: a finding's link leads to its chart, and PostgreSQL's connections
// held at max_connections all along are flat but telling.
func groupResources(r *report.Resources, keep map[string]bool) []resourceGroup {
	spans := make(map[string]*span, len(r.Series))
	for _, st := range r.Series {
		spans[st.Name] = &span{}
	}
	for _, p := range r.Timeline {
		for name, v := range p.Values {
			s := spans[name]
			if s == nil {
				continue
			}
			if s.n == 0 {
				s.min, s.max = v, v
			}
			s.min, s.max = math.Min(s.min, v), math.Max(s.max, v)
			s.n++
		}
	}

	byKey := map[string]*resourceGroup{}
	var agents []string
	for _, st := range r.Series {
		src, agent := sourceOf(st.Name)
		key := src + "\x00" + agent
		g := byKey[key]
		if g == nil {
			g = &resourceGroup{Source: src, Title: titleOf(src, agent)}
			byKey[key] = g
			if src == "agent" {
				agents = append(agents, key)
			}
		}
		g.Total++
		s := *spans[st.Name]
		if s.moved() || pegged(st.Name, s) || keep[st.Name] {
			g.Moved = append(g.Moved, st.Name)
			continue
		}
		u := unchangedSeries{Name: st.Name, Value: "no samples"}
		if s.n > 0 {
			u.Value = report.FormatResource(st.Name, s.max)
		}
		g.Unchanged = append(g.Unchanged, u)
	}

	var keys []string
	for _, s := range sources {
		keys = append(keys, s.source+"\x00")
	}
	keys = append(append(keys, agents...), "other\x00")
	var groups []resourceGroup
	for _, k := range keys {
		if g := byKey[k]; g != nil {
			g.ID = "res-" + report.FormatInt(int64(len(groups)+1))
			groups = append(groups, *g)
		}
	}
	return groups
}

func titleOf(source, agent string) string {
	if source == "agent" {
		return "Host " + agent + " (agent)"
	}
	for _, s := range sources {
		if s.source == source {
			return s.title
		}
	}
	return "Other"
}

// groupLayout is what the page's script needs of the groups: which series
// to draw where. It goes to the page as JSON, next to the summary.
type groupLayout struct {
	ID        string   `json:"id"`
	Moved     []string `json:"moved"`
	Unchanged []string `json:"unchanged"`
}

func layoutOf(groups []resourceGroup) []groupLayout {
	l := make([]groupLayout, len(groups))
	for i, g := range groups {
		l[i] = groupLayout{ID: g.ID, Moved: g.Moved, Unchanged: make([]string, len(g.Unchanged))}
		if l[i].Moved == nil {
			l[i].Moved = []string{}
		}
		for j, u := range g.Unchanged {
			l[i].Unchanged[j] = u.Name
		}
	}
	return l
}
