package findings

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// The resources' limits. A level (CPU busy, memory) must hold in at least
// LevelShare of the seconds in question; a counter of refused work (listen
// overflows, drops) must be non-zero in at least CounterShare of them and
// in less than half that share before.
const (
	BusyPct          = 90.0 // a CPU (or all of them) busy
	StealPct         = 10.0 // CPU time a hypervisor gave away
	RunQueuePerCPU   = 2.0  // runnable tasks per CPU
	MemAvailablePct  = 5.0  // memory available, % of total
	DiskUtilPct      = 90.0 // disk busy
	PostgresReserved = 3.0  // superuser_reserved_connections' default: at max_connections minus these (at most a tenth of it), clients are refused
	RedisMemoryPct   = 90.0 // Redis's used memory, % of maxmemory: near it Redis evicts keys or refuses writes
	NetSpeedPct      = 90.0 // an interface's rx or tx bytes, % of its link speed
	NginxConnPct     = 90.0 // nginx's active connections, % of worker_connections × workers: at it nginx accepts no more
	FDPct            = 90.0 // a process's open fds, % of its soft open-files limit: at it accept() fails (EMFILE)
	LevelShare       = 0.5
	CounterShare     = 0.25
	NearS            = 3.0 // a resource that turned at most this many seconds from the symptom correlates closer
)

// Weights rank the kinds of evidence: work turned away is the most direct,
// a busy CPU next, indirect signs last. fuka's own limits score above all
// of them (see generator).
var weights = map[string]float64{
	"listen_overflow":      1.0,
	"postgres_connections": 1.0,
	"redis_rejected":       1.0,
	"cpu":                  0.9,
	"memory":               0.8,
	"swap_in":              0.7,
	"net_drops":            0.8,
	"net_throughput":       0.8,
	"nginx_connections":    0.8,
	"process_fds":          0.8,
	"redis_memory":         0.7,
	"postgres_lock_waits":  0.6,
	"disk":                 0.7,
	"hpa_max":              0.7,
	"cpu_steal":            0.6,
	"redis_blocked":        0.5,
	"run_queue":            0.4,
	"profile":              0.2,
}

// window is a series over the seconds in question and before them.
type window struct {
	name        string
	met, n      int     // points that met the condition, of n
	before      float64 // the share of the seconds before that met it
	nBefore     int     // how many seconds before there were
	meanBefore  float64
	first, last float64 // the first and last point that met it
	peak, mean  float64
}

func (w window) share() float64 {
	if w.n == 0 {
		return 0
	}
	return float64(w.met) / float64(w.n)
}

// level: held in most of the seconds (or the only one).
func (w window) level() bool {
	return w.met > 0 && (w.met >= 2 || w.n == 1) && w.share() >= LevelShare
}

// counter: work turned away in enough seconds, and not as much before
// (when there were seconds enough before to say: the host's own noise).
func (w window) counter() bool {
	if w.met < 2 || w.share() < CounterShare {
		return false
	}
	return w.nBefore < 3 || w.before < w.share()/2 || w.meanBefore < w.mean/2
}

type series struct {
	ts, v []float64
	at    map[float64]float64
}

// valueAt is series name's value at the point at t.
func (a *analysis) valueAt(name string, t float64) (float64, bool) {
	s := a.index()[name]
	if s == nil {
		return 0, false
	}
	v, ok := s.at[t]
	return v, ok
}

// index returns every resource series by name, in time order.
func (a *analysis) index() map[string]*series {
	if a.idx != nil || a.s.Resources == nil {
		return a.idx
	}
	a.idx = map[string]*series{}
	pts := slices.Clone(a.s.Resources.Timeline)
	slices.SortStableFunc(pts, func(x, y report.ResourcePoint) int {
		switch {
		case x.TS < y.TS:
			return -1
		case x.TS > y.TS:
			return 1
		}
		return 0
	})
	for _, p := range pts {
		for k, v := range p.Values {
			s := a.idx[k]
			if s == nil {
				s = &series{at: map[float64]float64{}}
				a.idx[k] = s
			}
			s.ts, s.v = append(s.ts, p.TS), append(s.v, v)
			s.at[p.TS] = v
		}
	}
	return a.idx
}

