package report

import (
	"io"
	"sort"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// barWidth is the number of cells inside the progress bar's brackets.
const barWidth = 10

// busiestRows is how many requests the live table shows.
const busiestRows = 5

// Progress prints one update per interval: on a terminal one line redrawn
// in place, with a progress bar and ETA when the planned duration is known;
// otherwise (a pipe, a CI log) one plain line per update.
//
// A Progress is used by one goroutine, the one that ticks the collector.
// Update reuses one buffer and does not allocate, so a long run costs
// nothing per second beyond the write itself. Write errors are ignored:
// progress is a courtesy, and the run must not stop because stderr went away.
type Progress struct {
	w       io.Writer
	tty     bool
	planned time.Duration
	buf     []byte
	failed  int64 // sum of the intervals' failures, for when Update gets no total
	dropped int64 // sum of the intervals' drops (Stats has none)
	drawn   bool  // a TTY line is on screen and not yet ended
	extra   int   // lines of the busiest-requests table drawn under it
	rows    []busyRow
	prev    []int64 // per-name requests at the last update
	prevAt  time.Duration
}

// NewProgress returns a Progress writing to w. tty selects the redrawn line;
// planned is the planned duration, 0 when unknown (a run bounded by a
// request count), which leaves out the bar and ETA.
func NewProgress(w io.Writer, tty bool, planned time.Duration) *Progress {
	if w == nil {
		w = io.Discard
	}
	return &Progress{w: w, tty: tty, planned: max(planned, 0), buf: make([]byte, 0, 192)}
}

// Update shows the state at elapsed: pt is the interval that just ended and
// total, if not nil, the whole run so far (its Failed is the cumulative
// count shown; without it Progress sums the intervals' own).
//
//	tty:    \r  3s/10s [===>      ]  30%  eta 7s  clients 64  rps 123,456  p95 0.95ms  failed 0\x1b[K
//	plain:    3s/10s  clients 64  rps 123,456  p95 0.95ms  failed 0
func (p *Progress) Update(elapsed time.Duration, pt metrics.Point, total *metrics.Stats) {
	p.failed += pt.Failed
	p.dropped += pt.Dropped
	failed := p.failed
	if total != nil {
		failed = total.Failed
	}
	elapsed = max(elapsed, 0)

	b := p.buf[:0]
	if p.tty {
		if p.extra > 0 {
			// Back to the status line above the table drawn last time.
			b = append(b, "\x1b["...)
			b = appendInt(b, int64(p.extra))
			b = append(b, 'A')
		}
		b = append(b, '\r')
	}
	b = append(b, "  "...)
	b = appendSpan(b, elapsed.Round(time.Second))
	if p.planned > 0 {
		b = append(b, '/')
		b = appendSpan(b, p.planned)
		if elapsed > p.planned {
			// Past the planned end nothing new starts: the requests in
			// flight get up to their timeout (see EndText). No bar: it
			// would stand at 100% with an ETA of 0s.
			b = append(b, "  finishing in flight"...)
		} else if p.tty {
			b = appendBar(b, elapsed, p.planned)
		}
	}
	b = append(b, "  clients "...)
	b = appendInt(b, int64(pt.Clients))
	b = append(b, "  rps "...)
	b = appendFixed(b, pt.RPS(), 0)
	b = append(b, "  p95 "...)
	if pt.Requests > 0 {
		b = appendLatency(b, pt.P95)
	} else {
		b = append(b, '-')
	}
	b = append(b, "  failed "...)
	b = appendInt(b, failed)
	if p.dropped > 0 {
		b = append(b, "  dropped "...)
		b = appendInt(b, p.dropped)
	}
	if p.tty {
		// Clear what a longer previous line left to the right.
		b = append(b, "\x1b[K"...)
		b = p.appendBusiest(b)
		p.drawn = true
	} else {
		b = append(b, '\n')
	}
	p.buf = b
	_, _ = p.w.Write(b)
}

// UpdateRun is Update with the whole run: on a terminal it also draws a
// compact live table of the busiest requests (by throughput over the last
// interval) under the status line, when the run has several.
func (p *Progress) UpdateRun(elapsed time.Duration, pt metrics.Point, run *metrics.Run) {
	if p.tty && run != nil && len(run.Names) > 1 {
		p.busiest(run, elapsed)
	}
	var total *metrics.Stats
	if run != nil {
		total = run.Total
	}
	p.Update(elapsed, pt, total)
}

// busyRow is one line of the live table.
type busyRow struct {
	name          string
	rps           float64
	p95           time.Duration
	failed, total int64
}

// busiest computes the table rows from the run's cumulative per-name counts
// and those of the previous update.
func (p *Progress) busiest(run *metrics.Run, elapsed time.Duration) {
	if len(p.prev) != len(run.ByName) {
		p.prev = make([]int64, len(run.ByName))
	}
	span := (elapsed - p.prevAt).Seconds()
	p.prevAt = elapsed
	p.rows = p.rows[:0]
	for i, st := range run.ByName {
		if st == nil || i >= len(run.Names) {
			continue
		}
		d := st.Requests - p.prev[i]
		p.prev[i] = st.Requests
		r := busyRow{name: run.Names[i], failed: st.Failed, total: st.Requests, p95: metrics.Percentile(st.Latency, 95)}
		if span > 0 {
			r.rps = float64(d) / span
		}
		p.rows = append(p.rows, r)
	}
	sort.SliceStable(p.rows, func(a, b int) bool { return p.rows[a].rps > p.rows[b].rps })
	if len(p.rows) > busiestRows {
		p.rows = p.rows[:busiestRows]
	}
}

// appendBusiest appends the table lines (each cleared to the end) and
// remembers how many it drew, so the next update starts above them.
func (p *Progress) appendBusiest(b []byte) []byte {
	p.extra = 0
	for _, r := range p.rows {
		b = append(b, "\n    "...)
		name := r.name
		if len(name) > 28 {
			name = name[:27] + "…"
		}
		b = append(b, name...)
		for n := len([]rune(name)); n < 30; n++ {
			b = append(b, ' ')
		}
		b = append(b, "rps "...)
		b = appendFixed(b, r.rps, 0)
		b = append(b, "  p95 "...)
		b = appendLatency(b, r.p95)
		b = append(b, "  failed "...)
		b = appendInt(b, r.failed)
		b = append(b, '/')
		b = appendInt(b, r.total)
		b = append(b, "\x1b[K"...)
		p.extra++
	}
	return b
}

// Done ends the redrawn line on a TTY, so that what follows (the summary)
// starts on a clean line. It does nothing for plain output, or if no update
// was drawn since the last Done.
func (p *Progress) Done() {
	if p.tty && p.drawn {
		_, _ = io.WriteString(p.w, "\n")
		p.drawn = false
	}
}

// appendBar appends " [=====>      ]  42%  eta 7s" for elapsed of planned.
func appendBar(b []byte, elapsed, planned time.Duration) []byte {
	frac := min(max(ratio(float64(elapsed), float64(planned)), 0), 1)
	filled := int(frac * barWidth)
	b = append(b, " ["...)
	for i := range barWidth {
		switch {
		case i < filled:
			b = append(b, '=')
		case i == filled:
			b = append(b, '>')
		default:
			b = append(b, ' ')
		}
	}
	b = append(b, "] "...)
	pct := int64(frac * 100)
	for n := int64(100); n > 1 && pct < n; n /= 10 {
		b = append(b, ' ') // right-align to three digits so the line does not jitter
	}
	b = appendInt(b, pct)
	b = append(b, "%  eta "...)
	// Round the time left up, so the ETA reaches 0s only at the end.
	left := max(planned-elapsed, 0)
	return appendSpan(b, (left + time.Second - 1).Truncate(time.Second))
}
