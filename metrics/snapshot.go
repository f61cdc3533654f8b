package metrics

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is one source's measurements over one interval, in a form that
// crosses the wire: workers send one a second, the controller merges them.
// Histograms travel whole (HDR V2, compressed), never as percentiles, so
// the merge is exact.
type Snapshot struct {
	Interval int          // 1 = the first second of the run
	Dropped  int64        // open model: starts that found no free client
	Connects int64        // connections opened in the interval
	Clients  int          // clients active at the end of the interval
	Checks   [][2]int64   // by check index: passes, failures
	Final    bool         // the last snapshot of the source
	Extra    []NamedValue // reserved for sources' own counters
	// WS: the source is a WebSocket one; WSOpen is then its connections
	// open at the end of the interval (a gauge: see MergeSnapshot), WSPeak
	// the most it held at once during the interval.
	WS             bool
	WSOpen, WSPeak int64
	// Stats are by request name index, as the controller numbered them. A
	// decoded snapshot has nil for a name with nothing in the interval (in
	// a plan of parts, most of them): no histograms are made for it.
	Stats []*Stats
}

// NamedValue is a free-form value a snapshot may carry.
type NamedValue struct {
	Name string  `json:"name"`
	V    float64 `json:"v"`
}

type wireStats struct {
	Requests int64                `json:"requests"`
	Failed   int64                `json:"failed"`
	Retried  int64                `json:"retried,omitempty"`
	BytesIn  int64                `json:"bytes_in"`
	BytesOut int64                `json:"bytes_out"`
	MsgsIn   int64                `json:"msgs_in,omitempty"`
	MsgsOut  int64                `json:"msgs_out,omitempty"`
	Closes   map[int]int64        `json:"closes,omitempty"`
	Status   map[int]int64        `json:"status,omitempty"`
	Errors   [NumErrorKinds]int64 `json:"errors"`
	Latency  []byte               `json:"latency"`
	Service  []byte               `json:"service"`
	Phases   *wirePhases          `json:"phases,omitempty"`
}

type wireSnapshot struct {
	Interval int          `json:"interval"`
	Stats    []wireStats  `json:"stats"`
	Dropped  int64        `json:"dropped"`
	Connects int64        `json:"connects,omitempty"` // absent from workers that predate it: 0
	Clients  int          `json:"clients"`
	Checks   [][2]int64   `json:"checks,omitempty"`
	Final    bool         `json:"final,omitempty"`
	Extra    []NamedValue `json:"extra,omitempty"`
	WSOpen   *int64       `json:"ws_open,omitempty"` // present from a WebSocket source
	WSPeak   int64        `json:"ws_peak,omitempty"`
}

// MarshalBinary encodes the snapshot.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	w := wireSnapshot{Interval: s.Interval, Dropped: s.Dropped, Connects: s.Connects, Clients: s.Clients, Checks: s.Checks, Final: s.Final, Extra: s.Extra}
	if s.WS {
		w.WSOpen, w.WSPeak = &s.WSOpen, s.WSPeak
	}
	for _, st := range s.Stats {
		if st == nil {
			w.Stats = append(w.Stats, wireStats{})
			continue
		}
		ws := wireStats{Requests: st.Requests, Failed: st.Failed, Retried: st.Retried, BytesIn: st.BytesIn, BytesOut: st.BytesOut,
			MsgsIn: st.MsgsIn, MsgsOut: st.MsgsOut, Errors: st.Errors}
		for code, n := range st.Closes {
			if n != 0 {
				if ws.Closes == nil {
					ws.Closes = map[int]int64{}
				}
				ws.Closes[code] = n
			}
		}
		for code, n := range st.Status {
			if n != 0 {
				if ws.Status == nil {
					ws.Status = map[int]int64{}
				}
				ws.Status[code] = n
			}
		}
		var err error
		if ws.Latency, err = encode(st.Latency); err != nil {
			return nil, fmt.Errorf("encode latency: %w", err)
		}
		if ws.Service, err = encode(st.Service); err != nil {
			return nil, fmt.Errorf("encode service time: %w", err)
		}
		if ws.Phases, err = st.Phases.wire(); err != nil {
			return nil, fmt.Errorf("encode phases: %w", err)
		}
		w.Stats = append(w.Stats, ws)
	}
	return json.Marshal(w)
}

// encode is h on the wire; an empty histogram travels as nothing, and is
// decoded as empty.
func encode(h *hdrhistogram.Histogram) ([]byte, error) {
	if h == nil || h.TotalCount() == 0 {
		return nil, nil
	}
	return h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
}

// ErrBadSnapshot is returned for a snapshot that does not decode.
var ErrBadSnapshot = errors.New("bad snapshot")

// UnmarshalBinary decodes a snapshot, rejecting anything malformed (a
// snapshot comes from another process: it is checked, not trusted).
func (s *Snapshot) UnmarshalBinary(b []byte) error {
	var w wireSnapshot
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	out := Snapshot{Interval: w.Interval, Dropped: w.Dropped, Connects: w.Connects, Clients: w.Clients, Checks: w.Checks, Final: w.Final, Extra: w.Extra}
	if w.WSOpen != nil {
		out.WS, out.WSOpen, out.WSPeak = true, *w.WSOpen, w.WSPeak
	}
	for i, ws := range w.Stats {
		st, err := ws.stats()
		if err != nil {
			return fmt.Errorf("%w: stats %d: %v", ErrBadSnapshot, i, err)
		}
		out.Stats = append(out.Stats, st)
	}
	*s = out
	return nil
}