// measure reads series name over the seconds in question (points at or
// after symptomAt: a point holds the second before it, so the one at the
// symptom's start is a second's lead) and before them, against cond. The
// point at 0 (levels only, the rates' baseline) is left out.
func (a *analysis) measure(name string, cond func(i int, v float64) bool) (window, bool) {
	s := a.index()[name]
	if s == nil {
		return window{}, false
	}
	w := window{name: name, first: -1}
	var sum, sumBefore float64
	nb, mb := 0, 0
	for i, t := range s.ts {
		if t <= 0 {
			continue
		}
		ok := cond(i, s.v[i])
		if t < a.symptomAt {
			nb++
			sumBefore += s.v[i]
			if ok {
				mb++
			}
			continue
		}
		w.n++
		sum += s.v[i]
		w.peak = max(w.peak, s.v[i])
		if ok {
			w.met++
			if w.first < 0 {
				w.first = t
			}
			w.last = t
		}
	}
	if w.n == 0 {
		return window{}, false
	}
	w.mean = sum / float64(w.n)
	if nb > 0 {
		w.before, w.nBefore, w.meanBefore = float64(mb)/float64(nb), nb, sumBefore/float64(nb)
	}
	return w, true
}

func (w window) evidence(limit *float64) report.Evidence {
	return report.Evidence{Series: w.name, FromS: round3(max(w.first-1, 0)), ToS: w.last, Peak: round3(w.peak), Mean: round3(w.mean), Limit: limit}
}

// add records a limit of the target from the windows that met it (the
// first is the main one): what it was, since when, and how it relates to
// the symptom.
func (a *analysis) add(kind, conf, what string, ws []window, limits []*float64) {
	first := ws[0]
	at := max(first.first-1, 0)
	near := 1.0
	if at-a.symptomAt > NearS || a.symptomAt-at > NearS {
		near = 0.8
	}
	ev := make([]report.Evidence, len(ws))
	for i, w := range ws {
		ev[i] = w.evidence(limits[i])
	}
	var rel string
	switch conf {
	case report.ConfidenceStrong:
		rel = "it coincides with " + a.symptom + " (work was turned away then; still a correlation, not a proof)"
	case report.ConfidenceCorrelates:
		rel = "it correlates with " + a.symptom + " (a correlation, not a proof)"
	default:
		rel = "an indirect sign, at the time of " + a.symptom
	}
	a.limits = append(a.limits, report.Finding{
		Kind: kind, Subject: report.SubjectTarget, AtS: round3(at), Confidence: conf,
		Score:    weights[kind] * first.share() * near,
		Summary:  fmt.Sprintf("%s (from %s to %s); %s", what, secs(at), secs(first.last), rel),
		Evidence: ev, Chart: report.ChartAnchor(first.name),
	})
}

// hosts returns the series-name prefixes of the monitored hosts: "" for
// the local host, "agent.HOST:PORT." for each agent, those that have
// series ending in suffix.
func (a *analysis) hosts(suffix string) []string {
	var out []string
	for name := range a.index() {
		if name == suffix {
			out = append(out, "")
		} else if strings.HasPrefix(name, "agent.") && strings.HasSuffix(name, "."+suffix) {
			out = append(out, strings.TrimSuffix(name, suffix))
		}
	}
	slices.Sort(out)
	return out
}

// limitAt returns series name's value at time t (its last point at or
// before t, else its first): a setting such as max_connections, read
// against another series' point at t. Nil when there is no such series.
func (a *analysis) limitAt(name string) func(t float64) float64 {
	s := a.index()[name]
	if s == nil || len(s.v) == 0 {
		return nil
	}
	return func(t float64) float64 {
		for i := len(s.ts) - 1; i >= 0; i-- {
			if s.ts[i] <= t {
				return s.v[i]
			}
		}
		return s.v[0]
	}
}

var netSpeedRE = regexp.MustCompile(`^(agent\..*?:\d+\.|)net\.(.+)\.speed_mbps$`)

