// Package metrics records what requests did: latency in HDR histograms, status
// codes, errors by kind and bytes, per request name and per 1-second interval.
//
// Everything here is mergeable: two Stats merged give exactly the Stats of the
// union of their requests (HDR histograms merge without loss), so one event loop,
// many event loops and many workers all reduce to the same numbers.
//
// The hot path is Stats.Record: no allocation, no map lookup, no lock of its
// own (the Recorder that owns a Stats serialises access).
package metrics

import (
	"maps"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1 µs to 1 h at 3 significant digits. Values are recorded
// in microseconds.
const (
	lowestUS  = 1
	highestUS = int64(time.Hour / time.Microsecond)
	sigFigs   = 3
)

// ErrorKind classifies a request that got no complete response.
type ErrorKind uint8

// The error kinds, in the order the summary prints them.
const (
	ErrNone     ErrorKind = iota
	ErrTimeout            // no complete response within the timeout
	ErrRefused            // connection refused
	ErrReset              // connection reset or closed mid-response
	ErrDNS                // name did not resolve
	ErrTLS                // TLS handshake or certificate failure
	ErrBodyRead           // headers arrived but the body could not be read
	ErrOther              // anything else (malformed response, local resource limits, ...)
	// ErrInvalid: the request a plan's templates rendered could not be
	// sent as HTTP (a line break in a header value, a URL that does not
	// parse): nothing went on the wire.
	ErrInvalid
	NumErrorKinds
)

var errorKindNames = [NumErrorKinds]string{"", "timeout", "refused", "reset", "dns", "tls", "body_read", "other", "invalid"}

// String returns the stable, lower-case name used in JSON and text output.
func (k ErrorKind) String() string {
	if k < NumErrorKinds {
		return errorKindNames[k]
	}
	return "other"
}

// MaxStatus bounds the status codes kept individually; anything outside
// 100..599 is counted under 0 ("invalid").
const MaxStatus = 600

// Outcome is what one request produced, as the engine hands it to a Recorder.
type Outcome struct {
	// Latency is the time the user waited: from the intended start (open
	// model) or from the send (closed model) to the end of the response.
	Latency time.Duration
	// Service is from the actual send to the end of the response.
	Service  time.Duration
	Status   int       // HTTP status; 0 when Err != ErrNone
	Err      ErrorKind // ErrNone when a complete response was read
	BytesIn  int64     // response bytes read, headers included
	BytesOut int64     // request bytes written
	// Retry marks an attempt that a plan's retries: sent again after a
	// failed one. It is a request like any other; Stats also counts it
	// under Retried, so retries are never invisible.
	Retry bool
	// Phases is where the request's time went, when its transport timed
	// it (see Phases): Timed has Phase.Bit() set for each phase measured,
	// 0 when none was (phases off, or no whole response). NewConn: the
	// request opened the connection it went on.
	Phases  [NumPhases]time.Duration
	Timed   uint8
	NewConn bool
	// MsgsIn and MsgsOut are the WebSocket messages the outcome read and
	// wrote: every message read counts, those a wait skipped over too.
	MsgsIn, MsgsOut int64
	// Close is the close code a WebSocket server ended the connection with
	// while the outcome waited (0: it did not close it).
	Close int
}

// Stats is the mergeable measurement of a set of requests.
type Stats struct {
	Requests int64 // completed requests: a response or an error
	Failed   int64 // transport errors plus responses with status >= 400
	Retried  int64 // requests that were retries of a failed attempt (included in Requests)
	BytesIn  int64
	BytesOut int64
	Status   [MaxStatus]int64
	Errors   [NumErrorKinds]int64
	Latency  *hdrhistogram.Histogram // µs; see Outcome.Latency
	Service  *hdrhistogram.Histogram // µs; see Outcome.Service
	// Phases is the breakdown of the requests that were timed by phase;
	// nil until the first (phases off: never), then reused like the
	// histograms.
	Phases *Phases
	// MsgsIn and MsgsOut count WebSocket messages read and written;
	// Closes the close codes servers ended connections with (see
	// Outcome.Close), nil until the first, then cleared and reused.
	MsgsIn, MsgsOut int64
	Closes          map[int]int64
}

// NewStats returns empty Stats with histograms of the standard geometry.
func NewStats() *Stats {
	return &Stats{
		Latency: hdrhistogram.New(lowestUS, highestUS, sigFigs),
		Service: hdrhistogram.New(lowestUS, highestUS, sigFigs),
	}
}

// Record adds one outcome. It does not allocate.
func (s *Stats) Record(o Outcome) {
	s.Requests++
	if o.Retry {
		s.Retried++
	}
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.MsgsIn += o.MsgsIn
	s.MsgsOut += o.MsgsOut
	if o.Close != 0 {
		s.addClose(o.Close, 1)
	}
	if o.Err != ErrNone {
		s.Errors[o.Err]++
		s.Failed++
	} else {
		st := o.Status
		if st < 100 || st >= MaxStatus {
			st = 0
		}
		s.Status[st]++
		if st >= 400 || st == 0 {
			s.Failed++
		}
	}
	// Errors are timed too: a timeout that waited 5 s is 5 s the user waited.
	s.Latency.RecordValue(clampUS(o.Latency))
	s.Service.RecordValue(clampUS(o.Service))
	if o.Timed != 0 {
		if s.Phases == nil {
			s.Phases = newPhases() // once per Stats: reset and reused after
		}
		s.Phases.record(&o)
	}
}

// addClose counts n closes with code; the map is made once per Stats (a
// close ends a connection: rare next to messages).
func (s *Stats) addClose(code int, n int64) {
	if s.Closes == nil {
		s.Closes = make(map[int]int64, 2)
	}
	s.Closes[code] += n
}

func clampUS(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	switch {
	case us < 0:
		return 0
	case us > highestUS:
		return highestUS
	}
	return us
}

// Merge adds o into s. Histograms merge exactly.
func (s *Stats) Merge(o *Stats) {
	s.Requests += o.Requests
	s.Failed += o.Failed
	s.Retried += o.Retried
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.MsgsIn += o.MsgsIn
	s.MsgsOut += o.MsgsOut
	for code, n := range o.Closes {
		s.addClose(code, n)
	}
	for i, n := range o.Status {
		s.Status[i] += n
	}
	for i, n := range o.Errors {
		s.Errors[i] += n
	}
	s.Latency.Merge(o.Latency)
	s.Service.Merge(o.Service)
	if !o.Phases.Empty() {
		if s.Phases == nil {
			s.Phases = newPhases()
		}
		s.Phases.merge(o.Phases)
	}
}

// isZero reports whether s holds nothing: merging it changes nothing.
func (s *Stats) isZero() bool {
	if s.Requests != 0 || s.Failed != 0 || s.Retried != 0 || s.BytesIn != 0 || s.BytesOut != 0 ||
		s.MsgsIn != 0 || s.MsgsOut != 0 || len(s.Closes) != 0 ||
		s.Status != [MaxStatus]int64{} || s.Errors != [NumErrorKinds]int64{} {
		return false
	}
	return (s.Latency == nil || s.Latency.TotalCount() == 0) && (s.Service == nil || s.Service.TotalCount() == 0) && s.Phases.Empty()
}

// Reset empties s, keeping its histograms' memory.
func (s *Stats) Reset() {
	lat, svc, ph, closes := s.Latency, s.Service, s.Phases, s.Closes
	lat.Reset()
	svc.Reset()
	if ph != nil {
		ph.reset()
	}
	clear(closes)
	*s = Stats{Latency: lat, Service: svc, Phases: ph, Closes: closes}
}

// Clone returns a deep copy of s.
func (s *Stats) Clone() *Stats {
	c := *s
	c.Latency = s.Latency.Clone()
	c.Service = s.Service.Clone()
	if s.Phases != nil {
		c.Phases = s.Phases.clone()
	}
	if s.Closes != nil {
		c.Closes = maps.Clone(s.Closes)
	}
	return &c
}

// TransportErrors is the number of requests that got no complete response.
func (s *Stats) TransportErrors() int64 {
	var n int64
	for _, e := range s.Errors {
		n += e
	}
	return n
}

// Percentile returns the latency at percentile p (0..100) as a duration.
func Percentile(h *hdrhistogram.Histogram, p float64) time.Duration {
	if h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.ValueAtPercentile(p)) * time.Microsecond
}