// stats decodes ws; nil when it holds nothing.
func (ws *wireStats) stats() (*Stats, error) {
	if ws.empty() {
		return nil, nil
	}
	st := &Stats{Requests: ws.Requests, Failed: ws.Failed, Retried: ws.Retried, BytesIn: ws.BytesIn, BytesOut: ws.BytesOut,
		MsgsIn: ws.MsgsIn, MsgsOut: ws.MsgsOut, Errors: ws.Errors}
	for code, n := range ws.Closes {
		if code < 0 || code > maxCloseCode {
			return nil, fmt.Errorf("close code %d out of range", code)
		}
		st.addClose(code, n)
	}
	for code, n := range ws.Status {
		if code < 0 || code >= MaxStatus {
			return nil, fmt.Errorf("status %d out of range", code)
		}
		st.Status[code] = n
	}
	var err error
	if st.Latency, err = decode(ws.Latency); err != nil {
		return nil, fmt.Errorf("latency: %v", err)
	}
	if st.Service, err = decode(ws.Service); err != nil {
		return nil, fmt.Errorf("service time: %v", err)
	}
	if st.Phases, err = ws.Phases.phases(); err != nil {
		return nil, err
	}
	return st, nil
}

// empty reports whether ws holds nothing.
func (ws *wireStats) empty() bool {
	if ws.Requests != 0 || ws.Failed != 0 || ws.Retried != 0 || ws.BytesIn != 0 || ws.BytesOut != 0 ||
		ws.MsgsIn != 0 || ws.MsgsOut != 0 || len(ws.Closes) != 0 || ws.Errors != [NumErrorKinds]int64{} || len(ws.Latency) != 0 || len(ws.Service) != 0 || ws.Phases != nil {
		return false
	}
	for code, n := range ws.Status {
		if n != 0 || code < 0 || code >= MaxStatus {
			return false // a bad code is refused by stats
		}
	}
	return true
}

// maxCloseCode is the highest WebSocket close code (RFC 6455: 4000-4999
// are the applications' own).
const maxCloseCode = 4999

// decode reads a histogram of the standard geometry (empty for no bytes).
// One of a wider range than the standard is merged into a standard one;
// a narrower one, or another precision, is refused.
func decode(enc []byte) (*hdrhistogram.Histogram, error) { return decodeHist(enc, sigFigs) }

// decodeHist is decode for histograms of sigs significant figures.
func decodeHist(enc []byte, sigs int) (*hdrhistogram.Histogram, error) {
	if len(enc) == 0 {
		return hdrhistogram.New(lowestUS, highestUS, sigs), nil
	}
	dec, err := hdrhistogram.Decode(enc)
	if err != nil {
		return nil, err
	}
	if dec.LowestTrackableValue() != lowestUS || dec.HighestTrackableValue() < highestUS || dec.SignificantFigures() != int64(sigs) {
		return nil, errors.New("histogram geometry differs")
	}
	if dec.HighestTrackableValue() == highestUS {
		return dec, nil
	}
	h := hdrhistogram.New(lowestUS, highestUS, sigs)
	h.Merge(dec)
	return h, nil
}

// MergeSnapshot adds a snapshot from another source into the recorder's
// current interval, so the collector's next tick includes it exactly as if
// the requests had been recorded here.
func (r *Recorder) MergeSnapshot(s *Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.Stats) > len(r.cur) {
		return fmt.Errorf("%w: %d request names, want at most %d", ErrBadSnapshot, len(s.Stats), len(r.cur))
	}
	if len(s.Checks) > len(r.checks) {
		return fmt.Errorf("%w: %d checks, want at most %d", ErrBadSnapshot, len(s.Checks), len(r.checks))
	}
	for i, st := range s.Stats {
		// A worker sends every name each second, most of them empty in
		// a plan of parts: those make no Stats here.
		if st != nil && !st.isZero() {
			r.stats(i).Merge(st)
		}
	}
	for i, c := range s.Checks {
		r.checks[i][0] += c[0]
		r.checks[i][1] += c[1]
	}
	r.dropped += s.Dropped
	r.connects += s.Connects
	if s.WS {
		// A gauge, set not added: several snapshots of one source merged
		// at once leave its latest count, and the most of their peaks. A
		// recorder that takes several sources' snapshots (the
		// controller's, one for all its workers) is given their sums with
		// SetWS; recorders of their own are summed by the collector at
		// each tick.
		r.ws, r.wsOpen = true, s.WSOpen
		r.wsPeak = max(r.wsPeak, s.WSPeak, s.WSOpen)
	}
	return nil
}

// Interval returns the stats of the interval the last Tick closed, by name
// (a worker sends them on as a Snapshot). They are valid until the next
// Tick; callers that keep them must Clone.
func (c *Collector) Interval() []*Stats { return c.lastStats }

// IntervalChecks returns the check counts the last Tick added.
func (c *Collector) IntervalChecks() [][2]int64 { return c.lastChecks }