// netThroughput: an interface that received or sent near its link speed
// (a level: in most of the seconds in question).
func (a *analysis) netThroughput() {
	var names []string
	for name := range a.index() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := netSpeedRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		speed := a.limitAt(name)
		var ws []window
		var lims []*float64
		var verbs []string
		for _, dir := range []string{"rx", "tx"} {
			rate := a.index()[m[1]+"net."+m[2]+"."+dir+"_bytes_per_s"]
			if rate == nil {
				continue
			}
			w, ok := a.measure(m[1]+"net."+m[2]+"."+dir+"_bytes_per_s", func(i int, v float64) bool {
				return v >= speed(rate.ts[i])*1e6/8*NetSpeedPct/100
			})
			if ok && w.level() {
				ws, lims = append(ws, w), append(lims, new(speed(w.last)*1e6/8))
				verbs = append(verbs, map[string]string{"rx": "received", "tx": "sent"}[dir])
			}
		}
		if len(ws) == 0 {
			continue
		}
		a.add("net_throughput", report.ConfidenceCorrelates, fmt.Sprintf("%s%s %s %s/s at the peak (mean %s/s): at its %s Mbit/s link's speed",
			host(m[1]), m[2], strings.Join(verbs, " and "), report.FormatBytes(ws[0].peak), report.FormatBytes(ws[0].mean), report.FormatFixed(*lims[0]*8/1e6, 0)), ws, lims)
	}
}

// resources checks every monitored resource against its limit over the
// seconds in question.
func (a *analysis) resources() {
	if a.s.Resources == nil {
		return
	}
	a.cpu()
	for _, h := range a.hosts("cpu.steal_pct") {
		if w, ok := a.measure(h+"cpu.steal_pct", func(_ int, v float64) bool { return v >= StealPct }); ok && w.level() {
			a.add("cpu_steal", report.ConfidenceCorrelates, fmt.Sprintf("%sthe hypervisor took %s of the CPU time (steal; peak %s)", host(h), pct(w.mean), pct(w.peak)),
				[]window{w}, []*float64{new(StealPct)})
		}
	}
	a.runQueue()
	a.memory()
	a.counters()
	a.netThroughput()
	for _, h := range a.hosts("disk.util_pct") {
		if w, ok := a.measure(h+"disk.util_pct", func(_ int, v float64) bool { return v >= DiskUtilPct }); ok && w.level() {
			a.add("disk", report.ConfidenceCorrelates, fmt.Sprintf("%sthe disks were %s busy on average (peak %s)", host(h), pct(w.mean), pct(w.peak)),
				[]window{w}, []*float64{new(DiskUtilPct)})
		}
	}
	a.nginx()
	a.processFDs()
	a.postgres()
	a.postgresLockWaits()
	a.redis()
	a.hpa()
}

var coreRE = regexp.MustCompile(`^(.*)cpu\.core\.(\d+)_busy_pct$`)

// cpu: all of a host's CPUs busy (from idle), or some of them (per CPU,
// or the busiest when a big host records only that).
func (a *analysis) cpu() {
	busyCores := map[string][]window{}
	var names []string
	for name := range a.index() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := coreRE.FindStringSubmatch(name)
		if m == nil || (m[1] != "" && !strings.HasPrefix(m[1], "agent.")) {
			continue
		}
		if w, ok := a.measure(name, func(_ int, v float64) bool { return v >= BusyPct }); ok && w.level() {
			busyCores[m[1]] = append(busyCores[m[1]], w)
		}
	}
	for _, h := range a.hosts("cpu.idle_pct") {
		idleS := a.index()[h+"cpu.idle_pct"]
		idle, _ := a.measure(h+"cpu.idle_pct", func(i int, v float64) bool {
			// busy = 100 − idle − iowait, as the per-CPU series count it
			if w, ok := a.valueAt(h+"cpu.iowait_pct", idleS.ts[i]); ok {
				v += w
			}
			return v <= 100-BusyPct
		})
		cores := busyCores[h]
		delete(busyCores, h)
		if idle.level() {
			ws := append([]window{idle}, cores...)
			lims := make([]*float64, len(ws))
			lims[0] = new(100 - BusyPct)
			for i := 1; i < len(ws); i++ {
				lims[i] = new(BusyPct)
			}
			a.add("cpu", report.ConfidenceCorrelates, fmt.Sprintf("%sall CPUs were busy: %s idle on average, never more than %s%s", host(h), pct(idle.mean), pct(idle.peak), a.selfShare(h)), ws, lims)
			continue
		}
		if len(cores) > 0 {
			a.busyCores(h, cores)
			continue
		}
		if w, ok := a.measure(h+"cpu.max_core_busy_pct", func(_ int, v float64) bool { return v >= BusyPct }); ok && w.level() {
			a.add("cpu", report.ConfidenceCorrelates, fmt.Sprintf("%sthe busiest CPU was %s busy on average (peak %s): one thread's worth of work at its limit%s", host(h), pct(w.mean), pct(w.peak), a.selfShare(h)),
				[]window{w}, []*float64{new(BusyPct)})
		}
	}
	for h, cores := range busyCores { // a host without cpu.idle_pct (not expected)
		a.busyCores(h, cores)
	}
}

