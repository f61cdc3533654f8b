package report

import (
	"io"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

// barWidth is the number of cells inside the progress bar's brackets.
const barWidth = 10

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
		b = append(b, '\r')
	}
	b = append(b, "  "...)
	b = appendSpan(b, elapsed.Round(time.Second))
	if p.planned > 0 {
		b = append(b, '/')
		b = appendSpan(b, p.planned)
		if p.tty {
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
		p.drawn = true
	} else {
		b = append(b, '\n')
	}
	p.buf = b
	_, _ = p.w.Write(b)
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
