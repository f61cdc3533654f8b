package metrics

import (
	"sync"
	"time"
)

// Recorder collects the outcomes of one source of load (one event loop, or
// one pool of clients) for the current interval, per request name.
//
// A source that records many outcomes in a burst takes the lock once for the
// burst (Lock, RecordLocked..., Unlock); the collector takes it once a second
// to flush. The two never contend for long.
type Recorder struct {
	mu      sync.Mutex
	cur     []*Stats   // by request name index; nil until the name's first outcome
	checks  [][2]int64 // by check index: passes, failures
	dropped int64
	// connects counts the connections the source opened during the run:
	// after the first second, each one is a client that waited for a
	// handshake before its request could go.
	connects int64
	// wsOpen is how many WebSocket connections the source holds open now:
	// a gauge, not reset by a flush; wsPeak the most it held at once in
	// the current interval. ws: the source is a WebSocket one (it tried a
	// handshake, or a worker's snapshot said so).
	wsOpen, wsPeak int64
	ws             bool
}

// NewRecorder returns a Recorder for n request names (indexes 0..n-1).
//
// A name's Stats (two HDR histograms, ~374 KiB) is made on its first
// outcome, not here: a source records only some of a plan's names (a part
// runs its own scenario's requests, an event loop the one quick request),
// and one Stats per name of the whole plan in every source would grow
// with the plan's size times its parts. Once made, a Stats is reset and
// reused each interval: recording allocates nothing in the steady state.
func NewRecorder(n int) *Recorder {
	return &Recorder{cur: make([]*Stats, n)}
}

// stats returns name's Stats of the current interval, made on first use.
func (r *Recorder) stats(name int) *Stats {
	s := r.cur[name]
	if s == nil {
		s = NewStats()
		r.cur[name] = s
	}
	return s
}

// WithChecks makes room for n named checks (indexes 0..n-1) and returns r.
func (r *Recorder) WithChecks(n int) *Recorder {
	r.checks = make([][2]int64, n)
	return r
}

// Check counts one check result, taking the lock.
func (r *Recorder) Check(i int, pass bool) {
	r.mu.Lock()
	if pass {
		r.checks[i][0]++
	} else {
		r.checks[i][1]++
	}
	r.mu.Unlock()
}

// CheckLocked counts one check result; the caller holds the lock.
func (r *Recorder) CheckLocked(i int, pass bool) {
	if pass {
		r.checks[i][0]++
	} else {
		r.checks[i][1]++
	}
}

// Lock takes the recorder for a burst of RecordLocked calls.
func (r *Recorder) Lock() { r.mu.Lock() }

// Unlock ends a burst.
func (r *Recorder) Unlock() { r.mu.Unlock() }

// RecordLocked records one outcome; the caller holds the lock.
func (r *Recorder) RecordLocked(name int, o Outcome) { r.stats(name).Record(o) }

// DropLocked counts n starts that found no free client; the caller holds the lock.
func (r *Recorder) DropLocked(n int64) { r.dropped += n }

// ConnectLocked counts one new connection; the caller holds the lock.
func (r *Recorder) ConnectLocked() { r.connects++ }

// Connect counts one new connection, taking the lock.
func (r *Recorder) Connect() {
	r.mu.Lock()
	r.connects++
	r.mu.Unlock()
}

// OpenWS adds n to the WebSocket connections open now: 1 after a
// handshake, -1 when the connection ends, 0 after a failed handshake
// (which still makes the run a WebSocket run). It takes the lock.
func (r *Recorder) OpenWS(n int64) {
	r.mu.Lock()
	r.wsOpen += n
	r.wsPeak = max(r.wsPeak, r.wsOpen)
	r.ws = true
	r.mu.Unlock()
}

// SetWS sets the WebSocket connections open now and the most open at
// once in the interval: a recorder that takes several workers' snapshots
// holds the sums of theirs.
func (r *Recorder) SetWS(open, peak int64) {
	r.mu.Lock()
	r.wsOpen, r.wsPeak = open, max(peak, open)
	r.mu.Unlock()
}

// Record records one outcome, taking the lock.
func (r *Recorder) Record(name int, o Outcome) {
	r.mu.Lock()
	r.stats(name).Record(o)
	r.mu.Unlock()
}

// Drop counts n dropped starts, taking the lock.
func (r *Recorder) Drop(n int64) {
	r.mu.Lock()
	r.dropped += n
	r.mu.Unlock()
}

// flushed is what a recorder's flush returns besides the stats.
type flushed struct {
	dropped, connects int64 // in the interval
	wsOpen            int64 // now
	wsPeak            int64 // the most at once in the interval
	ws                bool
}

// flushInto merges the current interval into dst (by name), resets it and
// returns the dropped starts and the new connections of the interval, and
// the WebSocket connections open now.
func (r *Recorder) flushInto(dst []*Stats) flushed {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.cur {
		if s != nil {
			dst[i].Merge(s)
			s.Reset()
		}
	}
	f := flushed{dropped: r.dropped, connects: r.connects, wsOpen: r.wsOpen, wsPeak: max(r.wsPeak, r.wsOpen), ws: r.ws}
	r.dropped, r.connects, r.wsPeak = 0, 0, r.wsOpen
	return f
}

// flushChecks adds the check counts into dst and resets them.
func (r *Recorder) flushChecks(dst [][2]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.checks {
		if i < len(dst) {
			dst[i][0] += r.checks[i][0]
			dst[i][1] += r.checks[i][1]
		}
		r.checks[i] = [2]int64{}
	}
}