func (a *analysis) busyCores(h string, cores []window) {
	slices.SortFunc(cores, func(x, y window) int { // the busiest first
		switch {
		case x.mean > y.mean:
			return -1
		case x.mean < y.mean:
			return 1
		}
		return strings.Compare(x.name, y.name)
	})
	var ids []string
	lims := make([]*float64, len(cores))
	for i, w := range cores {
		ids = append(ids, coreRE.FindStringSubmatch(w.name)[2])
		lims[i] = new(BusyPct)
	}
	word := "CPU " + ids[0] + " was"
	if len(ids) > 1 {
		word = "CPUs " + strings.Join(ids, ", ") + " were"
	}
	a.add("cpu", report.ConfidenceCorrelates, fmt.Sprintf("%s%s at least %s busy (mean %s, peak %s) while others had time to spare: work bound to one core, or one thread%s",
		host(h), word, pct(BusyPct), pct(cores[0].mean), pct(cores[0].peak), a.selfShare(h)), cores, lims)
}

// selfShare says how much of a local host's CPU was fuka's own.
func (a *analysis) selfShare(h string) string {
	if h != "" || len(a.gen.CPU) == 0 {
		return ""
	}
	var sum float64
	var n int
	for _, p := range a.gen.CPU {
		if p.TS >= a.symptomAt && p.TS > 0 {
			sum += p.V
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return ", fuka itself using " + pct(sum/float64(n)) + " of one CPU"
}

// runQueue: more runnable tasks than the CPUs can run.
func (a *analysis) runQueue() {
	for _, h := range a.hosts("procs.running") {
		cpus := a.index()[h+"cpu.count"]
		if cpus == nil || len(cpus.v) == 0 {
			continue
		}
		n := cpus.v[len(cpus.v)-1]
		lim := RunQueuePerCPU * n
		if w, ok := a.measure(h+"procs.running", func(_ int, v float64) bool { return v > lim }); ok && w.level() {
			a.add("run_queue", report.ConfidenceWeak, fmt.Sprintf("%s%s tasks were runnable on average (peak %s) for %s CPUs: work waited for a CPU", host(h), report.FormatFixed(w.mean, 1), report.FormatFixed(w.peak, 0), report.FormatFixed(n, 0)),
				[]window{w}, []*float64{new(lim)})
		}
	}
}

// memory: little memory available, or pages read back from swap.
func (a *analysis) memory() {
	for _, h := range a.hosts("mem.available_bytes") {
		total := a.index()[h+"mem.total_bytes"]
		if total == nil || len(total.v) == 0 || total.v[0] <= 0 {
			continue
		}
		lim := total.v[0] * MemAvailablePct / 100
		if w, ok := a.measure(h+"mem.available_bytes", func(_ int, v float64) bool { return v <= lim }); ok && w.level() {
			a.add("memory", report.ConfidenceCorrelates, fmt.Sprintf("%smemory ran low: %s available at the least, of %s", host(h), report.FormatBytes(lowest(a.index()[h+"mem.available_bytes"], a.symptomAt)), report.FormatBytes(total.v[0])),
				[]window{w}, []*float64{new(lim)})
		}
	}
	for _, h := range a.hosts("swap.in_pages_per_s") {
		if w, ok := a.measure(h+"swap.in_pages_per_s", func(_ int, v float64) bool { return v > 0 }); ok && w.counter() {
			a.add("swap_in", report.ConfidenceCorrelates, fmt.Sprintf("%spages were read back from swap (peak %s pages/s): memory was short", host(h), report.FormatFixed(w.peak, 0)),
				[]window{w}, []*float64{new(0.0)})
		}
	}
}

func lowest(s *series, from float64) float64 {
	low := -1.0
	for i, t := range s.ts {
		if t >= from && (low < 0 || s.v[i] < low) {
			low = s.v[i]
		}
	}
	return max(low, 0)
}

// counters: the kernel turned connections or packets away.
func (a *analysis) counters() {
	for _, h := range a.hosts("tcp.listen_overflows_per_s") {
		ov, ok1 := a.measure(h+"tcp.listen_overflows_per_s", func(_ int, v float64) bool { return v > 0 })
		dr, ok2 := a.measure(h+"tcp.listen_drops_per_s", func(_ int, v float64) bool { return v > 0 })
		top, other := ov, dr
		if !ok1 || (ok2 && dr.met > ov.met) {
			top, other = dr, ov // SYNs dropped without an accept queue overflow: the SYN backlog
		}
		if !(ok1 || ok2) || !top.counter() {
			continue
		}
		ws := []window{top}
		if other.n > 0 && other.met > 0 {
			ws = append(ws, other)
		}
		lims := make([]*float64, len(ws))
		for i := range lims {
			lims[i] = new(0.0)
		}
		a.add("listen_overflow", report.ConfidenceStrong, fmt.Sprintf("%sa listen queue overflowed: the kernel dropped connections in %d of %d seconds (peak %s overflows/s, %s drops/s): the server accepted connections slower than they came, each dropped SYN waits a second or more to be sent again",
			host(h), top.met, top.n, report.FormatFixed(ov.peak, 0), report.FormatFixed(dr.peak, 0)), ws, lims)
	}
	for _, h := range a.hosts("net.rx_drops_per_s") {
		var ws []window
		for _, k := range []string{"rx_drops", "tx_drops", "rx_errors", "tx_errors"} {
			if w, ok := a.measure(h+"net."+k+"_per_s", func(_ int, v float64) bool { return v > 0 }); ok && w.counter() {
				ws = append(ws, w)
			}
		}
		if len(ws) == 0 {
			continue
		}
		lims := make([]*float64, len(ws))
		for i := range lims {
			lims[i] = new(0.0)
		}
		a.add("net_drops", report.ConfidenceStrong, fmt.Sprintf("%sthe network interfaces dropped or failed packets (%s, peak %s/s)", host(h), strings.TrimPrefix(ws[0].name, h+"net."), report.FormatFixed(ws[0].peak, 0)), ws, lims)
	}
}

// nginx: active connections near worker_connections × workers (given
// with the monitor source: stub_status does not say it).
func (a *analysis) nginx() {
	for name, s := range a.index() {
		p, ok := strings.CutSuffix(name, "nginx.active")
		limAt := a.limitAt(p + "nginx.connection_limit")
		if !ok || limAt == nil {
			continue
		}
		w, ok := a.measure(name, func(i int, v float64) bool {
			lim := limAt(s.ts[i])
			return lim > 0 && v >= lim*NginxConnPct/100
		})
		if ok && w.level() {
			lim := limAt(w.last)
			a.add("nginx_connections", report.ConfidenceCorrelates, fmt.Sprintf("%snginx's active connections were near its limit: %s at the peak (mean %s) of %s (worker_connections × workers); at it nginx accepts no more (\"worker_connections are not enough\")",
				host(p), report.FormatFixed(w.peak, 0), report.FormatFixed(w.mean, 1), report.FormatFixed(lim, 0)), []window{w}, []*float64{new(lim)})
		}
	}
}

var fdLimitRE = regexp.MustCompile(`^(agent\..*?:\d+\.|)proc\.(.+)\.fd_limit$`)

// processFDs: a monitored process's open fds near its soft open-files
// limit (with several matches, the one nearest its own: fds_max).
func (a *analysis) processFDs() {
	var names []string
	for name := range a.index() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := fdLimitRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		limAt := a.limitAt(name)
		base := m[1] + "proc." + m[2] + "."
		fdsName := base + "fds_max"
		if a.index()[fdsName] == nil {
			fdsName = base + "fds"
		}
		s := a.index()[fdsName]
		if s == nil {
			continue
		}
		w, ok := a.measure(fdsName, func(i int, v float64) bool {
			lim := limAt(s.ts[i])
			return lim > 0 && v >= lim*FDPct/100
		})
		if ok && w.level() {
			lim := limAt(w.last)
			a.add("process_fds", report.ConfidenceCorrelates, fmt.Sprintf("%sprocess %s had %s files open at the peak (mean %s), against its limit of %s (\"Max open files\"): at it accept() and open() fail (EMFILE, \"too many open files\")",
				host(m[1]), m[2], report.FormatFixed(w.peak, 0), report.FormatFixed(w.mean, 1), report.FormatFixed(lim, 0)), []window{w}, []*float64{new(lim)})
		}
	}
}

var pgRE = regexp.MustCompile(`^(.*)postgres\.connections\.total$`)

// postgres: connections at max_connections (less the superusers'
// reserve), where new clients are refused.
func (a *analysis) postgres() {
	for name, s := range a.index() {
		m := pgRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		maxS := a.index()[m[1]+"postgres.max_connections"]
		if maxS == nil || len(maxS.v) == 0 {
			continue
		}
		maxAt := func(t float64) float64 {
			for i := len(maxS.ts) - 1; i >= 0; i-- {
				if maxS.ts[i] <= t {
					return maxS.v[i]
				}
			}
			return maxS.v[0]
		}
		w, ok := a.measure(name, func(i int, v float64) bool {
			lim := maxAt(s.ts[i])
			return lim > 0 && v >= lim-min(PostgresReserved, math.Floor(lim/10))
		})
		// The monitor's own connection refused for too many clients is
		// a second at the limit too (its series has a gap there).
		refused := 0
		for _, f := range a.s.Resources.Failures {
			if f.TS >= a.symptomAt && f.TS > 0 && strings.Contains(f.Source, "postgres") &&
				(strings.Contains(f.Error, "too many clients") || strings.Contains(f.Error, "53300")) {
				refused++
				if w.first < 0 || f.TS < w.first {
					w.first = f.TS
				}
				w.last = max(w.last, f.TS)
			}
		}
		w.met, w.n = w.met+refused, w.n+refused
		// Connections come and go faster than a sample a second sees:
		// at the limit in a quarter of the samples (two at least) is
		// enough, since every connection past it is refused.
		if !ok && refused == 0 || w.met < 2 || w.share() < CounterShare {
			continue
		}
		w.name = name
		lim := maxS.v[len(maxS.v)-1]
		also := ""
		if refused > 0 {
			also = fmt.Sprintf(", and the monitor's own connection was refused for too many clients in %d of its samples", refused)
		}
		a.add("postgres_connections", report.ConfidenceStrong, fmt.Sprintf("PostgreSQL's connections reached max_connections: %s of %s at the peak (mean %s); past it new connections are refused (\"too many clients\")%s",
			report.FormatFixed(w.peak, 0), report.FormatFixed(lim, 0), report.FormatFixed(w.mean, 1), also), []window{w}, []*float64{new(lim)})
	}
}

// postgresLockWaits: sessions waiting for another's lock in most of the
// seconds in question.
func (a *analysis) postgresLockWaits() {
	for name := range a.index() {
		if !strings.HasSuffix(name, "postgres.lock_waits") {
			continue
		}
		if w, ok := a.measure(name, func(_ int, v float64) bool { return v > 0 }); ok && w.level() {
			a.add("postgres_lock_waits", report.ConfidenceCorrelates, fmt.Sprintf("PostgreSQL sessions waited for locks others held in %d of %d seconds (%s waiting on average, peak %s): transactions queued behind each other",
				w.met, w.n, report.FormatFixed(w.mean, 1), report.FormatFixed(w.peak, 0)), []window{w}, []*float64{new(0.0)})
		}
	}
}

// redis: connections rejected (maxclients), clients blocked, or memory
// near maxmemory.
func (a *analysis) redis() {
	for name, s := range a.index() {
		p, ok := strings.CutSuffix(name, "redis.used_memory_bytes")
		maxAt := a.limitAt(p + "redis.maxmemory_bytes")
		if !ok || maxAt == nil {
			continue
		}
		// maxmemory 0 is no limit: never met.
		w, ok := a.measure(name, func(i int, v float64) bool {
			lim := maxAt(s.ts[i])
			return lim > 0 && v >= lim*RedisMemoryPct/100
		})
		if ok && w.level() {
			lim := maxAt(w.last)
			a.add("redis_memory", report.ConfidenceCorrelates, fmt.Sprintf("Redis's memory was near maxmemory: %s at the peak of %s; there Redis evicts keys, or refuses writes (OOM) under noeviction",
				report.FormatBytes(w.peak), report.FormatBytes(lim)), []window{w}, []*float64{new(lim)})
		}
	}
	for name, s := range a.index() {
		if !strings.HasSuffix(name, "redis.rejected_connections") {
			continue
		}
		w, ok := a.measure(name, func(i int, v float64) bool { return i > 0 && v > s.v[i-1] })
		if ok && w.counter() {
			a.add("redis_rejected", report.ConfidenceStrong, fmt.Sprintf("Redis rejected connections (maxclients): %s rejected in all by the end", report.FormatFixed(s.v[len(s.v)-1], 0)),
				[]window{w}, []*float64{new(0.0)})
		}
	}
	for name := range a.index() {
		if !strings.HasSuffix(name, "redis.blocked_clients") {
			continue
		}
		if w, ok := a.measure(name, func(_ int, v float64) bool { return v > 0 }); ok && w.level() {
			a.add("redis_blocked", report.ConfidenceCorrelates, fmt.Sprintf("Redis had clients blocked (on BLPOP and the like): %s on average, peak %s", report.FormatFixed(w.mean, 1), report.FormatFixed(w.peak, 0)),
				[]window{w}, []*float64{new(0.0)})
		}
	}
}

var hpaRE = regexp.MustCompile(`^(.*)kube\.hpa\.(.+)\.replicas_current$`)

// hpa: an autoscaler at its maximum can add no more pods.
func (a *analysis) hpa() {
	for name := range a.index() {
		m := hpaRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		maxS := a.index()[m[1]+"kube.hpa."+m[2]+".replicas_max"]
		if maxS == nil || len(maxS.v) == 0 {
			continue
		}
		lim := maxS.v[len(maxS.v)-1]
		if minS := a.index()[m[1]+"kube.hpa."+m[2]+".replicas_min"]; minS != nil && len(minS.v) > 0 && minS.v[len(minS.v)-1] >= lim {
			continue // min = max: it never scales, so being at max says nothing
		}
		w, ok := a.measure(name, func(_ int, v float64) bool { return v >= lim })
		if ok && w.level() {
			a.add("hpa_max", report.ConfidenceCorrelates, fmt.Sprintf("the autoscaler %s was at its maximum of %s replicas: it could add no more", m[2], report.FormatFixed(lim, 0)),
				[]window{w}, []*float64{new(lim)})
		}
	}
}

// profiles: where the target's CPU went, from the CPU profile captured
// nearest the seconds in question.
func (a *analysis) profiles() {
	best := -1
	for i, p := range a.s.Profiles {
		if p.Kind != "cpu" || p.Error != "" || len(p.Top) == 0 {
			continue
		}
		if best < 0 || dist(p.StartedS, a.symptomAt) < dist(a.s.Profiles[best].StartedS, a.symptomAt) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	p := a.s.Profiles[best]
	flat := p.Top[0]
	for _, f := range p.Top {
		if f.FlatPct > flat.FlatPct {
			flat = f
		}
	}
	a.limits = append(a.limits, report.Finding{
		Kind: "profile", Subject: report.SubjectTarget, AtS: p.StartedS, Confidence: report.ConfidenceWeak,
		Score: weights["profile"],
		Summary: fmt.Sprintf("the target's CPU profile from %s spent the most in %s (%s of the samples in the function itself, %s with what it called): where its CPU went then, not proof that CPU was the limit",
			secs(p.StartedS), flat.Name, pct(flat.FlatPct), pct(flat.CumPct)),
		Evidence: []report.Evidence{}, Chart: "profiles",
	})
}

func dist(x, y float64) float64 {
	if x > y {
		return x - y
	}
	return y - x
}

func host(prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(prefix, "agent."), ".") + ": "
}

func pct(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10) + "%"
	}
	return report.FormatFixed(v, 1) + "%"
}
