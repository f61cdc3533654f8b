package metrics

import (
	"errors"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Phase is one part of a request's time, in the order a request goes
// through them. Together they partition the service time of a request that
// opened its connection: DNS + Connect + TLS + TTFB + Transfer ≈ Service
// (less the wait for a free connection on net/http, which is no phase).
type Phase uint8

// The phases.
const (
	PhaseDNS      Phase = iota // name lookup
	PhaseConnect               // TCP connect: SYN sent to connection established
	PhaseTLS                   // TLS handshake
	PhaseTTFB                  // connection ready to the first response byte: writing the request, then the server's wait
	PhaseTransfer              // first to last response byte
	NumPhases
)

var phaseNames = [NumPhases]string{"dns", "connect", "tls", "ttfb", "transfer"}

// String returns the stable, lower-case name used in JSON and text output.
func (p Phase) String() string {
	if p < NumPhases {
		return phaseNames[p]
	}
	return "?"
}

// Bit is p's bit in Outcome.Timed.
func (p Phase) Bit() uint8 { return 1 << p }

// ConnPhases are the phases only a request that opened its connection has:
// a request on a reused connection skips them.
const ConnPhases = 1<<PhaseDNS | 1<<PhaseConnect | 1<<PhaseTLS

// Phase histograms have 2 significant digits (1 % resolution, ~26 KiB each
// against ~187 KiB at the latency histograms' 3): a breakdown needs where
// the time goes, not a tenth of a percent, and five of them per name must
// not triple a Stats.
const phaseSigFigs = 2

func newPhaseHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestUS, highestUS, phaseSigFigs)
}

// Phases is the mergeable breakdown of a set of requests' time. A request
// is counted (Timed) when it got a whole response and its transport timed
// its phases; DNS, Connect and TLS are recorded only for those that opened
// a new connection (New of them), and each only where it happened (no DNS
// for a literal IP or for the event loops, which resolve the host once
// before the run; no TLS on plain HTTP): a histogram's count says how many
// requests it covers.
type Phases struct {
	Timed int64                              // requests with a breakdown
	New   int64                              // of those, requests that opened their connection
	Hist  [NumPhases]*hdrhistogram.Histogram // µs
}

func newPhases() *Phases {
	p := &Phases{}
	for i := range p.Hist {
		p.Hist[i] = newPhaseHist()
	}
	return p
}

// record adds one outcome's phases.
func (p *Phases) record(o *Outcome) {
	p.Timed++
	if o.NewConn {
		p.New++
	}
	for i := range NumPhases {
		if o.Timed&i.Bit() != 0 {
			p.Hist[i].RecordValue(clampUS(o.Phases[i]))
		}
	}
}

func (p *Phases) merge(o *Phases) {
	p.Timed += o.Timed
	p.New += o.New
	for i, h := range o.Hist {
		p.Hist[i].Merge(h)
	}
}

func (p *Phases) reset() {
	p.Timed, p.New = 0, 0
	for _, h := range p.Hist {
		h.Reset()
	}
}

func (p *Phases) clone() *Phases {
	c := &Phases{Timed: p.Timed, New: p.New}
	for i, h := range p.Hist {
		c.Hist[i] = h.Clone()
	}
	return c
}

// Empty reports whether p holds no request (nil included).
func (p *Phases) Empty() bool { return p == nil || p.Timed == 0 }

// Percentile returns phase ph's value at percentile q (0..100); false when
// no request of p had the phase.
func (p *Phases) Percentile(ph Phase, q float64) (time.Duration, bool) {
	if p.Empty() || p.Hist[ph].TotalCount() == 0 {
		return 0, false
	}
	return time.Duration(p.Hist[ph].ValueAtPercentile(q)) * time.Microsecond, true
}

// Count returns how many requests phase ph covers.
func (p *Phases) Count(ph Phase) int64 {
	if p.Empty() {
		return 0
	}
	return p.Hist[ph].TotalCount()
}

// wirePhases is Phases on the wire: the histograms whole (HDR V2,
// compressed), so workers' breakdowns merge exactly.
type wirePhases struct {
	Timed int64    `json:"timed"`
	New   int64    `json:"new"`
	Hist  [][]byte `json:"hist"` // by Phase; empty: none
}

func (p *Phases) wire() (*wirePhases, error) {
	if p.Empty() {
		return nil, nil
	}
	w := &wirePhases{Timed: p.Timed, New: p.New, Hist: make([][]byte, NumPhases)}
	for i, h := range p.Hist {
		b, err := encode(h)
		if err != nil {
			return nil, err
		}
		w.Hist[i] = b
	}
	return w, nil
}

func (w *wirePhases) phases() (*Phases, error) {
	if w == nil {
		return nil, nil
	}
	if w.Timed < 0 || w.New < 0 || w.New > w.Timed || len(w.Hist) > int(NumPhases) {
		return nil, errors.New("phases: bad counts")
	}
	p := &Phases{Timed: w.Timed, New: w.New}
	for i := range p.Hist {
		var enc []byte
		if i < len(w.Hist) {
			enc = w.Hist[i]
		}
		h, err := decodeHist(enc, phaseSigFigs)
		if err != nil {
			return nil, err
		}
		p.Hist[i] = h
	}
	return p, nil
}