// Point is the whole run's measurement over one interval of the timeline.
type Point struct {
	At       time.Duration // end of the interval, from the run's start
	Span     time.Duration // length of the interval (1 s except maybe the last)
	Requests int64
	Failed   int64
	Errors   [NumErrorKinds]int64
	BytesIn  int64
	BytesOut int64
	Dropped  int64
	Connects int64 // connections opened in the interval (pre-connected ones are not)
	Clients  int   // clients active at the end of the interval
	// WSOpen is the WebSocket connections open at the end of the
	// interval, WSPeak the most open at once during it (each source's
	// most, summed: exact for one source, else at least the true peak);
	// MsgsIn and MsgsOut the messages read and written in it.
	WSOpen, WSPeak  int64
	MsgsIn, MsgsOut int64
	// Latency percentiles of the interval (see Outcome.Latency).
	P50, P90, P95, P99, Max time.Duration
}

// RPS is the throughput of the interval in requests per second.
func (p Point) RPS() float64 {
	if p.Span <= 0 {
		return 0
	}
	return float64(p.Requests) / p.Span.Seconds()
}

// Collector merges Recorders into a timeline of Points and whole-run Stats.
// It is used by one goroutine (the engine's ticker); Run may be read once
// collection has ended.
type Collector struct {
	recs       []*Recorder
	interval   []*Stats // the interval being (or last) flushed, by name
	lastStats  []*Stats // = interval after a Tick, for Interval()
	lastChecks [][2]int64
	all        *Stats // scratch: the interval across names
	last       time.Duration
	run        Run
}

// Run is everything one run measured.
type Run struct {
	Names    []string // request names, by index
	ByName   []*Stats // whole run, by name index
	Total    *Stats   // whole run, all names
	Dropped  int64
	Connects int64 // connections opened during the run
	// CountsConnects: the sources counted the connections they opened
	// (Connects and Point.Connects mean something).
	CountsConnects bool
	// WebSocket: a source made WebSocket connections (Point.WSOpen and
	// the messages mean something).
	WebSocket bool
	Timeline  []Point
	// CheckNames and Checks are the named checks of a scenario run and their
	// {passes, failures}, by index; empty in quick mode.
	CheckNames []string
	Checks     [][2]int64
	// Interval and IntervalChecks are the stats by name and the check
	// counts of the interval the last Tick closed, for whoever watches the
	// run once a second (abort_when keeps a Window of them). They are
	// valid until the next Tick.
	Interval       []*Stats
	IntervalChecks [][2]int64
}

// NewCollector returns a Collector over recs, which record the given names.
func NewCollector(names []string, recs []*Recorder) *Collector {
	c := &Collector{
		recs:     recs,
		interval: make([]*Stats, len(names)),
		all:      NewStats(),
		run: Run{
			Names:  append([]string(nil), names...),
			ByName: make([]*Stats, len(names)),
			Total:  NewStats(),
		},
	}
	for i := range names {
		c.interval[i] = NewStats()
		c.run.ByName[i] = NewStats()
	}
	return c
}

// SetChecks names the checks that the recorders count (see Recorder.WithChecks).
func (c *Collector) SetChecks(names []string) {
	c.run.CheckNames = append([]string(nil), names...)
	c.run.Checks = make([][2]int64, len(names))
	c.lastChecks = make([][2]int64, len(names))
}

// Tick closes the interval ending at offset at: it flushes every recorder,
// adds the interval to the whole-run stats and appends a Point to the
// timeline, which it returns. clients is the number of active clients now.
func (c *Collector) Tick(at time.Duration, clients int) Point {
	var dropped, connects, wsOpen, wsPeak int64
	for _, s := range c.interval {
		s.Reset()
	}
	for i := range c.lastChecks {
		c.lastChecks[i] = [2]int64{}
	}
	for _, r := range c.recs {
		f := r.flushInto(c.interval)
		dropped, connects, wsOpen, wsPeak = dropped+f.dropped, connects+f.connects, wsOpen+f.wsOpen, wsPeak+f.wsPeak
		c.run.WebSocket = c.run.WebSocket || f.ws
		r.flushChecks(c.lastChecks)
	}
	for i, ch := range c.lastChecks {
		c.run.Checks[i][0] += ch[0]
		c.run.Checks[i][1] += ch[1]
	}
	c.all.Reset()
	for i, s := range c.interval {
		c.all.Merge(s)
		c.run.ByName[i].Merge(s)
	}
	c.lastStats = c.interval
	c.run.Interval, c.run.IntervalChecks = c.interval, c.lastChecks
	c.run.Total.Merge(c.all)
	c.run.Dropped += dropped
	c.run.Connects += connects
	a := c.all
	p := Point{
		At: at, Span: at - c.last,
		Requests: a.Requests, Failed: a.Failed, Errors: a.Errors,
		BytesIn: a.BytesIn, BytesOut: a.BytesOut,
		Dropped: dropped, Connects: connects, Clients: clients,
		WSOpen: wsOpen, WSPeak: wsPeak, MsgsIn: a.MsgsIn, MsgsOut: a.MsgsOut,
		P50: Percentile(a.Latency, 50), P90: Percentile(a.Latency, 90),
		P95: Percentile(a.Latency, 95), P99: Percentile(a.Latency, 99),
		Max: time.Duration(a.Latency.Max()) * time.Microsecond,
	}
	c.last = at
	c.run.Timeline = append(c.run.Timeline, p)
	return p
}

// Run returns what was collected so far. The caller must not Tick while
// using the result.
func (c *Collector) Run() *Run { return &c.run }
